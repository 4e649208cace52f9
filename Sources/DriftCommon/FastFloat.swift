#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decimal text to `Double`, read from bytes (no `String` is built), correctly rounded (round to nearest, ties to
/// even) and bit-identical to the C library's `strtod` in the C locale.
///
/// The algorithm follows fast_float (github.com/fastfloat/fast_float: `include/fast_float/ascii_number.h` for the
/// digits, `include/fast_float/decimal_to_binary.h` for Eisel–Lemire) and Rust's `core::num::dec2flt` (`mod.rs`,
/// `number.rs` for the disguised fast path, `lemire.rs` for the error flag):
/// 1. the sign, then up to 19 significant digits into a `UInt64` mantissa and a decimal exponent, remembering whether
///    digits were dropped;
/// 2. Clinger's exact fast path: mantissa ≤ 2^53 and exponent in -22...22 (or up to 37 when mantissa × 10^(e−22)
///    stays ≤ 2^53, the "disguised" fast path): one correctly rounded multiplication or division;
/// 3. Eisel–Lemire with the 128-bit powers of five (`FastFloatTable.swift`); when digits were dropped it rounds both
///    the mantissa m and m + 1 and keeps the result only if they agree;
/// 4. otherwise — m and m + 1 round differently, or the product is not known precisely enough (the error flag of
///    Rust's `lemire.rs`) — the fallback: glibc's `strtod` (C locale), which is correctly rounded, on a
///    NUL-terminated copy of the token (a stack buffer for tokens up to 512 bytes). Hex floats and `nan(…)` (whose
///    payload strtod sets) take the fallback too.
public enum FastFloat {
    /// Parses the whole of `bytes` as `strtod` does in the C locale, returning nil unless every byte is consumed.
    ///
    /// Accepted: an optional sign, then a decimal (`12`, `1.5`, `.5`, `5.`, with an optional exponent `e±ddd`), a hex
    /// float (`0x1.8p3`), `inf`/`infinity`/`nan` in any case, or `nan(chars)` (ASCII letters, digits and `_`).
    /// Rejected: empty input, white space anywhere (unlike strtod, leading white space is not skipped), a NUL byte,
    /// anything left over. Out of range: magnitudes past the largest double give ±infinity, below the smallest
    /// subnormal ±0, exactly as strtod (which also sets ERANGE; that is not reported here).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var p = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            p = 1
            guard p < n else { return nil }
        }
        let lead = bytes[p]
        if lead &- 0x30 > 9 && lead != UInt8(ascii: ".") {
            return special(bytes, from: p, negative: negative)
        }
        if lead == UInt8(ascii: "0") && p + 1 < n && bytes[p + 1] | 0x20 == UInt8(ascii: "x") { return strtodWhole(bytes) }

        // the digits: all of them go through a wrapping UInt64; only ≤ 19 significant ones are kept exactly
        var mantissa: UInt64 = 0
        let integerStart = p
        while p + 8 <= n, let eight = eightDigits(bytes, at: p) {
            mantissa = mantissa &* 100_000_000 &+ eight
            p += 8
        }
        while p < n, case let d = bytes[p] &- 0x30, d <= 9 {
            mantissa = mantissa &* 10 &+ UInt64(d)
            p += 1
        }
        let integerEnd = p
        var fractionStart = p
        var fractionEnd = p
        if p < n && bytes[p] == UInt8(ascii: ".") {
            p += 1
            fractionStart = p
            while p + 8 <= n, let eight = eightDigits(bytes, at: p) {
                mantissa = mantissa &* 100_000_000 &+ eight
                p += 8
            }
            while p < n, case let d = bytes[p] &- 0x30, d <= 9 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                p += 1
            }
            fractionEnd = p
        }
        var digitCount = (integerEnd - integerStart) + (fractionEnd - fractionStart)
        guard digitCount > 0 else { return nil }
        var explicitExponent = 0
        if p < n && bytes[p] | 0x20 == UInt8(ascii: "e") {
            p += 1
            var exponentNegative = false
            if p < n && (bytes[p] == UInt8(ascii: "-") || bytes[p] == UInt8(ascii: "+")) {
                exponentNegative = bytes[p] == UInt8(ascii: "-")
                p += 1
            }
            guard p < n, bytes[p] &- 0x30 <= 9 else { return nil }
            while p < n, case let d = bytes[p] &- 0x30, d <= 9 {
                // saturate: any exponent this large already means 0 or infinity
                if explicitExponent < 0x1000_0000 { explicitExponent = explicitExponent * 10 + Int(d) }
                p += 1
            }
            if exponentNegative { explicitExponent = -explicitExponent }
        }
        guard p == n else { return nil }
        var exponent = explicitExponent - (fractionEnd - fractionStart)

        var truncated = false
        if digitCount > 19 {
            // leading zeros are not significant
            var z = integerStart
            while z < fractionEnd && (bytes[z] == UInt8(ascii: "0") || bytes[z] == UInt8(ascii: ".")) {
                if bytes[z] == UInt8(ascii: "0") { digitCount -= 1 }
                z += 1
            }
            if digitCount > 19 {
                truncated = true
                mantissa = 0
                var q = integerStart
                while mantissa < 1_000_000_000_000_000_000 && q < integerEnd {
                    mantissa = mantissa * 10 + UInt64(bytes[q] &- 0x30)
                    q += 1
                }
                if mantissa >= 1_000_000_000_000_000_000 {
                    exponent = integerEnd - q + explicitExponent
                } else {
                    q = fractionStart
                    while mantissa < 1_000_000_000_000_000_000 && q < fractionEnd {
                        mantissa = mantissa * 10 + UInt64(bytes[q] &- 0x30)
                        q += 1
                    }
                    exponent = fractionStart - q + explicitExponent
                }
            }
        }

        if !truncated, let v = clinger(mantissa, exponent) { return negative ? -v : v }
        var result = eiselLemire(exponent, mantissa)
        if truncated && result.power2 >= 0 && result != eiselLemire(exponent, mantissa + 1) { result.power2 = -1 }
        guard result.power2 >= 0 else { return strtodWhole(bytes) }
        let bits = result.mantissa | UInt64(result.power2) << 52 | (negative ? 1 << 63 : 0)
        return Double(bitPattern: bits)
    }

    /// Parses the UTF-8 of `text` (no copy when its storage is contiguous) like `parse(_:)` on bytes.
    public static func parse(_ text: Substring) -> Double? {
        if let v = text.utf8.withContiguousStorageIfAvailable({ parse(UnsafeRawBufferPointer($0)) }) { return v }
        var copy = String(text)
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses the UTF-8 of `text` (no copy when its storage is contiguous) like `parse(_:)` on bytes.
    public static func parse(_ text: String) -> Double? {
        if let v = text.utf8.withContiguousStorageIfAvailable({ parse(UnsafeRawBufferPointer($0)) }) { return v }
        var copy = text
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    // MARK: - the steps

    /// The value of the eight ASCII digits at `p` (which must have eight bytes after it), or nil when one of them is
    /// not a digit: fast_float's `is_made_of_eight_digits_fast` and `parse_eight_digits_unrolled` (SWAR on one
    /// little-endian load). Folding it in as `m·10⁸ + v` wraps exactly as eight `m·10 + d` steps do.
    @inline(__always)
    static func eightDigits(_ bytes: UnsafeRawBufferPointer, at p: Int) -> UInt64? {
        let v = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: p, as: UInt64.self))
        guard ((v &+ 0x4646_4646_4646_4646) | (v &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0 else { return nil }
        var x = v &- 0x3030_3030_3030_3030
        x = (x &* 10) &+ (x >> 8)
        x = (((x & 0x0000_00FF_0000_00FF) &* 0x000F_4240_0000_0064) &+ (((x >> 16) & 0x0000_00FF_0000_00FF) &* 0x0000_2710_0000_0001)) >> 32
        return x & 0xFFFF_FFFF
    }

    /// 10^0 ... 10^22: exactly representable doubles.
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
        1e21, 1e22
    ]

    /// Clinger's fast path: `mantissa` and 10^|exponent| are exact doubles, so one IEEE operation rounds correctly.
    /// Rust's `Number::try_fast_path`, including the disguised case (exponent 23...37 folded into the mantissa).
    @inline(__always)
    static func clinger(_ mantissa: UInt64, _ exponent: Int) -> Double? {
        guard exponent >= -22 && exponent <= 37 && mantissa <= 1 << 53 else { return nil }
        if exponent <= 22 {
            let m = Double(mantissa)
            return exponent < 0 ? m / exactPowersOfTen[-exponent] : m * exactPowersOfTen[exponent]
        }
        var m = mantissa
        for _ in 0..<(exponent - 22) {
            let (product, overflow) = m.multipliedReportingOverflow(by: 10)
            guard !overflow && product <= 1 << 53 else { return nil }
            m = product
        }
        return Double(m) * 1e22
    }

    /// A double as its biased binary exponent (0 for subnormals and zero, 0x7FF for infinity; negative: undecided)
    /// and its 52 explicit mantissa bits.
    struct AdjustedMantissa: Equatable {
        var mantissa: UInt64
        var power2: Int
    }

    /// w × 10^q rounded to nearest-even, as fast_float's `compute_float<binary64>`; `power2 < 0` when the 128-bit
    /// product is not precise enough to decide (Rust `lemire.rs`'s error flag, conservatively kept).
    static func eiselLemire(_ q: Int, _ w: UInt64) -> AdjustedMantissa {
        if w == 0 || q < smallestPowerOfFive { return AdjustedMantissa(mantissa: 0, power2: 0) }
        if q > largestPowerOfFive { return AdjustedMantissa(mantissa: 0, power2: 0x7FF) }
        let lz = w.leadingZeroBitCount
        let w = w << lz
        // w × 5^q to 55 significant bits (52 explicit + the implicit bit + a rounding bit + the "upperbit" shift)
        let index = 2 * (q - smallestPowerOfFive)
        var (high, low) = w.multipliedFullWidth(by: powersOfFive[index])
        let precisionMask: UInt64 = 0xFFFF_FFFF_FFFF_FFFF >> 55
        if high & precisionMask == precisionMask {
            let second = w.multipliedFullWidth(by: powersOfFive[index + 1])
            low = low &+ second.high
            if second.high > low { high &+= 1 }
            if low == .max && !(q >= -27 && q <= 55) { return AdjustedMantissa(mantissa: 0, power2: -1) }
        }
        let upperbit = Int(high >> 63)
        let shift = upperbit + 64 - 52 - 3
        var mantissa = high >> shift
        // ((152170 + 65536) × q) >> 16 is floor(q × log2(5)) + q for the table's range
        var power2 = (((152_170 + 65_536) * q) >> 16) + 63 + upperbit - lz + 1023
        if power2 <= 0 {
            // subnormal (or zero): no ties are possible here with ≤ 19 digits
            if -power2 + 1 >= 64 { return AdjustedMantissa(mantissa: 0, power2: 0) }
            mantissa >>= UInt64(-power2 + 1)
            mantissa += mantissa & 1
            mantissa >>= 1
            return AdjustedMantissa(mantissa: mantissa & ((1 << 52) - 1), power2: mantissa < 1 << 52 ? 0 : 1)
        }
        // an exact tie (only possible for 10^-4...10^23 with ≤ 19 digits) rounds to even, not up
        if low <= 1 && q >= -4 && q <= 23 && mantissa & 3 == 1 && mantissa << shift == high {
            mantissa &= ~1
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= 2 << 52 {
            mantissa = 1 << 52
            power2 += 1
        }
        mantissa &= ~(1 << 52)
        if power2 >= 0x7FF { return AdjustedMantissa(mantissa: 0, power2: 0x7FF) }
        return AdjustedMantissa(mantissa: mantissa, power2: power2)
    }

    /// `inf`, `infinity` and `nan` (any case) after the sign; `nan(…)` goes to strtod for its payload.
    static func special(_ bytes: UnsafeRawBufferPointer, from p: Int, negative: Bool) -> Double? {
        let rest = bytes.count - p
        func matches(_ word: StaticString) -> Bool {
            guard rest == word.utf8CodeUnitCount else { return false }
            for i in 0..<rest where bytes[p + i] | 0x20 != word.utf8Start[i] { return false }
            return true
        }
        if matches("inf") || matches("infinity") { return negative ? -.infinity : .infinity }
        if matches("nan") { return Double(bitPattern: 0x7FF8_0000_0000_0000 | (negative ? 1 << 63 : 0)) }
        if rest > 4 && bytes[p] | 0x20 == UInt8(ascii: "n") { return strtodWhole(bytes) }
        return nil
    }

    /// strtod on a NUL-terminated copy of all of `bytes`: the value if it consumed every byte, else nil.
    /// strtod reads the decimal point from LC_NUMERIC: a Swift process starts in the C locale and nothing here calls
    /// `setlocale` (Swift's Glibc module does not import `strtod_l`).
    static func strtodWhole(_ bytes: UnsafeRawBufferPointer) -> Double? {
        func run(_ buffer: UnsafeMutableBufferPointer<CChar>) -> Double? {
            guard let start = buffer.baseAddress else { return nil }
            buffer.withMemoryRebound(to: UInt8.self) { _ = $0.initialize(fromContentsOf: bytes) }
            buffer[bytes.count] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(start, &end)
            return end == start + bytes.count ? v : nil
        }
        if bytes.count < 512 {
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { run($0) }
        }
        let heap = UnsafeMutableBufferPointer<CChar>.allocate(capacity: bytes.count + 1)
        defer { heap.deallocate() }
        return run(heap)
    }
}
