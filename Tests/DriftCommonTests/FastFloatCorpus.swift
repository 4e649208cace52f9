#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The differential corpus for FastFloat: seeded, reproducible strings of every kind a parser meets (see `Kind`), and the
/// two references they are checked against — glibc's `strtod` over the whole string, and the Swift standard library's
/// `Double(Substring)` behind the trimming `NumberText.parse` has always done.
/// The strings are written into one reused buffer (the test runs in a debug build, where per-string arrays — and a
/// class's dynamic exclusivity checks — would cost more than the parsing under test); `deallocate()` frees it.
struct FloatCorpus {
    enum Kind: CaseIterable {
        case shortest, seventeenDigits, randomPrecision, digitStrings, halfway, boundaries, specials, junk
    }

    static let capacity = 2048
    var state: UInt64
    /// The current string's bytes, `count` of them, followed by a NUL (room for strtod).
    let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 1)
    var count = 0

    init(seed: UInt64) { state = seed }
    func deallocate() { bytes.deallocate() }

    var current: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes, count: count) }

    mutating func append(_ b: UInt8) {
        bytes[count] = b
        count += 1
    }

    mutating func append(_ text: StaticString) {
        let p = text.utf8Start
        for i in 0..<text.utf8CodeUnitCount { append(p[i]) }
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { u in
            for b in u { append(b) }
        }
    }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// A finite double from uniformly random bits (every binade equally likely, subnormals included).
    mutating func randomDouble() -> Double {
        while true {
            let d = Double(bitPattern: next())
            if d.isFinite { return d }
        }
    }

    /// The next test string of `kind`, written into `bytes` (replacing the previous one).
    mutating func write(_ kind: Kind) {
        count = 0
        switch kind {
        case .shortest:
            append("\(randomDouble())")
        case .seventeenDigits:
            printf("%.17g", randomDouble())
        case .randomPrecision:
            let formats: [StaticString] = ["%.*e", "%.*f", "%.*g"]
            let d = below(4) == 0 ? randomDouble() : Double(Int64(bitPattern: next()) >> below(60)) / Double(1 << below(30))
            let format = formats[below(3)]
            printf(format, precision: format.utf8Start[3] == UInt8(ascii: "f") ? below(12) : below(26), d)
        case .digitStrings:
            if below(2) == 0 { append(UInt8(ascii: "-")) }
            let digits = 1 + below(40)
            let point = below(digits + 2) - 1  // -1: no point
            for i in 0..<digits {
                if i == point { append(UInt8(ascii: ".")) }
                // leading zeros now and then, trailing zeros now and then
                let digit = i < 3 && below(8) == 0 ? 0 : (i > digits - 4 && below(4) == 0 ? 0 : below(10))
                append(UInt8(ascii: "0") + UInt8(digit))
            }
            if point == digits { append(UInt8(ascii: ".")) }
            if below(8) != 0 {
                append(below(2) == 0 ? UInt8(ascii: "e") : UInt8(ascii: "E"))
                let e = below(760) - 380 - (point >= 0 ? 0 : digits / 2)
                if e >= 0 && below(2) == 0 { append(UInt8(ascii: "+")) }
                append("\(e)")
            }
        case .halfway:
            writeHalfway()
        case .boundaries:
            let prefixes: [StaticString] = [
                "4.9406564584124654", "2.4703282292062327", "2.4703282292062328", "7.4109846876186982",
                "2.2250738585072011", "2.2250738585072012", "2.2250738585072013", "2.2250738585072014",
                "1.7976931348623157", "1.7976931348623158", "1.7976931348623159", "9007199254740992",
                "9007199254740993", "9007199254740994", "1.0000000000000001", "0.99999999999999994"
            ]
            let exponents: [StaticString] = [
                "e-324", "e-324", "e-324", "e-324", "e-308", "e-308", "e-308", "e-308", "e308", "e308", "e308", "", "", "", "", ""
            ]
            let i = below(prefixes.count)
            append(prefixes[i])
            for _ in 0..<below(30) { append(UInt8(ascii: "0") + UInt8(below(4) == 0 ? below(10) : (below(2) == 0 ? 0 : 9))) }
            append(exponents[i])
        case .specials:
            let words: [StaticString] = [
                "inf", "infinity", "nan", "nan()", "nan(123)", "nan(0x1f)", "nan(abc_9)", "nan(", "nan(-)", "snan", "in", "infinit",
                "infinityy", "nana", "inf0"
            ]
            let signs: [StaticString] = ["", "+", "-"]
            append(signs[below(3)])
            let word = words[below(words.count)]
            for i in 0..<word.utf8CodeUnitCount {
                let b = word.utf8Start[i]
                append(below(2) == 0 ? b : (b >= 0x61 && b <= 0x7A ? b - 0x20 : b))
            }
        case .junk:
            for _ in 0..<below(12) { append(Self.junkAlphabet[below(Self.junkAlphabet.count)]) }
        }
    }

    static let junkAlphabet: [UInt8] = Array("0123456789.eE+-xXpPinfaNsy \t\r\n,_\u{0}".utf8) + [0xC3, 0xA9, 0xD9, 0xA1]

    /// The exact decimal expansion of the midpoint between a random double and the next one up (computed in Float80,
    /// whose 64-bit significand holds it exactly), cut to a random length or given in full, and now and then nudged
    /// just above it — the strings whose rounding is decided in the last digit.
    mutating func writeHalfway() {
        var d = abs(randomDouble())
        if below(4) == 0 { d = Double(bitPattern: next() % (1 << 53)) }  // subnormals and the smallest normals
        if d == .greatestFiniteMagnitude { d = d.nextDown }
        let mid = (Float80(d) + Float80(d.nextUp)) / 2
        let full = below(16) == 0
        printf("%.*Le", precision: full ? 780 : 16 + below(30), mid)
        if below(3) == 0 {
            // nudge up: one more significant digit just before the exponent
            var e = count - 1
            while bytes[e] != UInt8(ascii: "e") { e -= 1 }
            for i in (e..<count).reversed() { bytes[i + 1] = bytes[i] }
            bytes[e] = UInt8(ascii: "1")
            count += 1
        }
    }

    mutating func printf(_ format: StaticString, precision: Int? = nil, _ value: any CVarArg) {
        let n = withVaList(precision.map { [$0, value] } ?? [value]) { args in
            bytes.withMemoryRebound(to: CChar.self, capacity: Self.capacity) { vsnprintf($0, Self.capacity, format.utf8Start, args) }
        }
        count = Int(n)
    }

    // MARK: - references

    /// glibc's strtod over the current string: nil unless it consumed every byte (and did not skip leading white
    /// space, which Swift's `Double(Substring)` rejects).
    func strtodWhole() -> Double? {
        guard count > 0, !(bytes[0] == 0x20 || (bytes[0] >= 0x09 && bytes[0] <= 0x0D)) else { return nil }
        bytes[count] = 0
        return bytes.withMemoryRebound(to: CChar.self, capacity: count + 1) { start -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(start, &end)
            return end == start + count ? v : nil
        }
    }

    /// `NumberText.parse` as it was before FastFloat (DriftCapture/Tabular/Table.swift): the behaviour `parseCell` keeps.
    static func legacyNumberText(_ s: String) -> Double? {
        var t = Substring(s)
        while let f = t.first, f == " " || f == "\t" { t.removeFirst() }
        while let l = t.last, l == " " || l == "\t" || l == "\r" { t.removeLast() }
        if t.isEmpty { return nil }
        if let v = Double(t) { return v }
        switch t.lowercased() {
        case "nan", "+nan", "-nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return nil
        }
    }
}
