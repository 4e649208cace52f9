import DriftStore
import Foundation
import Logging
import ServiceLifecycle

/// Group commit for captured events: requests add their events and wait; one binary COPY transaction writes
/// everything waiting, and only then does each request get its answer — an acknowledged event is committed.
/// A commit starts as soon as events wait and no commit is running; while one runs, new events gather for the
/// next (up to `batchSize` per transaction). So a lone event waits one commit (a few ms), and under load each
/// transaction carries many requests: an event waits at most the commit in flight plus its own. The buffer is
/// bounded: beyond `capacity` waiting
/// events `submit` refuses at once (HTTP 503 with Retry-After), never dropping silently.
///
/// As a Service it flushes until graceful shutdown, then writes what is still waiting and stops.
public actor CaptureBuffer: Service {
    public struct Options: Sendable {
        public var batchSize = 5_000
        public var capacity = 100_000
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
    private var waitingEvents = 0
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
            while !self.stopped {
                await self.waitForWork()
                await self.flush()
            }
        } onGracefulShutdown: {
            Task { await self.stop() }
        }
        await flush()  // what arrived before the HTTP server stopped accepting
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

    private func flush() async {
        guard !waiting.isEmpty else { return }
        // up to batchSize events per transaction (whole requests; at least one)
        var take = 0
        var n = 0
        while take < waiting.count && (take == 0 || n + waiting[take].events.count <= options.batchSize) {
            n += waiting[take].events.count
            take += 1
        }
        let batch = Array(waiting.prefix(take))
        waiting.removeFirst(take)
        waitingEvents -= batch.reduce(0) { $0 + $1.events.count }
        await write(batch)
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
