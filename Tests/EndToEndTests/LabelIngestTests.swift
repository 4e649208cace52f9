import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// Ground truth in: `POST /v1/labels` on a real server and `ingest --format labels`, into a real PostgreSQL.
@Suite("Ground-truth labels in", .serialized)
struct LabelIngestTests {
    static func post(_ port: Int, _ body: String, query: String = "?model=fraud", headers: [(String, String)] = []) throws -> RawHTTP.Reply {
        try RawHTTP.post(port: port, path: "/v1/labels\(query)", headers: [("Content-Type", "application/x-ndjson")] + headers, body: Data(body.utf8))
    }

    static func answer(_ reply: RawHTTP.Reply) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any], "\(reply.body)")
    }

    static func outcomes(_ reply: RawHTTP.Reply) throws -> [String] {
        try ((answer(reply)["lines"] as? [[String: Any]]) ?? []).map { ($0["outcome"] as? String) ?? "?" }
    }

    @Test func labelsAreStoredCountedAndEveryBadLineIsAnsweredWithoutLosingItsNeighbours() async throws {
        let schema = try WorkerSchema(prefix: "lab")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let server = try RunningServer(["ingest-server", "--config", WorkerSchema.config, "--max-rows", "50"], environment: schema.env)
        let port = try await server.port()

        // 1. good lines of every form, with bad ones between them
        let lines = [
            #"{"request_id": "r-1", "label": "1"}"#,
            #"{"request_id": "r-2", "label": 0, "time": "2026-11-30T10:00:00Z"}"#,
            #"{"id": "r-3/0", "label": true}"#,
            #"{"request_id": "r-4", "value": 412.5, "time": 1796032800}"#,
            #"{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "sm-1"}, "eventVersion": "0"}"#,
            #"{"request_id": "r-5", "label": "a\u0000b"}"#,
            #"{"request_id": "r-6", "label": {"class": 1}}"#,
            #"{"request_id": "r-7", "label": "1", "value": 1}"#,
            #"{"request_id": "r-8", "label": "1", "model": "fraud-v2"}"#,  // another model than ?model=
            #"{"request_id": "\#(String(repeating: "x", count: 300))", "label": "1"}"#,
            #"{"request_id": "r-9"}"#,
            "not json",
            #"{"request_id": "r-10", "label": "1", "time": "2999-01-01T00:00:00Z"}"#,
            "",
            #"{"request_id": "r-1", "label": "1"}"#
        ]
        let first = try Self.post(port, lines.joined(separator: "\n"))
        #expect(first.status == 200, "\(first.body)")
        let a = try Self.answer(first)
        #expect(a["stored"] as? Int == 5, "\(first.body)")
        #expect(a["duplicates"] as? Int == 1, "r-1 twice in one request: the last one counts")
        #expect(a["rejected_lines"] as? Int == 8, "\(first.body)")
        #expect(
            try Self.outcomes(first)
                == [
                    "duplicate", "stored", "stored", "stored", "stored", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected",
                    "rejected", "rejected", "stored"
                ], "\(first.body)")
        let rejected = ((a["lines"] as? [[String: Any]]) ?? []).filter { $0["outcome"] as? String == "rejected" }
        #expect(
            rejected.map { $0["reason"] as? String ?? "" } == [
                "invalid_value", "invalid_value", "invalid_value", "invalid_value", "too_large", "invalid_value", "malformed", "time"
            ])
        #expect(rejected.first.flatMap { $0["error"] as? String }?.contains("NUL") == true)
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth") == 5)
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth WHERE request_id = 'r-3/0' AND label = 'true' AND value IS NULL") == 1)
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth WHERE request_id = 'r-4' AND label = '412.5' AND value = 412.5") == 1)
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth WHERE request_id = 'sm-1' AND label = '1' AND value = 1") == 1)
        #expect(
            try schema.count(
                "SELECT count(*) AS n FROM ground_truth WHERE request_id = 'r-2' AND labelled_at = '2026-11-30T10:00:00Z' AND source = 'http'") == 1)

        // 2. sent again: duplicates, nothing changes; a corrected label replaces the stored one and counts the revision
        let again = try Self.post(port, lines[0] + "\n" + #"{"request_id": "r-2", "label": "1"}"#)
        #expect(try Self.outcomes(again) == ["duplicate", "replaced"], "\(again.body)")
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth WHERE request_id = 'r-2' AND label = '1' AND revisions = 1") == 1)

        // 3. nothing taken: the first refusal's status, the same per-line answer; the model must be known
        let bad = try Self.post(port, #"{"request_id": "x", "label": [1]}"#)
        #expect(bad.status == 400, "\(bad.body)")
        #expect(try Self.outcomes(bad) == ["rejected"])
        let unknown = try Self.post(port, #"{"request_id": "x", "label": 1}"#, query: "?model=nope")
        #expect(unknown.status == 404, "\(unknown.body)")
        let unknownInLine = try Self.post(port, #"{"request_id": "x", "label": 1, "model": "nope"}"#, query: "")
        #expect(unknownInLine.status == 404, "\(unknownInLine.body)")
        let noModel = try Self.post(port, #"{"request_id": "x", "label": 1}"#, query: "")
        #expect(noModel.status == 400 && noModel.body.contains("model"), "\(noModel.body)")

        // 4. limits: more lines than --max-rows is refused whole; a deep body is malformed, the server lives on
        let many = (0..<51).map { #"{"request_id": "m-\#($0)", "label": 1}"# }.joined(separator: "\n")
        let tooMany = try Self.post(port, many)
        #expect(tooMany.status == 413, "\(tooMany.body)")
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth WHERE request_id LIKE 'm-%'") == 0, "a refused request stores nothing")
        let deep = try Self.post(port, String(repeating: "[", count: 100_000))
        #expect(deep.status == 400, "\(deep.body)")

        // 5. counted by outcome and reason
        let metrics = try PrometheusText(try await httpGet(port: port, "/metrics").body)
        func total(_ outcome: String, _ reason: String? = nil) -> Double {
            metrics.values("drift_labels_total").filter { $0.labels["outcome"] == outcome && (reason == nil || $0.labels["reason"] == reason) }.map(
                \.value
            )
            .reduce(0, +)
        }
        #expect(total("stored") == 5)
        #expect(total("duplicate") == 2)
        #expect(total("replaced") == 1)
        #expect(total("rejected", "unknown_model") == 2)
        #expect(total("rejected", "too_large") == 2, "the over-long id, and the request over --max-rows counted as labels refused")
        #expect(total("rejected", "malformed") == 2, "the line that is not JSON, and the deep body")
        #expect(server.terminate() == 0)
    }

    @Test func ingestLabelsReadsCSVAndJSONLinesAndReportsBadRows() throws {
        let schema = try WorkerSchema(prefix: "labf")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let dir = try Scratch()
        let csv = dir.write("labels.csv", "request_id,label,time\nc-1,1,2026-11-30T10:00:00Z\nc-2,0,\nc-3,,\n\"c-4\",\"1\",1796032800\n")
        let run = try CLI.run(["ingest", "--config", WorkerSchema.config, "--model", "fraud", "--format", "labels", csv], environment: schema.env)
        #expect(run.status == 2, "a rejected row is exit 2: \(run.stderr)")
        #expect(run.stdout.contains("3 labels stored"), "\(run.stdout)")
        #expect(run.stderr.contains("labels.csv:4") && run.stderr.contains("label is missing"), "\(run.stderr)")
        let jsonl = dir.write("labels.jsonl", #"{"request_id": "c-1", "label": 1}"# + "\n" + #"{"request_id": "j-1", "value": 3.5}"# + "\n")
        let second = try CLI.run(
            ["ingest", "--config", WorkerSchema.config, "--model", "fraud", "--format", "labels", jsonl], environment: schema.env)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("1 labels stored, 0 replaced, 1 duplicates"), "\(second.stdout)")
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth WHERE source = 'file'") == 4)
    }
}
