import Foundation

/// A wake-up that one side signals and any number of workers await with a timeout. A signal wakes
/// every waiting worker; one sent while nobody waits is remembered once, so a NOTIFY arriving
/// between two waits is not lost.
final class WakeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = false
    private var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    private var nextID: UInt64 = 0

    func signal() {
        let woken: [CheckedContinuation<Bool, Never>] = lock.withLock {
            if waiters.isEmpty {
                pending = true
                return []
            }
            let all = Array(waiters.values)
            waiters.removeAll()
            return all
        }
        for w in woken { w.resume(returning: true) }
    }

    /// True when woken by `signal`, false on timeout or cancellation.
    func wait(timeout: Double) async -> Bool {
        let id: UInt64 = lock.withLock {
            nextID += 1
            return nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = lock.withLock {
                    if pending {
                        pending = false
                        return true
                    }
                    if Task.isCancelled { return false }
                    waiters[id] = c
                    return nil
                }
                if let immediate {
                    c.resume(returning: immediate)
                    return
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak self] in self?.expire(id) }
            }
        } onCancel: {
            expire(id)
        }
    }

    private func expire(_ id: UInt64) {
        let w = lock.withLock { waiters.removeValue(forKey: id) }
        w?.resume(returning: false)
    }
}

/// Listens on a channel on its own connection and thread; reconnects with backoff when the
/// connection breaks and then reports a wake-up, since notifications may have been missed.
final class NotificationListener: @unchecked Sendable {
    private let client: PostgresClient
    private let channel: String
    private let onWake: @Sendable () -> Void
    private let onListening: @Sendable (Bool) -> Void
    private let lock = NSLock()
    private var stopped = false
    private var finished = false
    private var started = false
    private var onFinish: [CheckedContinuation<Void, Never>] = []

    init(
        client: PostgresClient, channel: String, onListening: @escaping @Sendable (Bool) -> Void = { _ in },
        onWake: @escaping @Sendable () -> Void
    ) {
        self.client = client
        self.channel = channel
        self.onListening = onListening
        self.onWake = onWake
    }

    func start() {
        lock.withLock { started = true }
        let t = Thread { [self] in
            loop()
            let waiting: [CheckedContinuation<Void, Never>] = lock.withLock {
                finished = true
                defer { onFinish.removeAll() }
                return onFinish
            }
            for w in waiting { w.resume() }
        }
        t.name = "drift-listen"
        t.start()
    }

    /// Stops listening and waits (without blocking a thread) until the listener's thread has ended.
    func stop() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done: Bool = lock.withLock {
                stopped = true
                if finished || !started { return true }
                onFinish.append(c)
                return false
            }
            if done { c.resume() }
        }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func loop() {
        var failures = 0
        while !isStopped {
            do {
                let conn = try client.dedicatedConnection()
                try conn.listen(channel)
                onListening(true)
                if failures > 0 { onWake() }
                failures = 0
                while !isStopped {
                    if !(try conn.waitForNotifications(timeout: 0.25)).isEmpty { onWake() }
                }
            } catch {
                onListening(false)
                failures += 1
                let delay = Backoff.fullJitter(attempt: failures, base: 0.1, cap: 5, random: Double.random(in: 0.5..<1))
                var waited = 0.0
                while waited < delay && !isStopped {
                    Thread.sleep(forTimeInterval: 0.05)
                    waited += 0.05
                }
            }
        }
    }
}
