import DriftCommon
import Testing

@Suite("JSONValue: the bounded parser, exact integers, ordered objects, compact rendering, the escaper")
struct JSONValueTests {
    static func parse(_ text: String, limits: JSONParser.Limits = .init()) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8), limits: limits)
    }

    static func refusal(_ text: String, limits: JSONParser.Limits = .init()) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(Array(text.utf8), limits: limits)
            return nil
        } catch { return error }
    }

    @Test func parseThenRenderGivesTheCompactTextBack() throws {
        let docs = [
            #"{"b":1,"a":[true,false,null],"c":{"z":"x","y":-2.5}}"#,
            #"[0,-1,9223372036854775807,-9223372036854775808,0.1,1e+300,5e-324,"é😀"]"#,
            #"{}"#, "[]", #""""#, "null", "-0.0"
        ]
        for doc in docs {
            #expect(try Self.parse(doc).rendered() == doc, "\(doc)")
        }
        // white space goes, member order stays
        #expect(try Self.parse(" { \"z\" : 1 ,\n\t\"a\" : [ 2 , 3 ] } ").rendered() == #"{"z":1,"a":[2,3]}"#)
        // shortest round-trip doubles; what JSON cannot hold renders as null
        #expect(
            JSONValue.array([.double(0.1 + 0.2), .double(.nan), .double(.infinity), .number(nil), .number(2)]).rendered()
                == "[0.30000000000000004,null,null,null,2.0]")
    }

    @Test func integerLiteralsStayExact() throws {
        #expect(try Self.parse("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try Self.parse("9007199254740993").rendered() == "9007199254740993")
        #expect(try Self.parse("-9223372036854775808") == .int(Int.min))
        #expect(try Self.parse("[1, -0, 1.0, 1e2]") == .array([.int(1), .double(-0.0), .double(1), .double(100)]))
        // beyond 64 bits: the nearest double
        #expect(try Self.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try Self.parse("123456789012345678901234") == .double(Double("123456789012345678901234")!))
        #expect(try Self.parse("9007199254740993").number == 9_007_199_254_740_992)  // as a double it rounds
        #expect(try Self.parse("0.30000000000000004") == .double(0.30000000000000004))
    }

    @Test func aRepeatedKeyIsKeptInOrderAndLooksUpItsLastValue() throws {
        let v = try Self.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(v["a"] == .int(3))
        #expect(v["b"] == .int(2))
        #expect(v["c"] == nil)
        #expect(v.object?["a"] == .int(3) && v.object?.count == 2)
        #expect(v.members?.map(\.0) == ["a", "b", "a"])
        #expect(v.rendered() == #"{"a":1,"b":2,"a":3}"#)
        #expect(JSONValue.array([])["a"] == nil)
    }

    @Test func depthAndValueLimitsAreRefusedWithTheirOffset() throws {
        let deep = try #require(Self.refusal(String(repeating: "[", count: 513)))
        #expect(deep.kind == .tooDeep(limit: 64) && deep.offset == 64)
        #expect(deep.description == "The JSON document is nested deeper than 64 levels at byte 64.")
        #expect(try Self.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).typeName == "an array")

        let many = try #require(Self.refusal("[" + String(repeating: "1,", count: 200) + "1]", limits: .init(maxValues: 100)))
        #expect(many.kind == .tooManyValues(limit: 100))
        #expect(many.problem == "has more than the 100 JSON values allowed in one document")
        // member names count
        #expect(Self.refusal(#"{"a":1,"b":2}"#, limits: .init(maxValues: 4))?.kind == .tooManyValues(limit: 4))
        #expect(try Self.parse(#"{"a":1,"b":2}"#, limits: .init(maxValues: 5))["b"] == .int(2))

        let cases: [(String, JSONParseError.Kind, Int, String)] = [
            ("[1,2", .malformed, 4, "ends inside an array at byte 4"),
            (#"{"a" 1}"#, .malformed, 5, "expected ':' but found '1' at byte 5"),
            ("01", .malformed, 0, "has a number with a leading zero at byte 0"),
            ("1e400", .numberOutOfRange, 0, "1e400 at byte 0 is outside the range of a double"),
            ("[1] x", .malformed, 4, "has 'x' after the JSON value at byte 4"),
            ("", .malformed, 0, "is empty"),
            ("\"\u{1}\"", .malformed, 1, "has a raw control character (byte 0x01) in a string at byte 1"),
            (#""\ud800""#, .malformed, 1, "has an unpaired surrogate \\ud800 at byte 1")
        ]
        for (doc, kind, offset, problem) in cases {
            let e = Self.refusal(doc)
            #expect(e == JSONParseError(kind: kind, offset: offset, problem: problem), "\(doc)")
        }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }  // invalid UTF-8
    }

    @Test func aPrefixEndsAfterItsLastByte() throws {
        let (value, end) = try JSONParser.parsePrefix(Array(#"{"a":[1]}  binary"#.utf8))
        #expect(value["a"] == .array([.int(1)]) && end == 9)
    }

    /// One object of 200,000 members: parsed in one pass, each needed key found by one linear lookup or one
    /// dictionary built once (the test finishes quickly only if nothing is quadratic).
    @Test func aHugeObjectIsParsedAndLookedUpInLinearTime() throws {
        var text = "{"
        for i in 0..<200_000 { text += "\"k\(i)\":\(i)," }
        text += "\"last\":true}"
        let v = try Self.parse(text)
        #expect(v.members?.count == 200_001)
        #expect(v["k0"] == .int(0) && v["last"] == .bool(true) && v["missing"] == nil)
        let keyed = try #require(v.object)
        #expect((0..<200_000).allSatisfy { keyed["k\($0)"] == .int($0) })
    }

    @Test func theEscaperWritesControlCharactersAndLineSeparatorsAsEscapes() throws {
        #expect(JSONValue.escaped("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONValue.escaped("\n\r\t") == #""\n\r\t""#)
        #expect(JSONValue.escaped("\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}") == #""\u0000\u0001\u0008\u000c\u001f\u007f""#)
        #expect(JSONValue.escaped("x\u{2028}y\u{2029}z") == #""x\u2028y\u2029z""#)
        #expect(JSONValue.escaped("é😀/") == "\"é😀/\"")
        // what the escaper writes parses back to the same string
        let all = String(String.UnicodeScalarView((0..<0x80).compactMap(Unicode.Scalar.init) + ["\u{2028}", "\u{2029}", "\u{10FFFF}"]))
        #expect(try Self.parse(JSONValue.escaped(all)) == .string(all))
    }
}
