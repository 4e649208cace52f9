import Foundation

/// A small pool of libpq connections whose calls run on dedicated threads.
///
/// Connections are opened lazily up to `settings.poolSize`. A connection found broken after an
/// operation is discarded; the next caller opens a new one, waiting a jittered exponential backoff
/// while connecting keeps failing, so a server restart costs the operations in flight (they throw
/// `PostgresError` with `kind == .connectionLost`) and the process goes on.
public final class PostgresClient: Sendable {
    public let settings: ConnectionSettings
    private let threads: BlockingThreadPool
    private let slots: ConnectionSlots
    private let health = ConnectHealth()

    public init(settings: ConnectionSettings) {
        self.settings = settings
        self.threads = BlockingThreadPool(threads: settings.poolSize, name: "drift-pg")
        self.slots = ConnectionSlots(capacity: settings.poolSize)
    }

    deinit { threads.shutdown() }

    /// Runs `body` with a pooled connection on a dedicated thread.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let lease = await slots.acquire()
        let settings = self.settings
        let health = self.health
        do {
            let (value, conn): (T, PGConnection) = try await threads.run {
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
            await slots.release(nil)
            throw error
        }
    }

    /// Runs `body` in a transaction on a pooled connection: committed when it returns, rolled back when it throws.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await withConnection { conn in try conn.transaction(body) }
    }

    /// Opens a connection outside the pool (for LISTEN, or a long COPY), with the same backoff.
    public func dedicatedConnection() throws -> PGConnection { try health.connect(settings) }

    /// Closes idle connections and stops the threads.
    public func shutdown() async {
        await slots.closeAll()
        threads.shutdown()
    }
}

private struct BrokenConnection: Error { var underlying: Error }
private struct ErrorWithConnection: Error, @unchecked Sendable {
    var underlying: Error
    var connection: PGConnection
}

/// Consecutive connection failures, for the reconnect backoff.
final class ConnectHealth: @unchecked Sendable {
    private let lock = NSLock()
    private var failures = 0
    private var generator = SystemRandomNumberGenerator()

    func connect(_ settings: ConnectionSettings) throws -> PGConnection {
        let delay: Double = lock.withLock {
            failures == 0 ? 0 : Backoff.fullJitter(attempt: failures, base: 0.1, cap: 5, random: Double.random(in: 0..<1, using: &generator))
        }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        do {
            let c = try PGConnection.connect(settings)
            lock.withLock { failures = 0 }
            return c
        } catch let e as PostgresError where e.kind == .unreachable || e.kind == .connectionLost {
            lock.withLock { failures += 1 }
            throw e
        }
    }
}

/// Who holds which connection; callers beyond capacity wait their turn.
actor ConnectionSlots {
    struct Lease: @unchecked Sendable { var connection: PGConnection? }

    private let capacity: Int
    private var idle: [PGConnection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<Lease, Never>] = []

    init(capacity: Int) { self.capacity = capacity }

    /// An idle connection, or permission to open a new one (`connection == nil`).
    func acquire() async -> Lease {
        if let c = idle.popLast() { return Lease(connection: c) }
        if open < capacity {
            open += 1
            return Lease(connection: nil)
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Returns a connection (nil: it broke and is gone).
    func release(_ c: PGConnection?) {
        if !waiters.isEmpty {
            let w = waiters.removeFirst()
            w.resume(returning: Lease(connection: c?.isHealthy == true ? c : nil))
            return
        }
        if let c, c.isHealthy { idle.append(c) } else { open -= 1 }
    }

    func closeAll() {
        open -= idle.count
        idle.removeAll()
    }
}
