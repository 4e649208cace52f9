import Foundation

/// A fixed set of dedicated threads for blocking work (libpq calls), so that it never runs on
/// Swift's cooperative thread pool. `run` suspends the caller until its closure has run.
public final class BlockingThreadPool: Sendable {
    /// The queue the threads share; they keep it alive, so the pool can go away while they drain.
    private final class Jobs: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [() -> Void] = []
        var stopping = false

        func loop() {
            while true {
                condition.lock()
                while jobs.isEmpty && !stopping { condition.wait() }
                if jobs.isEmpty && stopping {
                    condition.unlock()
                    return
                }
                let job = jobs.removeFirst()
                condition.unlock()
                job()
            }
        }

        func submit(_ job: @escaping () -> Void) {
            condition.lock()
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }

        func stop() {
            condition.lock()
            stopping = true
            condition.broadcast()
            condition.unlock()
        }
    }

    private let queue = Jobs()

    public init(threads count: Int, name: String) {
        for i in 0..<max(1, count) {
            let t = Thread { [queue] in queue.loop() }
            t.name = "\(name)-\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit { queue.stop() }

    /// Runs `body` on one of the pool's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, Error>) in
            queue.submit {
                do { cont.resume(returning: try body()) } catch { cont.resume(throwing: error) }
            }
        }
    }

    /// Lets the threads finish queued work and exit.
    public func shutdown() { queue.stop() }
}
