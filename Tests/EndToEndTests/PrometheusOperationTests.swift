import DriftLocalPostgres
import DriftStore
import DriftTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `serve` as Prometheus and Kubernetes see it, with the real tools (Debian's `prometheus` and `prometheus-pushgateway`
/// packages: Prometheus 2.42, promtool, Pushgateway 1.5; `make test` installs them): the exposition passes
/// `promtool check metrics`, counters exist at 0 before the first event so `increase()` counts the first burst, and a
/// frozen PostgreSQL (SIGSTOP) neither takes `/metrics` down nor fails liveness.
@Suite("serve under Prometheus and a hung database", .serialized)
struct PrometheusOperationTests {
    /// The sample traffic is days old: a look-back that reaches it.
    static var lookbackDays: Int {
        Int((Date().timeIntervalSince(ISO8601DateFormatter().date(from: "2026-11-24T00:00:00Z")!) / 86_400).rounded(.up)) + 1
    }

    @Test func promtoolPassesAndARealPrometheusCountsTheFirstBurstOfChecks() async throws {
        let schema = try WorkerSchema(prefix: "pr")
        defer { schema.drop() }
        #expect(try schema.ingestSampleTraffic() == 0)
        // Hold the queue's table so no check can run until Prometheus has scraped serve at least once.
        let holder = try schema.connect()
        try holder.run("BEGIN", name: "t")
        try holder.run("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE", name: "t")
        let server = try RunningServer(
            ["serve", "--config", WorkerSchema.config, "--lookback", "P\(Self.lookbackDays)D", "--tick", "1", "--grace", "20"],
            environment: schema.env)
        let port = try await server.port()

        // Every counter and histogram series of the configuration is there at 0, with HELP, lint-clean.
        let first = try await httpGet(port: port, "/metrics")
        let scrape = try PrometheusText(first.body)
        for result in ["drift", "no_drift", "insufficient_data"] {
            #expect(scrape.value("drift_checks_total", ["monitor": "fraud-scorer", "result": result]) == 0, "\(result)")
        }
        #expect(scrape.value("drift_check_errors_total", ["monitor": "fraud-scorer"]) == 0)
        #expect(scrape.value("drift_actions_fired_total", ["monitor": "fraud-scorer", "action": "retrain"]) == 0)
        #expect(scrape.value("drift_trigger_deliveries_total", ["action": "retrain", "result": "dead"]) == 0)
        #expect(scrape.value("drift_shadow_evaluations_total", ["monitor": "fraud-scorer", "verdict": "promote"]) == 0)
        #expect(scrape.value("drift_task_duration_seconds_count", ["kind": "drift_check", "outcome": "completed"]) == 0)
        #expect(scrape.value("drift_capture_events_total", ["model": "fraud", "format": "kserve-v1", "result": "accepted"]) == 0)
        let lint = try promtool(["check", "metrics"], stdin: first.body)
        #expect(lint.status == 0 && lint.output.isEmpty, "promtool check metrics on /metrics:\n\(lint.output)")
        // Hummingbird's request metrics (recorded once a request was answered), under Prometheus names, with HELP
        let second = try await httpGet(port: port, "/metrics").body
        let lintSecond = try promtool(["check", "metrics"], stdin: second)
        #expect(lintSecond.status == 0 && lintSecond.output.isEmpty, "promtool check metrics on /metrics:\n\(lintSecond.output)")
        for family in ["drift_checks_total", "drift_task_duration_seconds", "drift_trigger_deliveries_total", "http_server_request_duration_seconds"]
        {
            #expect(second.contains("# HELP \(family) "), "HELP for \(family)")
        }
        #expect(try PrometheusText(second).value("hb_requests_total", ["http_route": "/metrics", "http_response_status_code": "200"]) != nil)

        let prometheus = try RealPrometheus(target: "127.0.0.1:\(port)")
        defer { prometheus.stop() }
        // Prometheus' first scrape sees the counters at 0…
        var scraped = false
        for _ in 0..<600 where !scraped {
            scraped = try await prometheus.query("sum(drift_checks_total)").first == 0
            if !scraped { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(scraped, "Prometheus scraped serve while no check had run")
        // …then the burst: every window of the sample traffic checked at once.
        try holder.run("COMMIT", name: "t")
        var checked = 0
        for _ in 0..<1200 where checked < 72 {
            checked = try schema.count(
                "SELECT count(*) AS n FROM drift_runs WHERE window_start >= '2026-11-24T00:00:00Z' AND window_start < '2026-11-27T00:00:00Z'")
            if checked < 72 { try await Task.sleep(for: .milliseconds(100)) }
        }
        let total = Double(try schema.count("SELECT count(*) AS n FROM drift_runs"))
        #expect(checked == 72)
        var increase = 0.0
        for _ in 0..<600 where increase < total {
            increase = try await prometheus.query("sum(increase(drift_checks_total[10m]))").first ?? 0
            if increase < total { try await Task.sleep(for: .milliseconds(100)) }
        }
        // increase() extrapolates to the range's edges, so it may read a little above the true count, never 0
        #expect(increase >= total, "increase() counts the first burst of \(total) checks (read \(increase))")
        #expect(server.terminate() == 0)
    }

    @Test func aFrozenDatabaseLeavesMetricsAndLivenessUpAndReadinessDownUntilItThaws() async throws {
        let pg = try LocalPostgres.start()
        defer {
            try? pg.thaw()  // whatever failed in between: never leave a stopped cluster behind
            pg.stop()
        }
        let env = ["DATABASE_URL": pg.conninfo, "DRIFT_SCHEMA": "drift"]
        #expect(try CLI.run(["migrate"], environment: env).status == 0)
        let server = try RunningServer(
            ["serve", "--config", WorkerSchema.config, "--tick", "1", "--liveness-allowance", "10", "--grace", "20"], environment: env)
        let port = try await server.port()
        var up = 0.0
        for _ in 0..<600 where up != 1 {
            up = try PrometheusText(try await httpGet(port: port, "/metrics").body).value("drift_stored_metrics_up", [:]) ?? 0
            if up != 1 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(up == 1)
        #expect(try await httpGet(port: port, "/readyz").status == 200)

        try pg.freeze()
        let frozeAt = Date()
        var unreadyAfter: Double?
        var slowest = 0.0
        var metricsDown = false
        // longer than the liveness allowance (10 s): the scheduler waits on the database the whole time
        while Date().timeIntervalSince(frozeAt) < 16 {
            let t0 = Date()
            let metrics = try await httpGet(port: port, "/metrics")
            slowest = max(slowest, Date().timeIntervalSince(t0))
            #expect(metrics.status == 200)
            if try PrometheusText(metrics.body).value("drift_stored_metrics_up", [:]) == 0 { metricsDown = true }
            #expect(try await httpGet(port: port, "/healthz").status == 200, "alive while the database hangs")
            if unreadyAfter == nil, try await httpGet(port: port, "/readyz").status == 503 {
                unreadyAfter = Date().timeIntervalSince(frozeAt)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        try pg.thaw()
        #expect(slowest < 1, "every /metrics answered within 1 s during the hang (slowest \(slowest) s)")
        #expect(metricsDown, "drift_stored_metrics_up is 0 while the database hangs")
        #expect((unreadyAfter ?? 99) < 5, "/readyz is 503 within 5 s of the hang (\(String(describing: unreadyAfter)))")
        let warnings = server.logRecords.filter { $0["level"] as? String == "warning" }.compactMap { $0["message"] as? String }
        #expect(warnings.contains("not ready"), "\(warnings)")
        #expect(warnings.contains("stored drift state not read; serving cached values"), "\(warnings)")
        #expect(warnings.contains("scheduler tick waiting on the database"), "\(warnings)")

        var ready = 0
        for _ in 0..<600 where ready != 200 {
            ready = try await httpGet(port: port, "/readyz").status
            if ready != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready == 200, "ready again after SIGCONT")
        up = 0
        for _ in 0..<600 where up != 1 {
            up = try PrometheusText(try await httpGet(port: port, "/metrics").body).value("drift_stored_metrics_up", [:]) ?? 0
            if up != 1 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(up == 1, "stored metrics read again after SIGCONT")
        #expect(try await httpGet(port: port, "/healthz").status == 200)
        #expect(server.terminate() == 0)
    }

    @Test func aPushToARealPushgatewayIsAcceptedAndLintClean() async throws {
        let schema = try WorkerSchema(prefix: "push")
        defer { schema.drop() }
        #expect(try schema.ingestSampleTraffic() == 0)
        let gateway = try RealPushgateway()
        defer { gateway.stop() }
        var env = schema.env
        env["DRIFT_PUSHGATEWAY"] = "http://127.0.0.1:\(gateway.port)"
        let run = try CLI.run(
            ["run-once", "--config", WorkerSchema.config, "--lookback", "P\(Self.lookbackDays)D", "--no-dispatch"], environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        let exposition = try await httpGet(port: gateway.port, "/metrics").body
        let lint = try promtool(["check", "metrics"], stdin: exposition)
        #expect(lint.status == 0 && lint.output.isEmpty, "promtool check metrics on the Pushgateway's exposition:\n\(lint.output)")
        let pushed = try PrometheusText(exposition)
        let job = ["job": "drift-worker-run-once"]
        #expect((pushed.value("drift_job_last_success_timestamp_seconds", job) ?? 0) > Date().timeIntervalSince1970 - 600)
        #expect(pushed.value("drift_job_exit_code", job) == 0)
        #expect(pushed.value("drift_last_window_end_timestamp_seconds", job.merging(["monitor": "fraud-scorer"]) { a, _ in a }) != nil)
        #expect(pushed.value("drift_window_lag_seconds", job) == nil, "a pushed lag would never age: not pushed")
        let noDrift = job.merging(["monitor": "fraud-scorer", "result": "no_drift"]) { a, _ in a }
        let checks = try #require(pushed.value("drift_checks_total", noDrift))
        #expect(checks > 0)
        let durations = job.merging(["kind": "drift_check", "outcome": "completed"]) { a, _ in a }
        let timed = try #require(pushed.value("drift_task_duration_seconds_count", durations))

        // A second run finds every window checked: its own counters are 0, the pushed ones keep the first run's
        // counts (carried over), so increase() across pushes is right for CronJob deployments.
        let again = try CLI.run(
            ["run-once", "--config", WorkerSchema.config, "--lookback", "P\(Self.lookbackDays)D", "--no-dispatch"], environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!again.stderr.contains("not carried"), "\(again.stderr)")
        let second = try PrometheusText(try await httpGet(port: gateway.port, "/metrics").body)
        #expect((second.value("drift_checks_total", noDrift) ?? 0) >= checks, "not restarted at this run's 0")
        #expect((second.value("drift_task_duration_seconds_count", durations) ?? 0) >= timed)
        let succeeded = try #require(second.value("drift_job_last_success_timestamp_seconds", job))
        #expect(succeeded >= (pushed.value("drift_job_last_success_timestamp_seconds", job) ?? 0))

        // A failing run (its schema is not there) pushes its exit status and keeps the last success's time, which a
        // PUT of its own would otherwise erase: the "not succeeding" alert can fire while a CronJob keeps failing.
        var broken = env
        broken["DRIFT_SCHEMA"] = "missing_schema"
        let failed = try CLI.run(["run-once", "--config", WorkerSchema.config, "--lookback", "P1D", "--no-dispatch"], environment: broken)
        #expect(failed.status != 0, "\(failed.stderr)")
        let third = try PrometheusText(try await httpGet(port: gateway.port, "/metrics").body)
        #expect(third.value("drift_job_exit_code", job) == Double(failed.status))
        #expect(third.value("drift_job_last_success_timestamp_seconds", job) == succeeded)
        #expect(third.value("drift_stored_metrics_up", job) == 0)
    }
}

@Suite("The shipped alerting rules")
struct AlertRulesTests {
    @Test func theAlertRulesAreValidAndFireAsTheirUnitTestsSay() throws {
        let check = try promtool(["check", "rules", "jobs/prometheus/alerts.yaml"], stdin: "")
        #expect(check.status == 0 && check.output.contains("SUCCESS"), "\(check.output)")
        // promtool test rules resolves rule_files relative to the test file
        let test = try promtool(["test", "rules", "jobs/prometheus/alerts.test.yaml"], stdin: "")
        #expect(test.status == 0 && test.output.contains("SUCCESS"), "\(test.output)")
    }
}

/// Runs promtool with `stdin`, in the repository root; its exit status and combined output.
func promtool(_ args: [String], stdin: String) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
    p.arguments = args
    p.currentDirectoryURL = repoRoot
    let input = Pipe()
    let output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    p.standardError = output
    try p.run()
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a server started right after).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw CocoaError(.fileWriteUnknown) }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A Prometheus server (Debian's `prometheus`) scraping one target every second, in a scratch directory.
final class RealPrometheus {
    let process = Process()
    let port: Int
    let directory: URL

    init(target: String) throws {
        port = try freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drift-prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: drift-worker
                static_configs:
                  - targets: ["\(target)"]
            """
        try config.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = [
            "--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The values of an instant query's vector result (empty while Prometheus starts or has no data).
    func query(_ expr: String) async throws -> [Double] {
        var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: expr)]
        var request = URLRequest(url: components.url!)
        request.timeoutInterval = 30
        guard let (data, _) = try? await URLSession.shared.data(for: request),
            // not yet ready, Prometheus answers in plain text ("Service Unavailable"): an empty result, asked again
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let result = (json["data"] as? [String: Any])?["result"] as? [[String: Any]]
        else { return [] }
        return result.compactMap { ($0["value"] as? [Any])?.last as? String }.compactMap(Double.init)
    }

    func stop() {
        // SIGKILL: the test process's signal mask, which its children inherit, may block SIGTERM
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// A Pushgateway (Debian's `prometheus-pushgateway`) on a free port, ready when `init` returns.
final class RealPushgateway {
    let process = Process()
    let port: Int

    init() throws {
        port = try freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-pushgateway")
        // Debian's build persists to /var/lib/prometheus by default: in memory only, so every test starts empty
        process.arguments = ["--web.listen-address=127.0.0.1:\(port)", "--persistence.file=", "--log.level=warn"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // ready when it answers (bounded)
        for _ in 0..<600 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if ok { return }
            usleep(50_000)
        }
    }

    func stop() {
        // SIGKILL: the test process's signal mask, which its children inherit, may block SIGTERM
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
