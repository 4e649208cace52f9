import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

@testable import DriftCore

/// The dispatcher against real receivers on 127.0.0.1 and a real PostgreSQL: every path of a delivery, each
/// checked from both sides — what the receiver saw (signatures verified, deliveries counted by webhook-id) and
/// what the outbox recorded.
@Suite("Trigger dispatcher: deliveries, retries, claims and exactly-once effect")
struct TriggerDispatchTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// The sample monitor with one action `a` of the given YAML settings (indented under `a:`).
    static func monitor(_ action: String) throws -> MonitorConfig {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("sample-data/monitors.yaml"), encoding: .utf8)
        let start = text.range(of: "    actions:\n")!
        let yaml =
            String(text[..<start.lowerBound]).replacingOccurrences(of: "actions: [retrain, shadow_eval]", with: "actions: [a]")
            + "    actions:\n      a:\n" + action.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n") + "\n"
            + "      shadow:\n        preset: shadow_eval\n        challenger: v4\n"
        return try MonitorsFile.parse(yaml, file: "test.yaml")[0]
    }

    /// Writes one outbox row as a drift check would.
    static func enqueue(
        _ client: PostgresClient, action: String = "a", preset: String = "webhook", id: String = "fraud-scorer:2026-11-25T17:00:00Z:a"
    ) async throws {
        try await client.withConnection { c in
            _ = try c.query(
                """
                INSERT INTO trigger_outbox (action_id, monitor, action, preset, payload) VALUES ($1, 'fraud-scorer', $2, $3, $4::jsonb)
                """,
                [
                    id, action, preset,
                    #"{"monitor":"fraud-scorer","model":"fraud","window_start":"2026-11-25T17:00:00Z","window_end":"2026-11-25T18:00:00Z","drifted_features":["amount"],"run_id":1}"#
                ],
                name: "test.outbox")
        }
    }

    struct Row: Sendable {
        var state: String
        var attempts: Int
        var lastStatus: Int?
        var runID: String?
        var history: [JSONTemplate]
    }

    static func row(_ client: PostgresClient, id: String = "fraud-scorer:2026-11-25T17:00:00Z:a") async throws -> Row {
        try await client.withConnection { c in
            let r = try c.query(
                "SELECT state, attempts, last_status, external_run_id, history::text AS h FROM trigger_outbox WHERE action_id = $1", [id], name: "t"
            ).first!
            guard case .array(let h)? = JSONTemplate.parse(Data(try r.string("h").utf8)) else { return Row(state: "", attempts: 0, history: []) }
            return Row(
                state: try r.string("state"), attempts: try r.int("attempts"), lastStatus: try r.optionalInt("last_status"),
                runID: try r.optionalString("external_run_id"), history: h)
        }
    }

    static func verified(_ r: RecordingHTTPServer.Recorded) -> Bool {
        StandardWebhooks.verify(
            id: r.headers["webhook-id"] ?? "", timestamp: Int(r.headers["webhook-timestamp"] ?? "") ?? 0,
            signatureHeader: r.headers["webhook-signature"] ?? "", body: r.body, secrets: [try! StandardWebhooks.Secret(secret)])
    }

    func dispatcher(_ client: PostgresClient, _ m: MonitorConfig) -> TriggerDispatcher {
        var o = TriggerDispatcher.Options()
        o.crashAfterSend = nil
        return TriggerDispatcher(client: client, monitors: [m], options: o)
    }

    @Test func aSignedDeliveryIsRecordedWithTheRunItStarted() async throws {
        let server = RecordingHTTPServer()
        try await server.start { r in Self.verified(r) ? .init(status: 202, body: #"{"run_id":"pipeline-77"}"#) : .init(status: 401) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                "preset: webhook\nurl: http://127.0.0.1:\(server.port)/hooks/{{monitor}}\nsecrets: [\"\(Self.secret)\"]\nrun_id_field: run_id")
            try await Self.enqueue(client)
            let c = try await dispatcher(client, m).runUntilIdle(wait: 0)
            #expect(
                c
                    == {
                        var x = TriggerDispatcher.Counters()
                        x.delivered = 1
                        return x
                    }())
            let row = try await Self.row(client)
            #expect(row.state == "delivered" && row.attempts == 1 && row.lastStatus == 202 && row.runID == "pipeline-77")
            #expect(row.history.count == 1)
            #expect(
                row.history[0].value(at: "outcome")?.scalarText == "delivered"
                    && row.history[0].value(at: "response")?.scalarText == #"{"run_id":"pipeline-77"}"#)
            #expect(row.history[0].value(at: "url")?.scalarText == "http://127.0.0.1:\(server.port)/hooks/fraud-scorer")
            let reqs = server.requests
            #expect(reqs.count == 1 && Self.verified(reqs[0]) && reqs[0].headers["idempotency-key"] == "fraud-scorer:2026-11-25T17:00:00Z:a")
            // nothing left to do
            #expect(try await dispatcher(client, m).dispatchDue().attempts == 0)
        }
        await server.stop()
    }

    @Test func failuresAreRetriedWithTheSameIdUntilOneRunStarts() async throws {
        let server = RecordingHTTPServer()
        let count = Counter()
        try await server.start { r in count.next() <= 3 ? .init(status: 503, body: "busy") : .init(status: 202) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                "preset: webhook\nurl: http://127.0.0.1:\(server.port)/x\nsecrets: [\"\(Self.secret)\"]\nbackoff: 0.05\nbackoff_cap: 0.2")
            try await Self.enqueue(client)
            let c = try await dispatcher(client, m).runUntilIdle(wait: 10)
            #expect(c.delivered == 1 && c.retried == 3 && c.dead == 0)
            let row = try await Self.row(client)
            #expect(row.state == "delivered" && row.attempts == 4)
            #expect(row.history.map { $0.value(at: "outcome")?.scalarText } == ["retry", "retry", "retry", "delivered"])
            #expect(row.history[0].value(at: "status")?.scalarText == "503" && row.history[0].value(at: "response")?.scalarText == "busy")
            let ids = Set(server.requests.map { $0.headers["webhook-id"] ?? "" })
            #expect(
                server.requests.count == 4 && ids == ["fraud-scorer:2026-11-25T17:00:00Z:a"], "one effective run: every attempt carries the same id")
            #expect(server.requests.allSatisfy(Self.verified))
        }
        await server.stop()
    }

    @Test func aHangPastTheTimeoutIsRetried() async throws {
        let server = RecordingHTTPServer()
        let count = Counter()
        try await server.start { _ in count.next() == 1 ? .init(status: 200, delay: 5) : .init(status: 200) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor("preset: webhook\nurl: http://127.0.0.1:\(server.port)/x\ntimeout: 1.5\nbackoff: 0.05")
            try await Self.enqueue(client)
            let c = try await dispatcher(client, m).runUntilIdle(wait: 10)
            #expect(c.delivered == 1 && c.retried == 1)
            let row = try await Self.row(client)
            #expect(row.history.first?.value(at: "error")?.scalarText?.contains("timed out") == true)
            #expect(row.history.first?.value(at: "status") == .null)
            #expect(row.state == "delivered" && row.attempts == 2)
        }
        await server.stop()
    }

    @Test func retryAfterIsHonoured() async throws {
        let server = RecordingHTTPServer()
        let count = Counter()
        try await server.start { _ in count.next() == 1 ? .init(status: 429, headers: [("Retry-After", "1")]) : .init(status: 200) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor("preset: webhook\nurl: http://127.0.0.1:\(server.port)/x\nbackoff: 0.01")
            try await Self.enqueue(client)
            let d = dispatcher(client, m)
            #expect(try await d.dispatchDue().retried == 1)
            // measured from the attempt's own start (history[0].at), not from this query: a loaded machine may take
            // more than half a second between the recording UPDATE and this SELECT
            let (due, gap) = try await client.withConnection { c in
                let r = try c.query(
                    """
                    SELECT extract(epoch FROM next_attempt_at - now())::float8 AS s,
                           extract(epoch FROM next_attempt_at - (history->0->>'at')::timestamptz)::float8 AS g FROM trigger_outbox
                    """, name: "t"
                ).first!
                return (try r.double("s"), try r.double("g"))
            }
            #expect(gap >= 1.0 && due <= 1.0, "the next attempt waits for Retry-After (1 s) after the attempt, not the 0.01 s backoff")
            #expect(try await d.dispatchDue().attempts == 0, "not due yet")
            let c = try await d.runUntilIdle(wait: 20)
            #expect(c.delivered == 1)
            let row = try await Self.row(client)
            #expect(row.history[0].value(at: "note")?.scalarText?.contains("Retry-After 1") == true && row.state == "delivered")
        }
        await server.stop()
    }

    @Test func aKubernetesJobIsCreatedByNameAndAConflictOnResendMeansItExists() async throws {
        // a Kubernetes Job named after the action: the first POST creates it but the answer is lost (503); the
        // resend is the same create-with-name (no look-up first) and gets 409 AlreadyExists: delivered
        let server = RecordingHTTPServer()
        let posts = Counter()
        try await server.start { r in
            if r.method == "GET" { return .init(status: 500) }
            return posts.next() == 1 ? .init(status: 503) : .init(status: 409, body: #"{"kind":"Status","reason":"AlreadyExists","code":409}"#)
        }
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString)")
        try "sa-token".write(to: token, atomically: true, encoding: .utf8)
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                """
                preset: kubernetes_job
                api_server: http://127.0.0.1:\(server.port)
                namespace: ml
                auth: {type: kubernetes_service_account, token_file: \(token.path)}
                backoff: 0.01
                job: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: t, image: "acme/train:1"}]}}}}
                """)
            try await Self.enqueue(client, preset: "kubernetes_job")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 20)
            #expect(c.delivered == 1 && c.retried == 1)
            let row = try await Self.row(client)
            let name = TriggerTarget.resourceName(actionID: "fraud-scorer:2026-11-25T17:00:00Z:a")
            #expect(row.state == "delivered" && row.lastStatus == 409 && row.runID == name)
            #expect(row.history.last?.value(at: "note")?.scalarText?.contains("already started") == true)
            #expect(server.requests.map(\.method) == ["POST", "POST"], "create-with-name: no look-up before the resend")
            #expect(server.requests.allSatisfy { JSONTemplate.parse($0.body)?.value(at: "metadata.name")?.scalarText == name })
            #expect(server.requests.allSatisfy { $0.headers["authorization"] == "Bearer sa-token" })
        }
        await server.stop()
    }

    @Test func anArgoSubmitThatTimedOutIsResentAndAlreadyExistsMeansDelivered() async throws {
        // Argo: the submit times out but created the workflow; the resend submits the same name and Argo's
        // grpc-gateway answers 409 (codes.AlreadyExists): delivered, the run id is the workflow's name
        let server = RecordingHTTPServer()
        let posts = Counter()
        try await server.start { r in
            if r.method == "GET" { return .init(status: 500) }
            return posts.next() == 1
                ? .init(status: 200, delay: 5)
                : .init(status: 409, body: #"{"code":6,"message":"workflows.argoproj.io \"x\" already exists"}"#)
        }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                """
                preset: argo_workflow_template
                server: http://127.0.0.1:\(server.port)
                namespace: ml
                template: retrain
                auth: {type: none}
                timeout: 1.5
                backoff: 0.01
                """)
            try await Self.enqueue(client, preset: "argo_workflow_template")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 20)
            #expect(c.delivered == 1 && c.retried == 1)
            let row = try await Self.row(client)
            let name = TriggerTarget.resourceName(actionID: "fraud-scorer:2026-11-25T17:00:00Z:a")
            #expect(row.state == "delivered" && row.lastStatus == 409 && row.runID == name)
            #expect(row.history.first?.value(at: "error")?.scalarText?.contains("timed out") == true)
            #expect(server.requests.map(\.method) == ["POST", "POST"])
            #expect(server.requests.allSatisfy { JSONTemplate.parse($0.body)?.value(at: "submitOptions.name")?.scalarText == name })
        }
        await server.stop()
    }

    @Test func aKubeflowResendFindsTheRunAnEarlierAttemptStarted() async throws {
        // Kubeflow names runs itself (run_id is output only): the create times out but the run exists; the resend
        // first lists runs with the action's display name, finds it and sends nothing
        let server = RecordingHTTPServer()
        try await server.start { r in
            if r.method == "GET" { return .init(status: 200, body: #"{"runs":[{"run_id":"found-it"}],"total_size":1}"#) }
            return .init(status: 200, delay: 5)
        }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                """
                preset: kubeflow_run
                host: http://127.0.0.1:\(server.port)
                pipeline_id: p-1
                timeout: 1.5
                backoff: 0.01
                """)
            try await Self.enqueue(client, preset: "kubeflow_run")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 20)
            #expect(c.delivered == 1 && c.retried == 1)
            let row = try await Self.row(client)
            #expect(row.state == "delivered" && row.runID == "found-it")
            #expect(row.history.last?.value(at: "found_existing") == .bool(true))
            #expect(server.requests.map(\.method) == ["POST", "GET"])
            let name = TriggerTarget.resourceName(actionID: "fraud-scorer:2026-11-25T17:00:00Z:a")
            #expect(server.requests[1].path.removingPercentEncoding?.contains(name) == true, "looked up by display name")
        }
        await server.stop()
    }

    @Test func aClaimThatLapsedBeforeTheSendIsNeverSentByItsOldOwner() async throws {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 200) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor("preset: webhook\nurl: http://127.0.0.1:\(server.port)/x\ntimeout: 2\nconnect_timeout: 1")
            try await Self.enqueue(client)
            var o1 = TriggerDispatcher.Options()
            var o2 = TriggerDispatcher.Options()
            o1.crashAfterSend = nil
            o2.crashAfterSend = nil
            #expect(o1.owner != o2.owner, "every dispatcher instance has an owner of its own")
            let d1 = TriggerDispatcher(client: client, monitors: [m], options: o1)
            let d2 = TriggerDispatcher(client: client, monitors: [m], options: o2)
            let first = try #require(try await d1.claim())
            let none = try await d2.claim()
            #expect(first.attempt == 1 && none == nil, "one dispatcher holds the row")
            // d1 stalls past its claim; d2 takes the row
            try await client.withConnection { c in
                _ = try c.query("UPDATE trigger_outbox SET claim_expires_at = now() - interval '1 second'", name: "t")
            }
            let second = try #require(try await d2.claim())
            #expect(second.attempt == 2)
            // the old owner wakes up: its renewal fails, nothing is sent, and it cannot record either
            #expect(try await d1.deliver(first) == .lapsed)
            #expect(server.requests.isEmpty)
            let oldOwner = o1.owner
            let recorded = try await client.withConnection { c in
                try TriggerDispatcher.update(c, first, owner: oldOwner, state: .delivered, after: 0, status: 200, runID: nil, history: "{}")
            }
            #expect(!recorded, "recording is fenced on owner and attempt")
            // the new owner's renewal extends the claim to what the action's timeouts need: (1 + 2) s + 5 s
            #expect(try await d2.renew(second, seconds: 8))
            let left = try await client.withConnection { c in
                try c.query("SELECT extract(epoch FROM claim_expires_at - now())::float8 AS s FROM trigger_outbox", name: "t").first!.double("s")
            }
            #expect(left > 7 && left <= 8)
            #expect(try await d2.deliver(second) == .delivered)
            #expect(server.requests.count == 1)
            let row = try await Self.row(client)
            #expect(row.state == "delivered" && row.attempts == 2 && row.history.count == 1)
        }
        await server.stop()
    }

    @Test func theClaimOfASendCoversEveryRequestTheAttemptMayMake() throws {
        func action(_ yaml: String) throws -> TriggerAction {
            guard case .trigger(let t)? = try Self.monitor(yaml).actions["a"] else { throw PresetError("not a trigger") }
            return t
        }
        let context = TriggerContext(
            actionID: "fraud-scorer:2026-11-25T17:00:00Z:a", action: "a", monitor: "fraud-scorer", model: "fraud",
            windowStart: "2026-11-25T17:00:00Z", windowEnd: "2026-11-25T18:00:00Z", driftedFeatures: [], runID: nil)
        let webhook = try action("preset: webhook\nurl: http://127.0.0.1:1/x\ntimeout: 7\nconnect_timeout: 2")
        #expect(
            webhook.attemptSeconds(context, attempt: 1) == 9 + 5 && webhook.attemptSeconds(context, attempt: 3) == 9 + 5, "one request, no look-up")
        let kubeflow = try action("preset: kubeflow_run\nhost: http://127.0.0.1:1\npipeline_id: p\ntimeout: 7\nconnect_timeout: 2")
        #expect(
            kubeflow.attemptSeconds(context, attempt: 1) == 14 && kubeflow.attemptSeconds(context, attempt: 2) == 2 * 9 + 5, "a resend looks up first"
        )
        let argo = try action(
            "preset: argo_workflow_template\nserver: http://127.0.0.1:1\nnamespace: ml\ntemplate: t\nauth: {type: none}\ntimeout: 7\nconnect_timeout: 2"
        )
        #expect(argo.attemptSeconds(context, attempt: 2) == 14, "create-with-name: no look-up")
        let azure = try action(
            "preset: azureml_job\nsubscription: s\nresource_group: rg\nworkspace: ws\njob: {jobType: Command}\ntimeout: 7\nconnect_timeout: 2")
        #expect(
            azure.requestsPerAttempt(context, attempt: 1) == 2 && azure.requestsPerAttempt(context, attempt: 2) == 3,
            "token exchange + look-up on a resend + the PUT")
    }

    @Test func aHostileMonitorNameCannotLeaveTheReportDirectory() {
        let start = ISO8601DateFormatter().date(from: "2026-11-25T17:00:00Z")!
        func file(_ name: String) -> String { TriggerDispatcher.reportPath(directory: "/reports", monitor: name, windowStart: start).file }
        #expect(file("fraud-scorer") == "/reports/fraud-scorer/2026-11-25T17:00:00Z.html")
        #expect(file("../escape") == "/reports/..%2Fescape/2026-11-25T17:00:00Z.html")
        #expect(file("..") == "/reports/%2E%2E/2026-11-25T17:00:00Z.html")
        #expect(file("") == "/reports/%00/2026-11-25T17:00:00Z.html")
        #expect(file("a/b%c d") == "/reports/a%2Fb%25c%20d/2026-11-25T17:00:00Z.html")
        for name in ["../escape", "..", ".", "/etc/passwd", "a/../../b", "../../..", "x\u{0}y"] {
            let path = URL(fileURLWithPath: file(name)).standardizedFileURL.path
            #expect(path.hasPrefix("/reports/") && path.split(separator: "/").count == 3, "\(name) → \(path)")
        }
    }

    @Test func aClientErrorFailsAtOnceWithTheAnswerRecorded() async throws {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 422, body: #"{"message":"No ref found for: mian"}"#) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                "preset: github_workflow_dispatch\nrepository: acme/fraud\nworkflow: retrain.yml\nref: mian\napi_url: http://127.0.0.1:\(server.port)"
            )
            try await Self.enqueue(client, preset: "github_workflow_dispatch")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 20)
            #expect(c.dead == 1 && c.attempts == 1 && server.requests.count == 1)
            let row = try await Self.row(client)
            #expect(row.state == "dead" && row.lastStatus == 422)
            #expect(row.history[0].value(at: "response")?.scalarText == #"{"message":"No ref found for: mian"}"#)
            #expect(row.history[0].value(at: "note")?.scalarText?.contains("resending cannot help") == true)
        }
        await server.stop()
    }

    @Test func afterMaxAttemptsTheActionIsDead() async throws {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 502) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor("preset: webhook\nurl: http://127.0.0.1:\(server.port)/x\nmax_attempts: 3\nbackoff: 0.01")
            try await Self.enqueue(client)
            let c = try await dispatcher(client, m).runUntilIdle(wait: 20)
            #expect(c.dead == 1 && c.retried == 2 && server.requests.count == 3)
            let row = try await Self.row(client)
            #expect(row.state == "dead" && row.attempts == 3)
            #expect(row.history.last?.value(at: "note")?.scalarText == "HTTP 502; gave up after 3 attempts")
        }
        await server.stop()
    }

    @Test func aMissingSecretIsRetriedAndExplained() async throws {
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                "preset: webhook\nurl: http://127.0.0.1:1/x\nauth: {type: token, env: DRIFT_TEST_UNSET_TOKEN}\nmax_attempts: 2\nbackoff: 0.01")
            try await Self.enqueue(client)
            let c = try await dispatcher(client, m).runUntilIdle(wait: 20)
            #expect(c.dead == 1)
            let row = try await Self.row(client)
            #expect(row.history[0].value(at: "error")?.scalarText == "environment variable DRIFT_TEST_UNSET_TOKEN is not set or empty")
        }
    }

    @Test func aShadowEvaluationActionBecomesOneTask() async throws {
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor("preset: webhook\nurl: http://127.0.0.1:1/x")
            try await Self.enqueue(client, action: "shadow", preset: "shadow_eval", id: "fraud-scorer:2026-11-25T17:00:00Z:shadow")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 0)
            #expect(c.delivered == 1)
            let tasks = try await client.withConnection { c in
                try c.query("SELECT kind, unique_key, args FROM tasks", name: "t").map {
                    (try $0.string("kind"), try $0.string("unique_key"), try $0.string("args"))
                }
            }
            #expect(tasks.count == 1 && tasks[0].0 == "shadow_eval" && tasks[0].1 == "shadow_eval:fraud-scorer:2026-11-25T17:00:00Z:shadow")
            #expect(tasks[0].2.contains("\"challenger\": \"v4\""))
            let row = try await Self.row(client, id: "fraud-scorer:2026-11-25T17:00:00Z:shadow")
            #expect(row.state == "delivered" && row.runID?.hasPrefix("task:") == true)
        }
    }

    @Test func theReportPathIsTheDriftReportOfTheFiringWindow() async throws {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 200) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                "preset: webhook\nurl: http://127.0.0.1:\(server.port)/x\nbody: {report: \"{{report_path}}\", run: \"{{run_id}}\"}")
            // two drifted hours: the policy fires at the second
            try await CaptureWriter(client: client).write(
                try DriftCheckTests.events(from: "current_drift.csv", firstHour: 0, hours: 2, perHour: 800, monitor: m))
            let results = try await Backfill(client: client, monitor: m, references: ReferenceStore(baseDirectory: repoRoot.path))
                .run(from: DriftCheckTests.day, to: DriftCheckTests.day.addingTimeInterval(7200))
            #expect(results.last?.firedActions == ["a"])
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reports-\(UUID().uuidString)").path
            var o = TriggerDispatcher.Options()
            o.crashAfterSend = nil
            o.reportDirectory = dir
            #expect(try await TriggerDispatcher(client: client, monitors: [m], options: o).runUntilIdle(wait: 0).delivered == 1)
            let request = try #require(server.requests.first)
            let body = try #require(JSONTemplate.parse(request.body))
            let path = try #require(body.value(at: "report")?.scalarText)
            #expect(path == "\(dir)/fraud-scorer/2026-11-24T01:00:00Z.html")
            let html = try String(contentsOfFile: path, encoding: .utf8)
            #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("fraud-scorer") && html.contains("amount"))
            #expect(body.value(at: "run").flatMap { if case .number(let n) = $0 { n } else { nil } } != nil, "{{run_id}} is the drift run, a number")
        }
        await server.stop()
    }

    @Test func twoDispatchersNeverSendTheSameActionTwice() async throws {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 200, delay: 0.05) }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor("preset: webhook\nurl: http://127.0.0.1:\(server.port)/x")
            for i in 0..<30 { try await Self.enqueue(client, id: "fraud-scorer:2026-11-25T\(String(format: "%02d", i % 24)):\(i):a") }
            var o1 = TriggerDispatcher.Options()
            var o2 = TriggerDispatcher.Options()
            o1.crashAfterSend = nil
            o2.crashAfterSend = nil
            let d1 = TriggerDispatcher(client: client, monitors: [m], options: o1)
            let d2 = TriggerDispatcher(client: client, monitors: [m], options: o2)
            async let a = d1.dispatchDue()
            async let b = d2.dispatchDue()
            let (ca, cb) = try await (a, b)
            #expect(ca.delivered + cb.delivered == 30)
            let ids = server.requests.map { $0.headers["webhook-id"] ?? "" }
            #expect(ids.count == 30 && Set(ids).count == 30)
        }
        await server.stop()
    }
}

/// A thread-safe counter for receivers that answer differently per request.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int {
        lock.withLock {
            n += 1
            return n
        }
    }
}
