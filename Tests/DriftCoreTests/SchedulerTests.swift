import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// Two monitors of one model with 5-minute windows: `good` (a real reference file) and `broken` (a reference file
/// that does not exist), with `traffic.csv` holding `perWindow` events in every window of [from, to).
struct ScheduledTraffic {
    let scratch: Scratch
    let config: String

    init(from: Date, to: Date, perWindow: Int = 2, broken: Bool = false) throws {
        scratch = try Scratch()
        var ref = "x\n"
        for i in 0..<300 { ref += "\(Double(i % 30) / 10)\n" }
        let refPath = scratch.write("ref.csv", ref)
        var traffic = "timestamp,x\n"
        var t = from
        var i = 0
        while t < to {
            for k in 0..<perWindow {
                let at = t.addingTimeInterval(Double(k) * 300 / Double(perWindow) + 1)
                traffic += "\(PGTimeText.iso(at)),\(Double((i + k * 7) % 30) / 10)\n"
            }
            t = t.addingTimeInterval(300)
            i += 1
        }
        _ = scratch.write("traffic.csv", traffic)
        func monitor(_ name: String, _ reference: String) -> String {
            """
              - name: \(name)
                model: bl
                window: PT5M
                lateness: PT0S
                sample_size: 100
                min_sample: 1
                features: [{name: x, kind: numeric}]
                reference: {file: \(reference)}

            """
        }
        config = scratch.write(
            "monitors.yaml",
            "monitors:\n" + monitor("good", refPath)
                + (broken ? monitor("broken", scratch.path("missing-reference.csv")) : ""))
    }

    var trafficPath: String { scratch.path("traffic.csv") }
}

@Suite("scheduler: backlogs, failing monitors, look-back limits", .serialized)
struct SchedulerTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// Acceptance: 5-minute windows over 5 days (1,440 windows, more than one page of 1,000) — `run-once` checks every
    /// window exactly once, oldest first, and the pushed backlog gauge reads 0.
    @Test func runOnceChecksEveryWindowOfAFiveDayBacklogOldestFirst() async throws {
        let start = Self.date("2026-11-20T00:00:00Z")
        let end = Self.date("2026-11-25T00:00:00Z")
        let traffic = try ScheduledTraffic(from: start, to: end)
        let schema = try WorkerSchema(prefix: "backlog")
        defer { schema.drop() }
        let ingest = try CLI.run(["ingest", traffic.trafficPath, "--model", "bl", "--config", traffic.config, "--migrate"], environment: schema.env)
        try #require(ingest.status == 0, "\(ingest.stderr)")
        let gateway = RecordingHTTPServer()
        try await gateway.start { _ in .init(status: 200) }

        let run = try CLI.run(
            [
                "run-once", "--config", traffic.config, "--lookback", "P5D", "--now", "2026-11-25T00:00:00Z", "--no-dispatch",
                "--pushgateway", "http://127.0.0.1:\(gateway.port)"
            ], environment: schema.env)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(
            run.stdout.contains(
                "enqueued 1440 window(s) in 2 pass(es); completed 1440 task(s), 0 will retry, 0 discarded; 0 due window(s) left unchecked"),
            "\(run.stdout)")
        let conn = try schema.connect()
        let runs = try conn.query(
            """
            SELECT count(*) AS n, count(DISTINCT window_start) AS w, min(window_start) AS first, max(window_start) AS last FROM drift_runs
            """, name: "t")[0]
        #expect(try runs.int("n") == 1440 && runs.int("w") == 1440, "every window exactly once")
        #expect(try runs.date("first") == start && runs.date("last") == end.addingTimeInterval(-300), "the oldest windows were not dropped")
        // oldest first: run ids (assigned at insert) ascend with the window
        let outOfOrder = try conn.query(
            """
            SELECT count(*) AS n FROM (SELECT window_start < lag(window_start) OVER (ORDER BY id) AS back FROM drift_runs) r WHERE back
            """, name: "t")[0].int("n")
        #expect(outOfOrder == 0)
        let metrics = try PrometheusText(
            String(decoding: try #require(gateway.requests.last, "no push: \(run.stderr.suffix(2_000))").body, as: UTF8.self))
        #expect(metrics.value("drift_window_backlog", ["monitor": "good"]) == 0)
        #expect(metrics.value("drift_monitor_failing", ["monitor": "good"]) == 0)

        let again = try CLI.run(
            ["run-once", "--config", traffic.config, "--lookback", "P5D", "--now", "2026-11-25T00:00:00Z", "--no-dispatch"],
            environment: schema.env)
        #expect(again.status == 0 && again.stdout.contains("enqueued 0 window(s)"), "\(again.stdout)\(again.stderr)")
    }

    /// Acceptance: a monitor whose reference is unusable is marked failing after one attempt, its other tasks are
    /// cancelled, it logs a bounded number of lines, and the other monitor is checked as usual.
    @Test func aBrokenMonitorIsPausedWithBoundedLogsWhileTheOtherIsChecked() async throws {
        // real time: serve checks the windows of the last two hours
        let now = Date()
        let end = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 300).rounded(.down) * 300)
        let traffic = try ScheduledTraffic(from: end.addingTimeInterval(-7_200), to: end, broken: true)
        let schema = try WorkerSchema(prefix: "broken")
        defer { schema.drop() }
        let ingest = try CLI.run(["ingest", traffic.trafficPath, "--model", "bl", "--config", traffic.config, "--migrate"], environment: schema.env)
        try #require(ingest.status == 0, "\(ingest.stderr)")
        let server = try RunningServer(
            ["serve", "--config", traffic.config, "--lookback", "PT2H5M", "--tick", "1", "--grace", "10"],
            environment: schema.env)
        let port = try await server.port()
        var good = 0
        for _ in 0..<600 {
            good = try schema.count("SELECT count(*) AS n FROM drift_runs WHERE monitor = 'good'")
            if good >= 24 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(good >= 24, "the healthy monitor's windows were all checked")
        // let the scheduler tick on for a while: a broken monitor must not be retried every tick
        try await Task.sleep(for: .seconds(8))
        let scrape = try PrometheusText(try await httpGet(port: port, "/metrics").body)
        let ready = try await httpGet(port: port, "/readyz")
        #expect(server.terminate() == 0)

        let lines = server.logRecords.filter { ($0["monitor"] as? String) == "broken" }
        #expect(lines.count >= 1 && lines.count <= 6, "bounded log lines for the broken monitor: \(lines.count)")
        #expect(lines.contains { ($0["message"] as? String)?.contains("the monitor is failing and paused until") == true }, "\(lines)")
        #expect(scrape.value("drift_monitor_failing", ["monitor": "broken"]) == 1)
        #expect(scrape.value("drift_monitor_failing", ["monitor": "good"]) == 0)
        #expect(scrape.value("drift_window_backlog", ["monitor": "good"]) == 0)
        #expect((scrape.value("drift_window_backlog", ["monitor": "broken"]) ?? 0) >= 23)
        #expect(ready.status == 200 && ready.body.contains("monitor broken failing") && ready.body.contains("missing-reference.csv"), "\(ready.body)")
        let conn = try schema.connect()
        let tasks = try conn.query(
            """
            SELECT count(*) FILTER (WHERE state = 'discarded') AS discarded, count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
                   count(*) FILTER (WHERE state IN ('available', 'scheduled', 'retryable', 'running')) AS waiting,
                   coalesce(sum(attempt), 0)::int AS attempts
            FROM tasks WHERE args->>'monitor' = 'broken'
            """, name: "t")[0]
        #expect(try tasks.int("discarded") >= 1 && tasks.int("discarded") <= 2, "one attempt per worker at most, then paused")
        #expect(try tasks.int("attempts") <= 2 && tasks.int("waiting") == 0 && tasks.int("cancelled") >= 20)
        let failure = try conn.query(
            "SELECT failures, last_error, retry_at > now() + interval '30 seconds' AS later FROM monitor_failures WHERE monitor = 'broken'",
            name: "t")
        #expect(try failure.count == 1 && failure[0].bool("later"))
        #expect(try failure.first?.string("last_error").contains("missing-reference.csv") == true)
    }

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
