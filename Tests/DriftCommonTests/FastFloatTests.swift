import DriftCommon
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("FastFloat: correctly rounded decimal-to-double on bytes, strtod's grammar, NumberText's cell rules")
struct FastFloatTests {
    static func parse(_ text: String) -> Double? { FastFloat.parse(text) }

    static func cell(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { FastFloat.parseCell(UnsafeRawBufferPointer($0)) }
    }

    /// glibc's strtod over the whole text (the reference the corpus test checks against).
    static func strtodWhole(_ text: String) -> Double? {
        let count = text.utf8.count
        guard count > 0 else { return nil }
        return text.withCString { (start: UnsafePointer<CChar>) -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(start, &end)
            guard let end else { return nil }
            return UnsafePointer(end) == start + count ? v : nil
        }
    }

    /// The exact decimal expansion of `x` (Float80 holds every double and every midpoint between two doubles).
    static func exactDecimal(_ x: Float80, digits: Int = 780) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        let n = withVaList([digits, x]) { vsnprintf(&buffer, buffer.count, "%.*Le", $0) }
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func bits(_ v: Double?) -> UInt64? { v?.bitPattern }

    @Test func ordinaryNumbersAndSigns() {
        let cases: [(String, Double)] = [
            ("0", 0), ("1", 1), ("+1", 1), ("-1", -1), ("1.5", 1.5), (".5", 0.5), ("5.", 5), ("-.5e1", -5), ("1.e5", 1e5),
            ("1e10", 1e10), ("1E+10", 1e10), ("1e-10", 1e-10), ("0.1", 0.1), ("123456.789", 123456.789),
            ("3.141592653589793", .pi), ("1e22", 1e22), ("1e23", 1e23), ("123e30", 123e30), ("9007199254740992e15", 9007199254740992e15)
        ]
        for (text, value) in cases {
            #expect(Self.bits(Self.parse(text)) == value.bitPattern, "\(text)")
        }
        #expect(Self.bits(Self.parse("-0")) == (-0.0).bitPattern)
        #expect(Self.bits(Self.parse("-0.0e-999")) == (-0.0).bitPattern)
        #expect(Self.bits(Self.parse("+0")) == 0)
    }

    @Test func subnormalsAndTheirRoundingBoundaries() throws {
        let smallest = Double.leastNonzeroMagnitude
        #expect(Self.parse("4.9406564584124654e-324") == smallest)
        #expect(Self.parse("5e-324") == smallest)
        #expect(Self.parse("3e-324") == smallest)
        #expect(Self.parse("2.4703282292062328e-324") == smallest)  // just above half of it: rounds up
        #expect(Self.bits(Self.parse("2.4703282292062327e-324")) == 0)  // just below half: rounds to 0
        #expect(Self.bits(Self.parse("-2e-324")) == (-0.0).bitPattern)
        // exactly half the smallest subnormal ties to even (0); a hair above rounds up
        let half = Self.exactDecimal(Float80(smallest) / 2)
        #expect(Self.bits(Self.parse(half)) == 0, "\(half)")
        let parts = half.split(separator: "e")
        let aboveHalf = String(parts[0]) + "1e" + String(parts[1])
        #expect(Self.parse(aboveHalf) == smallest)
        // 1.5 × smallest ties to even: 2 × smallest
        #expect(Self.parse(Self.exactDecimal(Float80(smallest) * 1.5)) == 2 * smallest)
        #expect(Self.bits(Self.parse("1e-310")) == 0x0000_1268_8B70_E62B)
        #expect(Self.bits(Self.parse("1e-400")) == 0)
        #expect(Self.bits(Self.parse("-1e-400")) == (-0.0).bitPattern)
    }

    @Test func theLargestSubnormalAndTheSmallestNormal() {
        // 2.2250738585072011e-308: the string that hung PHP and Java
        #expect(Self.bits(Self.parse("2.2250738585072011e-308")) == 0x000F_FFFF_FFFF_FFFF)
        #expect(Self.bits(Self.parse("2.2250738585072012e-308")) == 0x0010_0000_0000_0000)
        #expect(Self.bits(Self.parse("2.2250738585072014e-308")) == 0x0010_0000_0000_0000)
        #expect(Self.bits(Self.parse("0.00022250738585072011e-304")) == 0x000F_FFFF_FFFF_FFFF)
        let midpoint = Self.exactDecimal((Float80(Double.leastNormalMagnitude) + Float80(Double.leastNormalMagnitude.nextDown)) / 2)
        #expect(Self.bits(Self.parse(midpoint)) == 0x0010_0000_0000_0000, "ties to even: \(midpoint)")
    }

    @Test func overflowGivesInfinityLikeStrtod() {
        #expect(Self.parse("1.7976931348623157e308") == .greatestFiniteMagnitude)
        #expect(Self.parse("1.7976931348623158e308") == .greatestFiniteMagnitude)
        #expect(Self.parse("1.7976931348623159e308") == .infinity)
        #expect(Self.parse("1e400") == .infinity)
        #expect(Self.parse("-1e400") == -.infinity)
        #expect(Self.parse("1e99999999999999999999") == .infinity)
        #expect(Self.parse("-1e99999999999999999999") == -.infinity)
        #expect(Self.bits(Self.parse("0e99999999999999999999")) == 0)
        #expect(Self.bits(Self.parse("1e-99999999999999999999")) == 0)
        #expect(Self.parse("0.0000001e99999999999999999999") == .infinity)
    }

    @Test func leadingAndTrailingZerosAndLongDigitStrings() {
        #expect(Self.parse("000000000000000000000000000001") == 1)
        #expect(Self.parse("0000.00001") == 1e-5)
        #expect(Self.parse("0." + String(repeating: "0", count: 399) + "1e+400") == 1)
        #expect(Self.parse("0." + String(repeating: "0", count: 419) + "1e+400") == 1e-20)
        #expect(Self.parse("1" + String(repeating: "0", count: 500) + "e-500") == 1)
        #expect(Self.parse("1." + String(repeating: "0", count: 500)) == 1)
        #expect(Self.parse("1" + String(repeating: "0", count: 40)) == 1e40)
        #expect(Self.parse("1.000000000000000000000000000000000001") == 1)
        // 19 and 20 significant digits, and a mantissa that overflows 64 bits
        #expect(Self.parse("1844674407370955161") == Double(1_844_674_407_370_955_161 as UInt64))
        #expect(Self.parse("18446744073709551615") == Double(UInt64.max))
        #expect(Self.parse("18446744073709551616") == 0x1p64)
        #expect(Self.parse("99999999999999999999999999999999999999") == 1e38)
        // 800 digits, and a 100,000-digit string: the fallback's heap path
        var generator = SystemRandomNumberGenerator()
        for count in [800, 100_000] {
            let digits = "9" + String((1..<count).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            for text in [digits, "0." + digits, digits + "e-\(count + 10)", "1." + digits + "e-300"] {
                #expect(Self.bits(Self.parse(text)) == Self.bits(Self.strtodWhole(text)), "\(text.prefix(40))… (\(text.count) bytes)")
            }
        }
    }

    @Test func halfwayCasesRoundToEven() {
        // 2^53 + 1 lies halfway between 2^53 and 2^53 + 2: even is 2^53
        #expect(Self.parse("9007199254740993") == 9_007_199_254_740_992)
        #expect(Self.parse("9007199254740993.0000000000000000001") == 9_007_199_254_740_994)
        #expect(Self.parse("9007199254740995") == 9_007_199_254_740_996)
        // halfway between 1 and its successor: exactly, just below, just above
        let mid = "1.00000000000000011102230246251565404236316680908203125"
        #expect(Self.parse(mid) == 1)
        #expect(Self.parse(String(mid.dropLast()) + "4") == 1)
        #expect(Self.parse(mid + "0000000000000000000000001") == 1.0.nextUp)
        #expect(Self.parse(String(mid.dropLast()) + "6") == 1.0.nextUp)
        // exact midpoints need more than 19 digits: Eisel–Lemire sees m and m + 1 round apart, the fallback decides
        for d in [1e300, 123456789e200, 0.1, 5e-300, Double.leastNonzeroMagnitude * 50_000_001, 1.7976931348623155e308] {
            let midpoint = Self.exactDecimal((Float80(d) + Float80(d.nextUp)) / 2)
            #expect(Self.parse(midpoint) == (d.significandBitPattern & 1 == 0 ? d : d.nextUp), "\(midpoint.prefix(30))")
        }
    }

    @Test func specialValuesAndHexFloats() {
        for text in ["inf", "INF", "Inf", "+inf", "infinity", "INFINITY", "+Infinity"] {
            #expect(Self.parse(text) == .infinity, "\(text)")
        }
        #expect(Self.parse("-inf") == -.infinity)
        #expect(Self.parse("-Infinity") == -.infinity)
        #expect(Self.bits(Self.parse("nan")) == 0x7FF8_0000_0000_0000)
        #expect(Self.bits(Self.parse("NaN")) == 0x7FF8_0000_0000_0000)
        #expect(Self.bits(Self.parse("-nan")) == 0xFFF8_0000_0000_0000)
        #expect(Self.bits(Self.parse("nan()")) == 0x7FF8_0000_0000_0000)
        #expect(Self.bits(Self.parse("nan(123)")) == 0x7FF8_0000_0000_007B)  // glibc puts the number in the payload
        #expect(Self.bits(Self.parse("nan(abc_1)")) == 0x7FF8_0000_0000_0000)
        #expect(Self.parse("0x1.8p3") == 12)
        #expect(Self.parse("0X1P-2") == 0.25)
        #expect(Self.parse("0x.8") == 0.5)
        #expect(Self.parse("-0x1p-1074") == -.leastNonzeroMagnitude)
        #expect(Self.parse("0x1p1024") == .infinity)
    }

    @Test func rejectsWhatStrtodWouldNotConsumeWhole() {
        let rejected = [
            "", "+", "-", ".", "+.", "-.e1", "e5", "1e", "1e+", "1e-", "1.5.", "1e5.", " 1", "1 ", "\t1", "1\t", "\n1", "1\0", "1\02",
            "0x", "0x1p", "1,5", "1_000", "++1", "+-1", "--1", "1d5", "1f", "0b1", "١", "１", "infinit", "infinityx", "in", "nana",
            "nan(", "nan(()", "nan(a-b)", "snan", "- 1", "1e5e5", "0x1p+", "é"
        ]
        for text in rejected {
            #expect(Self.parse(text) == nil, "\(text.debugDescription)")
            #expect(
                Self.strtodWhole(text) == nil || text.first?.isWhitespace == true || text.contains("\0") || text == "snan", "\(text.debugDescription)"
            )
        }
    }

    @Test func substringsAndStringsParseWithoutCopying() {
        let line = "id,1.25,x"
        let field = line.split(separator: ",")[1]
        #expect(FastFloat.parse(field) == 1.25)
        #expect(FastFloat.parse(Substring("7e-3")) == 7e-3)
    }

    @Test func cellsKeepNumberTextRules() {
        #expect(Self.cell(" \t1.5\t \r") == 1.5)
        #expect(Self.cell("  -2e3") == -2000)
        #expect(Self.cell("1\r\n") == nil)  // only a trailing CR goes, not a line feed
        #expect(Self.cell("") == nil)
        #expect(Self.cell(" \t ") == nil)
        #expect(Self.cell("\n1") == nil)
        #expect(Self.cell("1 2") == nil)
        #expect(Self.cell("abc") == nil)
        #expect(Self.cell(" NaN ")?.isNaN == true)
        #expect(Self.cell("-Infinity") == -.infinity)
        // the Swift standard library's quirks, kept: a NUL ends the text, snan is a (positive) signalling NaN
        #expect(Self.cell("1\0junk") == 1)
        #expect(Self.cell("\0") == nil)
        #expect(Self.bits(Self.cell("-sNaN")) == Double.signalingNaN.bitPattern)
        #expect(Self.bits(Self.cell("snan")) == Double.signalingNaN.bitPattern)
        for text in [" \t1.5\t \r", "1\r\n", "1\0junk", "-sNaN", " nan(7) ", "0x1p-3", "+.5", " \u{301}1", "1\u{600} "] {
            #expect(Self.bits(Self.cell(text)) == Self.bits(FloatCorpus.legacyNumberText(text)), "\(text.debugDescription)")
        }
    }

    @Test func theJSONParserReadsItsDoublesWithFastFloat() throws {
        let text = "[0.1000000000000000055511151231257827, 2.2250738585072011e-308, 9007199254740993, 1e-400, 123456789012345678901234567890]"
        let value = try JSONParser.parse(Array(text.utf8))
        guard case .array(let items) = value else {
            Issue.record("not an array: \(value)")
            return
        }
        #expect(items.count == 5)
        #expect(items[0] == .double(0.1))
        #expect(items[1] == .double(Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)))
        #expect(items[2] == .int(9_007_199_254_740_993))
        #expect(items[3] == .double(0))
        #expect(items[4] == .double(1.2345678901234568e29))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("[1e400]".utf8)) }
        do {
            _ = try JSONParser.parse(Array("-1e99999".utf8))
            Issue.record("-1e99999 parsed")
        } catch {
            #expect(error.kind == .numberOutOfRange)
        }
    }
}
