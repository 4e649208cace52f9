import DriftServer
import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// `dispatch`, `shadow-eval` and `trigger test` as a user runs them: the real binary, a real PostgreSQL and a
/// receiver on 127.0.0.1 that verifies signatures and starts one run per action id.
@Suite("drift-worker dispatch, shadow-eval and trigger test", .serialized)
struct TriggerCommandTests {
    static let secret = "whsec_ZHJpZnQtd29ya2VyIGRlbW8gc2VjcmV0IQ=="

    static func receiverEnv(_ schema: WorkerSchema, _ receiver: WebhookReceiver) -> [String: String] {
        var env = schema.env
        for (k, path) in [("DRIFT_RETRAIN_URL", "retrain"), ("DRIFT_PROMOTE_URL", "promote"), ("DRIFT_REJECT_URL", "reject")] {
            env[k] = "http://127.0.0.1:\(receiver.port)/hooks/\(path)"
        }
        return env
    }

    static func run(_ args: [String], _ env: [String: String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await onBlockingPool { try CLI.run(args, environment: env) }
    }

    @Test func aDispatcherKilledAfterSendingResendsWithTheSameIdAndTheReceiverStartsOneRun() async throws {
        let schema = try WorkerSchema(prefix: "crash")
        defer { schema.drop() }
        let receiver = WebhookReceiver(secrets: [try StandardWebhooks.Secret(Self.secret)])
        try await receiver.start()
        let env = Self.receiverEnv(schema, receiver)
        #expect(try await Self.run(["migrate"], env).status == 0)
        _ = try schema.connect().query(
            """
            INSERT INTO trigger_outbox (action_id, monitor, action, preset, payload)
            VALUES ('fraud-scorer:2026-11-25T17:00:00Z:retrain', 'fraud-scorer', 'retrain', 'webhook',
                    '{"monitor":"fraud-scorer","model":"fraud","window_start":"2026-11-25T17:00:00Z","window_end":"2026-11-25T18:00:00Z","drifted_features":["amount"],"run_id":1}')
            """, name: "t")

        // the test hook kills the dispatcher after the receiver answered and before the attempt is recorded
        var crashing = env
        crashing["DRIFT_TEST_CRASH_AFTER_SEND"] = "retrain"
        let p = CLI.process(["dispatch", "--config", WorkerSchema.config, "--claim-seconds", "1"], environment: crashing)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        try await onBlockingPool { p.waitUntilExit() }
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        #expect(receiver.deliveries.count == 1 && receiver.runCount == 1)
        let conn = try schema.connect()
        let left = try conn.query(
            "SELECT state, attempts, history::text AS h, extract(epoch FROM claim_expires_at - now())::float8 AS s FROM trigger_outbox", name: "t")[0]
        #expect(try left.string("state") == "sending" && left.int("attempts") == 1 && left.string("h") == "[]", "sent, not recorded")
        // the claim of the send came from the action, not --claim-seconds 1: (connect_timeout 5 + timeout 10) s + 5 s
        let held = try left.double("s")
        #expect(held > 10 && held <= 20, "claim left: \(held) s")

        // a new dispatcher takes the row once the claim expires (the test moves the deadline instead of waiting
        // 20 s) and resends it with the same id
        _ = try conn.query("UPDATE trigger_outbox SET claim_expires_at = now() - interval '1 second'", name: "t")
        let again = try await Self.run(["dispatch", "--config", WorkerSchema.config, "--claim-seconds", "1", "--wait", "10"], env)
        #expect(again.status == 0 && again.stdout.contains("dispatch: 1 delivered, 0 to retry, 0 dead"), "\(again.stdout)\(again.stderr)")
        let deliveries = receiver.deliveries
        #expect(deliveries.count == 2 && deliveries.allSatisfy(\.verified))
        #expect(Set(deliveries.map(\.webhookID)) == ["fraud-scorer:2026-11-25T17:00:00Z:retrain"])
        #expect(receiver.runCount == 1 && deliveries[1].duplicate, "the receiver started one run")
        let row = try conn.query("SELECT state, attempts, external_run_id, jsonb_array_length(history) AS n FROM trigger_outbox", name: "t")[0]
        #expect(try row.string("state") == "delivered" && row.int("attempts") == 2 && row.string("external_run_id") == "run-1" && row.int("n") == 1)
        // `trigger status` shows it: delivered after 2 attempts, the run id, not followed (a webhook without follow: true)
        let status = try await Self.run(["trigger", "status"], env)
        let line = status.stdout.split(separator: "\n").first { $0.hasPrefix("fraud-scorer:2026-11-25T17:00:00Z:retrain") }.map(String.init) ?? ""
        #expect(
            status.status == 0
                && line.split(separator: " ").map(String.init) == [
                    "fraud-scorer:2026-11-25T17:00:00Z:retrain", "retrain", "delivered", "2", "-", "run-1"
                ],
            "\(status.stdout)\(status.stderr)")
        let json = try await Self.run(["trigger", "status", "--json", "--monitor", "fraud-scorer"], env)
        #expect(json.stdout.contains(#""state":"delivered","attempts":2,"run_state":null,"external_run_id":"run-1""#), "\(json.stdout)")
        await receiver.stop()
    }

    @Test func shadowEvaluationPromotesTheGoodCandidateAndRejectsTheBadOneWithNumpysFigures() async throws {
        let schema = try WorkerSchema(prefix: "shadow")
        defer { schema.drop() }
        let receiver = WebhookReceiver(secrets: [try StandardWebhooks.Secret(Self.secret)])
        try await receiver.start()
        let env = Self.receiverEnv(schema, receiver)
        let ingest = try await Self.run(
            [
                "ingest", "sample-data/shadow/shadow-traffic.jsonl.gz", "--model", "fraud", "--format", "kserve",
                "--config", WorkerSchema.config, "--migrate"
            ], env)
        #expect(ingest.status == 0 && ingest.stdout.contains("ingested 7163 events"), "\(ingest.stdout)\(ingest.stderr)")
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE role = 'challenger'") == 4763, "the role rule: service fraud-shadow")

        let expected = try #require(JSONTemplate.parse(try Data(contentsOf: repoRoot.appendingPathComponent("sample-data/shadow/expected.json"))))
        let period = ["--from", "2026-11-25T16:00:00Z", "--to", "2026-11-25T18:00:00Z"]
        func figures(_ out: String) throws -> JSONTemplate { try #require(JSONTemplate.parse(Data(out.utf8)), "\(out)") }
        func close(_ a: JSONTemplate?, _ b: JSONTemplate?, _ what: String, rel: Double = 1e-9) {
            guard case .number(let x)? = a, case .number(let y)? = b else {
                Issue.record("\(what): \(String(describing: a)) vs \(String(describing: b))")
                return
            }
            #expect(abs(x - y) <= rel * max(1, abs(y)), "\(what): \(x) vs numpy \(y)")
        }
        for (version, exit, verdict) in [("v4", Int32(0), "promote"), ("v5", Int32(3), "reject")] {
            let r = try await Self.run(
                ["shadow-eval", "--monitor", "fraud-scorer", "--challenger", version, "--json", "--config", WorkerSchema.config] + period, env)
            #expect(r.status == exit, "\(r.stdout)\(r.stderr)")
            let f = try figures(r.stdout)
            #expect(f.value(at: "verdict")?.scalarText == verdict && f.value(at: "champion")?.scalarText == "v3")
            let want = try #require(expected.value(at: version))
            #expect(f.value(at: "pairs") == want.value(at: "pairs"))
            for k in [
                "agreement", "correlation", "output_ks", "output_ks_pvalue", "champion_latency_p50_ms", "champion_latency_p95_ms",
                "challenger_latency_p95_ms", "challenger_latency_p99_ms", "latency_regression", "error_rate"
            ] {
                close(f.value(at: k), want.value(at: k), "\(version) \(k)")
            }
            #expect(f.value(at: "pair_coverage")?.scalarText.flatMap(Double.init).map { $0 > 0.95 } == true)
        }
        let v5 = try figures(
            try await Self.run(
                ["shadow-eval", "--monitor", "fraud-scorer", "--challenger", "v5", "--json", "--config", WorkerSchema.config] + period, env
            ).stdout)
        guard case .array(let reasons)? = v5.value(at: "reasons") else {
            Issue.record("no reasons")
            return
        }
        let text = reasons.compactMap(\.scalarText)
        #expect(text.count == 4 && text.allSatisfy { $0.contains(">") || $0.contains("<") }, "every threshold v5 missed is named: \(text)")

        // evaluated once: a repeat shows the stored result; the follow-up actions were written once each
        let repeatRun = try await Self.run(
            ["shadow-eval", "--monitor", "fraud-scorer", "--challenger", "v4", "--config", WorkerSchema.config] + period, env)
        #expect(
            repeatRun.status == 0 && repeatRun.stdout.contains("evaluated before; stored result") && repeatRun.stdout.contains("verdict: PROMOTE"))
        #expect(try schema.count("SELECT count(*) AS n FROM shadow_evaluations") == 2)
        #expect(try schema.count("SELECT count(*) AS n FROM trigger_outbox WHERE action = 'promote'") == 1)
        #expect(try schema.count("SELECT count(*) AS n FROM trigger_outbox WHERE action = 'reject_candidate'") == 1)

        // not enough shared traffic in another period: hold (exit 4)
        let hold = try await Self.run(
            [
                "shadow-eval", "--monitor", "fraud-scorer", "--challenger", "v4", "--config", WorkerSchema.config,
                "--from", "2026-11-26T16:00:00Z", "--to", "2026-11-26T18:00:00Z"
            ], env)
        #expect(hold.status == 4 && hold.stdout.contains("verdict: HOLD") && hold.stdout.contains("only 0 requests served by both"), "\(hold.stdout)")

        // the follow-ups go out through the same outbox
        let d = try await Self.run(["dispatch", "--config", WorkerSchema.config], env)
        #expect(d.status == 0 && d.stdout.contains("dispatch: 2 delivered"), "\(d.stdout)\(d.stderr)")
        let bodies = receiver.deliveries.map { JSONTemplate.parse(Data($0.body.utf8)) }
        #expect(Set(bodies.compactMap { $0?.value(at: "verdict")?.scalarText }) == ["promote", "reject"])
        #expect(bodies.contains { $0?.value(at: "candidate")?.scalarText == "v4" && $0?.value(at: "verdict")?.scalarText == "promote" })
        await receiver.stop()
    }

    @Test func triggerTestSendsAMarkedRequestAndShowsTheExchangeWithoutSecrets() async throws {
        let receiver = WebhookReceiver(secrets: [try StandardWebhooks.Secret(Self.secret)])
        try await receiver.start()
        let schema = try WorkerSchema(prefix: "tt")
        let env = Self.receiverEnv(schema, receiver)
        let r = try await Self.run(["trigger", "test", "--monitor", "fraud-scorer", "--action", "retrain", "--config", WorkerSchema.config], env)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("> POST http://127.0.0.1:\(receiver.port)/hooks/retrain") && r.stdout.contains("< HTTP 202"))
        #expect(r.stdout.contains("> X-Drift-Test: true") && r.stdout.contains("\"test\":true") && r.stdout.contains("result: delivered"))
        #expect(!r.stdout.contains("ZHJpZnQtd29ya2VyIGRlbW8gc2VjcmV0IQ"), "the secret is never shown")
        #expect(receiver.deliveries.count == 1 && receiver.deliveries[0].verified && receiver.deliveries[0].webhookID.hasPrefix("test:fraud-scorer:"))
        let unknown = try await Self.run(["trigger", "test", "--monitor", "fraud-scorer", "--action", "nope", "--config", WorkerSchema.config], env)
        #expect(unknown.status == 2 && unknown.stderr.contains("no action 'nope'") && unknown.stderr.contains("retrain"))
        await receiver.stop()
    }
}
