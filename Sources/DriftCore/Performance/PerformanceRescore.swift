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
    /// at most `pageSize` per tick, the longest unscored first (`ORDER BY computed_at`: none starves), at a lower
    /// priority than drift checks (a new window's check runs before re-scores of old ones).
    func enqueueRescores(_ m: MonitorConfig, now: Date) async throws -> Int {
        guard let p = m.performance else { return 0 }
        let horizon = now.addingTimeInterval(-p.labelDelay.seconds)
        let pageSize = self.pageSize
        let due = try await client.withConnection { c in
            try c.query(
                """
                SELECT w.window_start, w.window_end, w.revisions AS v
                  FROM performance_windows w
                 WHERE w.monitor = $1 AND w.window_start > $5 AND w.window_end > $2
                   AND w.computed_at < (SELECT max(received_at) FROM ground_truth g WHERE g.model = $3)
                 ORDER BY w.computed_at LIMIT $4
                """, [m.name, horizon, m.model, pageSize, horizon.addingTimeInterval(-m.schedule.length.seconds)], name: "rescore.due"
            ).map { (TimeWindow(start: try $0.date("window_start"), end: try $0.date("window_end")), try $0.int("v")) }
        }
        guard !due.isEmpty else { return 0 }
        var tasks: [TaskQueue.NewTask] = []
        for (w, version) in due {
            let args = Args(monitor: m.name, window_start: w.start, window_end: w.end, since: w.start)
            let json = String(decoding: try Self.encoder.encode(args), as: UTF8.self)
            tasks.append(
                .init(
                    kind: Self.rescoreKind, uniqueKey: "\(Self.rescoreKind):\(m.name):\(PGTimeText.iso(w.start)):r\(version)", args: json,
                    priority: 2, maxAttempts: 3))
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
        let logger = self.logger
        let queue = TaskQueue(client: client)
        // (the evaluation, the actions fired, whether the window's streak changed)
        let outcome = try await client.withConnection { c in
            try MonitorLock.withLock(monitor: m.name, schema: schema, timeout: lockTimeout, on: c) { () -> (PerformanceEvaluation, [String], Bool)? in
                let (profile, version) = try references.profile(for: m, window: w, on: c)
                guard let baseline = try references.performanceBaseline(for: m, window: w, version: version, on: c, logger: logger) else {
                    return nil
                }
                let readAt = try PerformanceStore.readMark(c)
                let e = baseline.evaluate(try PerformanceStore.rows(c, monitor: m, window: w))
                let run = try c.query(
                    """
                    SELECT id, status, drifted, config_hash, coalesce((decision->>'fired')::bool, false) AS fired,
                           coalesce((decision->>'sample_total')::int, 0) AS total, coalesce((decision->>'streak')::int, 0) AS streak
                      FROM drift_runs WHERE monitor = $1 AND window_start = $2 AND window_end = $3
                    """, [m.name, w.start, w.end], name: "rescore.run"
                ).first
                // A performance trigger decides the window again on its new figures, unless it fired already or was
                // checked under another configuration. The new decision (and streak) is stored even when it does not
                // fire, so the next window's re-score continues the streak from it.
                var decision: (DriftPolicy.Decision, DriftPolicy.Status)?
                if let run, m.policy.trigger != .drift, !(try run.bool("fired")), try run.string("config_hash") == hash {
                    let drift: DriftPolicy.Status =
                        try run.string("status") == DriftCheck.Status.insufficientData.rawValue
                        ? .insufficientData : (try run.optionalString("drifted") == "t" ? .drifted : .notDrifted)
                    let status = DriftPolicy.status(trigger: m.policy.trigger, drift: drift, performance: e)
                    var d = m.policy.decide(status, windowEnd: w.end, history: try PolicyState.read(monitor: m.name, before: w, on: c))
                    if d.fired, let later = try Self.laterFiring(m, after: w, on: c) {
                        // a later window fired within the cooldown: this one is held back as the cooldown holds it back
                        d = .suppressedByCooldown(streak: d.streak, until: later.addingTimeInterval(m.policy.cooldown.seconds))
                    }
                    decision = (d, drift)
                }
                return try c.transaction { c in
                    try PerformanceStore.write(e, monitor: m.name, model: m.model, window: w, readAt: readAt, on: c)
                    guard let (decision, drift) = decision, let run else { return (e, [], false) }
                    let runID = try run.int("id")
                    let json = DriftCheck.decisionJSON(
                        decision, trigger: m.policy.trigger, drift: drift, sampleTotal: try run.int("total"), performance: e)
                    let updated = try c.query(
                        """
                        UPDATE drift_runs SET decision = $2::jsonb
                         WHERE id = $1 AND NOT coalesce((decision->>'fired')::bool, false) RETURNING id
                        """, [runID, json], name: "rescore.decide")
                    let streakChanged = try !updated.isEmpty && decision.streak != run.int("streak")
                    // the next window continues this one's streak: decide it again (enqueued with the new decision, so
                    // neither is lost without the other); whatever order re-scores run in, the streaks converge
                    if streakChanged { try Self.enqueueNext(m, after: w, queue: queue, on: c) }
                    guard !updated.isEmpty, case .fired(let actions, _) = decision else { return (e, [], streakChanged) }
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
                    return (e, actions, streakChanged)
                }
            }
        }
        let result = outcome.map { ($0.0, $0.1) }
        if let (_, fired) = result { for a in fired { WorkerMetrics.recordActionFired(monitor: m.name, action: a) } }
        if result != nil { try? await client.withConnection { c in try PerformanceStore.markMatched(model: m.model, window: w, on: c) } }
        return result
    }

    /// A re-score of the window after `w`, because `w`'s streak changed; nothing when that window was never scored.
    static func enqueueNext(_ m: MonitorConfig, after w: TimeWindow, queue: TaskQueue, on c: PGConnection) throws {
        let next = TimeWindow(start: w.end, end: m.schedule.window(containing: w.end).end)
        guard
            try !c.query(
                "SELECT 1 FROM performance_windows WHERE monitor = $1 AND window_start = $2 AND window_end = $3", [m.name, next.start, next.end],
                name: "rescore.next"
            ).isEmpty
        else { return }
        let args = Args(monitor: m.name, window_start: next.start, window_end: next.end, since: next.start)
        let json = String(decoding: try encoder.encode(args), as: UTF8.self)
        let key = "\(rescoreKind):\(m.name):\(PGTimeText.iso(next.start)):after:\(Int64((Date().timeIntervalSince1970 * 1e6).rounded()))"
        _ = try queue.enqueue(.init(kind: rescoreKind, uniqueKey: key, args: json, priority: 2, maxAttempts: 3), on: c)
    }

    /// The end of the first window after `w` whose run fired within the cooldown after `w`'s end (nil: none). A check
    /// looks back for the last firing; a re-score of an older window must also look forward.
    static func laterFiring(_ m: MonitorConfig, after w: TimeWindow, on c: PGConnection) throws -> Date? {
        try c.query(
            """
            SELECT min(window_end) AS e FROM drift_runs
             WHERE monitor = $1 AND window_start > $2 AND window_start < $3 AND window_end < $3 AND decision->>'fired' = 'true'
            """, [m.name, w.start, w.end.addingTimeInterval(m.policy.cooldown.seconds)], name: "rescore.later_firing"
        ).first.flatMap { try $0.optionalDate("e") }
    }
}
