import DriftTestSupport
import Foundation
import Testing

@Suite("run-once and backfill push their metrics to a Pushgateway", .serialized)
struct PushgatewayTests {
    @Test func runOncePushesItsChecksAndTheStoredStateThenBackfillItsOwnGroup() async throws {
        let schema = try WorkerSchema(prefix: "push")
        defer { schema.drop() }
        let ingest = try CLI.run(
            ["ingest", "sample-data/fraud/traffic.csv.gz", "--model", "fraud", "--config", WorkerSchema.config, "--migrate"],
            environment: schema.env)
        try #require(ingest.status == 0, "\(ingest.stderr)")
        let gateway = RecordingHTTPServer()
        try await gateway.start { _ in .init(status: 200) }
        let url = "http://127.0.0.1:\(gateway.port)"

        let run = try CLI.run(
            [
                "run-once", "--config", WorkerSchema.config, "--lookback", "P3DT10M", "--now", "2026-11-27T00:15:00Z",
                "--pushgateway", url
            ], environment: schema.env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("pushed metrics to \(url)/metrics/job/drift-worker-run-once"), "\(run.stderr)")
        let push = try #require(gateway.requests.last)
        #expect(push.method == "PUT" && push.path == "/metrics/job/drift-worker-run-once")
        #expect(push.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let metrics = try PrometheusText(String(decoding: push.body, as: UTF8.self))
        let runs = try schema.count("SELECT count(*) AS n FROM drift_runs")
        let drifted = try schema.count("SELECT count(*) AS n FROM drift_runs WHERE drifted")
        let pushedChecks = metrics.values("drift_checks_total").reduce(0) { $0 + $1.value }
        #expect(pushedChecks == Double(runs) && runs >= 71, "every check of this run")
        #expect(metrics.value("drift_checks_total", ["result": "drift"]) == Double(drifted))
        #expect(metrics.value("drift_job_exit_code", [:]) == 0)
        let success = try #require(metrics.value("drift_job_last_success_timestamp_seconds", [:]))
        #expect(abs(success - Date().timeIntervalSince1970) < 120)
        #expect(
            metrics.value("drift_feature_drifted", ["monitor": "fraud-scorer", "feature": "amount"]) == 1,
            "a CronJob-only deployment still gets the stored drift gauges")
        #expect(metrics.value("drift_queue_tasks", ["kind": "drift_check", "state": "available"]) == 0)

        // A Pushgateway that refuses: the job's own outcome stands, the refusal is reported.
        await gateway.stop()
        let refusing = RecordingHTTPServer()
        try await refusing.start { _ in .init(status: 400, body: "pushed metrics are invalid or inconsistent") }
        let backfill = try CLI.run(
            [
                "backfill", "--config", WorkerSchema.config, "--monitor", "fraud-scorer",
                "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-24T03:00:00Z",
                "--pushgateway", "http://127.0.0.1:\(refusing.port)", "--pushgateway-job", "nightly backfill"
            ],
            environment: schema.env)
        #expect(backfill.status == 0, "\(backfill.stderr)")
        #expect(refusing.requests.last?.path == "/metrics/job/nightly%20backfill")
        #expect(backfill.stderr.contains("refused the metrics: HTTP 400 pushed metrics are invalid"), "\(backfill.stderr)")
        await refusing.stop()
    }
}
