import DriftLocalPostgres
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// Thread-safe per-task execution counts.
final class Executions: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Int64: Int] = [:]
    func record(_ id: Int64) { lock.withLock { counts[id, default: 0] += 1 } }
    var snapshot: [Int64: Int] { lock.withLock { counts } }
}

@Suite("Task queue on a real PostgreSQL")
struct TaskQueueTests {
    static func tasks(_ n: Int, kind: String = "drift_check") -> [TaskQueue.NewTask] {
        (0..<n).map { .init(kind: kind, uniqueKey: "\(kind):m:\($0)", args: #"{"i":\#($0)}"#) }
    }

    @Test func fourConsumersCompleteEachOf8000TasksExactlyOnce() async throws {
        try await TestDatabase.withSchema { client, settings in
            let queue = TaskQueue(client: client)
            let enqueued = try await queue.enqueue(Self.tasks(8000))
            #expect(enqueued == 8000)
            let runs = Executions()
            var options = QueueConsumer.Options()
            options.concurrency = 1
            options.batch = 20
            options.pollInterval = 0.2
            // Four consumers, each with its own connection pool, as four replicas would have.
            let consumers = (0..<4).map { i in
                QueueConsumer(queue: TaskQueue(client: PostgresClient(settings: settings)), owner: "consumer-\(i)", options: options) { t in
                    runs.record(t.id)
                }
            }
            let counters = await withTaskGroup(of: QueueConsumer.Counters.self) { group in
                for c in consumers { group.addTask { await c.runUntilIdle() } }
                return await group.reduce(into: [QueueConsumer.Counters]()) { $0.append($1) }
            }
            let executions = runs.snapshot
            #expect(executions.count == 8000)
            #expect(executions.values.allSatisfy { $0 == 1 }, "a task ran twice")
            #expect(counters.map(\.completed).reduce(0, +) == 8000)
            #expect(counters.filter { $0.completed > 0 }.count >= 2, "the work was shared: \(counters.map(\.completed))")
            let counts = try await queue.counts()
            #expect(counts["drift_check"] == [.completed: 8000])
        }
    }

    @Test func uniqueKeysDeduplicateWhilePendingOrDone() async throws {
        try await TestDatabase.withSchema { client, _ in
            let queue = TaskQueue(client: client)
            let t = TaskQueue.NewTask(kind: "drift_check", uniqueKey: "drift_check:fraud:2026-11-29T10:00Z", maxAttempts: 1)
            let id = try #require(try await queue.enqueue(t))
            #expect(try await queue.enqueue(t) == nil, "pending: no-op")
            let fetched = try await queue.fetch(owner: "w", limit: 5, lease: 30)
            #expect(fetched.map(\.id) == [id])
            #expect(try await queue.enqueue(t) == nil, "running: no-op")
            #expect(try await queue.complete(fetched[0], owner: "w"))
            #expect(try await queue.enqueue(t) == nil, "done: no-op")
            let other = TaskQueue.NewTask(kind: "drift_check", uniqueKey: "drift_check:fraud:other", maxAttempts: 1)
            let otherID = try #require(try await queue.enqueue(other))
            let f2 = try await queue.fetch(owner: "w", limit: 5, lease: 30)
            #expect(try await queue.fail(f2[0], owner: "w", error: "boom") == .discarded)
            #expect(try await queue.enqueue(other) != nil, "a discarded task does not block new work")
            #expect(otherID != id)
        }
    }

    @Test func retriesWithBackoffThenDiscardKeepingErrors() async throws {
        try await TestDatabase.withSchema { client, _ in
            var queue = TaskQueue(client: client)
            queue.policy = RetryPolicy(base: 10, cap: 1000)
            let id = try #require(try await queue.enqueue(.init(kind: "k", maxAttempts: 3)))
            var now = Date(timeIntervalSince1970: 1_800_000_000)
            for attempt in 1...3 {
                let t = try #require(try await queue.fetch(owner: "w", limit: 1, lease: 30, now: now).first)
                #expect(t.id == id && t.attempt == attempt && t.state == .running)
                #expect(try await queue.fetch(owner: "other", limit: 1, lease: 30, now: now).isEmpty, "a running task is not fetched again")
                let result = try await queue.fail(t, owner: "w", error: "attempt \(attempt) failed", random: 0.5, now: now)
                if attempt < 3 {
                    let expected = now.addingTimeInterval(0.5 * 10 * pow(2, Double(attempt - 1)))
                    guard case .willRetry(let at) = result else {
                        Issue.record("expected a retry, got \(result)")
                        return
                    }
                    #expect(abs(at.timeIntervalSince(expected)) < 1e-3, "backoff \(at) vs \(expected)")
                    #expect(
                        try await queue.fetch(owner: "w", limit: 1, lease: 30, now: at.addingTimeInterval(-1)).isEmpty, "not due before its backoff")
                    now = at
                } else {
                    #expect(result == .discarded)
                }
            }
            let final = try #require(try await queue.task(id: id))
            #expect(final.state == .discarded && final.attempt == 3)
            let errors = try JSONSerialization.jsonObject(with: Data(final.errors.utf8)) as? [[String: Any]]
            #expect(errors?.count == 3)
            #expect(errors?.last?["error"] as? String == "attempt 3 failed")
        }
    }

    @Test func aKilledConsumersTaskIsRescuedAndItCannotCompleteLate() async throws {
        try await TestDatabase.withSchema { client, _ in
            let queue = TaskQueue(client: client)
            let id = try #require(try await queue.enqueue(.init(kind: "k")))
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            // The "dead" consumer takes the task with a 5 s lease and never reports back.
            let dead = try #require(try await queue.fetch(owner: "dead", limit: 1, lease: 5, now: t0).first)
            #expect(try await queue.rescueExpired(now: t0.addingTimeInterval(4)) == 0, "lease still valid")
            #expect(try await queue.rescueExpired(now: t0.addingTimeInterval(6)) == 1)
            let alive = try #require(try await queue.fetch(owner: "alive", limit: 1, lease: 30, now: t0.addingTimeInterval(6)).first)
            #expect(alive.id == id && alive.attempt == 2)
            #expect(try await queue.heartbeat(dead, owner: "dead", lease: 30) == nil, "the dead one lost its lease")
            #expect(try await !queue.complete(dead, owner: "dead"), "a late completion is refused")
            #expect(try await queue.fail(dead, owner: "dead", error: "late") == .notOwner)
            #expect(try await queue.complete(alive, owner: "alive"))
            let final = try #require(try await queue.task(id: id))
            #expect(final.state == .completed)
            #expect(final.errors.contains("lease of dead expired"))
        }
    }

    @Test func aConsumerThatStopsHeartbeatingLosesTheTaskToAnother() async throws {
        try await TestDatabase.withSchema { client, _ in
            let queue = TaskQueue(client: client)
            let id = try #require(try await queue.enqueue(.init(kind: "k", runAt: Date().addingTimeInterval(-120))))
            // A consumer whose handler hangs and whose lease (1 s) was not renewed in time: it took the task a minute ago
            // (the queue takes `now:`, so no test waits for a lease to run out in real time).
            _ = try #require(try await queue.fetch(owner: "hung", limit: 1, lease: 1, now: Date().addingTimeInterval(-60)).first)
            let runs = Executions()
            var options = QueueConsumer.Options()
            options.rescueInterval = 0.2
            options.pollInterval = 0.2
            let rescuer = QueueConsumer(queue: queue, owner: "rescuer", options: options) { t in runs.record(t.id) }
            let counters = await rescuer.runUntilIdle()
            #expect(counters.completed == 1 && runs.snapshot == [id: 1])
        }
    }

    @Test func aWorkerWhoseLeaseWasTakenStopsItsTaskAndRecordsNothing() async throws {
        try await TestDatabase.withSchema { client, _ in
            let queue = TaskQueue(client: client)
            let id = try #require(try await queue.enqueue(.init(kind: "k")))
            let stopped = Executions()
            var options = QueueConsumer.Options()
            // a lease long enough never to run out on its own here (a loaded machine can delay heartbeats by seconds):
            // only the takeover below may end it
            options.lease = 60
            options.heartbeatInterval = 0.2
            let consumer = QueueConsumer(queue: queue, owner: "slow", options: options) { t in
                // a long task with cancellation points (a drift task checks between windows)
                do {
                    for _ in 0..<400 {
                        try Task.checkCancellation()
                        try await Task.sleep(for: .milliseconds(25))
                    }
                } catch is CancellationError {
                    stopped.record(t.id)
                    throw CancellationError()
                }
            }
            let run = Task { await consumer.runUntilIdle() }
            for _ in 0..<100 where try await queue.task(id: id)?.state != .running { try await Task.sleep(for: .milliseconds(20)) }
            // another worker takes the task over (as the rescuer would after a partition): the next heartbeat is refused
            _ = try await client.withConnection { c in
                try c.query(
                    "UPDATE tasks SET lease_owner = 'thief', attempt = attempt + 1, lease_expires_at = now() + interval '1 hour' WHERE id = $1",
                    [id], name: "t")
            }
            let counters = await run.value
            #expect(stopped.snapshot == [id: 1], "the handler was cancelled at its next cancellation point")
            #expect(counters.abandoned == 1 && counters.completed == 0 && counters.failed == 0)
            let row = try #require(try await queue.task(id: id))
            #expect(row.state == .running && row.leaseOwner == "thief", "nothing recorded over the new owner")
        }
    }

    @Test func aPermanentFailureIsDiscardedAtOnce() async throws {
        try await TestDatabase.withSchema { client, _ in
            let queue = TaskQueue(client: client)
            let id = try #require(try await queue.enqueue(.init(kind: "k", maxAttempts: 5)))
            struct Unfixable: Error {}
            let counters = await QueueConsumer(queue: queue, options: QueueConsumer.Options()) { _ in throw PermanentTaskFailure(Unfixable()) }
                .runUntilIdle()
            #expect(counters.discarded == 1 && counters.failed == 0)
            let row = try #require(try await queue.task(id: id))
            #expect(row.state == .discarded && row.attempt == 1 && row.errors.contains("Unfixable"))
        }
    }

    @Test func runUntilIdleRescuesExpiredLeasesWhileItDrains() async throws {
        try await TestDatabase.withSchema { client, _ in
            let queue = TaskQueue(client: client)
            let slow = try #require(try await queue.enqueue(.init(kind: "slow")))
            let orphan = try #require(try await queue.enqueue(.init(kind: "orphan", runAt: Date().addingTimeInterval(-120))))
            // a worker that died holding the orphan with a 1 s lease, a minute ago
            #expect(
                try await queue.fetch(owner: "dead", limit: 1, lease: 1, kinds: ["orphan"], now: Date().addingTimeInterval(-60)).first?.id == orphan)
            let runs = Executions()
            var options = QueueConsumer.Options()
            options.concurrency = 1
            options.rescueInterval = 0.2
            let counters = await QueueConsumer(queue: queue, options: options) { t in
                runs.record(t.id)
                // the slow task outlasts a few rescue passes (every 0.2 s), one of which hands the orphan over
                if t.id == slow { try await Task.sleep(for: .milliseconds(800)) }
            }.runUntilIdle()
            #expect(counters.completed == 2 && runs.snapshot == [slow: 1, orphan: 1], "the orphan's lease expired while the slow task ran")
        }
    }

    @Test func notifyWakesAnIdleConsumer() async throws {
        try await TestDatabase.withSchema { client, _ in
            let queue = TaskQueue(client: client)
            let runs = Executions()
            var options = QueueConsumer.Options()
            options.pollInterval = 600  // only a NOTIFY can wake it within the test
            let consumer = QueueConsumer(queue: queue, owner: "idle", options: options) { t in runs.record(t.id) }
            let loop = Task { await consumer.run() }
            // Enqueue only once the consumer listens and its workers have found nothing to do.
            var ready = 0
            while !consumer.isIdleAndListening && ready < 600 {
                try await Task.sleep(for: .milliseconds(50))
                ready += 1
            }
            #expect(consumer.isIdleAndListening)
            let id = try #require(try await queue.enqueue(.init(kind: "k")))
            var waited = 0
            while runs.snapshot[id] == nil && waited < 200 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            loop.cancel()
            await loop.value
            #expect(runs.snapshot[id] == 1, "the idle consumer did not wake up")
            #expect(consumer.counters.notifyWakeups >= 1)
            #expect(consumer.counters.completed == 1)
        }
    }

    @Test func pruneRemovesOldFinalizedTasks() async throws {
        try await TestDatabase.withSchema { client, _ in
            let queue = TaskQueue(client: client)
            _ = try await queue.enqueue(Self.tasks(3, kind: "p"))
            let now = Date()
            for t in try await queue.fetch(owner: "w", limit: 2, lease: 30) {
                _ = try await queue.complete(t, owner: "w", now: now.addingTimeInterval(-7200))
            }
            #expect(try await queue.prune(retention: 3600) == 2)
            #expect(try await queue.counts()["p"] == [.available: 1])
        }
    }
}

@Suite("Queue survives a PostgreSQL restart", .serialized)
struct QueueRestartTests {
    @Test func consumeLoopSurvivesServerRestart() async throws {
        guard ProcessInfo.processInfo.environment["DATABASE_URL"] == nil else { return }  // needs a server we may restart
        let pg = try LocalPostgres.start()
        defer { pg.stop() }
        let settings = ConnectionSettings(conninfo: pg.conninfo, schema: "drift", poolSize: 2)
        _ = try Migrator(schema: "drift").migrate(PGConnection.connect(settings))
        let client = PostgresClient(settings: settings)
        let queue = TaskQueue(client: client)
        #expect(try await queue.enqueue(TaskQueueTests.tasks(400)) == 400)
        let runs = Executions()
        var options = QueueConsumer.Options()
        options.concurrency = 2
        options.lease = 3
        options.rescueInterval = 0.5
        options.pollInterval = 0.3
        let consumer = QueueConsumer(queue: queue, owner: "survivor", options: options) { t in
            runs.record(t.id)
            try await Task.sleep(for: .milliseconds(30))
        }
        let loop = Task { await consumer.run() }
        func serverStart() throws -> Date {
            try PGConnection.connect(settings).query("SELECT pg_postmaster_start_time() AS t", name: "t")[0].date("t")
        }
        let startedBefore = try serverStart()
        while runs.snapshot.count < 100 { try await Task.sleep(for: .milliseconds(20)) }
        try pg.restart()
        let doneAtRestart = runs.snapshot.count
        #expect(doneAtRestart < 400, "the restart must happen while tasks remain")
        var waited = 0
        while waited < 600 {
            if await (try? queue.counts())?["drift_check"]?[.completed] == 400 { break }
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        loop.cancel()
        await loop.value
        let counts = try await queue.counts()["drift_check"]
        #expect(counts == [.completed: 400], "\(String(describing: counts))")
        #expect(runs.snapshot.count == 400)
        #expect(try serverStart() > startedBefore, "the server really restarted during the run")
        print("restart test: consumer counters \(consumer.counters)")
        await client.shutdown()
    }
}
