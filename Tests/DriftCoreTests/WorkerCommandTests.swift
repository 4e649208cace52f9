import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// `ingest`, `backfill` and `demo` as a user runs them, against the test PostgreSQL.
@Suite("drift-worker ingest, backfill and demo", .serialized)
struct WorkerCommandTests {
    func env(_ schema: String) throws -> [String: String] { ["DATABASE_URL": try TestDatabase.conninfo(), "DRIFT_SCHEMA": schema] }

    func dropSchema(_ name: String) throws {
        try PGConnection.connect(ConnectionSettings(conninfo: try TestDatabase.conninfo(), schema: "public"))
            .run("DROP SCHEMA IF EXISTS \"\(name)\" CASCADE", name: "t.drop")
    }

    @Test func ingestKeepsGoodRowsAndNamesBadOnesThenBackfillIsResumable() throws {
        let schema = "w_" + UUID().uuidString.lowercased().prefix(8)
        defer { try? dropSchema(String(schema)) }
        let s = try Scratch()
        let header = "timestamp,request_id,amount,hour_of_day,merchant_category,country,device_type,card_present,distance_from_home_km,transactions_last_24h,account_age_days,avg_amount_30d,score"
        var rows = [header]
        for i in 0..<1200 { rows.append("2026-11-24T\(String(format: "%02d", i / 600)):\(String(format: "%02d", (i % 600) / 10)):00Z,r\(i),\(40 + i % 30).5,\(i % 24),grocery,DE,pos,true,3.5,2,400,41.0,0.01") }
        rows.insert("not-a-time,bad1,1,1,grocery,DE,pos,true,1,1,1,1,0.1", at: 5)
        rows.insert("2026-11-24T00:30:00Z,bad2,abc,1,grocery,DE,pos,true,1,1,1,1,0.1", at: 9)
        let file = s.write("traffic.csv", rows.joined(separator: "\n") + "\n")
        let config = repoRoot.appendingPathComponent("sample-data/monitors.yaml").path
        let ingest = try CLI.run(["ingest", file, "--model", "fraud", "--config", config, "--migrate"], environment: try env(String(schema)))
        #expect(ingest.status == 2, "rejected rows make the exit status 2")
        #expect(ingest.stdout.contains("ingested 1200 events for model fraud, rejected 2 rows"), "\(ingest.stdout)\(ingest.stderr)")
        #expect(ingest.stderr.contains("traffic.csv:6: column 'timestamp' holds 'not-a-time'"), "\(ingest.stderr)")
        #expect(ingest.stderr.contains("traffic.csv:10: column 'amount' is numeric but holds a non-number"), "\(ingest.stderr)")

        let args = ["backfill", "--monitor", "fraud-scorer", "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-24T03:00:00Z", "--config", config]
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(repoRoot.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let first = try CLI.run(args, environment: try env(String(schema)))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("3 windows: 2 drifted, 0 without drift, 1 with insufficient data"), "\(first.stdout)")
        #expect(first.stdout.contains("2026-11-24T02:00Z") && first.stdout.contains("insufficient data"), "\(first.stdout)")
        let again = try CLI.run(args, environment: try env(String(schema)))
        #expect(again.stdout.contains("(3 already checked, skipped)"), "\(again.stdout)")
        let recompute = try CLI.run(args + ["--recompute"], environment: try env(String(schema)))
        #expect(recompute.status == 0 && !recompute.stdout.contains("already checked"))
        #expect(first.stderr.contains("backfill fraud-scorer: 3/3 windows"), "progress lines when not on a terminal")
    }

    @Test func demoTellsTheWholeStory() throws {
        try dropSchema("drift_demo")
        defer { try? dropSchema("drift_demo") }
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(repoRoot.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let r = try CLI.run(["demo", "--json"], environment: ["DATABASE_URL": try TestDatabase.conninfo()])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["windows_checked"] as? Int == 72)
        #expect(json["windows_insufficient_data"] as? Int == 1)
        #expect(json["first_drifted_window"] as? String == "2026-11-25T16:00:00Z")
        #expect(json["windows_drifted"] as? Int == 31)
        #expect(json["actions_fired"] as? Int == 4, "twice two actions: after two drifted windows, and again after the one-day cooldown")
        #expect((json["actions"] as? [String])?.first == "fraud-scorer:2026-11-25T17:00:00Z:retrain")
    }
}

@Suite("drift-worker run-once", .serialized)
struct RunOnceCommandTests {
    @Test func twoConcurrentRunOnceProcessesCheckEachWindowExactlyOnce() throws {
        let schema = "ro_" + UUID().uuidString.lowercased().prefix(8)
        let url = try TestDatabase.conninfo()
        let env = ["DATABASE_URL": url, "DRIFT_SCHEMA": String(schema)]
        defer {
            _ = try? PGConnection.connect(ConnectionSettings(conninfo: url, schema: "public")).run("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE", name: "t")
        }
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(repoRoot.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let config = "sample-data/monitors.yaml"
        let ingest = try CLI.run(["ingest", "sample-data/fraud/traffic.csv", "--model", "fraud", "--config", config, "--migrate"], environment: env)
        #expect(ingest.status == 0, "\(ingest.stderr)")

        // 2026-11-27T00:05Z: the last window (23:00–24:00) is still within its 10-minute lateness.
        let args = ["run-once", "--config", config, "--lookback", "P3DT10M", "--now", "2026-11-27T00:05:00Z"]
        let results = try [0, 1].map { _ -> Process in
            let p = Process()
            p.executableURL = CLI.binary
            p.arguments = args
            var e = ProcessInfo.processInfo.environment
            for (k, v) in env { e[k] = v }
            p.environment = e
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in results { p.waitUntilExit(); #expect(p.terminationStatus == 0) }
        let conn = try PGConnection.connect(ConnectionSettings(conninfo: url, schema: String(schema)))
        let runs = try conn.query("SELECT count(*) AS n, count(DISTINCT window_start) AS w, max(window_start) AS last FROM drift_runs", name: "t")[0]
        #expect(try runs.int("n") == 71 && runs.int("w") == 71, "each due window exactly once")
        #expect(try runs.date("last") == ISO8601DateFormatter().date(from: "2026-11-26T22:00:00Z"))
        #expect(try conn.query("SELECT count(*) AS n FROM trigger_outbox", name: "t")[0].int("n") == 4)
        let firstFire = try conn.query("SELECT min(action_id) AS a FROM trigger_outbox", name: "t")[0].string("a")
        #expect(firstFire == "fraud-scorer:2026-11-25T17:00:00Z:retrain", "the policy saw the windows in order")

        let later = try CLI.run(["run-once", "--config", config, "--lookback", "P3DT10M", "--now", "2026-11-27T00:15:00Z"], environment: env)
        #expect(later.status == 0 && later.stdout.contains("enqueued 1 window(s); completed 1 task(s)"), "\(later.stdout)\(later.stderr)")
        let again = try CLI.run(["run-once", "--config", config, "--lookback", "P3DT10M", "--now", "2026-11-27T00:15:00Z"], environment: env)
        #expect(again.stdout.contains("enqueued 0 window(s)"), "\(again.stdout)")
    }
}

@Suite("drift-worker serve", .serialized)
struct ServeCommandTests {
    @Test func servesChecksDueWindowsAndStopsCleanlyOnSIGTERM() async throws {
        let schema = "sv_" + UUID().uuidString.lowercased().prefix(8)
        let url = try TestDatabase.conninfo()
        let env = ["DATABASE_URL": url, "DRIFT_SCHEMA": String(schema)]
        defer {
            _ = try? PGConnection.connect(ConnectionSettings(conninfo: url, schema: "public")).run("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE", name: "t")
        }
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(repoRoot.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let ingest = try CLI.run(["ingest", "sample-data/fraud/traffic.csv", "--model", "fraud", "--config", "sample-data/monitors.yaml", "--migrate"], environment: env)
        #expect(ingest.status == 0, "\(ingest.stderr)")
        // The sample traffic is days old: look back far enough to reach it.
        let days = Int((Date().timeIntervalSince(ISO8601DateFormatter().date(from: "2026-11-24T00:00:00Z")!) / 86_400).rounded(.up)) + 1
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["serve", "--config", "sample-data/monitors.yaml", "--lookback", "P\(days)D", "--tick", "1", "--grace", "20"]
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let conn = try PGConnection.connect(ConnectionSettings(conninfo: url, schema: String(schema)))
        var checked = 0
        for _ in 0..<600 {
            checked = try conn.query("""
                SELECT count(*) AS n FROM drift_runs WHERE window_start >= '2026-11-24T00:00:00Z' AND window_start < '2026-11-27T00:00:00Z'
                """, name: "t")[0].int("n")
            if checked == 72 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(checked == 72, "serve checked the 72 windows of the sample traffic")
        let started = Date()
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "SIGTERM ends serve cleanly")
        #expect(Date().timeIntervalSince(started) < 20, "within the grace period")
        #expect(try conn.query("SELECT count(*) AS n FROM trigger_outbox", name: "t")[0].int("n") == 4)
        #expect(try conn.query("SELECT count(*) AS n FROM tasks WHERE state = 'running'", name: "t")[0].int("n") == 0, "nothing left holding a lease")
    }
}

@Suite("A worker killed mid-check", .serialized)
struct KilledWorkerTests {
    @Test func sigkillLeavesNoPartialRunAndTheWindowsAreCheckedLater() async throws {
        let schema = "kw_" + UUID().uuidString.lowercased().prefix(8)
        let url = try TestDatabase.conninfo()
        let env = ["DATABASE_URL": url, "DRIFT_SCHEMA": String(schema)]
        defer {
            _ = try? PGConnection.connect(ConnectionSettings(conninfo: url, schema: "public")).run("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE", name: "t")
        }
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(repoRoot.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let config = "sample-data/monitors.yaml"
        #expect(try CLI.run(["ingest", "sample-data/fraud/traffic.csv", "--model", "fraud", "--config", config, "--migrate"], environment: env).status == 0)
        let args = ["backfill", "--monitor", "fraud-scorer", "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-27T00:00:00Z", "--config", config]
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        // The worker kills itself (SIGKILL) inside the 42nd check's transaction, rows written but not committed.
        e["DRIFT_TEST_KILL_IN_CHECK"] = "42"
        p.environment = e
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        let conn = try PGConnection.connect(ConnectionSettings(conninfo: url, schema: String(schema)))
        func runs() throws -> Int { try conn.query("SELECT count(*) AS n FROM drift_runs", name: "t")[0].int("n") }
        let atKill = try runs()
        #expect(atKill == 41, "the 42nd window's run died with its transaction")
        // Every run that exists is whole: its 11 feature results are there (or none, for insufficient data).
        let partial = try conn.query("""
            SELECT count(*) AS n FROM drift_runs d
            WHERE (SELECT count(*) FROM drift_feature_results f WHERE f.run_id = d.id) NOT IN (0, 11)
               OR (d.status = 'completed' AND NOT EXISTS (SELECT 1 FROM drift_feature_results f WHERE f.run_id = d.id))
            """, name: "t")[0].int("n")
        #expect(partial == 0, "no partial run")
        let resumed = try CLI.run(args, environment: env)
        #expect(resumed.status == 0)
        #expect(resumed.stdout.contains("(\(atKill) already checked, skipped)"), "\(resumed.stdout)")
        #expect(try runs() == 72)
        #expect(try conn.query("SELECT count(*) AS n FROM trigger_outbox", name: "t")[0].int("n") == 4)
    }
}
