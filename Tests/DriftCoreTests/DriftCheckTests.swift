import DriftCapture
import DriftCore
import DriftStats
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// Drift checks end to end on a real PostgreSQL: captured traffic → checks per window → runs,
/// feature results, policy decisions and outbox rows.
@Suite("Drift checks on captured traffic")
struct DriftCheckTests {
    static let day = Date(timeIntervalSince1970: 1_795_478_400)  // 2026-11-24T00:00:00Z

    static func monitor() throws -> MonitorConfig {
        try MonitorsFile.load(path: repoRoot.appendingPathComponent("sample-data/monitors.yaml").path)[0]
    }

    /// `hours` hours of events per file row block, `perHour` events an hour, starting at `firstHour`.
    static func events(from file: String, firstHour: Int, hours: Int, perHour: Int, monitor m: MonitorConfig) throws -> [CaptureEvent] {
        let table = try TabularFile.read(path: fraud.appendingPathComponent(file).path)
        let layout = FeatureLayout(m)
        let numeric = try layout.numeric.map { try table.numericValues(column: table.columnIndex($0)!) }
        let categorical = layout.categorical.map { table.categoricalValues(column: table.columnIndex($0)!) }
        var out: [CaptureEvent] = []
        for h in 0..<hours {
            for k in 0..<perHour {
                let row = (h * perHour + k) % table.rowCount
                out.append(
                    CaptureEvent(
                        model: m.model, requestID: "r\(firstHour + h)-\(k)", kind: .paired,
                        observedAt: day.addingTimeInterval(Double(firstHour + h) * 3600 + Double(k) * 3600 / Double(perHour)),
                        numeric: numeric.map { $0[row] }, categorical: categorical.map { $0[row] }))
            }
        }
        return out
    }

    /// One hour of drifted sample traffic in the window at hour 0, a connection, and a check of the sample monitor.
    func oneDriftedHour(_ client: PostgresClient, _ settings: ConnectionSettings, perHour: Int) async throws -> (PGConnection, DriftCheck) {
        let m = try Self.monitor()
        try await CaptureWriter(client: client).write(
            try Self.events(from: "current_drift.csv", firstHour: 0, hours: 1, perHour: perHour, monitor: m))
        let conn = try PGConnection.connect(settings)
        let (profile, _) = try ReferenceStore(baseDirectory: repoRoot.path).profile(for: m, window: window(0), on: conn)
        return (conn, DriftCheck(monitor: m, reference: profile, configHash: "test"))
    }

    func window(_ hour: Int) -> TimeWindow {
        TimeWindow(start: Self.day.addingTimeInterval(Double(hour) * 3600), end: Self.day.addingTimeInterval(Double(hour + 1) * 3600))
    }

    @Test func driftIsFoundAfterTheDriftHourAndActionsFireOnceAfterTwoWindows() async throws {
        try await TestDatabase.withSchema { client, settings in
            let m = try Self.monitor()
            let writer = CaptureWriter(client: client)
            try await writer.write(try Self.events(from: "current_no_drift.csv", firstHour: 0, hours: 6, perHour: 800, monitor: m))
            try await writer.write(try Self.events(from: "current_drift.csv", firstHour: 6, hours: 6, perHour: 800, monitor: m))
            try await writer.write(try Self.events(from: "current_drift.csv", firstHour: 12, hours: 1, perHour: 100, monitor: m))
            let conn = try PGConnection.connect(settings)
            let (profile, _) = try ReferenceStore(baseDirectory: repoRoot.path).profile(for: m, window: window(0), on: conn)
            let check = DriftCheck(monitor: m, reference: profile, configHash: "test")
            var outcomes: [DriftCheck.Outcome] = []
            for h in 0..<13 { outcomes.append(try check.run(window: window(h), on: conn)) }
            for h in 0..<6 { #expect(outcomes[h].drifted == false, "hour \(h): \(outcomes[h].driftedFeatures)") }
            for h in 6..<12 {
                #expect(outcomes[h].drifted == true, "hour \(h)")
                #expect(
                    Set(outcomes[h].driftedFeatures).isSuperset(of: ["amount", "merchant_category", "score"]),
                    "hour \(h): \(outcomes[h].driftedFeatures)")
                #expect(!outcomes[h].driftedFeatures.contains("country"))
            }
            #expect(outcomes[6].decision == "drifted: streak 1 of 2")
            #expect(outcomes[7].firedActions == ["retrain", "shadow_eval"])
            for h in 8..<12 { #expect(outcomes[h].decision.contains("suppressed by cooldown"), "hour \(h): \(outcomes[h].decision)") }
            #expect(outcomes[12].status == .insufficientData && outcomes[12].drifted == nil)
            let outbox = try conn.query("SELECT action_id FROM trigger_outbox ORDER BY action_id", name: "t").map { try $0.string("action_id") }
            #expect(outbox == ["fraud-scorer:2026-11-24T07:00:00Z:retrain", "fraud-scorer:2026-11-24T07:00:00Z:shadow_eval"])
            let features = try conn.query("SELECT count(*) AS n FROM drift_feature_results", name: "t")[0].int("n")
            #expect(features == 12 * 11)
            let outOfRange = try conn.query(
                """
                SELECT max(out_of_range_share) AS s FROM drift_feature_results r JOIN drift_runs d ON d.id = r.run_id
                WHERE feature = 'amount' AND d.window_start >= $1
                """, [Self.day.addingTimeInterval(6 * 3600)], name: "t")[0].double("s")
            #expect(outOfRange >= 0, "data quality is recorded")
            // correlation drift of the six numeric inputs against the reference file's matrix, in every compared window
            let correlated = try conn.query(
                "SELECT count(*) AS n FROM drift_runs WHERE correlation ? 'pair' AND correlation ? 'max_abs_delta'", name: "t")
            #expect(try correlated[0].int("n") == 12)
            // every run stores its streak with its decision
            let streaks = try conn.query("SELECT (decision->>'streak')::int AS s FROM drift_runs ORDER BY window_start", name: "t").map {
                try $0.int("s")
            }
            #expect(streaks == [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 6])

            // Exactly once: checking the same windows again writes nothing.
            for h in 0..<13 { #expect(try check.run(window: window(h), on: conn).written == false) }
            #expect(try conn.query("SELECT count(*) AS n FROM drift_runs", name: "t")[0].int("n") == 13)
            #expect(try conn.query("SELECT count(*) AS n FROM trigger_outbox", name: "t")[0].int("n") == 2)
            // --recompute replaces a run instead of adding one.
            #expect(try check.run(window: window(3), on: conn, recompute: true).written)
            #expect(try conn.query("SELECT count(*) AS n FROM drift_runs", name: "t")[0].int("n") == 13)
        }
    }

    @Test func twoWorkersCheckingTheSameWindowWriteOneRun() async throws {
        try await TestDatabase.withSchema { client, settings in
            let (conn, check) = try await oneDriftedHour(client, settings, perHour: 1000)
            let w = window(0)
            let results = try await withThrowingTaskGroup(of: DriftCheck.Outcome.self) { g in
                for _ in 0..<2 { g.addTask { try await Task.detached { try check.run(window: w, on: PGConnection.connect(settings)) }.value } }
                return try await g.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter(\.written).count == 1, "\(results.map(\.written))")
            #expect(try conn.query("SELECT count(*) AS n FROM drift_runs", name: "t")[0].int("n") == 1)
        }
    }

    @Test func aCrashInsideTheCheckLeavesNothing() async throws {
        try await TestDatabase.withSchema { client, settings in
            let (conn, check) = try await oneDriftedHour(client, settings, perHour: 600)
            struct Crash: Error {}
            #expect(throws: Crash.self) {
                _ = try check.run(window: window(0), on: conn) { _ in throw Crash() }
            }
            for table in ["drift_runs", "drift_feature_results", "trigger_outbox"] {
                #expect(try conn.query("SELECT count(*) AS n FROM \(table)", name: "t")[0].int("n") == 0, "\(table) must be empty")
            }
            #expect(try check.run(window: window(0), on: conn).written, "the window is checked later")
        }
    }

    @Test func aMissingReferenceFileNamesTheMonitorAndPath() async throws {
        try await TestDatabase.withSchema { _, settings in
            var m = try Self.monitor()
            m.reference = .file("nope/ref.csv")
            let conn = try PGConnection.connect(settings)
            #expect(throws: ReferenceStore.Failure.unreadable(monitor: "fraud-scorer", path: "/data/nope/ref.csv", reason: "no such file")) {
                _ = try ReferenceStore(baseDirectory: "/data").profile(for: m, window: window(0), on: conn)
            }
            #expect(
                ReferenceStore.Failure.unreadable(monitor: "fraud-scorer", path: "/data/nope/ref.csv", reason: "no such file").description
                    == "monitor fraud-scorer: the reference file /data/nope/ref.csv cannot be used (no such file).")
        }
    }
}
