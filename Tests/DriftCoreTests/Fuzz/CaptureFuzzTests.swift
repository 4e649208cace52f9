import DriftCapture
import DriftCommon
import DriftCore
import DriftStats
import DriftStore
import DriftTestSupport
import Foundation
import Testing

@Suite("capture fuzzing: the decoders are total")
struct CaptureFuzzTests {
    static let monitors: [MonitorConfig] = (try? MonitorsFile.load(path: repoRoot.appendingPathComponent("sample-data/monitors.yaml").path)) ?? []

    /// Runs every decoder on `body` (and `headers`); returns false when something other than a typed refusal came out.
    static func feed(_ body: Data, headers: [(String, String)], capture: ServingCapture, limits: CaptureLimits, now: Date) -> Bool {
        func typed(_ f: () throws -> Void) -> Bool {
            do {
                try f()
                return true
            } catch is CaptureDecodeError { return true } catch is ServingCapture.UnknownModel { return true } catch { return false }
        }
        var ok = true
        ok = ok && typed { _ = try JSONValue.parse(body, limits: limits) }
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
