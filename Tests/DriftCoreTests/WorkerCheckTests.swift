import DriftCapture
import DriftCore
import DriftStats
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// Worker checks on a real PostgreSQL: the streak stored with each run over long backfills and gaps, correlation
/// drift, the per-monitor ordering lock, and statistics computed while no transaction is open.
@Suite("Worker checks: stored streaks, correlation drift, ordering lock, no open transaction while computing")
struct WorkerCheckTests {
    static let day = DriftCheckTests.day  // 2026-11-24T00:00:00Z

    static func hour(_ h: Int) -> Date { day.addingTimeInterval(Double(h) * 3600) }
    static func window(_ h: Int) -> TimeWindow { TimeWindow(start: hour(h), end: hour(h + 1)) }

    /// Deterministic standard normals (an LCG and Box–Muller), so every run sees the same data.
    struct Normals {
        var state: UInt64
        mutating func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        mutating func next() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
    }

    static func monitors(_ yaml: String) throws -> [MonitorConfig] { try MonitorsFile.parse(yaml, file: "test.yaml") }

    @Test func theStreakIsStoredExactlyOverThirtyWindowsAndAfterAGap() async throws {
        try await TestDatabase.withSchema { client, settings in
            var m = try DriftCheckTests.monitor()
            m.policy.cooldown = ISODuration(seconds: 8 * 3600)
            try await CaptureWriter(client: client).write(
                try DriftCheckTests.events(from: "current_drift.csv", firstHour: 0, hours: 34, perHour: 600, monitor: m))
            let backfill = Backfill(client: client, monitor: m, references: ReferenceStore(baseDirectory: repoRoot.path))
            let results = try await backfill.run(from: Self.hour(0), to: Self.hour(30))
            #expect(results.count == 30 && results.allSatisfy { $0.drifted == true }, "\(results.map(\.drifted))")

            let conn = try PGConnection.connect(settings)
            let rows = try conn.query(
                """
                SELECT decision->>'decision' AS text, (decision->>'streak')::int AS streak FROM drift_runs ORDER BY window_start
                """, name: "t")
            let streaks = try rows.map { try $0.int("streak") }
            let texts = try rows.map { try $0.string("text") }
            #expect(streaks == Array(1...30))
            #expect(texts[0] == "drifted: streak 1 of 2")
            #expect(texts[1] == "fired retrain, shadow_eval after 2 consecutive drifted windows")
            #expect(texts[24] == "drifted 25 windows in a row, suppressed by cooldown until 2026-11-25T02:00:00Z")
            #expect(texts[25] == "fired retrain, shadow_eval after 26 consecutive drifted windows")
            #expect(texts[29] == "drifted 30 windows in a row, suppressed by cooldown until 2026-11-25T10:00:00Z")
            #expect(Set(texts).count == 30, "no text repeats")
            #expect(try conn.query("SELECT count(*) AS n FROM trigger_outbox", name: "t")[0].int("n") == 8, "4 firings × 2 actions")

            // a gap: window 30 is never checked; the streak starts again, the cooldown still counts from window 25's firing
            let after = try await backfill.run(from: Self.hour(31), to: Self.hour(34))
            #expect(
                after.map(\.decision) == [
                    "drifted: streak 1 of 2 (the previous window was not checked)",
                    "drifted 2 windows in a row, suppressed by cooldown until 2026-11-25T10:00:00Z",
                    "fired retrain, shadow_eval after 3 consecutive drifted windows"
                ])

            // runs written before streaks were stored are counted backwards
            try conn.query("UPDATE drift_runs SET decision = decision - 'streak' WHERE window_start < $1", [Self.hour(30)], name: "t")
            let recheck = try await backfill.run(from: Self.hour(29), to: Self.hour(30), recompute: true)
            #expect(recheck.map(\.decision) == ["drifted 30 windows in a row, suppressed by cooldown until 2026-11-25T10:00:00Z"])
            #expect(
                try conn.query("SELECT (decision->>'streak')::int AS s FROM drift_runs WHERE window_start = $1", [Self.hour(29)], name: "t")[0].int(
                    "s") == 30)

            // backfill takes the monitor's ordering lock: held elsewhere, it waits (bounded) and says why it gave up
            let holder = try PGConnection.connect(settings)
            try holder.query("SELECT pg_advisory_lock($1)", [MonitorLock.key(monitor: m.name, schema: settings.schema)], name: "t")
            await #expect(throws: MonitorLock.Timeout.self) {
                _ = try await backfill.run(from: Self.hour(33), to: Self.hour(34), recompute: true, lockTimeout: 0.2)
            }
        }
    }

    /// Three numeric inputs a, b, c and an output y; b follows a in the reference hour and opposes it in the current one,
    /// with every marginal unchanged.
    static let correlationMonitors = """
        monitors:
          - name: corr
            model: corr-model
            window: PT1H
            sample_size: 3000
            min_sample: 100
            features:
              - {name: a, kind: numeric}
              - {name: b, kind: numeric}
              - {name: c, kind: numeric}
              - {name: y, kind: numeric, source: output}
            reference:
              window: {start: 2026-11-24T00:00:00Z, end: 2026-11-24T01:00:00Z}
          - name: corr-one-input
            model: corr-model
            window: PT1H
            min_sample: 100
            features:
              - {name: a, kind: numeric}
              - {name: y, kind: numeric, source: output}
            reference:
              window: {start: 2026-11-24T00:00:00Z, end: 2026-11-24T01:00:00Z}
        """

    static func correlatedEvents(hour h: Int, sign: Double, count: Int) -> [CaptureEvent] {
        var g = Normals(state: UInt64(h + 1) &* 0x9E37_79B9_7F4A_7C15)
        return (0..<count).map { k in
            let a = g.next()
            let b = sign * 0.9 * a + 0.436 * g.next()
            let c = g.next()
            let y = a + 0.1 * g.next()
            return CaptureEvent(
                model: "corr-model", requestID: "c\(h)-\(k)", kind: .paired,
                observedAt: hour(h).addingTimeInterval(Double(k) * 3600 / Double(count)), numeric: [a, b, c, y])
        }
    }

    @Test func workerChecksComputeCorrelationDriftAndTheReportShowsIt() async throws {
        try await TestDatabase.withSchema { client, settings in
            let ms = try Self.monitors(Self.correlationMonitors)
            let writer = CaptureWriter(client: client)
            try await writer.write(Self.correlatedEvents(hour: 0, sign: 1, count: 1500))
            try await writer.write(Self.correlatedEvents(hour: 1, sign: -1, count: 1500))
            let conn = try PGConnection.connect(settings)
            let store = ReferenceStore(baseDirectory: "/")
            let (profile, version) = try store.profile(for: ms[0], window: Self.window(1), on: conn)
            #expect(profile.correlationNames == ["a", "b", "c"], "a traffic reference stores the inputs' correlation matrix")
            let outcome = try DriftCheck(monitor: ms[0], reference: profile, configHash: "t").run(window: Self.window(1), on: conn)
            #expect(outcome.written)

            let stored = try conn.query("SELECT correlation::text AS c FROM drift_runs WHERE monitor = 'corr'", name: "t")[0].string("c")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any])
            #expect(json["pair"] as? [String] == ["a", "b"], "\(stored)")
            #expect((json["max_abs_delta"] as? Double ?? 0) > 1.5, "\(stored)")
            #expect((json["reference"] as? Double ?? 0) > 0.8 && (json["current"] as? Double ?? 0) < -0.8, "\(stored)")

            let report = try DriftReport.stored(conn, monitor: ms[0], windowStart: Self.hour(1), since: nil)
            #expect(report.correlation?.pair.0 == "a" && report.correlation?.pair.1 == "b")
            let html = HTMLReport.render(report)
            #expect(html.contains("<b>a × b</b>") && html.contains("data-max-abs-delta="), "the report shows the figure")

            // a monitor with one numeric input stores and shows why it has no figure
            let (one, _) = try store.profile(for: ms[1], window: Self.window(1), on: conn)
            _ = try DriftCheck(monitor: ms[1], reference: one, configHash: "t").run(window: Self.window(1), on: conn)
            let why = try conn.query("SELECT correlation->>'unavailable' AS w FROM drift_runs WHERE monitor = 'corr-one-input'", name: "t")[0].string(
                "w")
            #expect(why == "fewer than two numeric input features (1)")
            let oneHTML = HTMLReport.render(try DriftReport.stored(conn, monitor: ms[1], windowStart: Self.hour(1), since: nil))
            #expect(oneHTML.contains("No correlation drift figure: fewer than two numeric input features (1)."))

            // a traffic profile stored before this change (no matrix) gets its matrix derived once and stored
            var legacy = profile
            (legacy.correlationNames, legacy.correlation) = ([], [])
            try conn.query(
                "UPDATE reference_profiles SET profile = $3::bytea WHERE monitor = $1 AND version = $2",
                ["corr", version, try ProfileCodec.encode(legacy)], name: "t")
            let (derived, _) = try ReferenceStore(baseDirectory: "/").profile(for: ms[0], window: Self.window(2), on: conn)
            #expect(derived.correlationNames == ["a", "b", "c"] && derived.correlation == profile.correlation)
            let restored = try conn.query("SELECT profile FROM reference_profiles WHERE monitor = 'corr' AND version = $1", [version], name: "t")[0]
            #expect(try ProfileCodec.decode(restored.bytes("profile")).correlationNames == ["a", "b", "c"])
        }
    }

    @Test func theOrderingLockIsPerSchemaBoundedAndAlwaysReleased() async throws {
        try await TestDatabase.withSchema { _, settings in
            let a = try PGConnection.connect(settings)
            let b = try PGConnection.connect(settings)
            let before = try b.query("SELECT current_setting('lock_timeout') AS v", name: "t")[0].string("v")
            #expect(MonitorLock.key(monitor: "m", schema: "s1") != MonitorLock.key(monitor: "m", schema: "s2"))
            let key = MonitorLock.key(monitor: "m", schema: settings.schema)
            try a.query("SELECT pg_advisory_lock($1)", [key], name: "t")
            // held by a: b gives up after its timeout, with a sentence; another schema's lock is free
            #expect(throws: MonitorLock.Timeout(monitor: "m", schema: settings.schema, seconds: 0.2)) {
                try MonitorLock.withLock(monitor: "m", schema: settings.schema, timeout: 0.2, on: b) { Issue.record("entered a held lock") }
            }
            let other = try MonitorLock.withLock(monitor: "m", schema: "other", timeout: 0.2, on: b) { 1 }
            #expect(other == 1)
            try a.query("SELECT pg_advisory_unlock($1)", [key], name: "t")
            #expect(
                try b.query("SELECT current_setting('lock_timeout') AS v", name: "t")[0].string("v") == before,
                "the session's lock_timeout is restored")
            #expect(
                try b.query("SELECT current_setting('statement_timeout') AS v", name: "t")[0].string("v") == "5min",
                "the session's statement_timeout (300 s) is restored after the lock's wait, which it does not bound")
            #expect(
                MonitorLock.Timeout(monitor: "m", schema: "drift", seconds: 60).description.hasPrefix(
                    "another worker has held monitor m's lock (schema drift) for more than 60 s; "))
            // released when the body throws
            struct Failure: Error {}
            #expect(throws: Failure.self) { try MonitorLock.withLock(monitor: "m", schema: settings.schema, on: a) { throw Failure() } }
            #expect(try MonitorLock.withLock(monitor: "m", schema: settings.schema, timeout: 0.2, on: b) { true })
        }
    }

    /// A tensor monitor whose check is long (MMD permutations), for the no-open-transaction test.
    static let slowMonitor = """
        monitors:
          - name: slow
            model: slow-model
            window: PT1H
            sample_size: 1500
            min_sample: 100
            features:
              - name: e
                kind: tensor
                shape: [16]
                tensor: {method: pca, max_components: 4, mmd_sample_size: 1500, mmd_permutations: 400}
            reference:
              window: {start: 2026-11-24T00:00:00Z, end: 2026-11-24T01:00:00Z}
        """

    static func tensorEvents(hour h: Int, shift: Double, count: Int) -> [CaptureEvent] {
        var g = Normals(state: UInt64(h + 7) &* 0xD1B5_4A32_D192_ED03)
        return (0..<count).map { k in
            CaptureEvent(
                model: "slow-model", requestID: "s\(h)-\(k)", kind: .paired,
                observedAt: hour(h).addingTimeInterval(Double(k) * 3600 / Double(count)),
                numeric: (0..<16).map { i in g.next() + (i < 4 ? shift : 0) })
        }
    }

    /// Acceptance 4: the statistics run while no transaction is open. The check's session runs with
    /// `idle_in_transaction_session_timeout` = 500 ms: the same statistics inside an open transaction get the session
    /// terminated (the control), while the check completes; a second connection polls `pg_stat_activity` throughout.
    @Test func theStatisticsRunWhileNoTransactionIsOpen() async throws {
        try await TestDatabase.withSchema { client, settings in
            let m = try Self.monitors(Self.slowMonitor)[0]
            try await CaptureWriter(client: client).write(Self.tensorEvents(hour: 0, shift: 0, count: 1500))
            try await CaptureWriter(client: client).write(Self.tensorEvents(hour: 1, shift: 0.3, count: 1500))
            let conn = try PGConnection.connect(settings)
            let (profile, _) = try ReferenceStore(baseDirectory: "/").profile(for: m, window: Self.window(1), on: conn)
            let check = DriftCheck(monitor: m, reference: profile, configHash: "t")

            // control: inside an open transaction these statistics outlast the timeout and the server ends the session
            let control = try PGConnection.connect(settings)
            try control.run("SET idle_in_transaction_session_timeout = '500ms'", name: "t")
            let sample = try WindowSample.load(control, monitor: m, window: Self.window(1))
            let killed = #expect(throws: PostgresError.self, "the statistics take longer than 500 ms") {
                try control.transaction { c in
                    _ = check.compare(sample, seed: 1)
                    try c.query("SELECT 1", name: "t")
                }
            }
            #expect(
                killed?.kind == .connectionLost, "the server ended the idle-in-transaction session: \(killed.map(String.init(describing:)) ?? "")")

            try conn.run("SET idle_in_transaction_session_timeout = '500ms'", name: "t")
            let pid = try conn.query("SELECT pg_backend_pid() AS p", name: "t")[0].int("p")
            let done = StopFlag()
            let watcher = Task.detached { () throws -> [(state: String, inBlock: Bool, seconds: Double)] in
                let observer = try PGConnection.connect(settings)
                var seen: [(String, Bool, Double)] = []
                let deadline = Date().addingTimeInterval(300)
                while !done.value && Date() < deadline {
                    for r in try observer.query(
                        """
                        SELECT state, coalesce(state = 'idle in transaction' OR xact_start < query_start, false) AS in_block,
                               extract(epoch FROM clock_timestamp() - xact_start)::float8 AS seconds
                        FROM pg_stat_activity WHERE pid = $1
                        """, [pid], name: "t")
                    {
                        seen.append((try r.optionalString("state") ?? "", try r.bool("in_block"), try r.optionalDouble("seconds") ?? 0))
                    }
                    usleep(5_000)
                }
                return seen
            }
            let outcome = try await Task.detached { try check.run(window: Self.window(1), on: conn) }.value
            done.set()
            let seen = try await watcher.value
            #expect(outcome.written && outcome.status == .completed)
            #expect(try conn.query("SELECT 1 AS one", name: "t")[0].int("one") == 1, "the check's session was never terminated")
            #expect(seen.contains { $0.state == "idle" }, "the watcher saw the session computing outside any transaction")
            let inBlock = seen.filter(\.inBlock)
            #expect(inBlock.allSatisfy { $0.seconds < 0.5 }, "a transaction stayed open: \(inBlock)")
        }
    }
}

/// A stop flag shared with the polling task.
private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    var value: Bool { lock.withLock { raised } }
    func set() { lock.withLock { raised = true } }
}
