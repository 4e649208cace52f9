import DriftCommon
import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// A small pool of libpq connections whose blocking calls run on an `NIOThreadPool` of `settings.poolSize` threads,
/// never on Swift's cooperative threads.
///
/// Connections are opened lazily up to `settings.poolSize`. A connection found broken after an
/// operation is discarded; the next caller opens a new one, waiting a jittered exponential backoff
/// while connecting keeps failing, so a server restart costs the operations in flight (they throw
/// `PostgresError` with `kind == .connectionLost`) and the process goes on.
///
/// `shutdown()` ends the client: it may be called more than once, and every call after it (including callers still
/// waiting for a connection) throws `PostgresError` with `kind == .clientShutDown`.
public final class PostgresClient: Sendable {
    public let settings: ConnectionSettings
    private let threads: NIOThreadPool
    private let slots: ConnectionSlots
    private let health = ConnectHealth()
    private let isShutDown = NIOLockedValueBox(false)

    public init(settings: ConnectionSettings) {
        self.settings = settings
        self.threads = NIOThreadPool(numberOfThreads: max(1, settings.poolSize))
        self.slots = ConnectionSlots(capacity: max(1, settings.poolSize))
        threads.start()
    }

    // A client dropped without `shutdown()` still lets its threads end; this starts their shutdown and does not wait.
    deinit { threads.shutdownGracefully { _ in } }

    /// Runs `body` with a pooled connection on a pool thread.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let lease = try await slots.acquire()
        let settings = self.settings
        let health = self.health
        do {
            let (value, conn): (T, PGConnection) = try await onPoolThread {
                let conn = try lease.connection ?? health.connect(settings)
                do {
                    return (try body(conn), conn)
                } catch {
                    if !conn.isHealthy { throw BrokenConnection(underlying: error) }
                    throw ErrorWithConnection(underlying: error, connection: conn)
                }
            }
            await slots.release(conn)
            return value
        } catch let e as ErrorWithConnection {
            await slots.release(e.connection)
            throw e.underlying
        } catch let e as BrokenConnection {
            await slots.release(nil)
            throw e.underlying
        } catch {
            await slots.release(lease.connection)
            throw error
        }
    }

    /// Runs `body` in a transaction on a pooled connection: committed when it returns, rolled back when it throws.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await withConnection { conn in try conn.transaction(body) }
    }

    /// Opens a connection outside the pool (for a long COPY), with the same backoff. Blocks the calling thread while it
    /// waits and connects: call it off Swift's cooperative threads.
    public func dedicatedConnection() throws -> PGConnection {
        if isShutDown.withLockedValue({ $0 }) { throw PostgresError.clientShutDown }
        return try health.connect(settings)
    }

    /// Closes the idle connections, fails the callers waiting for one, lets the calls in flight finish and stops the
    /// threads. Calling it again does nothing.
    public func shutdown() async {
        isShutDown.withLockedValue { $0 = true }
        await slots.closeAll()
        // not joined: a pool thread can be stuck in libpq (a connect or a query on a half-open socket) for longer than
        // any grace period; it ends with its call, or with the process
        threads.shutdownGracefully { _ in }
    }

    /// Runs `body` on a pool thread, or throws `.clientShutDown` once the pool has stopped. Unlike `runIfActive`, the
    /// work runs even when the calling task is cancelled: drain paths (releasing a leased task, the last capture flush)
    /// write to the database while their task is being cancelled.
    private func onPoolThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            threads.submit { state in
                guard case .active = state else { return continuation.resume(throwing: PostgresError.clientShutDown) }
                continuation.resume(with: Result(catching: body))
            }
        }
    }
}

extension PostgresError {
    static let clientShutDown = PostgresError(
        .clientShutDown, "it accepts no further calls after shutdown(); this is a bug in the caller's shutdown order")
}

private struct BrokenConnection: Error { var underlying: any Error }
private struct ErrorWithConnection: Error {
    var underlying: any Error
    var connection: PGConnection
}

/// Consecutive connection failures, for the reconnect backoff.
struct ConnectHealth: Sendable {
    private let failures = NIOLockedValueBox(0)

    /// Waits the backoff the failures so far call for, then connects. Blocks: runs on a pool thread (or the caller's
    /// own thread for `dedicatedConnection()`), never on a cooperative one.
    func connect(_ settings: ConnectionSettings) throws -> PGConnection {
        let failed = failures.withLockedValue { $0 }
        if failed > 0 {
            Thread.sleep(forTimeInterval: Backoff.fullJitter(attempt: failed, base: 0.1, cap: 5, random: Double.random(in: 0..<1)))
        }
        do {
            let c = try PGConnection.connect(settings)
            failures.withLockedValue { $0 = 0 }
            return c
        } catch let e as PostgresError where e.kind == .unreachable || e.kind == .connectionLost {
            failures.withLockedValue { $0 += 1 }
            throw e
        }
    }
}

/// Who holds which connection; callers beyond capacity wait their turn. Once closed, it hands out nothing.
actor ConnectionSlots {
    struct Lease: Sendable { var connection: PGConnection? }

    private let capacity: Int
    private var idle: [PGConnection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<Lease, Error>] = []
    private var closed = false

    init(capacity: Int) { self.capacity = capacity }

    /// An idle connection, or permission to open a new one (`connection == nil`); throws `.clientShutDown` once closed.
    func acquire() async throws -> Lease {
        if closed { throw PostgresError.clientShutDown }
        if let c = idle.popLast() { return Lease(connection: c) }
        if open < capacity {
            open += 1
            return Lease(connection: nil)
        }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    /// Returns a connection (nil: it broke and is gone).
    func release(_ c: PGConnection?) {
        let usable = c?.isHealthy == true && !closed ? c : nil
        if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: Lease(connection: usable))
            return
        }
        if let usable { idle.append(usable) } else { open -= 1 }
    }

    /// Closes the idle connections and fails every waiter; connections in use are closed when they come back.
    func closeAll() {
        closed = true
        open -= idle.count
        idle.removeAll()
        let failed = waiters
        waiters.removeAll()
        for w in failed { w.resume(throwing: PostgresError.clientShutDown) }
    }
}
