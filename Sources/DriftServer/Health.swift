import DriftCore
import DriftStore
import Foundation

/// Liveness: the process's loops report heartbeats; the process is alive while every registered loop
/// has beaten within its allowance. (The HTTP server answering at all proves its own event loop.)
public final class Liveness: @unchecked Sendable {
    private let lock = NSLock()
    private var loops: [String: (allowance: Double, last: Date)] = [:]

    public init() {}

    /// Registers a loop that must beat at least every `allowance` seconds (counted from now).
    public func register(_ name: String, allowance: Double, now: Date = Date()) {
        lock.withLock { loops[name] = (allowance, now) }
    }

    public func beat(_ name: String, now: Date = Date()) {
        lock.withLock { if let l = loops[name] { loops[name] = (l.allowance, now) } }
    }

    /// The loops that missed their allowance (empty: alive).
    public func stale(now: Date = Date()) -> [String] {
        lock.withLock { loops.filter { now.timeIntervalSince($0.value.last) > $0.value.allowance }.map(\.key).sorted() }
    }
}

/// Readiness: the database answers and this build's migrations are applied. Checks are single-flight
/// (callers while one runs share its answer) on a pool of their own, so probes never wait behind the
/// workers' connections, and a check that does not answer within `timeout` counts as not ready.
public actor ReadinessProbe {
    public struct Result: Sendable, Equatable {
        public var ready: Bool
        public var reason: String
    }

    private let client: PostgresClient
    private let schema: String
    private let timeout: Double
    private var inFlight: Task<Result, Never>?

    public init(settings: ConnectionSettings, timeout: Double = 2) {
        var s = settings
        s.poolSize = 1
        self.client = PostgresClient(settings: s)
        self.schema = settings.schema
        self.timeout = timeout
    }

    public func check() async -> Result {
        let task: Task<Result, Never>
        if let running = inFlight {
            task = running
        } else {
            let client = self.client
            let schema = self.schema
            task = Task {
                do {
                    let (current, failing) = try await client.withConnection { c in
                        let current = try Migrator(schema: schema).isCurrent(c)
                        return (current, current ? try MonitorFailures.all(c) : [])
                    }
                    guard current else {
                        return Result(ready: false, reason: "migrations are not applied to schema \"\(schema)\"; run drift-worker migrate")
                    }
                    // a failing monitor does not make the process unready (capture and the other monitors still work);
                    // it is named here and in drift_monitor_failing
                    let detail = failing.map { f in
                        "\n  monitor \(f.monitor) failing: \(f.failures) failed task(s) since \(PGTimeText.iso(f.failingSince)), next probe \(f.due ? "due now" : "at \(PGTimeText.iso(f.retryAt))"); last error: \(String(f.lastError.prefix(300)).replacingOccurrences(of: "\n", with: " "))"
                    }.joined()
                    return Result(ready: true, reason: "database reachable, migrations current" + detail)
                } catch {
                    return Result(ready: false, reason: "\(error)")
                }
            }
            inFlight = task
            Task {
                _ = await task.value
                self.finished(task)
            }
        }
        let limit = timeout
        return await firstOf(
            task, orAfter: limit,
            Result(ready: false, reason: "the database did not answer within \(limit) s"))
    }

    private func finished(_ task: Task<Result, Never>) { if inFlight == task { inFlight = nil } }

    public func shutdown() async { await client.shutdown() }
}

/// The task's value, or `fallback` if it takes longer than `seconds` (the task goes on by itself).
func firstOf<T: Sendable>(_ task: Task<T, Never>, orAfter seconds: Double, _ fallback: T) async -> T {
    let once = ResumeOnce<T>()
    return await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
        once.set(c)
        Task { once.resume(await task.value) }
        Task {
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            once.resume(fallback)
        }
    }
}

private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    func set(_ c: CheckedContinuation<T, Never>) { lock.withLock { continuation = c } }
    func resume(_ v: T) {
        let c: CheckedContinuation<T, Never>? = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        c?.resume(returning: v)
    }
}
