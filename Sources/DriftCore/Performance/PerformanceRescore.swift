import DriftStats
import DriftStore
import Foundation
import Logging

/// Re-scoring as labels arrive (issue 20): a window's performance is measured at its check, and again whenever labels
/// of its model arrived after that, until `label_delay` after the window's end. Each re-score replaces the window's
/// figures (`performance_windows.revisions` counts them). With a performance trigger (`policy.on`), a re-score whose
/// figures now drop re-decides its own window; the actions it fires go to the outbox once per monitor and window (the
/// same action ids a check uses), so a window never fires twice however often it is re-scored.
extension DriftTasks {
    public static let rescoreKind = "performance_check"
    /// Every task kind a drift worker runs.
    public static let kinds = [kind, rescoreKind]

    /// Windows of `m` scored within `label_delay` whose model received labels after the window was last scored.
    /// A label is not tied to a window until it is joined, so any new label of the model re-scores every such window:
    /// at most `label_delay / window` windows per tick, each once per batch of labels.
    func enqueueRescores(_ m: MonitorConfig, now: Date) async throws -> Int {
        guard let p = m.performance else { return 0 }
        let horizon = now.addingTimeInterval(-p.labelDelay.seconds)
        let pageSize = self.pageSize
        let due = try await client.withConnection { c in
            try c.query(
                """
                SELECT w.window_start, w.window_end, (extract(epoch FROM w.computed_at) * 1000000)::int8 AS v
                  FROM performance_windows w
                 WHERE w.monitor = $1 AND w.window_end > $2
                   AND w.computed_at < (SELECT max(received_at) FROM ground_truth g WHERE g.model = $3)
                 ORDER BY w.window_start LIMIT $4
                """, [m.name, horizon, m.model, pageSize], name: "rescore.due"
            ).map { (TimeWindow(start: try $0.date("window_start"), end: try $0.date("window_end")), try $0.int("v")) }
        }
        guard !due.isEmpty else { return 0 }
        var tasks: [TaskQueue.NewTask] = []
        for (w, version) in due {
            let args = Args(monitor: m.name, window_start: w.start, window_end: w.end, since: w.start)
            let json = String(decoding: try Self.encoder.encode(args), as: UTF8.self)
            tasks.append(
                .init(
                    kind: Self.rescoreKind, uniqueKey: "\(Self.rescoreKind):\(m.name):\(PGTimeText.iso(w.start)):\(version)", args: json,
                    maxAttempts: 3))
        }
        return try await TaskQueue(client: client).enqueue(tasks)
    }

    /// One re-score: the window's predictions joined to the labels now stored, under the monitor's ordering lock.
    func rescore(_ task: QueueTask) async throws {
        let args = try Self.decoder.decode(Args.self, from: Data(task.args.utf8))
        guard let m = monitors.first(where: { $0.name == args.monitor }) else {
            throw DriftTaskError("monitor '\(args.monitor)' is no longer configured")
        }
        guard m.performance != nil else { return }
        let w = TimeWindow(start: args.window_start, end: args.window_end)
        guard let (e, fired) = try await rescoreWindow(m, w) else { return }
        logger.info(
            fired.isEmpty ? "re-scored window performance" : "re-scored window performance; its drop fired the policy",
            metadata: [
                "monitor": "\(m.name)", "window.start": "\(PGTimeText.iso(w.start))", "window.end": "\(PGTimeText.iso(w.end))",
                "performance.labels": .stringConvertible(e.labels), "performance.predictions": .stringConvertible(e.predictions),
                "performance.dropped": .stringConvertible(e.dropped), "performance.reasons": .array(e.reasons.map { .string($0) }),
                "fired": .array(fired.map { .string($0) }), "task.id": .stringConvertible(task.id)
            ])
    }

    /// Re-scores one window of `m` now (whatever its age), and re-decides it under a performance trigger; returns the
    /// evaluation and the actions it fired (nil: the monitor has no performance baseline). `demo` calls it directly.
    public func rescoreWindow(_ m: MonitorConfig, _ w: TimeWindow) async throws -> (PerformanceEvaluation, [String])? {
        let references = self.references
        let schema = client.settings.schema
        let lockTimeout = self.lockTimeout
        let hash = MonitorsFile.configHash(m)
        let result = try await client.withConnection { c in
            try MonitorLock.withLock(monitor: m.name, schema: schema, timeout: lockTimeout, on: c) { () -> (PerformanceEvaluation, [String])? in
                let (profile, version) = try references.profile(for: m, window: w, on: c)
                guard let baseline = try references.performanceBaseline(for: m, window: w, version: version, on: c) else { return nil }
                let readAt = try PerformanceStore.readMark(c)
                let e = baseline.evaluate(try PerformanceStore.rows(c, monitor: m, window: w))
                let run = try c.query(
                    """
                    SELECT id, status, drifted, coalesce((decision->>'fired')::bool, false) AS fired,
                           coalesce((decision->>'sample_total')::int, 0) AS total
                      FROM drift_runs WHERE monitor = $1 AND window_start = $2 AND window_end = $3
                    """, [m.name, w.start, w.end], name: "rescore.run"
                ).first
                // a performance trigger re-decides the window when its figures now drop and it has not fired
                var decision: DriftPolicy.Decision?
                if let run, m.policy.trigger != .drift, !(try run.bool("fired")) {
                    let drift: DriftPolicy.Status =
                        try run.string("status") == DriftCheck.Status.insufficientData.rawValue
                        ? .insufficientData : (try run.optionalString("drifted") == "t" ? .drifted : .notDrifted)
                    if DriftPolicy.status(trigger: m.policy.trigger, drift: drift, performance: e) == .drifted {
                        let d = m.policy.decide(.drifted, windowEnd: w.end, history: try PolicyState.read(monitor: m.name, before: w, on: c))
                        if d.fired { decision = d }
                    }
                }
                return try c.transaction { c in
                    try PerformanceStore.write(e, monitor: m.name, model: m.model, window: w, readAt: readAt, on: c)
                    guard let decision, let run, case .fired(let actions, _) = decision else { return (e, []) }
                    let runID = try run.int("id")
                    let drift: DriftPolicy.Status =
                        try run.string("status") == DriftCheck.Status.insufficientData.rawValue
                        ? .insufficientData : (try run.optionalString("drifted") == "t" ? .drifted : .notDrifted)
                    let json = DriftCheck.decisionJSON(
                        decision, trigger: m.policy.trigger, drift: drift, sampleTotal: try run.int("total"), performance: e)
                    let updated = try c.query(
                        """
                        UPDATE drift_runs SET decision = $2::jsonb
                         WHERE id = $1 AND NOT coalesce((decision->>'fired')::bool, false) RETURNING id
                        """, [runID, json], name: "rescore.decide")
                    guard !updated.isEmpty else { return (e, []) }
                    let drifted = try c.query(
                        // the top-level drifted features, as a check names them (a tensor's components are its detail)
                        """
                        SELECT f.feature FROM drift_feature_results f WHERE f.run_id = $1 AND f.drifted
                           AND NOT EXISTS (SELECT 1 FROM drift_feature_results t
                                            WHERE t.run_id = f.run_id AND t.kind = 'tensor' AND starts_with(f.feature, t.feature || '.'))
                         ORDER BY f.feature
                        """,
                        [runID], name: "rescore.features"
                    ).map { try $0.string("feature") }
                    try DriftCheck(monitor: m, reference: profile, configHash: hash)
                        .enqueueActions(actions, window: w, runID: runID, driftedFeatures: drifted, performance: e, on: c)
                    return (e, actions)
                }
            }
        }
        if let (_, fired) = result { for a in fired { WorkerMetrics.recordActionFired(monitor: m.name, action: a) } }
        return result
    }
}
