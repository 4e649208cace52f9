import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// The scheduler as `run-once` and `serve` run it: a long backlog and a broken monitor beside a healthy one.
@Suite("scheduler in the binary: backlogs and failing monitors", .serialized)
struct SchedulerCommandTests {
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
}
