import DriftCapture
import DriftCommon
import DriftTestSupport
import Foundation
import Testing

@Suite("boundary decoders: the JSON parser, RFC 3339 times, bounded gzip")
struct BoundaryDecoderTests {
    /// The parser agrees with Foundation on valid JSON (values, escapes, numbers correctly rounded).
    @Test func theParserAgreesWithFoundationOnValidJSON() throws {
        let docs = [
            #"{"a": [1, 2.5, -3e-2, 1E+2, 0.1, 123456789012345678, 1.7976931348623157e308, 5e-324], "b": {"c": null, "d": true, "e": false}}"#,
            #"["\u00e9\ud83d\ude00", "tab\there", "q\"uote", "back\\slash", "\/", ""]"#,
            #"  {"nested": [[[[]]], {}]}  "#, "0", "-0.0", #""x""#
        ]
        for doc in docs {
            let ours = try JSONValue.parse(Data(doc.utf8))
            let theirs = try JSONSerialization.jsonObject(with: Data(doc.utf8), options: [.fragmentsAllowed])
            #expect(Self.same(ours, theirs), "\(doc)")
        }
        for text in ["0.30000000000000004", "2.2250738585072014e-308", "9007199254740993", "4.9e-324", "1.7976931348623157e308"] {
            #expect(try JSONValue.parse(Data(text.utf8)).number == Double(text)!, "\(text)")
        }
        // numbers: every shape of decimal text against strtod (Double(String))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let mantissa = String(UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64.random(in: 0...63, using: &rng))
            let text =
                (Bool.random() ? "-" : "") + mantissa + (Bool.random() ? "." + String(UInt32.random(in: 0...UInt32.max)) : "")
                + (Bool.random() ? "e" + String(Int.random(in: -330...310)) : "")
            guard let expected = Double(text), expected.isFinite else { continue }
            let node = try JSONValue.parse(Data(text.utf8))
            #expect(node.number == expected, "\(text)")
        }
    }

    static func same(_ a: JSONValue, _ b: Any) -> Bool {
        switch a {
        case .null: return b is NSNull
        case .bool(let x): return (b as? Bool) == x
        case .int(let x): return (b as? NSNumber).map { $0.int64Value == Int64(x) } ?? false
        case .double(let x): return (b as? NSNumber).map { $0.doubleValue == x } ?? false
        case .string(let x): return (b as? String) == x
        case .array(let xs):
            guard let ys = b as? [Any], ys.count == xs.count else { return false }
            return zip(xs, ys).allSatisfy { same($0, $1) }
        case .object(let xs):
            guard let ys = b as? [String: Any], ys.count == xs.count else { return false }
            return xs.allSatisfy { k, v in ys[k].map { same(v, $0) } ?? false }
        }
    }

    @Test func hostileJSONIsRefusedWithTheByteAndTheLimit() {
        let cases: [(String, String, CaptureDecodeError.Reason)] = [
            (String(repeating: "[", count: 513), "nested deeper than 64 levels", .malformed),
            (String(repeating: "{\"a\":", count: 100) + "1" + String(repeating: "}", count: 100), "nested deeper than 64 levels", .malformed),
            ("[1,2", "ends inside an array", .malformed),
            ("{\"a\" 1}", "expected ':'", .malformed),
            ("\"\\ud800\"", "unpaired surrogate", .malformed),
            ("\"\u{1}\"", "raw control character", .malformed),
            ("01", "leading zero", .malformed),
            ("1e400", "outside the range of a double", .invalidValue),
            ("[1] x", "after the JSON value", .malformed),
            ("", "is empty", .malformed)
        ]
        for (doc, message, reason) in cases {
            do {
                _ = try JSONValue.parse(Data(doc.utf8))
                Issue.record("\(doc.prefix(20)) was accepted")
            } catch let e as CaptureDecodeError {
                #expect(e.description.contains(message) && e.reason == reason, "\(doc.prefix(20)): \(e)")
            } catch { Issue.record("\(error)") }
        }
        #expect(throws: CaptureDecodeError.self) { try JSONValue.parse(Data([0x22, 0xFF, 0xFE, 0x22])) }  // invalid UTF-8
        var limits = CaptureLimits()
        limits.maxJSONNodes = 100
        #expect { try JSONValue.parse(Data(("[" + String(repeating: "1,", count: 200) + "1]").utf8), limits: limits) } throws: { e in
            (e as? CaptureDecodeError)?.reason == .tooLarge
        }
    }

    /// 200,000 members in one object, wherever a decoder looks keys up: each decoder takes one linear lookup per
    /// key it needs, or one dictionary built once, never a scan per member (this test ends quickly only if so).
    @Test func anObjectOf200000KeysIsDecodedWithoutQuadraticLookups() throws {
        func members(_ value: (Int) -> String) -> String { (0..<200_000).map { "\"k\($0)\":\(value($0))" }.joined(separator: ",") }
        // top level: the protocol is told by a few lookups, then V1 reads its rows
        let wide = try PayloadDecoder.decode(Data(("{" + members { "\($0)" } + #","instances":[[1,2]]}"#).utf8))
        #expect(wide.protocolName == .v1 && wide.rows.count == 1)
        // one row of 200,000 fields
        let row = try PayloadDecoder.decode(Data((#"{"instances":[{"# + members { "\($0)" } + "}]}").utf8))
        #expect(row.rows.first?.fields.count == 200_000)
        // columnar: 200,000 columns of one value each
        let columns = try PayloadDecoder.decode(Data((#"{"inputs":{"# + members { "[\($0)]" } + "}}").utf8))
        #expect(columns.rows.count == 1 && columns.rows[0].fields.count == 200_000)
        #expect(columns.rows[0].value(key: "k199999", index: nil) == .number(199_999))
        // a CloudEvent with 200,000 attributes is read, then refused for what it lacks
        #expect(throws: CaptureDecodeError.self) { try InferenceCloudEvent.structured(Data(("{" + members { "\($0)" } + "}").utf8)) }
        // a capture line of an unknown format is refused
        #expect(throws: CaptureDecodeError.self) { try CaptureLineDecoder.decode(Data(("{" + members { "\($0)" } + "}").utf8)) }
    }

    @Test func rfc3339MatchesFoundationAndRefusesWhatIsNotATime() {
        let f = ISO8601DateFormatter()
        for t in stride(from: -2_000_000_000.0, to: 4_000_000_000.0, by: 7_777_777.7) {
            let d = Date(timeIntervalSince1970: t.rounded())
            #expect(RFC3339.parse(f.string(from: d)) == d)
        }
        #expect(RFC3339.parse("2026-11-25T17:03:12.123456789+01:00")!.timeIntervalSince1970 == 1_795_622_592.123456789)
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        for text in ["0001-01-01T00:00:00Z", "1582-10-04T12:00:00Z", "1969-12-31T23:59:59Z", "2026-11-25T17:03:12Z", "9999-12-31T23:59:59Z"] {
            #expect(RFC3339.format(RFC3339.parse(text)!) == text)
        }
        for bad in [
            "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T17:03:12", "yesterday", "",
            "2026-11-25T17:03:12.Z", "2026-11-25T17:03:12+1:00", "２０２６-11-25T17:03:12Z", "2026-11-25T17:03:12Zjunk"
        ] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func gzipIsBoundedByRatioAndSize() throws {
        let zeros = Data(count: 1 << 20)
        let gz = try Self.gz(zeros, level: 9)
        #expect(try BoundedGunzip.decompress(gz, maxBytes: 2 << 20, maxRatio: 2000) == zeros)
        #expect { try BoundedGunzip.decompress(gz, maxBytes: 2 << 20, maxRatio: 100) } throws: { ($0 as? CaptureDecodeError)?.reason == .tooLarge }
        #expect { try BoundedGunzip.decompress(gz, maxBytes: 1 << 19, maxRatio: 2000) } throws: { ($0 as? CaptureDecodeError)?.reason == .tooLarge }
        #expect { try BoundedGunzip.decompress(gz.prefix(gz.count - 8), maxBytes: 2 << 20, maxRatio: 2000) } throws: {
            ($0 as? CaptureDecodeError)?.reason == .malformed
        }
    }

    /// gzip through the system's gzip (an independent implementation of the format).
    static func gz(_ data: Data, level: Int = 6) throws -> Data { try gzip(data, level: level) }

    /// `cat a.gz b.gz` is one valid gzip file of both: every member is read; junk after a member is refused.
    @Test func gzipMembersAreAllReadAndJunkIsRefused() throws {
        let a = Data("line A\n".utf8)
        let b = Data("line B\n".utf8)
        let both = try Self.gz(a) + Self.gz(b)
        #expect(try BoundedGunzip.decompress(both, maxBytes: 1 << 20, maxRatio: 200) == a + b)
        let junk = try Self.gz(a) + Data("JUNKJUNK".utf8) + Data([7, 0, 0, 0])
        #expect { try BoundedGunzip.decompress(junk, maxBytes: 1 << 20, maxRatio: 200) } throws: { ($0 as? CaptureDecodeError)?.reason == .malformed }
    }

    /// Triton's binary extension without `Inference-Header-Content-Length`: the first binary byte may be what JSON
    /// calls white space (0x20 = INT32 32), and it is data.
    @Test func binaryDataStartingWithWhiteSpaceBytesIsData() throws {
        let header = #"{"inputs":[{"name":"amount","shape":[2],"datatype":"INT32","parameters":{"binary_data_size":8}}]}"#
        let body = Data(header.utf8) + Data([0x20, 0, 0, 0, 0x0A, 0, 0, 0])
        let p = try PayloadDecoder.decode(body)
        #expect(p.rows.map { $0.fields[0].values } == [[.number(32)], [.number(10)]])
        // plain JSON may still end with white space; other bytes after it are refused
        #expect(try PayloadDecoder.decode(Data(#"{"instances": [1]}   \#n"#.utf8)).rows.count == 1)
        #expect(throws: CaptureDecodeError.self) { try PayloadDecoder.decode(Data(#"{"instances": [1]} x"#.utf8)) }
    }

    /// A batch-1 tensor is repeated into every row: what the rows will hold counts against the request's elements.
    @Test func aBroadcastTensorCountsOncePerRow() {
        let w = 10_000
        let body =
            #"{"inputs":[{"name":"amount","shape":[10000],"datatype":"FP64","data":["# + Array(repeating: "1", count: 10_000).joined(separator: ",")
            + #"]},{"name":"blob","shape":[1,\#(w)],"datatype":"FP64","data":["# + Array(repeating: "0", count: w).joined(separator: ",") + "]}]}"
        #expect { try PayloadDecoder.decode(Data(body.utf8)) } throws: { ($0 as? CaptureDecodeError)?.reason == .tooLarge }
    }
}
