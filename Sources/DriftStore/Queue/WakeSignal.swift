import NIOConcurrencyHelpers

/// A wake-up that one side signals and any number of workers await with a timeout. A signal wakes
/// every waiting worker; one sent while nobody waits is remembered once, so a NOTIFY arriving
/// between two waits is not lost.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    func signal() {
        let woken: [CheckedContinuation<Bool, Never>] = state.withLockedValue { s in
            if s.waiters.isEmpty {
                s.pending = true
                return []
            }
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in woken { w.resume(returning: true) }
    }

    /// True when woken by `signal`, false on timeout or cancellation. The timeout is a sleeping child task racing the
    /// signal: whichever ends first cancels the other.
    func wait(timeout: Double) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask {
                try? await Task.sleep(for: .seconds(max(0, timeout)))
                return false
            }
            var woken = await group.next() ?? false
            group.cancelAll()
            for await r in group { woken = woken || r }
            return woken
        }
    }

    /// Suspends until `signal` (true) or cancellation (false). Each continuation leaves `waiters` under the lock before
    /// it is resumed, so exactly one of signal, cancellation and the immediate paths resumes it.
    private func waitForSignal() async -> Bool {
        let id: UInt64 = state.withLockedValue { s in
            s.nextID &+= 1
            return s.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLockedValue { s in
                    if s.pending {
                        s.pending = false
                        return true
                    }
                    // the cancelled flag is set before onCancel runs, so a cancellation that raced ahead is seen here
                    if Task.isCancelled { return false }
                    s.waiters[id] = c
                    return nil
                }
                if let immediate { c.resume(returning: immediate) }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume(returning: false)
        }
    }
}
