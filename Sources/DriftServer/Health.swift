import DriftCore
import DriftStore
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Liveness: the process's loops report heartbeats; the process is alive while every registered loop
/// has beaten within its allowance. (The HTTP server answering at all proves its own event loop.)
public final class Liveness: Sendable {
    private struct Loop {
        var allowance: Double
        var last: Date
    }

    private let loops = NIOLockedValueBox<[String: Loop]>([:])

    public init() {}

    /// Registers a loop that must beat at least every `allowance` seconds (counted from now).
    public func register(_ name: String, allowance: Double, now: Date = Date()) {
        loops.withLockedValue { $0[name] = Loop(allowance: allowance, last: now) }
    }

    /// Records a beat of a registered loop; beats of loops never registered change nothing.
    public func beat(_ name: String, now: Date = Date()) {
        loops.withLockedValue { $0[name]?.last = now }
    }

    /// The loops that missed their allowance, sorted (empty: alive). Exactly at the allowance is still alive.
    public func stale(now: Date = Date()) -> [String] {
        loops.withLockedValue { $0.filter { now.timeIntervalSince($0.value.last) > $0.value.allowance }.map(\.key).sorted() }
    }
}

/// Readiness: the database answers and this build's migrations are applied. Checks are single-flight
/// (callers while one runs share its answer) on a pool of their own, so probes never wait behind the
/// workers' connections, and a check that does not answer within `timeout` counts as not ready. A caller
/// that times out stops waiting; the shared check goes on for the other callers and the next probe. Turning
/// unready is logged as a warning (again once a minute while it lasts), turning ready again as info.
public actor ReadinessProbe {
    public struct Result: Sendable, Equatable {
        public var ready: Bool
        public var reason: String
    }

    private let client: PostgresClient
    private let schema: String
    private let timeout: Double
    private var inFlight: SharedResult<Result>?
    private let logger: Logger
    /// When "not ready" was last logged (nil: ready, or not yet checked).
    private var warnedAt: ContinuousClock.Instant?
    /// Database checks started so far (concurrent callers share one), for tests.
    private(set) var checksStarted = 0

    /// `timeout`: seconds a caller waits for the database's answer (finite, above 0).
    public init(settings: ConnectionSettings, timeout: Double = 2, logger: Logger = Logger(label: "drift-worker")) {
        var s = settings
        s.poolSize = 1
        self.client = PostgresClient(settings: s)
        self.schema = settings.schema
        self.timeout = timeout.isFinite && timeout > 0 ? timeout : 2
        self.logger = logger
    }

    /// The database's answer, or not ready naming the timeout when it takes longer than `timeout` seconds
    /// (or this caller is cancelled).
    public func check() async -> Result {
        let shared = startIfIdle()
        let limit = timeout
        let fallback = Result(ready: false, reason: "the database did not answer within \(limit) s")
        let result = await withTaskGroup(of: Result?.self) { group in
            group.addTask { await shared.value() }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(limit * 1000)))
                return nil
            }
            // the first child to finish decides: the answer, or nil for the timeout (or cancellation)
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? fallback
        }
        note(result)
        return result
    }

    private func note(_ result: Result) {
        let now = ContinuousClock.now
        if result.ready {
            if warnedAt != nil { logger.info("ready again", metadata: ["reason": "\(result.reason.prefix { $0 != "\n" })"]) }
            warnedAt = nil
        } else if warnedAt.map({ now - $0 >= .seconds(60) }) ?? true {
            warnedAt = now
            logger.warning("not ready", metadata: ["reason": "\(result.reason)"])
        }
    }

    /// The running check, or a new one. It runs in a task of its own because it outlives the caller that
    /// started it (a caller's timeout must not cancel the answer the others wait for).
    private func startIfIdle() -> SharedResult<Result> {
        if let running = inFlight { return running }
        let shared = SharedResult<Result>()
        inFlight = shared
        checksStarted += 1
        let client = self.client
        let schema = self.schema
        Task {
            shared.fulfil(await Self.perform(client: client, schema: schema))
            self.finished(shared)
        }
        return shared
    }

    private func finished(_ shared: SharedResult<Result>) { if inFlight === shared { inFlight = nil } }

    private static func perform(client: PostgresClient, schema: String) async -> Result {
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

    /// Closes the probe's pool; safe to call more than once.
    public func shutdown() async { await client.shutdown() }
}

/// A value produced once and awaited by any number of callers, each of which can stop waiting (cancellation)
/// without affecting the others or the producer.
final class SharedResult<Value: Sendable>: Sendable {
    private struct Waiting {
        var next: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Value?, Never>] = [:]
    }

    private enum State {
        case waiting(Waiting)
        case done(Value)
    }

    private let state = NIOLockedValueBox(State.waiting(Waiting()))

    init() {}

    /// Sets the value (the first call wins) and resumes every waiter.
    func fulfil(_ value: Value) {
        let waiters: [CheckedContinuation<Value?, Never>] = state.withLockedValue { s in
            guard case .waiting(let w) = s else { return [] }
            s = .done(value)
            return Array(w.waiters.values)
        }
        for c in waiters { c.resume(returning: value) }
    }

    /// The value once it is set; nil when the calling task is cancelled first.
    func value() async -> Value? {
        let id: UInt64? = state.withLockedValue { s in
            guard case .waiting(var w) = s else { return nil }
            defer { s = .waiting(w) }
            w.next += 1
            return w.next
        }
        guard let id else { return state.withLockedValue { if case .done(let v) = $0 { v } else { nil } } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Value?, Never>) in
                // registered under the lock; a cancellation that came first is seen here (the flag is set before onCancel runs)
                let now: Value?? = state.withLockedValue { s in
                    switch s {
                    case .done(let v): return .some(v)
                    case .waiting(var w):
                        if Task.isCancelled { return .some(nil) }
                        w.waiters[id] = c
                        s = .waiting(w)
                        return nil
                    }
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            let c: CheckedContinuation<Value?, Never>? = state.withLockedValue { s in
                guard case .waiting(var w) = s else { return nil }
                defer { s = .waiting(w) }
                return w.waiters.removeValue(forKey: id)
            }
            c?.resume(returning: nil)
        }
    }
}
