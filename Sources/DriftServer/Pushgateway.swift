import DriftCommon
import DriftTriggers
import Foundation
import Prometheus

/// Pushes a batch job's metrics to a Prometheus Pushgateway, the convention for jobs that end before
/// Prometheus could scrape them (`run-once` in a CronJob, `backfill`).
///
/// `PUT <url>/metrics/job/<job>[/<label>/<value>…]` replaces the group's metrics, so the newest run's
/// figures are what Prometheus sees. Besides the worker's metrics, the push carries
/// `drift_job_duration_seconds`, `drift_job_exit_code` and, on success only,
/// `drift_job_last_success_timestamp_seconds` (alert when it grows old). Counters and histograms are carried over
/// from the group's previous push (`PushCarry`), so they grow across runs as a long-running process's would.
public struct Pushgateway: Sendable {
    public let url: String
    public let job: String
    public let grouping: [(String, String)]
    public var client: HTTPClient

    public init(url: String, job: String, grouping: [(String, String)] = [], client: HTTPClient = HTTPClient()) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.job = job
        self.grouping = grouping
        self.client = client
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static let lastSuccess = "drift_job_last_success_timestamp_seconds"

    /// The group's URL; names and values are percent-encoded as path segments.
    public var groupURL: String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        func seg(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
        return ([url, "metrics", "job", seg(job)] + grouping.flatMap { [seg($0.0), seg($0.1)] }).joined(separator: "/")
    }

    /// Records the job's outcome in `registry`, then pushes `text` (the exposition to send, read after this call
    /// records the outcome: pass a closure), its counters carried over from the previous push of the group. Returns
    /// a note when they could not be (the push itself went ahead: its counters then count this run only).
    @discardableResult
    public func push(
        registry: PrometheusCollectorRegistry, duration: Double, exitCode: Int32,
        exposition: () async -> String
    ) async throws -> String? {
        // what the group holds now: read before this run's outcome is recorded
        let previous: [String: Double]
        let note: String?
        do {
            previous = try await previousValues()
            note = nil
        } catch {
            previous = [:]
            note = "counters not carried over from the previous push: \(error)"
        }
        registry.makeGauge(descriptor: .named("drift_job_duration_seconds", help: "Wall time of the batch job's last run.")).set(duration)
        registry.makeGauge(descriptor: .named("drift_job_exit_code", help: "Exit status of the batch job's last run (0: success).")).set(
            Double(exitCode))
        let lastSuccess = registry.makeGauge(
            descriptor: .named(Self.lastSuccess, help: "When the batch job last succeeded (Unix time)."))
        if exitCode == 0 {
            lastSuccess.set(Date().timeIntervalSince1970)
        } else if let before = previous[PushCarry.key(name: Self.lastSuccess, labels: [:])] {
            // a PUT replaces the group: a failed run keeps the last success's time, or "not succeeding" alerts could not fire
            lastSuccess.set(before)
        } else {
            registry.unregisterGauge(lastSuccess)
        }
        let text = PushCarry.carry(await exposition(), previous: previous)
        let body = Data(text.utf8)
        let request = HTTPRequest(method: "PUT", url: groupURL, headers: [("Content-Type", "text/plain; version=0.0.4")], body: body)
        let client = self.client
        let response: HTTPResponse
        do {
            response = try await client.send(request)
        } catch let e as HTTPClientError {
            throw Failure(description: "cannot push metrics to the Pushgateway: \(e.description)")
        }
        guard (200..<300).contains(response.status) else {
            throw Failure(
                description: "the Pushgateway at \(HTTPClient.redact(url)) refused the metrics: HTTP \(response.status) \(response.text.prefix(300))")
        }
        return note
    }

    /// The group's counters and histograms as the Pushgateway holds them now (empty: no previous push).
    private func previousValues() async throws -> [String: Double] {
        var client = self.client
        // every group of the Pushgateway comes back: bounded, so a shared Pushgateway cannot exhaust a small job's memory
        client.options.maxBodyBytes = 8 << 20
        let response: HTTPResponse
        do { response = try await client.send(HTTPRequest(method: "GET", url: url + "/api/v1/metrics")) } catch let e as HTTPClientError {
            throw Failure(description: e.description)
        }
        guard response.status == 200 else { throw Failure(description: "GET /api/v1/metrics answered HTTP \(response.status)") }
        guard !response.truncated else { throw Failure(description: "GET /api/v1/metrics answered more than 8 MiB") }
        let answer: JSONValue
        do { answer = try JSONParser.parse(response.body, limits: .init(maxDepth: 16, maxValues: 2_000_000)) } catch {
            throw Failure(description: "GET /api/v1/metrics did not answer JSON: \(error)")
        }
        var group = ["job": job]
        for (k, v) in grouping { group[k] = v }
        return try PushCarry.previous(apiAnswer: answer, group: group, gauges: [Self.lastSuccess])
    }
}
