import DriftCapture
import DriftCore
import DriftStats
import DriftStore
import Foundation
import Testing

/// Structure-aware generation of hostile capture input: JSON around the depth and size limits, every numeric field
/// huge, negative, fractional or non-finite, shapes whose product is near Int.max, lying lengths, NUL and invalid
/// UTF-8 in every string field, gzip bombs and random headers — then byte-level mutations of all of it.
/// Seeded (SplitMix64), so a failing input is reproduced by its seed and index.
struct HostileInput {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(max(1, n))) }
    mutating func chance(_ p: Double) -> Bool { Double(rng.next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }

    static let numbers = [
        "0", "-0", "1", "-1", "0.5", "-2.5", "1e308", "-1e308", "1e400", "-1e400", "1e-400", "9223372036854775807",
        "9223372036854775808", "18446744073709551616", "1e11", "3037000500", "4294967296", "1.7976931348623157e308",
        "123456789012345678901234567890", "0.1e1", "2.5e-3", "1E+2", "-", "01", "1.", ".5", "1e", "NaN", "Infinity"
    ]
    static let strings = [
        #""""#, #""a""#, #""grocery""#, #""a\u0000b""#, #""\ud800""#, #""\udc00\ud800""#, #""\u00e9""#, #""\\""#,
        #""\x""#, "\"\u{7}\"", "\"\u{FF}\"", #""FP32""#, #""BYTES""#, #""INT64""#, #""FP16""#, #""BOOL""#, #""predictor""#
    ]

    mutating func number() -> String { chance(0.5) ? String(Double(int(2000)) / 7 - 100) : pick(Self.numbers) }

    mutating func string() -> String {
        if chance(0.1) { return "\"" + String(repeating: pick(["x", "\\u0000", "é"]), count: int(400)) + "\"" }
        return pick(Self.strings)
    }

    /// Any JSON value (or near-JSON), at most `depth` levels.
    mutating func value(depth: Int) -> String {
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

    mutating func shape() -> String {
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
    mutating func oip() -> Data {
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

    mutating func v1() -> Data {
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

    mutating func seldon() -> Data {
        switch int(4) {
        case 0: return Data(#"{"data":{"names":["amount","merchant_category"],"ndarray":\#(value(depth: 3))}}"#.utf8)
        case 1: return Data(#"{"data":{"tensor":{"shape":\#(shape()),"values":\#(value(depth: 2))}}}"#.utf8)
        case 2: return Data(#"{"jsonData":\#(value(depth: 3))}"#.utf8)
        default: return Data(#"{"strData":\#(string()),"meta":{"puid":\#(string())}}"#.utf8)
        }
    }

    mutating func payload() -> Data {
        switch int(4) {
        case 0: return oip()
        case 1: return v1()
        case 2: return seldon()
        default: return Data(value(depth: 6).utf8)
        }
    }

    /// A structured CloudEvent or a collector record (one JSON Lines line).
    mutating func line() -> Data {
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

    mutating func headers() -> [(String, String)] {
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
    mutating func mutate(_ d: Data) -> Data {
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

@Suite("capture fuzzing: the decoders are total")
struct CaptureFuzzTests {
    static let monitors: [MonitorConfig] = (try? MonitorsFile.load(path: repoRoot.appendingPathComponent(WorkerSchema.config).path)) ?? []

    /// Runs every decoder on `body` (and `headers`); returns false when something other than a typed refusal came out.
    static func feed(_ body: Data, headers: [(String, String)], capture: ServingCapture, limits: CaptureLimits, now: Date) -> Bool {
        func typed(_ f: () throws -> Void) -> Bool {
            do {
                try f()
                return true
            } catch is CaptureDecodeError { return true } catch is ServingCapture.UnknownModel { return true } catch { return false }
        }
        var ok = true
        ok = ok && typed { _ = try JSONNode.parse(body, limits: limits) }
        ok =
            ok
            && typed {
                let p = try PayloadDecoder.decode(body, isResponse: nil, limits: limits)
                if p.rows.count > limits.maxRowsPerRequest { throw Unexpected() }
            }
        ok =
            ok
            && typed {
                let ce = try InferenceCloudEvent.binary(headers: headers, body: body)
                let r = try capture.events(from: ce, now: now)
                for e in r.events { _ = CaptureEventCheck.problem(e, limits: limits, now: now) }
            }
        ok = ok && typed { _ = try CaptureLineDecoder.decode(body, limits: limits) }
        ok = ok && typed { _ = try InferenceCloudEvent.batch(body, limits: limits) }
        ok = ok && typed { _ = try OIPProtobufDecoder.decode(body, isResponse: body.count % 2 == 0, limits: limits) }
        ok = ok && typed { _ = try CSVPayload.rows(body, path: "body", limits: limits) }
        return ok
    }

    struct Unexpected: Error {}

    @Test func twoHundredThousandHostileInputsGiveAResultOrATypedRefusal() throws {
        var limits = CaptureLimits()
        limits.maxRowsPerRequest = 1000
        limits.maxElements = 10_000
        limits.maxJSONNodes = 50_000
        let capture = ServingCapture(monitors: Self.monitors, limits: limits)
        let now = Date()
        var gen = HostileInput(seed: 13)
        let started = Date()
        var refusedOrAccepted = 0
        for i in 0..<200_000 {
            var body: Data
            switch i % 5 {
            case 0: body = gen.payload()
            case 1: body = gen.line()
            case 2: body = gen.mutate(gen.payload())
            case 3: body = gen.mutate(gen.line())
            default: body = Data((0..<gen.int(300)).map { _ in UInt8(truncatingIfNeeded: gen.rng.next()) })
            }
            let ok = Self.feed(body, headers: gen.headers(), capture: capture, limits: limits, now: now)
            #expect(ok, "input \(i) (seed 13): \(String(decoding: body.prefix(300), as: UTF8.self))")
            if !ok { break }
            refusedOrAccepted += 1
        }
        // gzip: random bytes, truncated streams, bombs
        let streams = [try gzip(Data(count: 1 << 20), level: 9), try gzip(Data(count: 64 << 20), level: 9), try gzip(gen.payload(), level: 9)]
        for i in 0..<200 {
            var gz = streams[i % streams.count]
            if i % 4 == 1 { gz = gen.mutate(gz) }
            do { _ = try BoundedGunzip.decompress(gz, maxBytes: 1 << 19, maxRatio: 50) } catch is CaptureDecodeError {} catch {
                Issue.record("gzip \(i): \(error)")
            }
        }
        print(
            "capture fuzz: \(refusedOrAccepted) inputs through 7 decoders and 200 gzip streams in \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
        )
    }

    @Test func everyRecordedCrasherIsRefusedCleanly() throws {
        let dir = repoRoot.appendingPathComponent("Tests/DriftCoreTests/Fuzz/corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(files.count >= 15)
        let capture = ServingCapture(monitors: Self.monitors)
        var gen = HostileInput(seed: 1)
        var headers = gen.headers()
        headers.removeAll { $0.0 == "Inference-Header-Content-Length" }
        for f in files {
            let body = try Data(contentsOf: dir.appendingPathComponent(f))
            #expect(Self.feed(body, headers: headers, capture: capture, limits: CaptureLimits(), now: Date()), "\(f)")
        }
    }
}
