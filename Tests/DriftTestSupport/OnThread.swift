import Foundation

/// Runs blocking work (libcurl, waiting on a process) on a thread of its own, so that it never occupies one of
/// the few cooperative threads the in-process test servers need.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        let t = Thread { c.resume(with: Result { try body() }) }
        t.start()
    }
}
