import DriftStats
import Foundation

/// Structure-aware generation of hostile capture input: JSON around the depth and size limits, every numeric field
/// huge, negative, fractional or non-finite, shapes whose product is near Int.max, lying lengths, NUL and invalid
/// UTF-8 in every string field, gzip bombs and random headers — then byte-level mutations of all of it.
/// Seeded (SplitMix64), so a failing input is reproduced by its seed and index.
public struct HostileInput {
    public var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    public mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(max(1, n))) }
    public mutating func chance(_ p: Double) -> Bool { Double(rng.next() >> 11) / Double(1 << 53) < p }
    public mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }

    public static let numbers = [
        "0", "-0", "1", "-1", "0.5", "-2.5", "1e308", "-1e308", "1e400", "-1e400", "1e-400", "9223372036854775807",
        "9223372036854775808", "18446744073709551616", "1e11", "3037000500", "4294967296", "1.7976931348623157e308",
        "123456789012345678901234567890", "0.1e1", "2.5e-3", "1E+2", "-", "01", "1.", ".5", "1e", "NaN", "Infinity"
    ]
    public static let strings = [
        #""""#, #""a""#, #""grocery""#, #""a\u0000b""#, #""\ud800""#, #""\udc00\ud800""#, #""\u00e9""#, #""\\""#,
        #""\x""#, "\"\u{7}\"", "\"\u{FF}\"", #""FP32""#, #""BYTES""#, #""INT64""#, #""FP16""#, #""BOOL""#, #""predictor""#
    ]

    public mutating func number() -> String { chance(0.5) ? String(Double(int(2000)) / 7 - 100) : pick(Self.numbers) }

    public mutating func string() -> String {
        if chance(0.1) { return "\"" + String(repeating: pick(["x", "\\u0000", "é"]), count: int(400)) + "\"" }
        return pick(Self.strings)
    }

    /// Any JSON value (or near-JSON), at most `depth` levels.
    public mutating func value(depth: Int) -> String {
        if depth <= 0 { return chance(0.5) ? number() : string() }
        switch int(8) {
        case 0: return number()
        case 1: return string()
        case 2: return pick(["true", "false", "null", "tru", "nul"])
        case 3, 4: return "[" + (0..<int(5)).map { _ in value(depth: depth - 1) }.joined(separator: ",") + "]"
        case 5: return String(repeating: "[", count: 60 + int(10)) + String(repeating: "]", count: chance(0.5) ? 60 + int(10) : int(70))
        default: return "{" + (0..<int(5)).map { _ in string() + ":" + value(depth: depth - 1) }.joined(separator: ",") + "}"
        }
    }

    public mutating func shape() -> String {
        switch int(6) {
        case 0: return "[" + (0..<int(4)).map { _ in number() }.joined(separator: ",") + "]"
        case 1: return "[3037000500,3037000500]"
        case 2: return "[\(int(5)),\(int(3))]"
        case 3: return "[0,1e11,1e11]"
        case 4: return "[\(int(4))]"
        default: return value(depth: 2)
        }
    }

    /// An Open Inference Protocol body, JSON or with a binary tail.
    public mutating func oip() -> Data {
        let key = chance(0.5) ? "inputs" : "outputs"
        let tensors = (0..<(1 + int(3))).map { _ -> String in
            var t =
                #"{"name":\#(pick(["\"amount\"", "\"score\"", "\"merchant_category\"", string()])),"datatype":\#(pick(Self.strings)),"shape":\#(shape())"#
            if chance(0.3) { t += #","parameters":{"binary_data_size":\#(number())}"# } else { t += #","data":\#(value(depth: 3))"# }
            return t + "}"
        }
        var body = Data(
            #"{"\#(key)":[\#(tensors.joined(separator: ","))]\#(chance(0.3) ? #","outputs":[{"name":"score"}]"# : ""),"model_version":\#(string())}"#
                .utf8)
        if chance(0.3) { body += Data((0..<int(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        return body
    }

    public mutating func v1() -> Data {
        let key = pick(["instances", "inputs", "predictions", "outputs"])
        let rows =
            chance(0.3)
            ? value(depth: 4)
            : "["
                + (0..<int(6)).map { _ in
                    "{"
                        + ["amount", "merchant_category", "country", "score", "hour_of_day"].map {
                            "\"\($0)\":" + (chance(0.5) ? number() : string())
                        }.joined(separator: ",") + "}"
                }.joined(separator: ",") + "]"
        return Data(#"{"\#(key)":\#(rows)}"#.utf8)
    }

    public mutating func seldon() -> Data {
        switch int(4) {
        case 0: return Data(#"{"data":{"names":["amount","merchant_category"],"ndarray":\#(value(depth: 3))}}"#.utf8)
        case 1: return Data(#"{"data":{"tensor":{"shape":\#(shape()),"values":\#(value(depth: 2))}}}"#.utf8)
        case 2: return Data(#"{"jsonData":\#(value(depth: 3))}"#.utf8)
        default: return Data(#"{"strData":\#(string()),"meta":{"puid":\#(string())}}"#.utf8)
        }
    }

    public mutating func payload() -> Data {
        switch int(4) {
        case 0: return oip()
        case 1: return v1()
        case 2: return seldon()
        default: return Data(value(depth: 6).utf8)
        }
    }

    /// A structured CloudEvent or a collector record (one JSON Lines line).
    public mutating func line() -> Data {
        let payload = String(decoding: self.payload(), as: UTF8.self)
        switch int(4) {
        case 0:
            return Data(
                #"{"specversion":"1.0","type":"\#(pick(["org.kubeflow.serving.inference.request", "io.seldon.serving.inference.response", "x"]))","id":\#(string()),"source":"s","time":\#(pick(["\"2026-11-25T16:00:00Z\"", "\"0001-01-01T00:00:00Z\"", string()])),"inferenceservicename":"fraud","data":\#(payload)}"#
                    .utf8)
        case 1:
            return Data(
                #"{"type":"azureml.inference.\#(pick(["model_inputs", "model_outputs", "request", "response"]))","correlationid":\#(string()),"source":"/onlineEndpoints/fraud","data":\#(chance(0.5) ? payload : value(depth: 3))}"#
                    .utf8)
        case 2:
            return Data(
                #"{"captureData":{"endpointInput":{"observedContentType":\#(pick(["\"text/csv\"", "\"application/json\"", "\"application/jsonlines\""])),"mode":"INPUT","data":\#(pick(["\"12.5,\\\"New York, NY\\\",east\"", "\"\\\"unterminated\"", string()])),"encoding":\#(pick(["\"CSV\"", "\"JSON\"", "\"BASE64\"", string()]))}},"eventMetadata":{"eventId":\#(string()),"inferenceTime":"2026-11-25T16:00:00Z"}}"#
                    .utf8)
        default:
            return Data(value(depth: 5).utf8)
        }
    }

    public mutating func headers() -> [(String, String)] {
        var h: [(String, String)] = [
            ("ce-specversion", "1.0"),
            (
                "ce-type",
                pick([
                    "org.kubeflow.serving.inference.request", "org.kubeflow.serving.inference.response",
                    "io.seldon.serving.inference.request", "io.seldon.serving.feedback", "x"
                ])
            ),
            ("ce-id", pick(["a", "", String(repeating: "z", count: 300), "a\u{0}b"])), ("ce-source", "s"),
            ("ce-inferenceservicename", pick(["fraud", "other", ""]))
        ]
        if chance(0.5) {
            h.append(
                (
                    "ce-time",
                    pick(["2026-11-25T16:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "yesterday", "2026-11-25T16:00:00.123456789+01:00"])
                ))
        }
        if chance(0.3) { h.append(("Inference-Header-Content-Length", pick(["0", "-1", "18446744073709551616", "99", "abc", String(int(200))]))) }
        if chance(0.3) { h.append(("ce-requestid", pick(["r1", "", "r\u{0}"]))) }
        if chance(0.3) { h.append(("ce-component", pick(["predictor", "transformer", ""]))) }
        if chance(0.2) { h.append(("ce-modelid", pick(["node", ""]))) }
        return h
    }

    /// Byte-level mutations: truncate, flip, insert, duplicate.
    public mutating func mutate(_ d: Data) -> Data {
        var b = [UInt8](d)
        for _ in 0..<(1 + int(3)) {
            guard !b.isEmpty else { break }
            switch int(4) {
            case 0: b.removeLast(int(b.count))
            case 1: b[int(b.count)] = UInt8(truncatingIfNeeded: rng.next())
            case 2: b.insert(contentsOf: (0..<int(8)).map { _ in pick([0x00, 0x22, 0x5B, 0x7B, 0x5C, 0xFF, 0x2C]) }, at: int(b.count))
            default:
                let start = int(b.count)
                let n = min(int(64), b.count - start)
                b.insert(contentsOf: b[start..<(start + n)], at: int(b.count))
            }
        }
        return Data(b)
    }
}
