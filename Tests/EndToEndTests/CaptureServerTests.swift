import DriftCapture
import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// POSTs like a KServe InferenceService's payload logger: binary-mode CloudEvents.
func postCloudEvent(
    port: Int, type: String, id: String, time: String?, service: String = "fraud", body: Data,
    headers extra: [String: String] = [:], path: String = "/v1/capture"
) async throws -> (Int, String) {
    var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    r.httpMethod = "POST"
    r.httpBody = body
    r.timeoutInterval = 30
    var headers = [
        "ce-specversion": "1.0", "ce-type": type, "ce-id": id, "ce-source": "http://localhost:9081/",
        "ce-inferenceservicename": service, "ce-namespace": "payments", "ce-component": "predictor", "ce-endpoint": "",
        "Content-Type": "application/json"
    ]
    if let time { headers["ce-time"] = time }
    for (k, v) in extra { headers[k] = v }
    for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
    let (data, response) = try await URLSession.shared.data(for: r)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// The sample traffic is dated November 2026: servers in tests accept it as a backfill import would.
let sampleTrafficStart = "2026-11-01T00:00:00Z"

@Suite("HTTP capture from the serving path", .serialized)
struct CaptureServerTests {
    static let inputColumns = [
        "amount", "hour_of_day", "merchant_category", "country", "device_type", "card_present",
        "distance_from_home_km", "transactions_last_24h", "account_age_days", "avg_amount_30d"
    ]

    /// Rows of the sample traffic in [from, to) as V1 instance objects, with their time and score.
    static func traffic(from: String, to: String) throws -> [(time: String, instance: [String: Any], score: Double)] {
        let categorical: Set<String> = ["merchant_category", "country", "device_type", "card_present"]
        var types: [String: ColumnType] = ["timestamp": .text, "score": .numeric]
        for c in categorical { types[c] = .text }
        let table = try TabularFile.read(path: fraud.appendingPathComponent("traffic.csv.gz").path, options: TableReadOptions(types: types))
        let col = Dictionary(uniqueKeysWithValues: table.columnNames.enumerated().map { ($1, $0) })
        var out: [(String, [String: Any], Double)] = []
        for row in (0..<table.rowCount).map({ r in table.columnNames.indices.map { table.cell(column: $0, row: r) } }) {
            guard case .text(let t) = row[col["timestamp"]!], t >= from, t < to else { continue }
            var inst: [String: Any] = [:]
            for c in inputColumns {
                switch row[col[c]!] {
                case .number(let d): inst[c] = d
                case .text(let s): inst[c] = categorical.contains(c) ? s : (Double(s).map { $0 as Any } ?? s)
                case .missing: break
                }
            }
            guard case .number(let score) = row[col["score"]!] else { continue }
            out.append((t, inst, score))
        }
        return out
    }

    @Test func kserveLoggerEventsAreStoredDriveACheckAndSurviveARestart() async throws {
        let schema = try WorkerSchema(prefix: "cap")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        // hour 39 (before the drift) and hour 40 (the first drifted hour) of the sample traffic
        let rows = try Self.traffic(from: "2026-11-25T15:00:00Z", to: "2026-11-25T17:00:00Z")
        #expect(rows.count == 4000)
        var server = try RunningServer(
            ["ingest-server", "--config", WorkerSchema.config, "--accept-time-from", sampleTrafficStart], environment: schema.env)
        var port = try await server.port()
        var acknowledged = 0
        let batches = stride(from: 0, to: rows.count, by: 50).map { Array(rows[$0..<min($0 + 50, rows.count)]) }
        for (b, batch) in batches.enumerated() {
            if b == batches.count / 2 {
                // restart mid-stream: what was acknowledged must all be there
                #expect(server.terminate() == 0)
                #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == acknowledged)
                server = try RunningServer(
                    ["ingest-server", "--config", WorkerSchema.config, "--accept-time-from", sampleTrafficStart], environment: schema.env)
                port = try await server.port()
            }
            let id = "req-\(b)"
            let request = try JSONSerialization.data(withJSONObject: ["instances": batch.map(\.instance)])
            let (s1, r1) = try await postCloudEvent(
                port: port, type: "org.kubeflow.serving.inference.request", id: id, time: batch[0].time, body: request)
            #expect(s1 == 200, "\(r1)")
            if s1 == 200 { acknowledged += batch.count }
            // the response: the same id; OIP for half of them, V1 for the others
            let scores = batch.map(\.score)
            let response: Data =
                b % 2 == 0
                ? try JSONSerialization.data(withJSONObject: ["predictions": scores.map { ["score": $0] }])
                : try JSONSerialization.data(withJSONObject: [
                    "model_name": "fraud", "id": id,
                    "outputs": [["name": "score", "datatype": "FP64", "shape": [scores.count, 1], "data": scores]]
                ])
            let (s2, r2) = try await postCloudEvent(
                port: port, type: "org.kubeflow.serving.inference.response", id: id, time: batch[0].time, body: response)
            #expect(s2 == 200, "\(r2)")
            if s2 == 200 { acknowledged += batch.count }
        }
        #expect(server.terminate() == 0)
        #expect(acknowledged == 8000)
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == 8000, "every acknowledged event, none twice")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE kind = 'request' AND numeric[1] = 'NaN'") == 0)
        #expect(
            try schema.count("SELECT count(DISTINCT request_id) AS n FROM capture_events") == 4000,
            "row k of a response pairs with row k of its request")

        let backfill = try CLI.run(
            [
                "backfill", "--config", WorkerSchema.config, "--monitor", "fraud-scorer",
                "--from", "2026-11-25T15:00:00Z", "--to", "2026-11-25T17:00:00Z"
            ], environment: schema.env)
        #expect(backfill.status == 0, "\(backfill.stderr)")
        let conn = try schema.connect()
        let runs = try conn.query("SELECT window_start, drifted, current_count FROM drift_runs ORDER BY window_start", name: "t")
        #expect(runs.count == 2)
        #expect(try runs[0].bool("drifted") == false && runs[1].bool("drifted") == true)
        #expect(try runs[1].int("current_count") == 2000)
        let drifted = Set(
            try conn.query(
                """
                SELECT f.feature FROM drift_feature_results f JOIN drift_runs d ON d.id = f.run_id
                WHERE d.window_start = '2026-11-25T16:00:00Z' AND f.drifted
                """, name: "t"
            ).map { try $0.string("feature") })
        #expect(drifted == ["amount", "avg_amount_30d", "merchant_category", "score"], "inputs from requests, the score from responses")
        let scoreCount = try conn.query(
            """
            SELECT f.current_count, f.current_missing FROM drift_feature_results f JOIN drift_runs d ON d.id = f.run_id
            WHERE d.window_start = '2026-11-25T16:00:00Z' AND f.feature = 'score'
            """, name: "t")[0]
        #expect(try scoreCount.int("current_count") == 2000 && scoreCount.int("current_missing") == 0)
    }

    @Test func malformedInputGetsItsStatusAndTheServerKeepsServing() async throws {
        let schema = try WorkerSchema(prefix: "cbad")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let s = try Scratch()
        let token = s.write("token", "s3cret-token\n")
        let server = try RunningServer(
            [
                "ingest-server", "--config", WorkerSchema.config, "--accept-time-from", sampleTrafficStart, "--ingest-token-file", token,
                "--max-body-bytes", "100000"
            ], environment: schema.env)
        let port = try await server.port()
        let auth = ["Authorization": "Bearer s3cret-token"]
        let req = "org.kubeflow.serving.inference.request"
        func post(_ body: String, _ headers: [String: String] = auth, type: String = req, service: String = "fraud") async throws -> (Int, String) {
            try await postCloudEvent(
                port: port, type: type, id: "e", time: "2026-11-25T16:00:00Z", service: service, body: Data(body.utf8), headers: headers)
        }
        let cases: [(String, (Int, String), Int, String)] = [
            ("no token", try await post(#"{"instances": [{"amount": 1}]}"#, [:]), 401, "bearer token"),
            ("wrong token", try await post(#"{"instances": [{"amount": 1}]}"#, ["Authorization": "Bearer nope"]), 401, "bearer token"),
            ("truncated JSON", try await post(#"{"instances": [{"amount": 1"#), 400, "body is not valid JSON"),
            (
                "shape/data mismatch",
                try await post(#"{"inputs": [{"name": "amount", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5]}]}"#), 400,
                "inputs[0].data has 5 values, shape [2,3] needs 6"
            ),
            (
                "wrong datatype", try await post(#"{"inputs": [{"name": "amount", "shape": [1], "datatype": "FLOAT", "data": [1]}]}"#), 400,
                "inputs[0].datatype is \\\"FLOAT\\\", not one of BOOL"
            ),
            (
                "string in a numeric tensor", try await post(#"{"inputs": [{"name": "amount", "shape": [1], "datatype": "FP64", "data": ["x"]}]}"#),
                400,
                "inputs[0].data[0] is a string, a FP64 tensor needs numbers"
            ),
            (
                "missing ce-headers", try await post(#"{"instances": [{"amount": 1}]}"#, auth.merging(["ce-type": ""]) { $1 }), 400,
                "ce-type header is missing"
            ),
            (
                "not an inference event", try await post(#"{"instances": [{"amount": 1}]}"#, type: "com.example.other"), 400,
                "not an inference request or response"
            ),
            (
                "unknown model", try await post(#"{"instances": [{"amount": 1}]}"#, service: "churn"), 404,
                "no monitor watches model 'churn'; configured models: fraud"
            ),
            (
                "oversize body", try await post(#"{"instances": ["# + String(repeating: "1,", count: 60_000) + "1]}"), 413,
                "larger than the 100000 bytes"
            )
        ]
        for (name, (status, body), want, message) in cases {
            #expect(status == want, "\(name): \(status) \(body)")
            #expect(body.contains(message), "\(name): \(body)")
        }
        // a batch with a bad neighbour keeps the good events
        let batch = """
            [{"specversion": "1.0", "type": "\(req)", "id": "ok-1", "source": "s", "time": "2026-11-25T16:00:00Z", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 12.5, "merchant_category": "grocery"}]}},
             {"specversion": "1.0", "type": "\(req)", "id": "bad", "source": "s", "inferenceservicename": "fraud"},
             {"specversion": "1.0", "type": "\(req)", "id": "ok-2", "source": "s", "time": "2026-11-25T16:00:01Z", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 13.5}]}}]
            """
        let (bs, bb) = try await post(batch, auth.merging(["Content-Type": "application/cloudevents-batch+json"]) { $1 })
        #expect(bs == 200 && bb.contains("\"accepted\":2") && bb.contains("[1].data is missing"), "\(bb)")
        // JSON Lines, answered per line
        let lines = """
            {"specversion": "1.0", "type": "\(req)", "id": "l1", "source": "s", "time": "2026-11-25T16:00:02Z", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 1}, {"amount": 2}]}}
            not json
            {"specversion": "1.0", "type": "\(req)", "id": "l3", "source": "s", "time": "2026-11-25T16:00:03Z", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 3}]}}
            """
        let (ls, lb) = try await postCloudEvent(
            port: port, type: req, id: "-", time: nil, body: Data(lines.utf8), headers: auth, path: "/v1/capture/batch")
        #expect(ls == 200 && lb.contains("\"accepted\":3") && lb.contains("\"rejected_lines\":1") && lb.contains("\"line\":2"), "\(lb)")
        // still serving, and exactly the good events are stored
        #expect(try await httpGet(port: port, "/healthz").status == 200)
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == 5)
        #expect(server.terminate() == 0)
    }
}

@Suite("ingest of serving-path capture files", .serialized)
struct CaptureFileIngestTests {
    @Test func everyFormatLoadsTheSameTwentyInferences() throws {
        let schema = try WorkerSchema(prefix: "capf")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let files: [(String, String)] = [
            ("kserve", "kserve-v1.jsonl"), ("oip", "kserve-oip.jsonl"), ("azureml", "azureml-model_inputs.jsonl"),
            ("azureml", "azureml-model_outputs.jsonl"), ("sagemaker", "sagemaker.jsonl")
        ]
        for (format, file) in files {
            let r = try CLI.run(
                ["ingest", "sample-data/capture/\(file)", "--format", format, "--model", "fraud", "--config", WorkerSchema.config],
                environment: schema.env)
            #expect(r.status == 0 && r.stdout.contains("ingested"), "\(file): \(r.stderr)")
        }
        let conn = try schema.connect()
        // 20 inferences per source: requests + responses (kserve ×2, azureml) and paired (sagemaker)
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE kind = 'request'") == 60)
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE kind = 'response'") == 60)
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE kind = 'paired'") == 20)
        #expect(try schema.count("SELECT count(DISTINCT request_id) AS n FROM capture_events") == 20, "every format pairs on the same request id")
        // every source read the same amounts (input) and scores (output)
        let sums = try conn.query(
            """
            SELECT kind, round(sum(numeric[1])::numeric, 6) AS amount, round(sum(numeric[7])::numeric, 6) AS score
            FROM capture_events WHERE observed_at = observed_at GROUP BY kind ORDER BY kind
            """, name: "t")
        let paired = try #require(sums.first { try $0.string("kind") == "paired" })
        let request = try #require(sums.first { try $0.string("kind") == "request" })
        #expect(try request.string("amount") == String(format: "%.6f", 3 * (Double(try paired.string("amount")) ?? 0)))
        let bad = try Scratch()
        let file = bad.write(
            "bad.jsonl",
            #"{"hello": 1}"# + "\n" + (try String(contentsOfFile: "\(repoRoot.path)/sample-data/capture/kserve-v1.jsonl", encoding: .utf8)))
        let r = try CLI.run(["ingest", file, "--format", "kserve", "--model", "fraud", "--config", WorkerSchema.config], environment: schema.env)
        #expect(r.status == 2 && r.stderr.contains("bad.jsonl:1: specversion is missing") && r.stdout.contains("ingested 40 events"), "\(r.stderr)")
    }
}

@Suite("capture options: sampling, deduplication, roles", .serialized)
struct CaptureOptionsTests {
    /// The sample monitor plus a capture block.
    static func config(_ s: Scratch, capture: String) throws -> String {
        var text = try String(contentsOfFile: repoRoot.appendingPathComponent(WorkerSchema.config).path, encoding: .utf8)
        // the sample's own capture block gives way to the test's
        if let start = text.range(of: "    capture:\n"), let end = text.range(of: "    actions:\n", range: start.upperBound..<text.endIndex) {
            text.removeSubrange(start.lowerBound..<end.lowerBound)
        }
        text += capture.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
        return s.write("monitors.yaml", text)
    }

    @Test func keepFractionRateLimitDedupeAndRoleRules() async throws {
        let schema = try WorkerSchema(prefix: "copt")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let s = try Scratch()
        let config = try Self.config(
            s,
            capture: """
                capture:
                  keep: 0.5
                  roles:
                    - {role: challenger, service: fraud-shadow}
                    - {role: challenger, model_version: v4}
                """)
        #expect(try CLI.run(["validate-config", config]).status == 0)
        let server = try RunningServer(["ingest-server", "--config", config, "--accept-time-from", sampleTrafficStart], environment: schema.env)
        let port = try await server.port()
        let req = "org.kubeflow.serving.inference.request"
        let resp = "org.kubeflow.serving.inference.response"
        var kept = 0
        for i in 0..<400 {
            let (s1, b1) = try await postCloudEvent(
                port: port, type: req, id: "k-\(i)", time: "2026-11-25T16:00:00Z",
                body: Data(#"{"instances": [{"amount": 1.5}]}"#.utf8))
            let (s2, b2) = try await postCloudEvent(
                port: port, type: resp, id: "k-\(i)", time: "2026-11-25T16:00:00Z",
                body: Data(#"{"predictions": [{"score": 0.5}]}"#.utf8))
            #expect(s1 == 200 && s2 == 200)
            #expect(b1.contains("\"sampled_out\":1") == b2.contains("\"sampled_out\":1"), "a request and its response are kept or dropped together")
            if b1.contains("\"accepted\":1") { kept += 1 }
        }
        #expect(kept > 140 && kept < 260, "about half of 400 kept (\(kept))")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == 2 * kept)
        // a re-sent copy of a committed record adds nothing
        let firstKept = try schema.connect().query("SELECT request_id FROM capture_events WHERE kind = 'request' LIMIT 1", name: "t")[0].string(
            "request_id")
        let (s3, b3) = try await postCloudEvent(
            port: port, type: req, id: firstKept, time: "2026-11-25T16:00:00Z",
            body: Data(#"{"instances": [{"amount": 1.5}]}"#.utf8))
        #expect(s3 == 200 && b3.contains("\"duplicates\":1") && b3.contains("\"accepted\":0"), "\(b3)")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == 2 * kept)
        // role rules: a shadow service of its own is the same model's challenger; so is model version v4
        var shadowKept = 0
        for i in 0..<40 {
            let (_, b) = try await postCloudEvent(
                port: port, type: req, id: "sh-\(i)", time: "2026-11-25T16:00:00Z", service: "fraud-shadow",
                body: Data(#"{"instances": [{"amount": 2.5}]}"#.utf8))
            if b.contains("\"accepted\":1") { shadowKept += 1 }
        }
        let (_, v4) = try await postCloudEvent(
            port: port, type: req, id: "v4-keep-me", time: "2026-11-25T16:00:00Z",
            body: Data(
                #"{"model_name": "fraud", "model_version": "v4", "inputs": [{"name": "amount", "shape": [1], "datatype": "FP32", "data": [3.5]}]}"#
                    .utf8))
        let v4Kept = v4.contains("\"accepted\":1") ? 1 : 0
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE role = 'challenger' AND model = 'fraud'") == shadowKept + v4Kept)
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE role = 'champion'") == 2 * kept)
        let metrics = try PrometheusText(try await httpGet(port: port, "/metrics").body)
        #expect(metrics.value("drift_capture_dropped_total", ["model": "fraud", "reason": "duplicate"]) == 1)
        #expect((metrics.value("drift_capture_dropped_total", ["model": "fraud", "reason": "sampled"]) ?? 0) > 0)
        #expect(server.terminate() == 0)
    }

    @Test func captureOptionsAreValidatedWithTheirLine() throws {
        let s = try Scratch()
        let bad = try Self.config(
            s,
            capture: """
                capture:
                  keep: 1.5
                  speed: 3
                  roles:
                    - {role: boss, service: x}
                    - {role: challenger}
                """)
        let r = try CLI.run(["validate-config", bad])
        #expect(r.status == 2)
        for message in [
            "`keep`", "unknown key `speed` in capture", "role 'boss' must be champion, challenger or unknown", "a role rule needs at least one of"
        ] {
            #expect(r.stderr.contains(message), "\(message): \(r.stderr)")
        }
        #expect(r.stderr.split(separator: "\n").allSatisfy { $0.contains("monitors.yaml:") }, "every problem names its line")
    }
}

@Suite("requests without responses and orphan responses", .serialized)
struct OrphanCaptureTests {
    /// A request whose response never came counts for input drift; a response without its request for
    /// prediction drift: the window sample takes inputs from requests and outputs from responses.
    @Test func inputsComeFromRequestsAndOutputsFromResponses() throws {
        let schema = try WorkerSchema(prefix: "orph")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let s = try Scratch()
        func ce(_ kind: String, _ id: String, _ data: String) -> String {
            #"{"specversion":"1.0","type":"org.kubeflow.serving.inference.\#(kind)","id":"\#(id)","source":"s","time":"2026-11-25T16:10:00Z","inferenceservicename":"fraud","data":\#(data)}"#
        }
        var lines: [String] = []
        for i in 0..<3 { lines.append(ce("request", "r\(i)", #"{"instances":[{"amount":\#(10 + i),"merchant_category":"grocery"}]}"#)) }
        for i in 0..<5 { lines.append(ce("response", "r\(i)", #"{"predictions":[{"score":0.\#(i + 1)}]}"#)) }  // r3, r4: orphans
        let file = s.write("mixed.jsonl", lines.joined(separator: "\n") + "\n")
        #expect(
            try CLI.run(["ingest", file, "--format", "kserve", "--model", "fraud", "--config", WorkerSchema.config], environment: schema.env).status
                == 0)
        let monitor = try #require(try MonitorsFile.load(path: repoRoot.appendingPathComponent(WorkerSchema.config).path).first)
        let window = TimeWindow(
            start: ISO8601DateFormatter().date(from: "2026-11-25T16:00:00Z")!, end: ISO8601DateFormatter().date(from: "2026-11-25T17:00:00Z")!)
        let sample = try WindowSample.load(try schema.connect(), monitor: monitor, window: window)
        let layout = FeatureLayout(monitor)
        let amount = sample.numeric[layout.numeric.firstIndex(of: "amount")!]
        let score = sample.numeric[layout.numeric.firstIndex(of: "score")!]
        #expect(amount.sorted() == [10, 11, 12], "three requests, two of them without a response yet")
        #expect(score.count == 5 && score.allSatisfy { !$0.isNaN }, "five responses, two of them orphans")
        #expect(sample.total == 5 && sample.count == 5)
        #expect(sample.categorical[layout.categorical.firstIndex(of: "merchant_category")!].compactMap { $0 } == ["grocery", "grocery", "grocery"])
    }
}
