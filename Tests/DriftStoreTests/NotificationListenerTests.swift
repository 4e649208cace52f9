import DriftTestSupport
import Testing

@testable import DriftStore

@Suite("LISTEN woken by the socket; WakeSignal without timers")
struct NotificationListenerTests {
    /// The listener has no poll interval: only the NOTIFY on its socket can have woken it.
    @Test func aNotifyWakesTheListenerAndStopEndsItsWait() async throws {
        try await TestDatabase.withSchema(migrate: false) { client, settings in
            let channel = "dt_listen_" + settings.schema
            let (listening, listeningSink) = AsyncStream<Bool>.makeStream()
            let (wakes, wakeSink) = AsyncStream<Void>.makeStream()
            let listener = NotificationListener(client: client, channel: channel, onListening: { listeningSink.yield($0) }) {
                wakeSink.yield()
            }
            listener.start()
            let up = try await within(120) { await listening.first { $0 } }
            #expect(up == true, "the listener did not start listening")
            _ = try await client.withConnection { c in try c.query("SELECT pg_notify($1, 'x')", [channel], name: "test.notify") }
            let woke = try await within(120) { await wakes.first { true } != nil }
            #expect(woke == true, "the NOTIFY did not wake the listener")
            // the listener is now blocked in poll(2) with no timeout: only the wake-up descriptor can end it
            #expect(try await within(120) { await listener.stop() } != nil, "stop() did not interrupt the listener's poll")
            await listener.stop()
        }
    }

    @Test func stopReturnsWhileTheListenerWaitsToReconnect() async throws {
        let unreachable = ConnectionSettings(conninfo: "host=/nonexistent-drift-socket-dir connect_timeout=1", schema: "drift")
        let client = PostgresClient(settings: unreachable)
        let (listening, listeningSink) = AsyncStream<Bool>.makeStream()
        let listener = NotificationListener(client: client, channel: "dt_never", onListening: { listeningSink.yield($0) }) {}
        listener.start()
        #expect(try await within(120) { await listening.first { !$0 } } == false, "a failed connect is reported")
        #expect(try await within(120) { await listener.stop() } != nil, "stop() did not interrupt the reconnect backoff")
        await client.shutdown()
    }

    @Test func aSignalSentBeforeTheWaitIsRememberedOnce() async throws {
        let signal = WakeSignal()
        signal.signal()
        #expect(try await within(120) { await signal.wait(timeout: 600) } == true)
        #expect(try await within(120) { await signal.wait(timeout: 0.01) } == false, "only one wait consumes a signal")
    }

    @Test func aCancelledWaitReturnsFalse() async throws {
        let signal = WakeSignal()
        let waiting = Task { await signal.wait(timeout: 600) }
        waiting.cancel()
        #expect(try await within(120) { await waiting.value } == false)
        signal.signal()  // nobody waits any more: remembered for the next wait, not delivered twice
        #expect(try await within(120) { await signal.wait(timeout: 600) } == true)
    }
}
