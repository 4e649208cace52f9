import DriftCommon
import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// Listens on a channel on a connection of its own, on a thread of its own (a one-thread `NIOThreadPool`). It blocks
/// in `poll(2)` on the connection's socket and on a pipe that `stop()` signals: a NOTIFY wakes it at once, and
/// `stop()` interrupts the wait (and a reconnect backoff) at once. When the connection breaks it reconnects after a
/// jittered backoff and then reports a wake-up, since notifications may have been missed meanwhile.
///
/// If no pipe can be created (descriptor limit), `start()` reports `onListening(false)` and does nothing: callers
/// keep their poll as the fallback.
final class NotificationListener: Sendable {
    private enum Phase { case idle, running, stopped }

    private let settings: ConnectionSettings
    private let channel: String
    private let onWake: @Sendable () -> Void
    private let onListening: @Sendable (Bool) -> Void
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let wakeup = Wakeup()
    private let phase = NIOLockedValueBox(Phase.idle)

    init(
        client: PostgresClient, channel: String, onListening: @escaping @Sendable (Bool) -> Void = { _ in },
        onWake: @escaping @Sendable () -> Void
    ) {
        self.settings = client.settings
        self.channel = channel
        self.onListening = onListening
        self.onWake = onWake
    }

    /// Starts the listening thread; calling it again, or after `stop()`, does nothing.
    func start() {
        guard let wakeup else { return onListening(false) }
        // started under the lock: a stop() racing this start either comes first (nothing starts) or finds it running
        phase.withLockedValue { p in
            guard p == .idle else { return }
            p = .running
            thread.start()
            thread.submit { state in
                guard case .active = state else { return }
                self.loop(wakeup)
            }
        }
    }

    /// Stops listening and returns (without blocking a thread) once the listening thread has ended: at once from its
    /// wait or its reconnect backoff; from a connect in progress when that ends (libpq's connect_timeout, 10 s unless
    /// the connection string sets another).
    func stop() async {
        let wasRunning = phase.withLockedValue { p in
            defer { p = .stopped }
            return p == .running
        }
        guard wasRunning else { return }
        wakeup?.signal()
        try? await thread.shutdownGracefully()
    }

    private var isStopped: Bool { phase.withLockedValue { $0 == .stopped } }

    private func loop(_ wakeup: Wakeup) {
        var failures = 0
        while !isStopped {
            do {
                let conn = try PGConnection.connect(settings)
                try conn.listen(channel)
                onListening(true)
                if failures > 0 { onWake() }
                failures = 0
                while try conn.waitForNotifications(orWakeup: wakeup.descriptor) != nil { onWake() }
                // nil: the wake-up pipe fired, which only stop() does
            } catch {
                onListening(false)
                failures += 1
                wakeup.wait(seconds: Backoff.fullJitter(attempt: failures, base: 0.1, cap: 5, random: Double.random(in: 0.5..<1)))
            }
        }
    }
}

/// A pipe that `signal()` makes readable for good (its byte is never read); the listener polls its read end next to
/// its connection's socket.
private final class Wakeup: Sendable {
    let descriptor: Int32
    private let writeEnd: Int32

    init?() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        // not inherited by the processes we spawn; the write end never blocks (one byte, written once or twice)
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
        descriptor = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(descriptor)
        close(writeEnd)
    }

    func signal() {
        var one: UInt8 = 1
        _ = write(writeEnd, &one, 1)
    }

    /// Blocks up to `seconds` (at most an hour), or less once signalled.
    func wait(seconds: Double) {
        var fd = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&fd, 1, Int32(max(0, min(seconds, 3600)) * 1000))
    }
}
