import DriftLocalPostgres
import DriftServer
import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// `ingest`, `backfill` and `demo` as a user runs them, against the test PostgreSQL.
@Suite("drift-worker ingest, backfill and demo", .serialized)
struct WorkerCommandTests {
    @Test func ingestKeepsGoodRowsAndNamesBadOnesThenBackfillIsResumable() throws {
        let schema = try WorkerSchema(prefix: "w")
        defer { schema.drop() }
        let s = try Scratch()
        let header =
            "timestamp,request_id,amount,hour_of_day,merchant_category,country,device_type,card_present,distance_from_home_km,transactions_last_24h,account_age_days,avg_amount_30d,score"
        var rows = [header]
        for i in 0..<1200 {
            rows.append(
                "2026-11-24T\(String(format: "%02d", i / 600)):\(String(format: "%02d", (i % 600) / 10)):00Z,r\(i),\(40 + i % 30).5,\(i % 24),grocery,DE,pos,true,3.5,2,400,41.0,0.01"
            )
        }
        rows.insert("not-a-time,bad1,1,1,grocery,DE,pos,true,1,1,1,1,0.1", at: 5)
        rows.insert("2026-11-24T00:30:00Z,bad2,abc,1,grocery,DE,pos,true,1,1,1,1,0.1", at: 9)
        let file = s.write("traffic.csv", rows.joined(separator: "\n") + "\n")
        let config = WorkerSchema.config
        let ingest = try CLI.run(["ingest", file, "--model", "fraud", "--config", config, "--migrate"], environment: schema.env)
        #expect(ingest.status == 2, "rejected rows make the exit status 2")
        #expect(ingest.stdout.contains("ingested 1200 events for model fraud, rejected 2 rows"), "\(ingest.stdout)\(ingest.stderr)")
        #expect(ingest.stderr.contains("traffic.csv:6: column 'timestamp' holds 'not-a-time'"), "\(ingest.stderr)")
        #expect(ingest.stderr.contains("traffic.csv:10: column 'amount' is numeric but holds a non-number"), "\(ingest.stderr)")

        let args = ["backfill", "--monitor", "fraud-scorer", "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-24T03:00:00Z", "--config", config]
        let first = try CLI.run(args, environment: schema.env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("3 windows: 2 drifted, 0 without drift, 1 with insufficient data"), "\(first.stdout)")
        #expect(first.stdout.contains("2026-11-24T02:00Z") && first.stdout.contains("insufficient data"), "\(first.stdout)")
        let again = try CLI.run(args, environment: schema.env)
        #expect(again.stdout.contains("(3 already checked, skipped)"), "\(again.stdout)")
        let recompute = try CLI.run(args + ["--recompute"], environment: schema.env)
        #expect(recompute.status == 0 && !recompute.stdout.contains("already checked"))
        #expect(first.stderr.contains("backfill fraud-scorer: 3/3 windows"), "progress lines when not on a terminal")
    }

    @Test func demoTellsTheWholeStory() throws {
        let demo = WorkerSchema(name: "drift_demo", url: try TestDatabase.conninfo())
        demo.drop()
        defer { demo.drop() }
        let r = try CLI.run(["demo", "--json"], environment: ["DATABASE_URL": try TestDatabase.conninfo()])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["windows_checked"] as? Int == 72)
        #expect(json["windows_insufficient_data"] as? Int == 1)
        #expect(json["first_drifted_window"] as? String == "2026-11-25T16:00:00Z")
        #expect(json["windows_drifted"] as? Int == 31)
        #expect(json["actions_fired"] as? Int == 4, "twice two actions: after two drifted windows, and again after the one-day cooldown")
        #expect((json["actions"] as? [String])?.first == "fraud-scorer:2026-11-25T17:00:00Z:retrain")
        // the triggers reached the demo's receiver: both retrains, two shadow evaluations, and what they fired
        let deliveries = try #require(json["deliveries"] as? [[String: Any]])
        #expect(deliveries.count == 6 && deliveries.allSatisfy { $0["state"] as? String == "delivered" }, "\(deliveries)")
        let receiver = try #require(json["receiver"] as? [String: Int])
        #expect(receiver["requests"] == 4 && receiver["verified"] == 4 && receiver["runs"] == 4, "retrain ×2, promote, reject")
        let verdicts = (json["shadow_evaluations"] as? [[String: String]])?.map { "\($0["challenger"]!) \($0["verdict"]!) \($0["window_start"]!)" }
        #expect(
            verdicts == ["v4 promote 2026-11-25T16:00:00Z", "v5 reject 2026-11-25T16:00:00Z", "v4 hold 2026-11-26T16:00:00Z"], "\(verdicts ?? [])")
        // performance: the estimate (CBPE, from the scores alone) leaves its band in the drift hour itself; the realized
        // figure says the same once that hour's labels are in
        let performance = try #require(json["performance"] as? [String: Any])
        #expect(performance["labels"] as? Int == 142_120 && performance["labels_known_then"] as? Int == 77_992, "\(performance)")
        #expect(performance["first_estimated_drop"] as? String == "2026-11-25T16:00:00Z")
        #expect(performance["first_realized_drop"] as? String == "2026-11-25T16:00:00Z")
        // the embeddings: no alarm before the topic moves, drift from then on
        let embeddings = try #require(json["embeddings"] as? [String: Any])
        #expect(embeddings["windows_checked"] as? Int == 12 && embeddings["windows_drifted"] as? Int == 6)
        #expect(embeddings["first_drifted_window"] as? String == "2026-11-20T12:00:00Z" && embeddings["false_alarms_before_the_shift"] as? Int == 0)
    }
}

@Suite("drift-worker run-once", .serialized)
struct RunOnceCommandTests {
    @Test func twoConcurrentRunOnceProcessesCheckEachWindowExactlyOnce() throws {
        let schema = try WorkerSchema(prefix: "ro")
        defer { schema.drop() }
        let ingest = try CLI.run(
            ["ingest", "sample-data/fraud/traffic.csv.gz", "--model", "fraud", "--config", WorkerSchema.config, "--migrate"],
            environment: schema.env)
        #expect(ingest.status == 0, "\(ingest.stderr)")

        // 2026-11-27T00:05Z: the last window (23:00–24:00) is still within its 10-minute lateness.
        let args = ["run-once", "--config", WorkerSchema.config, "--lookback", "P3DT10M", "--now", "2026-11-27T00:05:00Z"]
        let workers = try [0, 1].map { _ in try CLI.start(args, environment: schema.env) }
        for p in workers {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        let conn = try schema.connect()
        let runs = try conn.query("SELECT count(*) AS n, count(DISTINCT window_start) AS w, max(window_start) AS last FROM drift_runs", name: "t")[0]
        #expect(try runs.int("n") == 71 && runs.int("w") == 71, "each due window exactly once")
        #expect(try runs.date("last") == ISO8601DateFormatter().date(from: "2026-11-26T22:00:00Z"))
        #expect(try schema.count("SELECT count(*) AS n FROM trigger_outbox") == 4)
        let firstFire = try conn.query("SELECT min(action_id) AS a FROM trigger_outbox", name: "t")[0].string("a")
        #expect(firstFire == "fraud-scorer:2026-11-25T17:00:00Z:retrain", "the policy saw the windows in order")

        let laterArgs = ["run-once", "--config", WorkerSchema.config, "--lookback", "P3DT10M", "--now", "2026-11-27T00:15:00Z"]
        let later = try CLI.run(laterArgs, environment: schema.env)
        #expect(
            later.status == 0 && later.stdout.contains("enqueued 1 window(s) in 1 pass(es); completed 1 task(s)"), "\(later.stdout)\(later.stderr)")
        let again = try CLI.run(laterArgs, environment: schema.env)
        #expect(again.stdout.contains("enqueued 0 window(s)"), "\(again.stdout)")
    }
}

@Suite("drift-worker serve", .serialized)
struct ServeCommandTests {
    /// Every metric the README advertises for `serve` (the trigger delivery counters arrive with the dispatcher).
    static let advertised = [
        "drift_feature_psi", "drift_feature_ks_statistic", "drift_feature_drifted", "drift_monitor_drifted",
        "drift_window_lag_seconds", "drift_last_window_end_timestamp_seconds", "drift_queue_tasks",
        "drift_trigger_outbox_actions", "drift_stored_metrics_up", "drift_monitor_failing", "drift_window_backlog", "drift_checks_total",
        "drift_actions_fired_total",
        "drift_task_duration_seconds", "drift_trigger_deliveries_total", "drift_trigger_delivery_seconds", "drift_shadow_evaluations_total",
        "process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds",
        "http_server_request_duration_seconds", "hb_requests_total", "drift_stored_metrics_age_seconds"
    ]

    @Test func servesChecksMetricsAndProbesAndStopsCleanlyOnSIGTERM() async throws {
        let schema = try WorkerSchema(prefix: "sv")
        defer { schema.drop() }
        let ingested = try schema.ingestSampleTraffic()
        #expect(ingested == 0)
        // The sample traffic is days old: look back far enough to reach it.
        let days = Int((Date().timeIntervalSince(ISO8601DateFormatter().date(from: "2026-11-24T00:00:00Z")!) / 86_400).rounded(.up)) + 1
        // the retraining pipeline: a receiver that checks signatures and starts one run per action id
        let receiver = WebhookReceiver(secrets: [try StandardWebhooks.Secret("whsec_ZHJpZnQtd29ya2VyIGRlbW8gc2VjcmV0IQ==")])
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        var env = schema.env
        env["DRIFT_RETRAIN_URL"] = "http://127.0.0.1:\(receiver.port)/hooks/retrain"
        let server = try RunningServer(
            [
                "serve", "--config", WorkerSchema.config, "--lookback", "P\(days)D", "--tick", "1", "--grace", "20",
                "--dispatch-interval", "0.5"
            ], environment: env)
        let port = try await server.port()
        var checked = 0
        for _ in 0..<600 {
            checked = try schema.count(
                """
                SELECT count(*) AS n FROM drift_runs WHERE window_start >= '2026-11-24T00:00:00Z' AND window_start < '2026-11-27T00:00:00Z'
                """)
            if checked == 72 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(checked == 72, "serve checked the 72 windows of the sample traffic")

        let health = try await httpGet(port: port, "/healthz")
        #expect(health.status == 200 && health.body == "ok\n")
        let ready = try await httpGet(port: port, "/readyz")
        #expect(ready.status == 200 && ready.body.contains("migrations current"), "\(ready)")

        // Wait until the queue has drained and the dispatcher delivered the actions, then scrape.
        for _ in 0..<300
        where try schema.count("SELECT count(*) AS n FROM tasks WHERE state NOT IN ('completed', 'discarded')") > 0
            || schema.count("SELECT count(*) AS n FROM trigger_outbox WHERE state <> 'delivered'") > 0
            || schema.count("SELECT count(*) AS n FROM shadow_evaluations") < 2
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        let scrape = try await httpGet(port: port, "/metrics")
        #expect(scrape.status == 200)
        let metrics = try PrometheusText(scrape.body)
        for name in Self.advertised { #expect(metrics.types[name] != nil, "\(name) is exported") }

        // The drift gauges equal the stored results of the newest completed window.
        let conn = try schema.connect()
        let stored = try conn.query(
            """
            SELECT f.feature, f.psi, f.ks_statistic, f.drifted FROM drift_feature_results f
            WHERE f.run_id = (SELECT id FROM drift_runs WHERE status = 'completed' ORDER BY window_start DESC LIMIT 1)
            """, name: "t")
        #expect(stored.count == 11)
        for r in stored {
            let labels = ["monitor": "fraud-scorer", "feature": try r.string("feature")]
            #expect(metrics.value("drift_feature_psi", labels) == (try r.optionalDouble("psi")), "\(labels)")
            #expect(metrics.value("drift_feature_ks_statistic", labels) == (try r.optionalDouble("ks_statistic")), "\(labels)")
            #expect(metrics.value("drift_feature_drifted", labels) == (try r.bool("drifted") ? 1 : 0), "\(labels)")
        }
        #expect(metrics.value("drift_feature_psi", ["feature": "amount"])! > 0.2, "the sample's last window drifted")
        #expect(metrics.value("drift_monitor_drifted", ["monitor": "fraud-scorer"]) == 1)
        // Checks by result: this process wrote every run in the schema.
        let byResult = try conn.query(
            """
            SELECT CASE WHEN status = 'insufficient_data' THEN 'insufficient_data' WHEN drifted THEN 'drift' ELSE 'no_drift' END AS result,
                   count(*) AS n FROM drift_runs GROUP BY 1
            """, name: "t")
        for r in byResult {
            #expect(metrics.value("drift_checks_total", ["monitor": "fraud-scorer", "result": try r.string("result")]) == Double(try r.int("n")))
        }
        #expect(metrics.value("drift_actions_fired_total", ["monitor": "fraud-scorer", "action": "retrain"]) == 2)
        // the dispatcher in serve delivered both retrain actions (one run each) and ran both shadow evaluations:
        // no shadow traffic was captured, so each holds
        #expect(metrics.value("drift_trigger_outbox_actions", ["action": "retrain", "state": "delivered"]) == 2)
        #expect(metrics.value("drift_trigger_deliveries_total", ["action": "retrain", "result": "delivered"]) == 2)
        #expect(metrics.value("drift_trigger_deliveries_total", ["action": "shadow_eval", "result": "delivered"]) == 2)
        #expect(metrics.value("drift_shadow_evaluations_total", ["monitor": "fraud-scorer", "verdict": "hold"]) == 2)
        #expect(receiver.runCount == 2 && receiver.deliveries.allSatisfy(\.verified))
        #expect(metrics.value("drift_queue_tasks", ["kind": "drift_check", "state": "available"]) == 0)
        let tasks = try schema.count("SELECT count(*) AS n FROM tasks WHERE state = 'completed' AND kind = 'drift_check'")
        #expect(metrics.value("drift_task_duration_seconds_count", ["kind": "drift_check", "outcome": "completed"]) == Double(tasks))
        let newestEnd = try conn.query("SELECT max(window_end) AS e FROM drift_runs", name: "t")[0].date("e")
        #expect(metrics.value("drift_last_window_end_timestamp_seconds", ["monitor": "fraud-scorer"]) == newestEnd.timeIntervalSince1970)
        #expect(metrics.value("drift_stored_metrics_up", [:]) == 1)
        #expect((metrics.value("process_resident_memory_bytes", [:]) ?? 0) > 1_000_000)

        let started = Date()
        #expect(server.terminate() == 0, "SIGTERM ends serve cleanly")
        #expect(Date().timeIntervalSince(started) < 20, "within the grace period")
        #expect(try schema.count("SELECT count(*) AS n FROM trigger_outbox") == 4)
        #expect(try schema.count("SELECT count(*) AS n FROM tasks WHERE state = 'running'") == 0, "nothing left holding a lease")
        let records = server.logRecords
        #expect(records.count >= 3 && records.allSatisfy { $0["time"] != nil && $0["level"] != nil }, "JSON log lines")
        #expect(records.contains { $0["message"] as? String == "stopped" })
        #expect(!server.stderr.contains("password"))
    }

    @Test func sigtermWhileChecksAreInFlightFinishesOrReleasesThemAndLosesNothing() async throws {
        let schema = try WorkerSchema(prefix: "st")
        defer { schema.drop() }
        #expect(try schema.ingestSampleTraffic() == 0)
        let days = Int((Date().timeIntervalSince(ISO8601DateFormatter().date(from: "2026-11-24T00:00:00Z")!) / 86_400).rounded(.up)) + 1
        let server = try RunningServer(
            [
                "serve", "--config", WorkerSchema.config, "--lookback", "P\(days)D", "--tick", "1",
                "--grace", "20", "--concurrency", "2"
            ], environment: schema.env)
        _ = try await server.port()
        let inRange = "SELECT count(*) AS n FROM drift_runs WHERE window_start >= '2026-11-24T00:00:00Z' AND window_start < '2026-11-27T00:00:00Z'"
        for _ in 0..<600 where try schema.count(inRange) < 3 { try await Task.sleep(for: .milliseconds(20)) }
        let started = Date()
        #expect(server.terminate() == 0, "SIGTERM mid-work still exits 0")
        #expect(Date().timeIntervalSince(started) < 20, "within the grace period")
        #expect(try schema.count("SELECT count(*) AS n FROM tasks WHERE state = 'running'") == 0, "nothing left holding a lease")
        #expect(
            try schema.count(
                """
                SELECT count(*) AS n FROM drift_runs d
                WHERE d.status = 'completed' AND d.feature_count <> (SELECT count(*) FROM drift_feature_results f WHERE f.run_id = d.id)
                """) == 0, "no partial run")
        let records = server.logRecords.filter { $0["message"] as? String == "checked window" }
        #expect(!records.isEmpty && records.allSatisfy { $0["monitor"] as? String == "fraud-scorer" && $0["window.start"] != nil })

        // What was not done is done later, each window once.
        let rest = try CLI.run(["run-once", "--config", WorkerSchema.config, "--lookback", "P\(days)D"], environment: schema.env)
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(try schema.count(inRange) == 72)
        #expect(try schema.count("SELECT count(*) - count(DISTINCT (monitor, window_start)) AS n FROM drift_runs") == 0)
        #expect(try schema.count("SELECT count(*) AS n FROM trigger_outbox") == 4)
    }

    @Test func readyzFailsWhileTheDatabaseIsDownOrUnmigratedAndRecovers() async throws {
        let pg = try LocalPostgres.start()
        defer { pg.stop() }
        let env = ["DATABASE_URL": pg.conninfo, "DRIFT_SCHEMA": "drift"]
        let server = try RunningServer(["serve", "--config", WorkerSchema.config, "--tick", "3600"], environment: env)
        let port = try await server.port()

        let unmigrated = try await httpGet(port: port, "/readyz")
        #expect(unmigrated.status == 503 && unmigrated.body.contains("run drift-worker migrate"), "\(unmigrated)")
        #expect(try CLI.run(["migrate"], environment: env).status == 0)
        let migrated = try await httpGet(port: port, "/readyz")
        #expect(migrated.status == 200, "\(migrated)")

        try pg.pause()
        let down = try await httpGet(port: port, "/readyz")
        #expect(down.status == 503, "\(down)")
        #expect(down.body.hasPrefix("not ready: "), "\(down)")
        #expect(try await httpGet(port: port, "/healthz").status == 200, "alive while the database is down")
        let scrapeDown = try PrometheusText(try await httpGet(port: port, "/metrics").body)
        #expect(scrapeDown.value("drift_stored_metrics_up", [:]) == 0)

        try pg.resume()
        var recovered: (status: Int, body: String) = (0, "")
        for _ in 0..<100 {
            recovered = try await httpGet(port: port, "/readyz")
            if recovered.status == 200 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(recovered.status == 200, "ready again after the database is back: \(recovered)")
        #expect(server.terminate() == 0)
    }
}

@Suite("A worker killed mid-check", .serialized)
struct KilledWorkerTests {
    @Test func sigkillLeavesNoPartialRunAndTheWindowsAreCheckedLater() async throws {
        let schema = try WorkerSchema(prefix: "kw")
        defer { schema.drop() }
        #expect(try schema.ingestSampleTraffic() == 0)
        let args = [
            "backfill", "--monitor", "fraud-scorer", "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-27T00:00:00Z",
            "--config", WorkerSchema.config
        ]
        // The worker kills itself (SIGKILL) inside the 42nd check's transaction, rows written but not committed.
        var env = schema.env
        env["DRIFT_TEST_KILL_IN_CHECK"] = "42"
        let p = try CLI.start(args, environment: env)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        func runs() throws -> Int { try schema.count("SELECT count(*) AS n FROM drift_runs") }
        let atKill = try runs()
        #expect(atKill == 41, "the 42nd window's run died with its transaction")
        // Every run that exists is whole: its 11 feature results are there (or none, for insufficient data).
        let partial = try schema.count(
            """
            SELECT count(*) AS n FROM drift_runs d
            WHERE (SELECT count(*) FROM drift_feature_results f WHERE f.run_id = d.id) NOT IN (0, 11)
               OR (d.status = 'completed' AND NOT EXISTS (SELECT 1 FROM drift_feature_results f WHERE f.run_id = d.id))
            """)
        #expect(partial == 0, "no partial run")
        let resumed = try CLI.run(args, environment: schema.env)
        #expect(resumed.status == 0)
        #expect(resumed.stdout.contains("(\(atKill) already checked, skipped)"), "\(resumed.stdout)")
        #expect(try runs() == 72)
        #expect(try schema.count("SELECT count(*) AS n FROM trigger_outbox") == 4)
    }
}

/// The servers on their failure path: the database pool is theirs to close even when a service throws.
@Suite("serve and ingest-server that cannot start", .serialized)
struct ServerStartFailureTests {
    /// Runs to completion within `seconds` (else kills it and returns nil): exit status and standard error.
    static func runBounded(_ args: [String], environment: [String: String], seconds: Double = 60) async throws -> (status: Int32, stderr: String)? {
        let p = CLI.process(args, environment: environment)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("drift-start-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = handle
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        // polled without blocking a thread: the other tests share the cooperative pool
        while p.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
            return nil
        }
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// A port held by a listening socket of this test.
    static func takenPort() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        try #require(fd >= 0 && ok, "a listening socket on 127.0.0.1")
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func aTakenPortExitsOneAfterTheMigrationInsteadOfHanging() async throws {
        let schema = try WorkerSchema(prefix: "port_taken")
        defer { schema.drop() }
        let (fd, port) = try Self.takenPort()
        defer { close(fd) }
        for command in ["serve", "ingest-server"] {
            let args = [command, "--config", WorkerSchema.config, "--migrate", "--http-host", "127.0.0.1", "--http-port", "\(port)"]
            let result = try #require(try await Self.runBounded(args, environment: schema.env), "\(command) exits by itself within 60 s")
            #expect(result.status == 1, "\(command): \(result.stderr)")
        }
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events") == 0, "migrated before the port was tried")
    }
}
