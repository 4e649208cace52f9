import NIOPosix

/// Threads for work that blocks — a libcurl exchange, a token exchange, waiting for a child process — so that none
/// of it occupies one of the few Swift concurrency threads (an `NIOThreadPool`).
///
/// `shared` (4 threads, started on first use, living as long as the process) runs every `HTTPClient.send` and the
/// dispatcher's and run follower's attempts: enough for the dispatcher's concurrent deliveries plus a run-status
/// check; more jobs queue in order. A job must not wait for another job on the same pool (with every thread
/// waiting, none would run). Work that blocks for long and is not HTTP (a child process) is better given a pool
/// of its own, so it cannot hold deliveries up.
public final class BlockingPool: Sendable {
    /// The process-wide pool.
    public static let shared = BlockingPool(threads: 4)

    /// How many jobs run at once.
    public let threadCount: Int
    private let pool: NIOThreadPool

    /// A pool of `threads` threads (at least 1), started now and shut down when released.
    public init(threads: Int) {
        threadCount = max(1, threads)
        pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
    }

    deinit { pool.shutdownGracefully { _ in } }

    /// Runs `body` on a pool thread and returns its result (or throws its error).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}

/// Runs blocking work on `BlockingPool.shared`.
public func onBlockingPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await BlockingPool.shared.run(body)
}
