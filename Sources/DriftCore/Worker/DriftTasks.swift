import DriftStats
import DriftStore
import Foundation
import Logging

/// Drift checks as queue tasks: the scheduler enqueues one `drift_check` task per due window
/// (unique key `drift_check:<monitor>:<window start>`), and workers run them. A worker checks a
/// monitor's windows in order — first any earlier unchecked window since the task's `since`, then its
/// own — each under the monitor's ordering lock (`MonitorLock`), so the policy always sees the history
/// before a window, however many workers and replicas run at once.
///
/// Every due window within the look-back is checked, however far behind: the scheduler enqueues the
/// oldest unchecked windows first, at most `pageSize` per monitor per tick (the next tick continues),
/// and `drift_window_backlog{monitor}` says how many remain. A monitor whose checks keep failing is
/// paused with exponential backoff (`MonitorFailures`).
public struct DriftTasks: Sendable {
    public static let kind = "drift_check"
    /// The most windows one monitor's look-back may span (`lookback / window`); more is a configuration error
    /// (`validate(lookback:monitors:)`), since every window in the look-back is enumerated each tick.
    public static let maxLookbackWindows = 100_000

    public let client: PostgresClient
    public let monitors: [MonitorConfig]
    public let references: ReferenceStore
    /// How far back the scheduler looks for unchecked windows.
    public let lookback: ISODuration
    /// Tasks enqueued per monitor per tick at most (the oldest unchecked windows first).
    public let pageSize: Int
    /// Seconds a check waits for its monitor's ordering lock before failing (and being retried).
    public let lockTimeout: Double
    public let logger: Logger

    public init(
        client: PostgresClient, monitors: [MonitorConfig], references: ReferenceStore, lookback: ISODuration,
        pageSize: Int = 1_000, lockTimeout: Double = 60, logger: Logger = Logger(label: "drift-worker")
    ) {
        self.client = client
        self.monitors = monitors
        self.references = references
        self.lookback = lookback
        self.pageSize = max(1, pageSize)
        self.lockTimeout = lockTimeout
        self.logger = logger
    }

    /// A look-back that would make a monitor enumerate more than `maxLookbackWindows` windows per tick.
    public static func validate(lookback: ISODuration, monitors: [MonitorConfig]) throws {
        for m in monitors {
            let n = lookback.seconds / m.schedule.length.seconds
            if !(n <= Double(maxLookbackWindows)) {
                let count = n < 1e15 ? String(Int(n.rounded(.up))) : String(format: "%.3g", n)
                throw DriftTaskError(
                    "--lookback \(lookback) spans \(count) windows of monitor '\(m.name)' (window \(m.schedule.length)); at most \(maxLookbackWindows) — use a shorter look-back and `drift-worker backfill` for older windows"
                )
            }
        }
    }

    struct Args: Codable {
        var monitor: String
        var window_start: Date
        var window_end: Date
        var since: Date
    }

    /// One monitor's state after a scheduler tick.
    public struct Backlog: Sendable, Equatable {
        public var monitor: String
        /// Due windows within the look-back without a run (before this tick's tasks ran).
        public var unchecked: Int
        /// Tasks newly enqueued by this tick.
        public var enqueued: Int
        /// The oldest unchecked window's start.
        public var oldest: Date?
        /// Set while the monitor is failing: when its next probe may run.
        public var pausedUntil: Date?
    }

    /// Enqueues the oldest unchecked due windows (closed and past the lateness, within the look-back) of every
    /// monitor, at most `pageSize` per monitor; records `drift_window_backlog`. Returns how many tasks were new.
    /// `rescores`: also enqueue the re-scores of windows whose labels arrived since they were scored (see
    /// `enqueueRescores`); `run-once` asks for them on its first pass only, so labels that keep arriving cannot keep it
    /// running.
    @discardableResult
    public func enqueueDue(now: Date = Date(), rescores: Bool = true) async throws -> Int {
        try await schedule(now: now, rescores: rescores).reduce(0) { $0 + $1.enqueued }
    }

    /// `enqueueDue`, with each monitor's backlog. With `enqueue: false` it only reads (and sets the gauge).
    public func schedule(now: Date = Date(), enqueue: Bool = true, rescores: Bool = true) async throws -> [Backlog] {
        let queue = TaskQueue(client: client)
        let since = now.addingTimeInterval(-lookback.seconds)
        try Self.validate(lookback: lookback, monitors: monitors)
        let schema = client.settings.schema
        let failing = Dictionary(
            try await client.withConnection { c in
                do { return try MonitorFailures.all(c) } catch let e as PostgresError where e.sqlState == "42P01" {  // undefined_table
                    throw PostgresError(
                        .schemaMissing,
                        "the tables of schema \"\(schema)\" are missing or out of date; run `drift-worker migrate` (or start with --migrate)")
                }
            }.map { ($0.monitor, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [Backlog] = []
        for m in monitors {
            let due = m.schedule.dueWindows(now: now, since: since)
            let unchecked = try await uncheckedWindows(m, due)
            WorkerMetrics.recordBacklog(monitor: m.name, windows: unchecked.count)
            var backlog = Backlog(monitor: m.name, unchecked: unchecked.count, enqueued: 0, oldest: unchecked.first?.start, pausedUntil: nil)
            var page: [TimeWindow] = Array(unchecked.prefix(pageSize))
            var attempts = 5
            if let f = failing[m.name] {
                if !f.due {
                    backlog.pausedUntil = f.retryAt
                    out.append(backlog)
                    continue
                }
                // one probe with one attempt: a still-broken monitor costs one failure per backoff step
                page = Array(unchecked.prefix(1))
                attempts = 1
            }
            if enqueue, rescores, m.performance != nil { backlog.enqueued += try await enqueueRescores(m, now: now) }
            guard enqueue, let first = page.first else {
                out.append(backlog)
                continue
            }
            var tasks: [TaskQueue.NewTask] = []
            for w in page {
                let args = Args(monitor: m.name, window_start: w.start, window_end: w.end, since: first.start)
                let json = String(decoding: try Self.encoder.encode(args), as: UTF8.self)
                tasks.append(.init(kind: Self.kind, uniqueKey: Self.uniqueKey(monitor: m.name, window: w), args: json, maxAttempts: attempts))
            }
            backlog.enqueued += try await queue.enqueue(tasks)
            if unchecked.count > 1 {
                logger.info(
                    "window backlog",
                    metadata: [
                        "monitor": "\(m.name)", "backlog.windows": .stringConvertible(unchecked.count),
                        "backlog.oldest": "\(PGTimeText.iso(first.start))",
                        "enqueued": .stringConvertible(backlog.enqueued), "probe": .stringConvertible(attempts == 1)
                    ])
            }
            out.append(backlog)
        }
        return out
    }

    static func uniqueKey(monitor: String, window: TimeWindow) -> String { "\(kind):\(monitor):\(PGTimeText.iso(window.start))" }

    /// The windows of `due` (ascending) that have no run.
    func uncheckedWindows(_ m: MonitorConfig, _ due: [TimeWindow]) async throws -> [TimeWindow] {
        guard let first = due.first, let last = due.last else { return [] }
        let checked = try await client.withConnection { c in
            Set(
                try c.query(
                    "SELECT window_start FROM drift_runs WHERE monitor = $1 AND window_start >= $2 AND window_start <= $3",
                    [m.name, first.start, last.start], name: "schedule.checked"
                ).map { try $0.date("window_start") })
        }
        return due.filter { !checked.contains($0.start) }
    }

    /// Runs one task: the task's window and, before it, any unchecked earlier window since `since`. A check that
    /// used its last attempt marks the monitor failing (`MonitorFailures`); a successful one clears that.
    public func handle(_ task: QueueTask) async throws {
        if task.kind == Self.rescoreKind {
            // a failed re-score is retried, then dropped: the next labels schedule another; the monitor is not paused
            do {
                try await WorkerMetrics.timeTask(kind: task.kind) { try await rescore(task) }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let final = task.attempt >= task.maxAttempts
                logger.log(
                    level: final ? .error : .warning,
                    final ? "performance re-score failed; no attempts left" : "performance re-score failed; will retry",
                    metadata: ["task.id": .stringConvertible(task.id), "task.key": "\(task.uniqueKey ?? "")", "error": "\(error)"])
                if final, let a = try? Self.decoder.decode(Args.self, from: Data(task.args.utf8)) {
                    // the window counts as scored until the next labels, so a broken re-score is not enqueued again at once
                    _ = try? await client.withConnection { c in
                        try c.query(
                            "UPDATE performance_windows SET computed_at = now() WHERE monitor = $1 AND window_start = $2 AND window_end = $3",
                            [a.monitor, a.window_start, a.window_end], name: "rescore.give_up")
                    }
                }
                throw error
            }
            return
        }
        let monitor = (try? Self.decoder.decode(Args.self, from: Data(task.args.utf8)))?.monitor
        do {
            try await WorkerMetrics.timeTask(kind: task.kind) { try await check(task) }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let final = task.attempt >= task.maxAttempts
            var meta: Logger.Metadata = [
                "task.id": .stringConvertible(task.id), "task.attempt": .stringConvertible(task.attempt),
                "task.max_attempts": .stringConvertible(task.maxAttempts),
                "task.key": "\(task.uniqueKey ?? "")", "error": "\(error)"
            ]
            // A task out of attempts, or an error no retry can fix (an unusable reference, a monitor no longer
            // configured), marks the monitor failing at once: its other waiting tasks are cancelled and it is
            // paused with backoff instead of every task failing five times.
            let permanent = Self.isPermanent(error)
            if final || permanent, let monitor {
                let what =
                    final
                    ? "drift check failed; no attempts left, task discarded" : "drift check failed with an error retries cannot fix; task discarded"
                do {
                    let state = try await client.withConnection { c in try MonitorFailures.recordFailure(monitor: monitor, error: "\(error)", on: c) }
                    meta["monitor"] = "\(monitor)"
                    meta["monitor.failures"] = .stringConvertible(state.failures)
                    meta["monitor.retry_at"] = "\(PGTimeText.iso(state.retryAt))"
                    logger.error("\(what); the monitor is failing and paused until \(PGTimeText.iso(state.retryAt))", metadata: meta)
                } catch let recordError {
                    meta["record_error"] = "\(recordError)"
                    logger.error("\(what) (the monitor's failing state could not be recorded)", metadata: meta)
                }
            } else {
                logger.log(
                    level: final ? .error : .warning,
                    final ? "drift check failed; no attempts left, task discarded" : "drift check failed; will retry",
                    metadata: meta)
            }
            throw permanent ? PermanentTaskFailure(error) : error
        }
        if let monitor, let m = monitors.first(where: { $0.name == monitor }) {
            // best effort: the figures are refreshed by the next tick anyway
            if let recovered = try? await client.withConnection({ c in try MonitorFailures.clear(monitor: monitor, on: c) }), recovered {
                logger.info("monitor recovered: its check succeeded", metadata: ["monitor": "\(monitor)"])
            }
            let since = Date().addingTimeInterval(-lookback.seconds)
            if let n = try? await uncheckedWindows(m, m.schedule.dueWindows(now: Date(), since: since)).count {
                WorkerMetrics.recordBacklog(monitor: monitor, windows: n)
            }
        }
    }

    /// Errors that fail every attempt the same way.
    static func isPermanent(_ error: Error) -> Bool { error is ReferenceStore.Failure || error is DriftTaskError }

    private func check(_ task: QueueTask) async throws {
        let args = try Self.decoder.decode(Args.self, from: Data(task.args.utf8))
        guard let m = monitors.first(where: { $0.name == args.monitor }) else {
            throw DriftTaskError("monitor '\(args.monitor)' is no longer configured")
        }
        let references = self.references
        let logger = self.logger
        let schema = client.settings.schema
        let lockTimeout = self.lockTimeout
        let hash = MonitorsFile.configHash(m)
        let checked = try await client.withConnection { c in
            Set(
                try c.query(
                    "SELECT window_start FROM drift_runs WHERE monitor = $1 AND window_start >= $2 AND window_start < $3",
                    [m.name, args.since, args.window_end], name: "check.done"
                ).map { try $0.date("window_start") })
        }
        // One window per lock and connection: other tasks of the monitor interleave in order, and a cancelled
        // task (shutdown, or a lost lease) stops between windows. A window another worker checked meanwhile is
        // found by DriftCheck and not written again.
        for w in m.schedule.windows(from: args.since, to: args.window_end) where !checked.contains(w.start) {
            try Task.checkCancellation()
            do {
                let outcome = try await client.withConnection { c in
                    try MonitorLock.withLock(monitor: m.name, schema: schema, timeout: lockTimeout, on: c) {
                        let (profile, version) = try references.profile(for: m, window: w, on: c)
                        let baseline = references.performanceBaselineIfUsable(for: m, window: w, version: version, on: c, logger: logger)
                        return try DriftCheck(monitor: m, reference: profile, configHash: hash, performance: baseline).run(window: w, on: c)
                    }
                }
                WorkerMetrics.recordCheck(monitor: m.name, outcome: outcome)
                if outcome.written {
                    logger.info(
                        "checked window",
                        metadata: [
                            "monitor": "\(m.name)", "window.start": "\(PGTimeText.iso(w.start))", "window.end": "\(PGTimeText.iso(w.end))",
                            "status": "\(outcome.status.rawValue)", "drifted": outcome.drifted.map { .stringConvertible($0) } ?? LogSetup.null,
                            "drifted_features": .array(outcome.driftedFeatures.map { .string($0) }),
                            "decision": "\(outcome.decision)", "fired": .array(outcome.firedActions.map { .string($0) }),
                            "task.id": .stringConvertible(task.id)
                        ])
                }
            } catch {
                WorkerMetrics.recordCheckError(monitor: m.name)
                throw error
            }
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }()
}

public struct DriftTaskError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
