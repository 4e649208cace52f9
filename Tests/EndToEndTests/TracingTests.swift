import DriftCore
import DriftTestSupport
import Foundation
import Testing

/// `scripts/otlp-trace-receiver.py` on a free port of 127.0.0.1: a real OTLP/HTTP endpoint that decodes the exports
/// with the published OpenTelemetry protobufs and writes each span as a JSON line.
final class OTLPReceiver {
    let scratch: Scratch
    let process: Process
    let port: Int

    init() async throws {
        scratch = try Scratch()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repoRoot.appendingPathComponent("scripts/otlp-trace-receiver.py").path,
            "--port-file", scratch.path("port"), "--out", scratch.path("spans.jsonl")
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        var port: Int?
        while port == nil && Date() < deadline && process.isRunning {
            port = (try? String(contentsOfFile: scratch.path("port"), encoding: .utf8)).flatMap { Int($0) }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let port else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw Gone(description: "the OTLP receiver did not start (is opentelemetry-proto installed? scripts/install-deps.sh)")
        }
        self.port = port
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The spans received so far.
    var spans: [Span] {
        let text = (try? String(contentsOfFile: scratch.path("spans.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).map(Span.init)
        }
    }

    /// Waits (bounded) until a span satisfying `match` arrived, and returns it.
    func waitFor(_ what: String, timeout: Double = 180, _ match: (Span) -> Bool) async throws -> Span {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = spans.first(where: match) { return s }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Gone(description: "no \(what) span within \(Int(timeout)) s; received: \(spans.map(\.name))")
    }

    deinit {
        // SIGKILL: a child of the test process inherits its signal mask, where SIGTERM may be blocked (then a
        // SIGTERM stays pending forever and waitUntilExit never returns)
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    struct Span {
        let json: [String: Any]
        var name: String { json["name"] as? String ?? "" }
        var traceID: String { json["trace_id"] as? String ?? "" }
        var spanID: String { json["span_id"] as? String ?? "" }
        var parentSpanID: String { json["parent_span_id"] as? String ?? "" }
        /// SpanKind: 2 server, 3 client.
        var kind: Int { json["kind"] as? Int ?? 0 }
        var attributes: [String: Any] { json["attributes"] as? [String: Any] ?? [:] }
        var resource: [String: Any] { json["resource"] as? [String: Any] ?? [:] }
    }

    struct Gone: Error, CustomStringConvertible { var description: String }
}

@Suite("OpenTelemetry traces", .serialized)
struct TracingTests {
    /// Acceptance (issue 17, item 4): `serve` with the OTLP endpoint set continues the caller's W3C trace in the
    /// capture span (same trace id, the caller's span as parent), stores under a child span, and traces the
    /// window checks it runs with their monitor and window.
    @Test func serveContinuesTheCallersTraceAndTracesItsWindowChecks() async throws {
        let receiver = try await OTLPReceiver()
        // real time: serve checks the two 5-minute windows that just closed
        let now = Date()
        let end = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 300).rounded(.down) * 300)
        let traffic = try ScheduledTraffic(from: end.addingTimeInterval(-600), to: end)
        let schema = try WorkerSchema(prefix: "otel")
        defer { schema.drop() }
        let ingest = try CLI.run(["ingest", traffic.trafficPath, "--model", "bl", "--config", traffic.config, "--migrate"], environment: schema.env)
        try #require(ingest.status == 0, "\(ingest.stderr)")
        var env = schema.env
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
        env["OTEL_BSP_SCHEDULE_DELAY"] = "100"
        let server = try RunningServer(["serve", "--config", traffic.config, "--lookback", "PT15M", "--tick", "1", "--grace", "20"], environment: env)
        let port = try await server.port()

        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let parentID = "00f067aa0ba902b7"
        let (status, body) = try await postCloudEvent(
            port: port, type: "org.kubeflow.serving.inference.request", id: "traced-1", time: PGTimeText.iso(Date()), service: "bl",
            body: Data(#"{"instances": [{"x": 1.5}, {"x": 2.5}]}"#.utf8), headers: ["traceparent": "00-\(traceID)-\(parentID)-01"])
        #expect(status == 200, "\(body)")

        let capture = try await receiver.waitFor("capture") { $0.name == "POST /v1/capture" }
        #expect(capture.traceID == traceID, "the capture span continues the caller's trace")
        #expect(capture.parentSpanID == parentID, "the caller's span is its parent")
        #expect(capture.kind == 2, "a server span")
        #expect(capture.attributes["http.response.status_code"] as? Int == 200)
        #expect(capture.attributes["http.route"] as? String == "/v1/capture")
        #expect(capture.attributes["drift.capture.models"] as? [String] == ["bl"])
        #expect(capture.attributes["drift.capture.accepted"] as? Int == 2)
        #expect(capture.attributes["drift.capture.rejected"] as? Int == 0)
        #expect(capture.resource["service.name"] as? String == "drift-worker", "the default service name")
        let store = try await receiver.waitFor("store") { $0.name == "drift.capture.store" }
        #expect(store.traceID == traceID && store.parentSpanID == capture.spanID, "the store write is a child of the capture span")

        let check = try await receiver.waitFor("window check") {
            $0.name == "drift.window_check" && $0.attributes["drift.window.end"] as? String == PGTimeText.iso(end)
        }
        #expect(check.attributes["drift.monitor"] as? String == "good")
        #expect(check.attributes["drift.window.start"] as? String == PGTimeText.iso(end.addingTimeInterval(-300)))
        #expect(check.attributes["drift.status"] as? String != nil)
        #expect(check.attributes["drift.drifted_features.count"] as? Int != nil)
        #expect(check.traceID != traceID, "a check is its own trace")
        #expect(server.terminate() == 0, "\(server.stderr.suffix(2_000))")
    }

    /// A batch command exports its spans before it exits: every window `run-once` checked is in the receiver once
    /// the process is gone.
    @Test func runOnceExportsItsSpansBeforeExiting() async throws {
        let receiver = try await OTLPReceiver()
        let end = Date(timeIntervalSince1970: 1_794_999_900)  // 2026-11-18, on a 5-minute boundary
        let traffic = try ScheduledTraffic(from: end.addingTimeInterval(-900), to: end)
        let schema = try WorkerSchema(prefix: "otelbatch")
        defer { schema.drop() }
        let ingest = try CLI.run(["ingest", traffic.trafficPath, "--model", "bl", "--config", traffic.config, "--migrate"], environment: schema.env)
        try #require(ingest.status == 0, "\(ingest.stderr)")
        var env = schema.env
        env["OTEL_TRACES_EXPORTER"] = "otlp"
        env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = receiver.endpoint + "/v1/traces"
        env["OTEL_SERVICE_NAME"] = "drift-cron"
        let run = try CLI.run(
            ["run-once", "--config", traffic.config, "--lookback", "PT15M", "--now", PGTimeText.iso(end), "--no-dispatch"], environment: env)
        #expect(run.status == 0, "\(run.stderr.suffix(2_000))")
        // the process has exited: what it traced was sent before, so it is here without waiting
        // one written check per window (a window found already done by a second pass is traced too, unwritten)
        let checks = receiver.spans.filter { $0.name == "drift.window_check" && $0.attributes["drift.written"] as? Bool == true }
        #expect(checks.count == 3, "\(receiver.spans.map { "\($0.name) \($0.attributes)" })")
        #expect(Set(checks.compactMap { $0.attributes["drift.window.start"] as? String }).count == 3)
        #expect(checks.allSatisfy { $0.resource["service.name"] as? String == "drift-cron" })
    }

    /// A bad OTEL_* value stops a command before it starts (exit 2) with a sentence naming the variable; the
    /// headers' value, which may hold a credential, is not repeated.
    @Test(arguments: [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_TRACES_EXPORTER", "zipkin"), ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "s3cr3t-t0ken"), ("OTEL_SDK_DISABLED", "maybe"), ("OTEL_PROPAGATORS", "b3")
    ])
    func aBadVariableIsExitTwoNamingIt(variable: String, value: String) throws {
        var env = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "DATABASE_URL": "postgresql://127.0.0.1:9/none"]
        env[variable] = value
        for command in [["serve", "--config", WorkerSchema.config], ["run-once", "--config", WorkerSchema.config]] {
            let r = try CLI.run(command, environment: env)
            #expect(r.status == 2, "\(command[0]) \(variable)=\(value): \(r.stderr)")
            #expect(r.stderr.contains(variable), "\(r.stderr)")
            if variable == "OTEL_EXPORTER_OTLP_HEADERS" { #expect(!r.stderr.contains("s3cr3t-t0ken"), "\(r.stderr)") }
        }
    }
}
