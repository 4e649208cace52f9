import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

@Suite("scheduler: backlogs, failing monitors, look-back limits", .serialized)
struct SchedulerTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// When a failing monitor's backoff has passed, the scheduler sends one probe (one task, one attempt); a probe
    /// that fails again doubles the wait; once the monitor works, the failure is cleared and its backlog enqueued.
    @Test func aFailingMonitorIsProbedOnceAfterItsBackoffAndRecovers() async throws {
        let start = Self.date("2026-11-20T00:00:00Z")
        let traffic = try ScheduledTraffic(from: start, to: start.addingTimeInterval(3_600), broken: true)
        try await TestDatabase.withSchema { client, settings in
            let monitors = try MonitorsFile.load(path: traffic.config)
            let tasks = DriftTasks(
                client: client, monitors: monitors, references: ReferenceStore(baseDirectory: "/"),
                lookback: try ISODuration(parsing: "PT1H"))
            let now = start.addingTimeInterval(3_600)
            _ = try await client.withConnection { c in
                try c.query(
                    "INSERT INTO monitor_failures (monitor, failures, last_error, retry_at) VALUES ('broken', 1, 'x', now() - interval '1 second')",
                    name: "t")
            }
            let backlog = try await tasks.schedule(now: now)
            #expect(backlog.first { $0.monitor == "good" }?.enqueued == 12)
            let broken = try #require(backlog.first { $0.monitor == "broken" })
            #expect(broken.enqueued == 1 && broken.unchecked == 12 && broken.pausedUntil == nil, "one probe")
            let probe = try await client.withConnection { c in
                try c.query("SELECT max_attempts, args->>'window_start' AS w FROM tasks WHERE args->>'monitor' = 'broken'", name: "t")
            }
            #expect(try probe.count == 1 && probe[0].int("max_attempts") == 1)

            var options = QueueConsumer.Options()
            options.kinds = [DriftTasks.kind]
            let counters = await QueueConsumer(queue: TaskQueue(client: client), options: options) { try await tasks.handle($0) }.runUntilIdle()
            #expect(counters.completed == 12 && counters.discarded == 1)
            let state = try await client.withConnection { c in try MonitorFailures.all(c) }
            #expect(state.count == 1 && state[0].failures == 2 && !state[0].due, "the failed probe doubled the wait")
            #expect(state[0].lastError.contains("missing-reference.csv"))
            let paused = try await tasks.schedule(now: now)
            #expect(paused.first { $0.monitor == "broken" }?.pausedUntil != nil && paused.allSatisfy { $0.enqueued == 0 })

            // the reference appears: the next probe succeeds and clears the failure
            try FileManager.default.copyItem(atPath: traffic.scratch.path("ref.csv"), toPath: traffic.scratch.path("missing-reference.csv"))
            _ = try await client.withConnection { c in try c.query("UPDATE monitor_failures SET retry_at = now() - interval '1 second'", name: "t") }
            #expect(try await tasks.schedule(now: now).first { $0.monitor == "broken" }?.enqueued == 1)
            _ = await QueueConsumer(queue: TaskQueue(client: client), options: options) { try await tasks.handle($0) }.runUntilIdle()
            #expect(try await client.withConnection { c in try MonitorFailures.all(c) }.isEmpty, "recovered")
            let rest = try await tasks.schedule(now: now)
            #expect(rest.first { $0.monitor == "broken" }?.enqueued == 11, "its backlog is enqueued again")
        }
    }

    /// Workers that were already running the monitor's tasks when it was marked failing do not count again: one
    /// backoff step per failure event, however many workers hit it (concurrency 8 must not mean a 2-hour pause).
    @Test func failuresWhileAlreadyPausedDoNotExtendTheBackoff() async throws {
        try await TestDatabase.withSchema { client, _ in
            let first = try await client.withConnection { c in try MonitorFailures.recordFailure(monitor: "m", error: "a", on: c) }
            #expect(first.failures == 1)
            for i in 0..<7 {
                let again = try await client.withConnection { c in try MonitorFailures.recordFailure(monitor: "m", error: "b\(i)", on: c) }
                #expect(again.failures == 1 && again.retryAt == first.retryAt && again.lastError == "b\(i)")
            }
            // the probe after the wait fails: now it counts, and the wait doubles
            _ = try await client.withConnection { c in try c.query("UPDATE monitor_failures SET retry_at = now() - interval '1 second'", name: "t") }
            let probe = try await client.withConnection { c in try MonitorFailures.recordFailure(monitor: "m", error: "c", on: c) }
            #expect(probe.failures == 2 && probe.retryAt.timeIntervalSince(first.retryAt) > 50)
        }
    }

    @Test func backoffDoublesUpToAnHour() {
        #expect((1...8).map { MonitorBackoff.seconds(afterFailures: $0) } == [60, 120, 240, 480, 960, 1_920, 3_600, 3_600])
        #expect(MonitorBackoff.seconds(afterFailures: 0) == 0 && MonitorBackoff.seconds(afterFailures: Int.max) == 3_600)
    }

    @Test func aLookbackSpanningTooManyWindowsIsRefused() throws {
        let m = try MonitorsFile.parse(
            """
            monitors:
              - {name: m, model: x, window: PT1M, features: [{name: a, kind: numeric}], reference: {file: r.csv}}
            """, file: "monitors.yaml")
        try DriftTasks.validate(lookback: try ISODuration(parsing: "P30D"), monitors: m)
        #expect(throws: DriftTaskError.self) { try DriftTasks.validate(lookback: try ISODuration(parsing: "P100D"), monitors: m) }
        // a look-back beyond Int's range is refused with a message, not a trap
        #expect(throws: DriftTaskError.self) { try DriftTasks.validate(lookback: try ISODuration(parsing: "P1000000000000000000000D"), monitors: m) }
        let s = m[0].schedule
        let from = Date(timeIntervalSince1970: 1_800_000_000)
        let to = from.addingTimeInterval(86_400)
        #expect(s.windowCount(from: from, to: to) == s.windows(from: from, to: to).count)
        #expect(s.windowCount(from: from.addingTimeInterval(30), to: to) == s.windows(from: from.addingTimeInterval(30), to: to).count)
    }
}
