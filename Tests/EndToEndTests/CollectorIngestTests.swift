import DriftTestSupport
import Foundation
import Testing

/// KServe's logger writing to storage, end to end: one batch object (a JSON array of `LogRequest`s on one line,
/// from Tests/DriftCaptureTests/Fixtures/collector_cases.json) read by `ingest --format kserve` and by
/// `POST /v1/capture/batch`; the bad record is refused alone, the request and response rows are stored.
@Suite("KServe storage-logger batches through ingest and /v1/capture/batch", .serialized)
struct CollectorIngestTests {
    static func storageBatch() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DriftCaptureTests/Fixtures/collector_cases.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let cases = root?["cases"] as? [[String: Any]] ?? []
        guard
            let line = cases.first(where: { ($0["name"] as? String)?.hasPrefix("kserve storage logger: a JSON array batch") == true })?["line"]
                as? String
        else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return line
    }

    @Test func ingestReadsABatchObjectAndRefusesOnlyTheBadRecord() throws {
        let schema = try WorkerSchema(prefix: "kstor")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let s = try Scratch()
        let file = s.write("b7d2-0001-response.json", try Self.storageBatch())
        let r = try CLI.run(["ingest", file, "--format", "kserve", "--model", "fraud", "--config", WorkerSchema.config], environment: schema.env)
        #expect(r.status == 2, "one record of three is bad: \(r.stderr)")
        #expect(r.stderr.contains(":1: [2].Bytes is not base64"), "\(r.stderr)")
        #expect(r.stdout.contains("ingested 4 events"), "\(r.stdout)")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE kind = 'request'") == 2)
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE kind = 'response'") == 2)
    }

    @Test func theBatchRouteAnswersPerRecord() async throws {
        let schema = try WorkerSchema(prefix: "kstorh")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let s = try Scratch()
        let token = s.write("token", "s3cret-token\n")
        let server = try RunningServer(["ingest-server", "--config", WorkerSchema.config, "--ingest-token-file", token], environment: schema.env)
        let port = try await server.port()
        let (status, body) = try await postCloudEvent(
            port: port, type: "-", id: "-", time: nil, body: Data(try Self.storageBatch().utf8),
            headers: ["Authorization": "Bearer s3cret-token"], path: "/v1/capture/batch")
        #expect(status == 200 && body.contains("\"accepted\":4") && body.contains("[2].Bytes is not base64"), "\(body)")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == 4)
        #expect(server.terminate() == 0)
    }
}
