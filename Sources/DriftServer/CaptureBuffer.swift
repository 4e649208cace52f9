import DriftStore
import Foundation
import Logging
import ServiceLifecycle

/// Group commit for captured events: requests add their events and wait; one binary COPY transaction writes
/// everything waiting, and only then does each request get its answer — an acknowledged event is committed.
/// A commit starts as soon as events wait and fewer than `commitsInFlight` commits are running (each on its own
/// pooled connection, so PostgreSQL loads one batch while the next is decoded, encoded and sent); while all run,
/// new events gather for the next (up to `batchSize` per transaction). So a lone event waits one commit (a few
/// ms), and under load each transaction carries many requests: an event waits at most the commits in flight plus
/// its own. The buffer is bounded: beyond `capacity` waiting
/// events `submit` refuses at once (HTTP 503 with Retry-After), never dropping silently.
///
/// As a Service it flushes until graceful shutdown, then writes what is still waiting and stops.
public actor CaptureBuffer: Service {
    public struct Options: Sendable {
        public var batchSize = 5_000
        public var capacity = 100_000
        /// Transactions committing at once (at least 1); the client's pool needs as many connections.
        public var commitsInFlight = 2
        public init() {}
    }

    /// One request with more events than the whole buffer holds: it can never be taken, so it is refused (413), not 503.
    public struct TooLarge: Error, CustomStringConvertible {
        public var events: Int
        public var capacity: Int
        public var description: String {
            "holds \(events) events, more than the capture buffer's \(capacity) (--buffer-capacity); send smaller requests"
        }
    }

    public struct Full: Error, CustomStringConvertible {
        public var waiting: Int
        public var description: String { "the capture buffer is full (\(waiting) events waiting to be written); retry shortly" }
    }

    private struct Waiter {
        var events: [CaptureEvent]
        var continuation: CheckedContinuation<Void, Error>
    }

    private let writer: CaptureWriter
    private let options: Options
    private let logger: Logger
    private var waiting: [Waiter] = []
    /// Events submitted and not yet taken into a commit.
    public private(set) var waitingEvents = 0
    private var kick: CheckedContinuation<Void, Never>?
    private var stopped = false
    public private(set) var committedEvents = 0
    public private(set) var commits = 0

    public init(client: PostgresClient, options: Options = .init(), logger: Logger = Logger(label: "drift-worker")) {
        self.writer = CaptureWriter(client: client)
        self.options = options
        self.logger = logger
    }

    /// Returns once `events` are committed; throws `Full` when the buffer cannot take them, or the database's error.
    public func submit(_ events: [CaptureEvent]) async throws {
        guard !events.isEmpty else { return }
        if events.count > options.capacity { throw TooLarge(events: events.count, capacity: options.capacity) }
        if stopped { throw Full(waiting: waitingEvents) }
        if waitingEvents + events.count > options.capacity { throw Full(waiting: waitingEvents) }
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            waiting.append(Waiter(events: events, continuation: c))
            waitingEvents += events.count
            if let k = kick {
                kick = nil
                k.resume()
            }
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                while true {
                    if running >= max(1, self.options.commitsInFlight) {
                        await group.next()
                        running -= 1
                        continue
                    }
                    await self.waitForWork()
                    guard let batch = self.takeBatch() else {
                        if self.stopped { break }
                        continue
                    }
                    running += 1
                    group.addTask { await self.write(batch) }
                }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            Task { await self.stop() }
        }
        // what arrived before the HTTP server stopped accepting
        while let batch = takeBatch() { await write(batch) }
    }

    private func stop() {
        stopped = true
        if let k = kick {
            kick = nil
            k.resume()
        }
    }

    /// Returns when events wait (at once if they already do) or the service stops.
    private func waitForWork() async {
        if !waiting.isEmpty || stopped { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in kick = c }
    }

    /// Takes the oldest waiting requests for one transaction: up to `batchSize` events (whole requests; at least one).
    private func takeBatch() -> [Waiter]? {
        guard !waiting.isEmpty else { return nil }
        var take = 0
        var n = 0
        while take < waiting.count && (take == 0 || n + waiting[take].events.count <= options.batchSize) {
            n += waiting[take].events.count
            take += 1
        }
        let batch = Array(waiting.prefix(take))
        waiting.removeFirst(take)
        waitingEvents -= n
        return batch
    }

    /// Commits the requests of `batch` in one transaction. When the server refuses it for its data (an event
    /// the checks before the buffer let through), the requests are retried in halves, so only the request that
    /// holds the culprit is refused and its neighbours are committed. Connection errors fail the whole batch
    /// (every request gets 503 and is retried by its client).
    private func write(_ batch: [Waiter]) async {
        let events = batch.flatMap(\.events)
        do {
            _ = try await writer.write(events)
            committedEvents += events.count
            commits += 1
            for w in batch { w.continuation.resume() }
        } catch let e as PostgresError where batch.count > 1 && !e.isTransient && e.kind == .server {
            logger.warning(
                "capture batch refused for its data; retrying its requests in halves",
                metadata: ["events": .stringConvertible(events.count), "requests": .stringConvertible(batch.count), "error": "\(e)"])
            let half = batch.count / 2
            await write(Array(batch[..<half]))
            await write(Array(batch[half...]))
        } catch {
            logger.warning("capture batch not written", metadata: ["events": .stringConvertible(events.count), "error": "\(error)"])
            for w in batch { w.continuation.resume(throwing: error) }
        }
    }
}
