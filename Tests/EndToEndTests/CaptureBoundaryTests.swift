import DriftCapture
import DriftTestSupport
import Foundation
import Testing

/// Every crash, poisoning and amplification case found against the capture endpoint (issue 13), against the real
/// binary over HTTP: each gets its status and message, the process stays up, its memory stays bounded, and the
/// other clients' events are committed.
@Suite("capture boundary: hostile requests against the real server", .serialized)
struct CaptureBoundaryTests {
    static let req = "org.kubeflow.serving.inference.request"

    static func nowText(_ offset: Double = 0) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: Date().addingTimeInterval(offset))
    }

    /// Binary-mode CloudEvent headers as KServe's logger sends them.
    static func ce(_ id: String, time: String? = nil, type: String = req, extra: [(String, String)] = []) -> [(String, String)] {
        [
            ("ce-specversion", "1.0"), ("ce-type", type), ("ce-id", id), ("ce-source", "http://localhost:9081/"),
            ("ce-inferenceservicename", "fraud"), ("ce-time", time ?? nowText()), ("Content-Type", "application/json")
        ] + extra
    }

    @Test func crashesPoisoningAndAmplificationAreRefusedAndTheServerStaysUp() async throws {
        let schema = try WorkerSchema(prefix: "bnd")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let server = try RunningServer(["ingest-server", "--config", WorkerSchema.config, "--read-timeout", "2"], environment: schema.env)
        let port = try await server.port()
        let pid = server.process.processIdentifier
        func post(_ body: String, _ headers: [(String, String)] = Self.ce("e")) throws -> RawHTTP.Reply {
            try RawHTTP.post(port: port, headers: headers, body: Data(body.utf8))
        }
        func alive() async throws -> Bool { try await httpGet(port: port, "/healthz").status == 200 }
        _ = try post(#"{"instances": [{"amount": 1}]}"#, Self.ce("warm-up"))  // warm up before measuring memory

        // 1. crashes: a deep unclosed array as the last byte, binary_data_size ≥ 2^63, shapes that overflow or allocate
        let oip = { (tensor: String) in #"{"inputs": [\#(tensor)]}"# }
        let crashes: [(String, String, [(String, String)], Int, String)] = [
            ("513 unclosed [", String(repeating: "[", count: 513), Self.ce("c1"), 400, "nested deeper than 64 levels"),
            ("100,000 unclosed [", String(repeating: "[", count: 100_000), Self.ce("c2"), 400, "nested deeper than 64 levels"),
            (
                "binary_data_size 2^63",
                oip(#"{"name": "amount", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 9223372036854775808}}"#),
                Self.ce(
                    "c3",
                    extra: [
                        (
                            "Inference-Header-Content-Length",
                            "\(oip(#"{"name": "amount", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 9223372036854775808}}"#).utf8.count)"
                        )
                    ]),
                400, "binary_data_size"
            ),
            (
                "binary_data_size 1e300 without the header",
                oip(#"{"name": "amount", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 1e300}}"#) + "\u{1}\u{2}",
                Self.ce("c4"), 400, "binary_data_size"
            ),
            (
                "shape product overflows", oip(#"{"name": "amount", "shape": [0, 1e11, 1e11], "datatype": "FP32", "data": []}"#), Self.ce("c5"), 413,
                "--max-tensor-elements"
            ),
            ("shape [1e11, 0]", oip(#"{"name": "amount", "shape": [1e11, 0], "datatype": "FP32", "data": []}"#), Self.ce("c6"), 413, "--max-rows"),
            ("shape [99000, 0]", oip(#"{"name": "amount", "shape": [99000, 0], "datatype": "FP32", "data": []}"#), Self.ce("c7"), 413, "--max-rows"),
            (
                "shape [50, 0]", oip(#"{"name": "amount", "shape": [50, 0], "datatype": "FP32", "data": []}"#), Self.ce("c8"), 400,
                "has no elements but claims 50 rows"
            ),
            (
                "negative shape", oip(#"{"name": "amount", "shape": [-1], "datatype": "FP32", "data": []}"#), Self.ce("c9"), 400,
                "non-negative integer"
            ),
            (
                "lying Content-Length header", oip(#"{"name": "amount", "shape": [1], "datatype": "FP32", "data": [1]}"#),
                Self.ce("c10", extra: [("Inference-Header-Content-Length", "99999999999999999999")]), 400, "Inference-Header-Content-Length"
            )
        ]
        for (name, body, headers, status, message) in crashes {
            let r = try post(body, headers)
            #expect(r.status == status, "\(name): \(r.status) \(r.body)")
            #expect(r.body.contains(message), "\(name): \(r.body)")
            #expect(try await alive(), "\(name) killed the server")
        }

        // 2. poisoning: bad events among clean ones, concurrently; the bad ones get 400, every clean one is committed
        let bad: [(String, String, [(String, String)])] = [
            ("NUL in a categorical value", #"{"instances": [{"amount": 1, "merchant_category": "gro\u0000cery"}]}"#, Self.ce("p1")),
            (
                "NUL in the request id",
                #"{"specversion": "1.0", "type": "\#(Self.req)", "id": "a\u0000b", "source": "s", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 1}]}}"#,
                [("Content-Type", "application/cloudevents+json")]
            ),
            (
                "NUL in the model version",
                #"{"model_version": "v\u0000", "inputs": [{"name": "amount", "shape": [1], "datatype": "FP32", "data": [1]}]}"#, Self.ce("p3")
            ),
            (
                "NUL in a BYTES element", #"{"inputs": [{"name": "merchant_category", "shape": [1], "datatype": "BYTES", "data": ["a\u0000"]}]}"#,
                Self.ce("p4")
            ),
            ("ce-time year 1", #"{"instances": [{"amount": 1}]}"#, Self.ce("p5", time: "0001-01-01T00:00:00Z")),
            ("ce-time year 9999", #"{"instances": [{"amount": 1}]}"#, Self.ce("p6", time: "9999-12-31T23:59:59Z"))
        ]
        let results = try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
            for (name, body, headers) in bad {
                group.addTask {
                    let r = try RawHTTP.post(port: port, headers: headers, body: Data(body.utf8))
                    return (name, r.status, r.body)
                }
            }
            for i in 0..<30 {
                group.addTask {
                    let r = try RawHTTP.post(
                        port: port, headers: Self.ce("clean-\(i)"),
                        body: Data(#"{"instances": [{"amount": \#(i), "merchant_category": "grocery"}]}"#.utf8))
                    return ("clean-\(i)", r.status, r.body)
                }
            }
            var out: [(String, Int, String)] = []
            for try await r in group { out.append(r) }
            return out
        }
        for (name, status, body) in results {
            if name.hasPrefix("clean-") {
                #expect(status == 200 && body.contains("\"accepted\":1"), "\(name): \(status) \(body)")
            } else {
                #expect(status == 400, "\(name): \(status) \(body)")
                #expect(body.contains("NUL") || body.contains("time"), "\(name): \(body)")
            }
        }
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE request_id LIKE 'clean-%'") == 30)

        // 3. amplification: 8 MB of empty rows, 4 MB ids, a gzip bomb — refused with bounded memory. Each case's
        // peak is its own (the peak RSS is reset before it): ≤ 4 × its body + 64 MB, and for gzip + the
        // decompressed limit (64 MB).
        func measured(_ name: String, bodyBytes: Int, extra: Int = 0, _ send: () throws -> RawHTTP.Reply) throws -> RawHTTP.Reply {
            resetPeakMemory(pid: pid)
            let before = memoryKB(pid: pid).rss
            let r = try send()
            let grew = memoryKB(pid: pid).peak - before
            print("capture boundary: \(name): \(bodyBytes) B body, peak RSS +\(grew / 1024) MB")
            #expect(grew <= (4 * bodyBytes + extra) / 1024 + 64 * 1024, "\(name): peak RSS grew \(grew) kB for a \(bodyBytes) B body")
            return r
        }
        let emptyRows = #"{"instances": ["# + String(repeating: "[],", count: 2_800_000) + "[]]}"
        let rEmpty = try measured("8 MB of empty rows", bodyBytes: emptyRows.utf8.count) { try post(emptyRows, Self.ce("a1")) }
        #expect(rEmpty.status == 413, "\(rEmpty.status) \(rEmpty.body)")
        let longID = String(repeating: "x", count: 4 << 20)
        let idBody =
            #"{"specversion": "1.0", "type": "\#(Self.req)", "id": "\#(longID)", "source": "s", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 1}]}}"#
        let rID = try measured("a 4 MB event id", bodyBytes: idBody.utf8.count) {
            try post(idBody, [("Content-Type", "application/cloudevents+json")])
        }
        #expect(rID.status == 413 && rID.body.contains("request id is 4194304 bytes long; at most 256"), "\(rID.status) \(rID.body.prefix(300))")
        let hundredRows = "[" + (0..<100).map { _ in #"{"amount": 1}"# }.joined(separator: ",") + "]"
        let rowsBody =
            #"{"specversion": "1.0", "type": "\#(Self.req)", "id": "\#(String(repeating: "y", count: 1 << 20))", "source": "s", "inferenceservicename": "fraud", "data": {"instances": \#(hundredRows)}}"#
        let rIDRows = try measured("a 1 MB id on 100 rows", bodyBytes: rowsBody.utf8.count) {
            try post(rowsBody, [("Content-Type", "application/cloudevents+json")])
        }
        #expect(rIDRows.status == 413, "\(rIDRows.status) \(rIDRows.body.prefix(200))")
        let bomb = try gzip(Data(count: 300 << 20))
        let rBomb = try measured("a gzip bomb (300 MB of zeros)", bodyBytes: bomb.count, extra: 64 << 20) {
            try RawHTTP.post(port: port, headers: Self.ce("a4", extra: [("Content-Encoding", "gzip")]), body: bomb)
        }
        #expect(rBomb.status == 413 && rBomb.body.contains("expands past"), "\(rBomb.status) \(rBomb.body)")
        let gzipped = try gzip(Data(#"{"instances": [{"amount": 7}]}"#.utf8))
        let rGzip = try RawHTTP.post(port: port, headers: Self.ce("gz-ok", extra: [("Content-Encoding", "gzip")]), body: gzipped)
        #expect(rGzip.status == 200 && rGzip.body.contains("\"accepted\":1"), "\(rGzip.status) \(rGzip.body)")

        // 4. events over thousands of days: refused by the time range; the days limit holds even for a backfill range
        let days = (0..<3000).map { d in
            #"{"specversion": "1.0", "type": "\#(Self.req)", "id": "d\#(d)", "source": "s", "time": "\#(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: 1e9 + Double(d) * 86_400)))", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 1}]}}"#
        }.joined(separator: ",")
        let rDays = try post("[" + days + "]", [("Content-Type", "application/cloudevents-batch+json")])
        #expect(rDays.status == 400 && rDays.body.contains("before the earliest time accepted"), "\(rDays.status) \(rDays.body.prefix(300))")
        #expect(try schema.count("SELECT count(*) AS n FROM pg_class WHERE relname LIKE 'capture_events_p%' AND relkind = 'r'") < 40)

        // 5. slow clients: a body that stalls and a chunked body that never ends get 408 after --read-timeout
        let slow = try RawHTTP(port: port, timeout: 20)
        _ = slow.send("POST /v1/capture HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nContent-Length: 100\r\n\r\n{\"in")
        let started = Date()
        let rSlow = try slow.receive()
        #expect(
            (rSlow.status == 408 || rSlow.closed) && Date().timeIntervalSince(started) < 15,
            "\(rSlow.status) after \(Date().timeIntervalSince(started)) s")
        slow.close()
        let endless = try RawHTTP(port: port, timeout: 20)
        _ = endless.send("POST /v1/capture HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunkStart = Date()
        var answered: RawHTTP.Reply?
        for _ in 0..<40 where answered == nil {
            if !endless.send("1\r\n \r\n") { break }
            try await Task.sleep(for: .milliseconds(250))
            if Date().timeIntervalSince(chunkStart) > 3 { answered = try? endless.receive() }
        }
        #expect(Date().timeIntervalSince(chunkStart) < 15, "an endless chunked body is cut off")
        endless.close()
        #expect(try await alive())

        // 6. every refusal is counted by reason
        let metrics = try PrometheusText(try await httpGet(port: port, "/metrics").body)
        for reason in ["malformed", "too_large", "invalid_value", "time"] {
            let n = metrics.values("drift_capture_events_total").filter { $0.labels["result"] == "rejected" && $0.labels["reason"] == reason }.map(
                \.value
            ).reduce(0, +)
            #expect(n > 0, "no rejected events counted with reason \(reason)")
        }
        #expect(server.terminate() == 0)
    }

    @Test func aRequestLargerThanTheWholeBufferGets413AndADeepJSONLinesFileDoesNotCrashIngest() async throws {
        let schema = try WorkerSchema(prefix: "bnd2")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let server = try RunningServer(
            [
                "ingest-server", "--config", WorkerSchema.config, "--buffer-capacity", "50",
                "--accept-time-from", "2000-01-01T00:00:00Z"
            ], environment: schema.env)
        let port = try await server.port()
        let rows = "[" + (0..<60).map { #"{"amount": \#($0)}"# }.joined(separator: ",") + "]"
        let r = try RawHTTP.post(port: port, headers: Self.ce("big"), body: Data(#"{"instances": \#(rows)}"#.utf8))
        #expect(r.status == 413 && r.body.contains("more than the capture buffer's 50"), "\(r.status) \(r.body)")
        // a backfill range admits old times, but one request still spans at most --max-days-per-request days (partitions)
        let days = (0..<20).map { d in
            #"{"specversion": "1.0", "type": "\#(Self.req)", "id": "d\#(d)", "source": "s", "time": "\#(RFC3339.format(Date(timeIntervalSince1970: 1e9 + Double(d) * 86_400)))", "inferenceservicename": "fraud", "data": {"instances": [{"amount": 1}]}}"#
        }.joined(separator: ",")
        let rDays = try RawHTTP.post(
            port: port, headers: [("Content-Type", "application/cloudevents-batch+json")], body: Data(("[" + days + "]").utf8))
        #expect(rDays.status == 413 && rDays.body.contains("20 different days; at most 8"), "\(rDays.status) \(rDays.body)")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == 0)
        #expect(server.terminate() == 0)

        let s = try Scratch()
        let deep = s.write("deep.jsonl", String(repeating: "[", count: 513) + "\n" + #"{"timestamp": "2026-11-25T16:00:00Z", "amount": 3}"# + "\n")
        let ingest = try CLI.run(["ingest", deep, "--model", "fraud", "--config", WorkerSchema.config], environment: schema.env)
        #expect(ingest.status == 2 && ingest.stderr.contains("nested deeper than 64"), "\(ingest.status) \(ingest.stderr)")
        let kserve = s.write("deep-kserve.jsonl", String(repeating: "[", count: 513) + "\n")
        let ingest2 = try CLI.run(
            ["ingest", kserve, "--format", "kserve", "--model", "fraud", "--config", WorkerSchema.config], environment: schema.env)
        #expect(ingest2.status == 2 && ingest2.stderr.contains("nested deeper than 64"), "\(ingest2.status) \(ingest2.stderr)")
        let bombFile = s.dir.appendingPathComponent("bomb.csv.gz").path
        try gzip(Data(count: 600 << 20), level: 9).write(to: URL(fileURLWithPath: bombFile))
        let ingest3 = try CLI.run(["ingest", bombFile, "--model", "fraud", "--config", WorkerSchema.config], environment: schema.env)
        #expect(ingest3.status != 0 && ingest3.stderr.contains("expands past"), "\(ingest3.status) \(ingest3.stderr)")
    }
}

@Suite("capture fuzzing over HTTP against the real binary", .serialized)
struct CaptureHTTPFuzzTests {
    /// 20,000 hostile requests (the in-process generator's bodies and headers, both endpoints, four clients at
    /// once); then: the process is alive, its memory bounded, no 5xx but 503, and every event a 200 acknowledged is stored.
    @Test func twentyThousandHostileRequests() async throws {
        let schema = try WorkerSchema(prefix: "fzh")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let server = try RunningServer(
            [
                "ingest-server", "--config", WorkerSchema.config, "--read-timeout", "5", "--max-rows", "1000",
                "--max-json-values", "50000"
            ], environment: schema.env)
        let port = try await server.port()
        let pid = server.process.processIdentifier
        _ = try RawHTTP.post(port: port, headers: CaptureBoundaryTests.ce("warm-up"), body: Data(#"{"instances": [{"amount": 1}]}"#.utf8))
        let baseline = memoryKB(pid: pid)
        let started = Date()
        let clients = 4
        let perClient = 5_000
        let outcomes = try await withThrowingTaskGroup(of: [Int: Int].self) { group in
            for c in 0..<clients {
                group.addTask {
                    var gen = HostileInput(seed: 1000 + UInt64(c))
                    var statuses: [Int: Int] = [:]
                    var accepted = 0
                    for i in 0..<perClient {
                        if i % 10 == 0 {
                            // clean traffic among the hostile: each of these must be acknowledged and stored
                            let r = try RawHTTP.post(
                                port: port, headers: CaptureBoundaryTests.ce("clean-\(c)-\(i)"),
                                body: Data(#"{"instances": [{"amount": \#(i), "merchant_category": "grocery"}]}"#.utf8))
                            statuses[r.status == 200 && r.body.contains(#""accepted":1"#) ? 200 : -2, default: 0] += 1
                            accepted += r.status == 200 ? 1 : 0
                            continue
                        }
                        let batch = i % 4 == 3
                        var body = batch ? gen.line() : gen.payload()
                        if i % 3 == 1 { body = gen.mutate(body) }
                        var headers = gen.headers().filter { h in !(gen.chance(0.05) && h.0 == "ce-type") }
                        headers.append(
                            (
                                "Content-Type",
                                gen.pick([
                                    "application/json", "application/cloudevents+json", "application/cloudevents-batch+json",
                                    "application/octet-stream", "text/csv"
                                ])
                            ))
                        let r = try RawHTTP.post(port: port, path: batch ? "/v1/capture/batch" : "/v1/capture", headers: headers, body: body)
                        statuses[r.status, default: 0] += 1
                        if r.status == 200, let range = r.body.range(of: #""accepted":"#) {
                            accepted += Int(r.body[range.upperBound...].prefix { $0.isNumber }) ?? 0
                        }
                    }
                    statuses[-1] = accepted
                    return statuses
                }
            }
            var all: [Int: Int] = [:]
            for try await s in group { all.merge(s, uniquingKeysWith: +) }
            return all
        }
        let seconds = Date().timeIntervalSince(started)
        let accepted = outcomes[-1] ?? 0
        let statuses = outcomes.filter { $0.key != -1 }
        print(
            "capture HTTP fuzz: \(statuses.values.reduce(0, +)) requests in \(String(format: "%.1f", seconds)) s, statuses \(statuses.sorted { $0.key < $1.key }), \(accepted) events acknowledged"
        )
        #expect(statuses.values.reduce(0, +) == clients * perClient)
        #expect(statuses.keys.allSatisfy { $0 < 500 || $0 == 503 }, "\(statuses)")
        #expect(statuses[0] == nil, "every request was answered")
        #expect(statuses[-2] == nil, "every clean request was accepted")
        #expect(try await httpGet(port: port, "/healthz").status == 200)
        let peak = memoryKB(pid: pid).peak
        #expect(peak - baseline.peak < 256 * 1024, "peak RSS grew from \(baseline.peak) kB to \(peak) kB")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE request_id <> 'warm-up'") == accepted)
        #expect(server.terminate() == 0)
    }
}
