import DriftStats
import DriftStore
import Foundation

/// Checks every window of a monitor in a time range, in order (the policy needs order), skipping
/// windows already checked unless `recompute`, which replaces them. Resumable: stop it any time
/// and run it again. Each window is checked under the monitor's ordering lock (`MonitorLock`), so a
/// backfill and `serve` never interleave one monitor's windows; `lockTimeout` bounds each wait for it.
public struct Backfill: Sendable {
    public let client: PostgresClient
    public let monitor: MonitorConfig
    public let references: ReferenceStore

    public init(client: PostgresClient, monitor: MonitorConfig, references: ReferenceStore) {
        self.client = client
        self.monitor = monitor
        self.references = references
    }

    public struct WindowResult: Sendable, Equatable {
        public var window: TimeWindow
        public var events: Int
        public var status: DriftCheck.Status
        public var drifted: Bool?
        public var driftedFeatures: [String]
        public var decision: String
        public var firedActions: [String]
        public var skipped: Bool
    }

    public func run(
        from: Date, to: Date, recompute: Bool = false, lockTimeout: Double = 60,
        progress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> [WindowResult] {
        let windows = monitor.schedule.windows(from: from, to: to)
        var results: [WindowResult] = []
        let monitor = self.monitor
        let references = self.references
        let hash = MonitorsFile.configHash(monitor)
        let schema = client.settings.schema
        // Test hook (debug builds only; compiled out of release binaries): DRIFT_TEST_KILL_IN_CHECK=N kills this
        // process (SIGKILL) inside the Nth check's transaction, after its rows are written and before they commit.
        #if DEBUG
            let killAt = ProcessInfo.processInfo.environment["DRIFT_TEST_KILL_IN_CHECK"].flatMap(Int.init)
        #else
            let killAt: Int? = nil
        #endif
        for (i, w) in windows.enumerated() {
            let crash = killAt == i + 1
            let r: WindowResult = try await client.withConnection { c in
                let outcome = try MonitorLock.withLock(monitor: monitor.name, schema: schema, timeout: lockTimeout, on: c) {
                    let (profile, version) = try references.profile(for: monitor, window: w, on: c)
                    let baseline = references.performanceBaselineIfUsable(for: monitor, window: w, version: version, on: c)
                    return try DriftCheck(monitor: monitor, reference: profile, configHash: hash, performance: baseline)
                        .run(window: w, on: c, recompute: recompute, inTransaction: crash ? { _ in kill(getpid(), SIGKILL) } : nil)
                }
                WorkerMetrics.recordCheck(monitor: monitor.name, outcome: outcome)
                let stored = try c.query(
                    """
                    SELECT current_count, status, drifted, decision->>'decision' AS decision,
                           coalesce(ARRAY(SELECT feature FROM drift_feature_results f WHERE f.run_id = d.id AND f.drifted
                                    -- a tensor's components are its detail, not features of their own
                                    AND NOT EXISTS (SELECT 1 FROM drift_feature_results t WHERE t.run_id = d.id AND t.kind = 'tensor'
                                                    AND starts_with(f.feature, t.feature || '.'))
                                    ORDER BY feature), '{}') AS features,
                           coalesce(ARRAY(SELECT jsonb_array_elements_text(decision->'fired_actions')), '{}') AS fired
                    FROM drift_runs d WHERE monitor = $1 AND window_start = $2 AND window_end = $3
                    """, [monitor.name, w.start, w.end], name: "backfill.summary")[0]
                return WindowResult(
                    window: w, events: try stored.int("current_count"),
                    status: try DriftCheck.Status.stored(try stored.string("status"), column: "drift_runs.status"),
                    drifted: try stored.optionalString("drifted").map { $0 == "t" },
                    driftedFeatures: try stored.strings("features").compactMap { $0 },
                    decision: try stored.optionalString("decision") ?? "",
                    firedActions: try stored.strings("fired").compactMap { $0 }, skipped: !outcome.written)
            }
            results.append(r)
            progress(i + 1, windows.count)
        }
        return results
    }
}
