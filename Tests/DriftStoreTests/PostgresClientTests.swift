import DriftStore
import DriftTestSupport
import Testing

@Suite("PostgresClient's pool and shutdown")
struct PostgresClientTests {
    @Test func aPoolOfOneServesTwentyConcurrentCallers() async throws {
        try await TestDatabase.withSchema(migrate: false, poolSize: 1) { client, _ in
            let pids = try await within(300) {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            try await client.withConnection { c in
                                try c.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.01)", name: "test.pid")[0].int("pid")
                            }
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
            }
            #expect(pids?.count == 20, "every caller completed")
            #expect(Set(pids ?? []).count == 1, "one connection served them in turn")
        }
    }

    @Test func shutdownTwiceIsFineAndLaterCallsThrow() async throws {
        try await TestDatabase.withSchema(migrate: false) { client, _ in
            _ = try await client.withConnection { c in try c.query("SELECT 1", name: "test.one") }
            await client.shutdown()
            await client.shutdown()
            let afterwards = await #expect(throws: PostgresError.self) {
                try await client.withConnection { c in try c.query("SELECT 1", name: "test.one") }
            }
            #expect(afterwards?.kind == .clientShutDown)
            #expect(afterwards?.description.contains("shut down") == true)
            let inTransaction = await #expect(throws: PostgresError.self) { try await client.transaction { _ in 1 } }
            #expect(inTransaction?.kind == .clientShutDown)
            #expect(throws: PostgresError.self) { try client.dedicatedConnection() }
        }
    }

    /// Callers queued for the one connection when the client shuts down end too: served, or told it is shut down.
    @Test func shutdownEndsTheCallersWaitingForAConnection() async throws {
        try await TestDatabase.withSchema(migrate: false, poolSize: 1) { client, _ in
            let callers = (0..<10).map { _ in
                Task { try await client.withConnection { c in try c.query("SELECT pg_sleep(0.05)", name: "test.sleep").count } }
            }
            await client.shutdown()
            for caller in callers {
                let outcome = try await within(300) { await caller.result }
                switch outcome {
                case nil: Issue.record("a caller still waits after shutdown()")
                case .success?: break
                case .failure(let error)?: #expect((error as? PostgresError)?.kind == .clientShutDown, "\(error)")
                }
            }
        }
    }
}
