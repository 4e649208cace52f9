import DriftServer
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Testing

@Suite("Capture buffer group commit against PostgreSQL")
struct CaptureBufferCommitTests {
    static func events(_ request: Int, _ count: Int, at base: Date) -> [CaptureEvent] {
        (0..<count).map { i in
            CaptureEvent(
                model: "fraud", requestID: "k\(request)-\(i)", observedAt: base.addingTimeInterval(Double(request * count + i)),
                numeric: [Double(i), 0.5], categorical: ["DE", nil])
        }
    }

    static func rows(_ client: PostgresClient, requestPrefix: String? = nil) async throws -> Int {
        try await client.withConnection { c in
            if let requestPrefix {
                return try c.query("SELECT count(*) AS n FROM capture_events WHERE request_id LIKE $1", [requestPrefix + "%"], name: "t.count")[0]
                    .int("n")
            }
            return try c.query("SELECT count(*) AS n FROM capture_events", name: "t.count")[0].int("n")
        }
    }

    /// Many requests at once, two commits in flight: each request's events are committed before `submit` returns,
    /// and every event is stored exactly once.
    @Test func concurrentRequestsAreCommittedBeforeTheyReturn() async throws {
        try await TestDatabase.withSchema(poolSize: 4) { client, _ in
            var options = CaptureBuffer.Options()
            options.batchSize = 500
            options.commitsInFlight = 2
            let buffer = CaptureBuffer(client: client, options: options)
            let group = ServiceGroup(services: [buffer], logger: Logger(label: "test"))
            let base = Date(timeIntervalSince1970: 1_764_374_400)
            try await withThrowingTaskGroup(of: Void.self) { service in
                service.addTask { try await group.run() }
                try await withThrowingTaskGroup(of: Void.self) { requests in
                    for k in 0..<64 {
                        requests.addTask {
                            try await buffer.submit(Self.events(k, 100, at: base))
                            #expect(try await Self.rows(client, requestPrefix: "k\(k)-") == 100, "acknowledged means committed")
                        }
                    }
                    try await requests.waitForAll()
                }
                await group.triggerGracefulShutdown()
                try await service.waitForAll()
            }
            #expect(try await Self.rows(client) == 6_400)
            #expect(await buffer.committedEvents == 6_400)
            #expect(await buffer.commits >= 13, "at most 500 events per transaction")
        }
    }

    /// Requests still waiting when shutdown begins — more than one transaction's worth — are all committed and
    /// answered, none dropped or left hanging.
    @Test func shutdownCommitsEverythingStillWaiting() async throws {
        try await TestDatabase.withSchema(poolSize: 4) { client, _ in
            var options = CaptureBuffer.Options()
            options.batchSize = 300
            let buffer = CaptureBuffer(client: client, options: options)
            let base = Date(timeIntervalSince1970: 1_764_374_400)
            try await withThrowingTaskGroup(of: Void.self) { requests in
                for k in 0..<30 { requests.addTask { try await buffer.submit(Self.events(k, 100, at: base)) } }
                // the buffer is not running yet: all 30 requests wait
                for _ in 0..<12_000 where await buffer.waitingEvents < 3_000 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(await buffer.waitingEvents == 3_000)
                let group = ServiceGroup(services: [buffer], logger: Logger(label: "test"))
                await group.triggerGracefulShutdown()  // shutdown is requested before the buffer takes anything
                try await group.run()
                try await requests.waitForAll()
            }
            #expect(try await Self.rows(client) == 3_000)
            #expect(await buffer.committedEvents == 3_000)
            #expect(await buffer.waitingEvents == 0)
        }
    }
}
