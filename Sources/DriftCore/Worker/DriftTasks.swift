import DriftStats
import DriftStore
import Foundation
import Logging

/// Drift checks as queue tasks: the scheduler enqueues one `drift_check` task per due window
/// (unique key `drift_check:<monitor>:<window start>`), and workers run them. A worker checks a
/// monitor's windows in order under a per-monitor advisory lock — first any earlier unchecked
/// window in the look-back, then its own — so the policy always sees the history before a window,
/// however many workers and replicas run at once.
public struct DriftTasks: Sendable {
    public static let kind = "drift_check"

    public let client: PostgresClient
    public let monitors: [MonitorConfig]
    public let references: ReferenceStore
    /// How far back the scheduler looks for unchecked windows.
    public let lookback: ISODuration
    public let logger: Logger

    public init(client: PostgresClient, monitors: [MonitorConfig], references: ReferenceStore, lookback: ISODuration,
                logger: Logger = Logger(label: "drift-worker")) {
        self.client = client
        self.monitors = monitors
        self.references = references
        self.lookback = lookback
        self.logger = logger
    }

    struct Args: Codable {
        var monitor: String
        var window_start: Date
        var window_end: Date
        var since: Date
    }

    /// Enqueues every due window (closed and past the lateness) of every monitor that has no run yet.
    /// Returns how many tasks were new.
    public func enqueueDue(now: Date = Date()) async throws -> Int {
        let queue = TaskQueue(client: client)
        var tasks: [TaskQueue.NewTask] = []
        let since = now.addingTimeInterval(-lookback.seconds)
        for m in monitors {
            let due = m.schedule.dueWindows(now: now, since: since)
            guard let first = due.first else { continue }
            let checked = try await client.withConnection { c in
                Set(try c.query("SELECT window_start FROM drift_runs WHERE monitor = $1 AND window_start >= $2",
                                [m.name, first.start], name: "schedule.checked").map { try $0.date("window_start") })
            }
            for w in due where !checked.contains(w.start) {
                let args = Args(monitor: m.name, window_start: w.start, window_end: w.end, since: first.start)
                let json = String(decoding: try Self.encoder.encode(args), as: UTF8.self)
                tasks.append(.init(kind: Self.kind, uniqueKey: "\(Self.kind):\(m.name):\(PGTimeText.iso(w.start))", args: json, maxAttempts: 5))
            }
        }
        return tasks.isEmpty ? 0 : try await queue.enqueue(tasks)
    }

    /// Runs one task: the task's window and, before it, any unchecked earlier window since `since`.
    public func handle(_ task: QueueTask) async throws {
        do {
            try await WorkerMetrics.timeTask(kind: task.kind) { try await check(task) }
        } catch {
            let final = task.attempt >= task.maxAttempts
            logger.log(level: final ? .error : .warning, final ? "drift check failed; no attempts left, task discarded" : "drift check failed; will retry",
                       metadata: ["task.id": "\(task.id)", "task.attempt": "\(task.attempt)", "task.max_attempts": "\(task.maxAttempts)",
                                  "task.key": "\(task.uniqueKey ?? "")", "error": "\(error)"])
            throw error
        }
    }

    private func check(_ task: QueueTask) async throws {
        let args = try Self.decoder.decode(Args.self, from: Data(task.args.utf8))
        guard let m = monitors.first(where: { $0.name == args.monitor }) else {
            throw DriftTaskError("monitor '\(args.monitor)' is no longer configured")
        }
        let references = self.references, logger = self.logger
        try await client.withConnection { c in
            let key = StableHash.lockKey("drift-check:\(m.name)")
            try c.query("SELECT pg_advisory_lock($1)", [key], name: "check.lock")
            defer { _ = try? c.query("SELECT pg_advisory_unlock($1)", [key], name: "check.unlock") }
            let hash = MonitorsFile.configHash(m)
            let checked = Set(try c.query("SELECT window_start FROM drift_runs WHERE monitor = $1 AND window_start >= $2 AND window_start < $3",
                                          [m.name, args.since, args.window_end], name: "check.done").map { try $0.date("window_start") })
            for w in m.schedule.windows(from: args.since, to: args.window_end) where !checked.contains(w.start) {
                do {
                    let (profile, _) = try references.profile(for: m, window: w, on: c)
                    let outcome = try DriftCheck(monitor: m, reference: profile, configHash: hash).run(window: w, on: c)
                    WorkerMetrics.recordCheck(monitor: m.name, outcome: outcome)
                    if outcome.written {
                        logger.info("checked window", metadata: [
                            "monitor": "\(m.name)", "window.start": "\(PGTimeText.iso(w.start))", "window.end": "\(PGTimeText.iso(w.end))",
                            "status": "\(outcome.status)", "drifted": "\(outcome.drifted.map(String.init) ?? "")",
                            "drifted_features": .array(outcome.driftedFeatures.map { .string($0) }),
                            "decision": "\(outcome.decision)", "fired": .array(outcome.firedActions.map { .string($0) }), "task.id": "\(task.id)"])
                    }
                } catch {
                    WorkerMetrics.recordCheckError(monitor: m.name)
                    throw error
                }
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
