import DriftStore
import Foundation
import Testing

@testable import DriftServer

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP listener on 127.0.0.1 that never accepts nor answers: the kernel completes the handshake, so a PostgreSQL
/// client connects and then waits forever for the server's first message — a database that does not answer.
private final class SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits up to `seconds` for a first connection, accepts and closes it and whatever else is queued (the clients see
    /// the connection end), then closes the listener; returns how many connections were made.
    func closeAll(waitingUpTo seconds: Double = 0) -> Int {
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&ready, 1, Int32(seconds * 1000))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var n = 0
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { break }
            n += 1
            close(c)
        }
        close(fd)
        return n
    }
}

@Suite("Readiness probe and liveness")
struct ReadinessProbeTests {
    /// The check ends only when the test closes the connection (libpq's connect_timeout is a backstop far beyond any
    /// scheduling delay of a busy test run, so the shared check is still in flight for the third probe).
    static func settings(port: Int) -> ConnectionSettings {
        ConnectionSettings(
            conninfo: "host=127.0.0.1 port=\(port) dbname=drift user=drift sslmode=disable gssencmode=disable connect_timeout=600", poolSize: 1)
    }

    @Test(.timeLimit(.minutes(5)))
    func aDatabaseThatDoesNotAnswerIsNotReadyAndConcurrentProbesShareOneCheck() async throws {
        let silent = try SilentListener()
        let probe = ReadinessProbe(settings: Self.settings(port: silent.port), timeout: 0.3)
        async let first = probe.check()
        async let second = probe.check()
        let answers = await [first, second]
        for answer in answers {
            #expect(!answer.ready)
            #expect(answer.reason == "the database did not answer within 0.3 s")
        }
        // the callers gave up, the shared check did not: a later probe joins it instead of starting another
        let third = await probe.check()
        #expect(!third.ready)
        #expect(await probe.checksStarted == 1, "one database check for all three probes")
        #expect(silent.closeAll(waitingUpTo: 30) == 1, "one connection for all three probes")
        await probe.shutdown()
        await probe.shutdown()  // twice is harmless
    }

    @Test(.timeLimit(.minutes(5)))
    func aRefusedConnectionIsNotReadyWithTheDatabaseError() async throws {
        let silent = try SilentListener()
        let port = silent.port
        _ = silent.closeAll()  // nothing listens on the port any more: connections are refused at once
        let probe = ReadinessProbe(settings: Self.settings(port: port), timeout: 30)
        let answer = await probe.check()
        #expect(!answer.ready)
        #expect(answer.reason != "the database did not answer within 30.0 s", "the error, not the timeout: \(answer.reason)")
        await probe.shutdown()
    }

    @Test func waitersShareOneValueAndACancelledWaiterLeavesTheOthers() async {
        let shared = SharedResult<Int>()
        let cancelled = Task { await shared.value() }
        let waiting = Task { await shared.value() }
        cancelled.cancel()
        #expect(await cancelled.value == nil, "a cancelled waiter stops waiting before the value is set")
        shared.fulfil(42)
        shared.fulfil(7)  // the first value wins
        #expect(await waiting.value == 42)
        #expect(await shared.value() == 42, "a waiter that comes after the value gets it at once")
    }

    @Test func livenessReRegistrationRestartsTheAllowanceAndBeatsAreCheckedSendable() async {
        let t0 = Date(timeIntervalSince1970: 2_000_000)
        let live = Liveness()
        live.register("scheduler", allowance: 10, now: t0)
        #expect(live.stale(now: t0.addingTimeInterval(11)) == ["scheduler"])
        live.register("scheduler", allowance: 60, now: t0.addingTimeInterval(11))
        #expect(live.stale(now: t0.addingTimeInterval(71)).isEmpty, "registered again: a new allowance from the new time")
        #expect(live.stale(now: t0.addingTimeInterval(72)) == ["scheduler"])
        // beats from many tasks at once (Liveness is Sendable without @unchecked): one of them is the last
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<100 { group.addTask { live.beat("scheduler", now: t0.addingTimeInterval(100 + Double(i % 10))) } }
        }
        #expect(live.stale(now: t0.addingTimeInterval(160)).isEmpty, "every beat was at 100 s or later")
        #expect(live.stale(now: t0.addingTimeInterval(170)) == ["scheduler"], "every beat was at 109 s or earlier")
    }
}
