import DriftCore
import DriftStore
import Foundation
import Logging
import ServiceLifecycle

// The background work of `serve` and `ingest-server` as Services in one ServiceGroup with the HTTP server. The group
// shuts services down in reverse order of its list, so the composition reads: PostgresClientService first (closed
// last), then the workers (scheduler, dispatcher, consumer), then the capture buffer, then HTTP (stops first).

/// Enqueues due windows on a tick (jittered ±10 %), as long as the service runs; beats `loopName` in `liveness` each
/// tick and every `beatInterval` seconds while a tick waits on the database: liveness is about this process's own
/// loop, not the database's health (a hung database makes `/readyz` unready and is logged as a warning here after
/// `slowTick` seconds and then once a minute, but never gets the pod restarted).
public struct SchedulerService: Service {
    public static let loopName = "scheduler"
    let tasks: DriftTasks
    let interval: Double
    let liveness: Liveness
    let logger: Logger
    let beatInterval: Double
    let slowTick: Double

    /// `interval`: seconds between ticks.
    public init(tasks: DriftTasks, interval: Double, liveness: Liveness, logger: Logger, beatInterval: Double = 5, slowTick: Double = 10) {
        self.tasks = tasks
        self.interval = interval
        self.liveness = liveness
        self.logger = logger
        self.beatInterval = beatInterval
        self.slowTick = slowTick
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                liveness.beat(Self.loopName)
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await tick() }
                    group.addTask { await beatWhileWaiting() }
                    await group.next()  // the tick ended (the beating child never ends by itself)
                    group.cancelAll()
                }
                try? await Task.sleep(for: .seconds(interval * Double.random(in: 0.9...1.1)))
            }
        }
    }

    private func tick() async {
        do {
            let backlog = try await tasks.schedule()
            let n = backlog.reduce(0) { $0 + $1.enqueued }
            if n > 0 { logger.info("enqueued due windows", metadata: ["windows": .stringConvertible(n)]) }
            for b in backlog where b.unchecked > 0 {
                guard let retryAt = b.pausedUntil else { continue }
                // once per tick at most, and only while windows wait: the failure itself was logged when it happened
                logger.debug(
                    "monitor paused after failing checks",
                    metadata: [
                        "monitor": "\(b.monitor)", "backlog.windows": .stringConvertible(b.unchecked), "retry_at": "\(PGTimeText.iso(retryAt))"
                    ])
            }
        } catch {
            logger.warning("scheduler tick failed", metadata: ["error": "\(error)"])
        }
    }

    /// Beats while the tick runs; warns when it has waited `slowTick` seconds, then once a minute.
    private func beatWhileWaiting() async {
        let started = ContinuousClock.now
        var nextWarning = Double(slowTick)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(beatInterval * 1000)))
            if Task.isCancelled { return }
            liveness.beat(Self.loopName)
            let waited = (ContinuousClock.now - started) / .seconds(1)
            if waited >= nextWarning {
                logger.warning(
                    "scheduler tick waiting on the database",
                    metadata: ["waited_seconds": .stringConvertible(Int(waited))])
                nextWarning = waited + 60
            }
        }
    }
}

/// Delivers the outbox every `interval` seconds (jittered ±20 %) as long as the service runs; an action in flight
/// finishes or stays claimed until its claim expires, when another dispatcher resends it with the same id.
public struct DispatcherService: Service {
    let dispatcher: TriggerDispatcher
    let interval: Double
    let logger: Logger

    public init(dispatcher: TriggerDispatcher, interval: Double, logger: Logger) {
        self.dispatcher = dispatcher
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { _ = try await dispatcher.dispatchDue() } catch {
                    logger.warning("dispatcher pass failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(Int64(interval * 1000 * Double.random(in: 0.8...1.2))))
            }
        }
    }
}

/// The queue workers. On graceful shutdown they stop fetching; a check in flight finishes (its
/// transaction commits or rolls back) and its task is completed, released or left to the rescuer.
public struct ConsumerService: Service {
    let consumer: QueueConsumer

    public init(consumer: QueueConsumer) { self.consumer = consumer }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await consumer.run() }
    }
}

/// Owns the database pools of a ServiceGroup: on graceful shutdown it closes `client` and the readiness probe's pool.
/// Put it FIRST in the group's services: the group stops services in reverse order, so the pools close only after
/// every service that uses them has returned. When the group is cancelled instead (the grace period ran out, or a
/// service failed with `.cancelGroup`), every service is cancelled at once while the consumer releases its tasks and
/// the capture buffer commits what it acknowledged: then this closes nothing, and the caller closes the pools after
/// the group's `run()` returned (`withPostgresClient` in the CLI).
public struct PostgresClientService: Service {
    let client: PostgresClient
    let readiness: ReadinessProbe?

    public init(client: PostgresClient, readiness: ReadinessProbe? = nil) {
        self.client = client
        self.readiness = readiness
    }

    public func run() async throws {
        do { try await gracefulShutdown() } catch { return }  // cancelled: the others may still be draining
        await readiness?.shutdown()
        await client.shutdown()
    }
}
