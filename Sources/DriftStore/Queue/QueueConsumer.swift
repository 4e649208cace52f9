import DriftCommon
import Foundation
import NIOConcurrencyHelpers

/// Runs tasks from the queue: N workers fetch due tasks (one statement, SKIP LOCKED), run the
/// handler while heartbeats extend the lease, and record the outcome only while they still own it.
/// Idle workers wake on NOTIFY at once, or after a jittered poll. A rescuer returns tasks whose
/// worker died. Connection errors are retried with backoff; the loop survives server restarts.
public final class QueueConsumer: Sendable {
    public typealias Handler = @Sendable (QueueTask) async throws -> Void

    public struct Options: Sendable {
        public var concurrency = 2
        /// Lease length in seconds: a worker that stops heartbeating loses its task after this long.
        public var lease: Double = 30
        /// Seconds between heartbeats (nil: a third of the lease). Must be well under the lease.
        public var heartbeatInterval: Double? = nil
        /// Longest idle wait between polls when no NOTIFY arrives (jittered ±20%).
        public var pollInterval: Double = 5
        public var kinds: [String]? = nil
        /// Seconds between rescues of tasks whose lease expired (jittered ±20%).
        public var rescueInterval: Double = 10
        /// Finalised tasks older than this many seconds are deleted (checked every 60 rescues).
        public var pruneRetention: Double = 7 * 86_400
        public var batch = 1
        public init() {}
    }

    public let queue: TaskQueue
    public let owner: String
    public let options: Options
    private let handler: Handler
    private let wake = WakeSignal()
    private let stats = NIOLockedValueBox(Counters())

    public init(queue: TaskQueue, owner: String = QueueConsumer.defaultOwner(), options: Options = Options(), handler: @escaping Handler) {
        self.queue = queue
        self.owner = owner
        self.options = options
        self.handler = handler
    }

    /// host:pid:random — unique per process.
    public static func defaultOwner() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Counters for tests and metrics.
    public struct Counters: Sendable, Equatable {
        public var completed = 0
        public var failed = 0
        public var discarded = 0
        public var released = 0
        public var abandoned = 0
        public var notifyWakeups = 0
        public var connectionErrors = 0
        /// Times a worker found nothing due and went idle.
        public var idleWaits = 0
        /// Whether the NOTIFY listener is connected and listening.
        public var listening = false
    }

    /// True once the listener is listening and every worker has gone idle at least once: from then
    /// on, only a NOTIFY (or the poll) wakes the consumer.
    public var isIdleAndListening: Bool {
        let c = counters
        return c.listening && c.idleWaits >= max(1, options.concurrency)
    }

    public var counters: Counters { stats.withLockedValue { $0 } }

    /// Consumes until the surrounding task is cancelled; then stops fetching, and each in-flight
    /// task is finished or released.
    public func run() async {
        let listener = NotificationListener(
            client: queue.client, channel: queue.channel,
            onListening: { [stats] up in
                stats.withLockedValue { $0.listening = up }
            }
        ) { [wake, stats] in
            stats.withLockedValue { $0.notifyWakeups += 1 }
            wake.signal()
        }
        listener.start()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<max(1, options.concurrency) {
                group.addTask { await self.workerLoop(index: i, untilIdle: false) }
            }
            group.addTask { await self.rescuerLoop() }
        }
        await listener.stop()
    }

    /// For `run-once`: processes due tasks until none is left, then returns the counters. Expired leases are
    /// rescued at the start and every `rescueInterval` while the workers drain (a task whose worker died
    /// meanwhile is picked up by this run, not left to the next).
    public func runUntilIdle() async -> Counters {
        _ = try? await queue.rescueExpired()
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask { await self.rescuerLoop() }
            await withTaskGroup(of: Void.self) { group in
                for i in 0..<max(1, options.concurrency) {
                    group.addTask { await self.workerLoop(index: i, untilIdle: true) }
                }
            }
            outer.cancelAll()
        }
        return counters
    }

    private func workerLoop(index: Int, untilIdle: Bool) async {
        let me = "\(owner)/\(index)"
        var failures = 0
        while !Task.isCancelled {
            let tasks: [QueueTask]
            do {
                tasks = try await queue.fetch(owner: me, limit: options.batch, lease: options.lease, kinds: options.kinds)
                failures = 0
            } catch {
                stats.withLockedValue { $0.connectionErrors += 1 }
                failures += 1
                if untilIdle && failures > 8 { return }
                try? await Task.sleep(for: .seconds(Backoff.fullJitter(attempt: failures, base: 0.1, cap: 5, random: Double.random(in: 0.5..<1))))
                continue
            }
            if tasks.isEmpty {
                if untilIdle { return }
                stats.withLockedValue { $0.idleWaits += 1 }
                _ = await wake.wait(timeout: options.pollInterval * Double.random(in: 0.8...1.2))
                continue
            }
            for t in tasks { await process(t, owner: me) }
        }
    }

    private func rescuerLoop() async {
        var rounds = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(options.rescueInterval * Double.random(in: 0.8...1.2)))
            if Task.isCancelled { return }
            if let n = try? await queue.rescueExpired(), n > 0 { wake.signal() }
            rounds += 1
            if rounds % 60 == 1 { _ = try? await queue.prune(retention: options.pruneRetention) }
        }
    }

    private func process(_ task: QueueTask, owner: String) async {
        let start = Date().timeIntervalSinceReferenceDate
        // The lease is tracked on the local clock from the moment of the fetch (conservative).
        var lease = TaskLease(now: start, expiresAt: start + options.lease, heartbeatInterval: options.heartbeatInterval ?? options.lease / 3)
        let leaseBox = NIOLockedValueBox(lease)
        let result: TaskLease.WorkResult = await withTaskGroup(of: TaskLease.WorkResult?.self) { group in
            group.addTask {
                do {
                    try await self.handler(task)
                    return .succeeded
                } catch is CancellationError {
                    return .cancelled
                } catch let e as PermanentTaskFailure {
                    return .failedPermanently(e.description)
                } catch {
                    return .failed(String(describing: error))
                }
            }
            group.addTask {
                // Heartbeats; ends when the work ends (cancelled) or the lease is lost.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(min(1, self.options.lease / 6, (self.options.heartbeatInterval ?? self.options.lease) / 2)))
                    if Task.isCancelled { return nil }
                    let action = leaseBox.withLockedValue { $0.tick(now: Date().timeIntervalSinceReferenceDate) }
                    switch action {
                    case .sendHeartbeat:
                        do {
                            let ok = try await self.queue.heartbeat(task, owner: owner, lease: self.options.lease) != nil
                            let next: Double? = ok ? Date().timeIntervalSinceReferenceDate + self.options.lease : nil
                            if leaseBox.withLockedValue({ $0.heartbeatAnswered(newExpiry: next) }) == .cancelWork { return .cancelled }
                        } catch {
                            // Transient: keep working; if the lease runs out meanwhile, tick() stops the work.
                        }
                    case .cancelWork:
                        return .cancelled
                    default: break
                    }
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            var outcome = first
            for await r in group where outcome == nil { outcome = r }
            return outcome ?? .cancelled
        }
        lease = leaseBox.withLockedValue { $0 }
        let action = lease.workEnded(result)
        await record(action, task: task, owner: owner)
    }

    private func record(_ action: TaskLease.Action, task: QueueTask, owner: String) async {
        for attempt in 1...5 {
            do {
                switch action {
                case .complete:
                    if try await queue.complete(task, owner: owner) {
                        stats.withLockedValue { $0.completed += 1 }
                    } else {
                        stats.withLockedValue { $0.abandoned += 1 }
                    }
                case .fail(let message), .discard(let message):
                    let discard: Bool = if case .discard = action { true } else { false }
                    switch try await queue.fail(task, owner: owner, error: message, discard: discard) {
                    case .discarded: stats.withLockedValue { $0.discarded += 1 }
                    case .willRetry: stats.withLockedValue { $0.failed += 1 }
                    case .notOwner: stats.withLockedValue { $0.abandoned += 1 }
                    }
                case .release:
                    _ = try await queue.release(task, owner: owner)
                    stats.withLockedValue { $0.released += 1 }
                case .abandon:
                    stats.withLockedValue { $0.abandoned += 1 }
                default: break
                }
                return
            } catch {
                // The outcome could not be written (server gone): retry; if it never lands, the
                // lease expires and the rescuer hands the task to another worker (at-least-once).
                stats.withLockedValue { $0.connectionErrors += 1 }
                try? await Task.sleep(for: .seconds(Backoff.fullJitter(attempt: attempt, base: 0.2, cap: 3, random: Double.random(in: 0.5..<1))))
            }
        }
    }
}
