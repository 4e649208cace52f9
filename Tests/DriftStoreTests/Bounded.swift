import Synchronization

/// The result of `operation`, or nil when it has not finished within `seconds` (it is then left running). A guard
/// so that a hang fails the test instead of stalling the suite; never a timing assertion. Bounds are generous (minutes): in
/// a parallel run on 2 cores, CPU-bound tests can hold both cooperative threads for a minute and more.
func within<T: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
    let first = FirstResult<Result<T, any Error>?>()
    let outcome = await withCheckedContinuation { continuation in
        first.await(continuation)
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            first.resume(with: result)
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            first.resume(with: nil)
        }
    }
    return try outcome?.get()
}

/// A continuation that the first of several racers resumes; the others find it gone.
private final class FirstResult<Value: Sendable>: Sendable {
    private let waiter = Mutex<CheckedContinuation<Value, Never>?>(nil)

    func await(_ continuation: CheckedContinuation<Value, Never>) { waiter.withLock { $0 = continuation } }

    func resume(with value: Value) {
        let continuation = waiter.withLock { w in
            defer { w = nil }
            return w
        }
        continuation?.resume(returning: value)
    }
}
