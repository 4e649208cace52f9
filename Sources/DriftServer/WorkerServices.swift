import DriftCore
import DriftStore
import Foundation
import Logging
import ServiceLifecycle

// The background work of `serve` and `ingest-server` as Services in one ServiceGroup with the HTTP server. The group
// shuts services down in reverse order of its list, so the composition reads: PostgresClientService first (closed
// last), then the workers (scheduler, dispatcher, consumer), then the capture buffer, then HTTP (stops first).

/// Enqueues due windows on a tick (jittered ±10 %), as long as the service runs; beats `loopName` in `liveness` each tick.
public struct SchedulerService: Service {
    public static let loopName = "scheduler"
    let tasks: DriftTasks
    let interval: Double
    let liveness: Liveness
    let logger: Logger

    /// `interval`: seconds between ticks.
    public init(tasks: DriftTasks, interval: Double, liveness: Liveness, logger: Logger) {
        self.tasks = tasks
        self.interval = interval
        self.liveness = liveness
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                liveness.beat(Self.loopName)
                do {
                    let backlog = try await tasks.schedule()
                    let n = backlog.reduce(0) { $0 + $1.enqueued }
                    if n > 0 { logger.info("enqueued due windows", metadata: ["windows": "\(n)"]) }
                    for b in backlog where b.unchecked > 0 {
                        guard let retryAt = b.pausedUntil else { continue }
                        // once per tick at most, and only while windows wait: the failure itself was logged when it happened
                        logger.debug(
                            "monitor paused after failing checks",
                            metadata: ["monitor": "\(b.monitor)", "backlog.windows": "\(b.unchecked)", "retry_at": "\(PGTimeText.iso(retryAt))"])
                    }
                } catch {
                    logger.warning("scheduler tick failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(interval * Double.random(in: 0.9...1.1)))
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
