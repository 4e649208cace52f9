import DriftStore
import Foundation
import Logging
import NIOConcurrencyHelpers
import Prometheus

/// Gauges read from the database at scrape time, so every replica reports the same stored truth:
///
/// - `drift_feature_psi{monitor, feature}`, `drift_feature_ks_statistic{monitor, feature}` (numeric features
///   only), `drift_feature_drifted{monitor, feature}` (1/0) — from the monitor's newest completed run;
/// - `drift_monitor_drifted{monitor}` (1/0, newest completed run), `drift_window_lag_seconds{monitor}` (now −
///   end of the newest checked window, any status), `drift_last_window_end_timestamp_seconds{monitor}`;
/// - `drift_monitor_failing{monitor}` (1 while the monitor is paused after failing checks, else 0);
/// - `drift_queue_tasks{kind, state}` for the states that are not final, plus `discarded`;
/// - `drift_trigger_outbox_actions{action, state}` (pending, sending, delivered, dead — dead ones need a person).
///
/// Series whose labels vanish (a feature dropped from a monitor) are unregistered.
///
/// A scrape never waits on the database for long: reads run in a task of their own, at most one at a time and at
/// most one per `minInterval` seconds, and a scrape waits for a running read only up to its budget. When a read
/// fails, or is still running when the scrape's budget ends (a hung or unreachable database), the scrape serves the
/// values of the last good read with `drift_stored_metrics_up` 0 and `drift_stored_metrics_age_seconds` telling how
/// old they are, and a warning is logged (again at most once a minute while it lasts; recovery is logged too).
public final class StoredStateMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let client: PostgresClient
    private let monitors: [String]
    /// Per model with performance monitoring: how long its labels may wait for their request (the largest `label_delay`).
    private let labelDelays: [String: Double]
    private let minInterval: Double
    private let logger: Logger
    private let created = Date()
    /// The gauges by name and labels (so vanished series can be unregistered), and the reads' bookkeeping.
    private struct Current {
        var lastStart: Date = .distantPast
        var lastSuccess: Date?
        var lastError: String?
        var inFlight: SharedResult<Bool>?
        var inFlightSince: Date?
        var warnedAt: Date?
        var gauges: [String: Gauge] = [:]
    }
    private let current = NIOLockedValueBox(Current())
    private let up: Gauge

    static let queueStates = ["available", "scheduled", "running", "retryable", "discarded"]
    static let outboxStates = ["pending", "sending", "delivered", "dead"]
    /// Gauges a push leaves out: their pushed value would never age.
    static let liveOnly: Set<String> = ["drift_window_lag_seconds", "drift_stored_metrics_age_seconds"]

    public init(
        registry: PrometheusCollectorRegistry, client: PostgresClient, monitors: [String], labelDelays: [String: Double] = [:],
        minInterval: Double = 5, logger: Logger = Logger(label: "drift-worker")
    ) {
        self.labelDelays = labelDelays
        self.registry = registry
        self.client = client
        self.monitors = monitors
        self.minInterval = minInterval
        self.logger = logger
        self.up = registry.makeGauge(
            descriptor: .named(
                "drift_stored_metrics_up",
                help:
                    "1 when the newest read of stored drift results and queue state succeeded in time, else 0 (the stored gauges are then cached values)."
            ))
    }

    struct Sample {
        var name: String
        var labels: [(String, String)]
        var value: Double
        var help: String
    }

    /// Brings the stored gauges up to date as far as the database allows within `wait` seconds (see the type's
    /// contract). `forPush`: leave out the gauges that only mean something while a process runs.
    public func refresh(wait: Double, forPush: Bool = false, now: Date = Date()) async {
        let (read, mine) = current.withLockedValue { s -> (SharedResult<Bool>?, Bool) in
            if let running = s.inFlight { return (running, false) }
            guard now.timeIntervalSince(s.lastStart) >= minInterval else { return (nil, false) }
            let shared = SharedResult<Bool>()
            s.inFlight = shared
            s.inFlightSince = now
            s.lastStart = now
            return (shared, true)
        }
        if let read, mine {
            let monitors = self.monitors
            let labelDelays = self.labelDelays
            let client = self.client
            Task {
                let outcome: Result<[Sample], Error>
                do {
                    outcome = .success(
                        try await client.withConnection { c in try Self.read(c, monitors: monitors, labelDelays: labelDelays, now: Date()) })
                } catch {
                    outcome = .failure(error)
                }
                self.finish(read, outcome)
            }
        }
        let budget = wait.isFinite && wait > 0 ? wait : 0.5
        if let read {
            _ = await withTaskGroup(of: Bool?.self) { group in
                group.addTask { await read.value() }
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(Int64(budget * 1000)))
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }
        report(now: Date(), forPush: forPush, budget: budget)
    }

    /// Stores a finished read's gauges (or its error) and wakes the scrapes waiting for it.
    private func finish(_ read: SharedResult<Bool>, _ outcome: Result<[Sample], Error>) {
        current.withLockedValue { s in
            switch outcome {
            case .success(let samples):
                s.gauges = apply(samples, to: s.gauges)
                s.lastSuccess = Date()
                s.lastError = nil
            case .failure(let error):
                s.lastError = "\(error)"
            }
            if s.inFlight === read {
                s.inFlight = nil
                s.inFlightSince = nil
            }
        }
        read.fulfil((try? outcome.get()) != nil)
    }

    /// Sets `up` and the age gauge from the reads' state, and logs a warning when the values are stale.
    /// `budget`: a read running longer than this (the scrape's wait) makes the values stale.
    private func report(now: Date, forPush: Bool, budget: Double) {
        let (healthy, age, problem, recovered) = current.withLockedValue { s -> (Bool, Double, String?, Bool) in
            let age = now.timeIntervalSince(s.lastSuccess ?? created)
            var problem: String?
            if let since = s.inFlightSince, now.timeIntervalSince(since) >= budget {
                problem = "the database has not answered for \(Int(now.timeIntervalSince(since))) s"
            } else if let e = s.lastError {
                problem = e
            }
            guard let problem else {
                let recovered = s.warnedAt != nil
                s.warnedAt = nil
                return (s.lastSuccess != nil, age, nil, recovered)
            }
            if let w = s.warnedAt, now.timeIntervalSince(w) < 60 { return (false, age, nil, false) }
            s.warnedAt = now
            return (false, age, problem, false)
        }
        up.set(healthy ? 1.0 : 0.0)
        if !forPush {
            registry.makeGauge(
                descriptor: .named(
                    "drift_stored_metrics_age_seconds",
                    help: "Seconds since the stored drift state was last read successfully (since start when never).")
            )
            .set(age)
        }
        if let problem {
            logger.warning(
                "stored drift state not read; serving cached values",
                metadata: ["error": "\(problem)", "metrics.age_seconds": .stringConvertible(Int(age))])
        } else if recovered {
            logger.info("stored drift state read again", metadata: [:])
        }
        if forPush {
            current.withLockedValue { s in
                for (key, g) in s.gauges where Self.liveOnly.contains(String(key.prefix { $0 != "|" })) {
                    registry.unregisterGauge(g)
                    s.gauges[key] = nil
                }
            }
        }
    }

    static func read(_ c: PGConnection, monitors: [String], labelDelays: [String: Double] = [:], now: Date) throws -> [Sample] {
        var out: [Sample] = []
        let features = try c.query(
            """
            WITH latest AS (
                SELECT DISTINCT ON (monitor) id, monitor, drifted FROM drift_runs
                WHERE monitor = ANY($1) AND status = 'completed' ORDER BY monitor, window_start DESC)
            SELECT l.monitor, l.drifted AS run_drifted, f.feature, f.kind, f.psi, f.ks_statistic, f.drifted
            FROM latest l JOIN drift_feature_results f ON f.run_id = l.id ORDER BY l.monitor, f.feature
            """, [monitors], name: "metrics.features")
        var seenMonitor = Set<String>()
        for r in features {
            let m = try r.string("monitor")
            let f = try r.string("feature")
            let labels = [("monitor", m), ("feature", f)]
            if let psi = try r.optionalDouble("psi"), psi.isFinite {
                out.append(
                    Sample(
                        name: "drift_feature_psi", labels: labels, value: psi,
                        help: "PSI of the feature in the monitor's newest completed window."))
            }
            if let ks = try r.optionalDouble("ks_statistic"), ks.isFinite {
                out.append(
                    Sample(
                        name: "drift_feature_ks_statistic", labels: labels, value: ks,
                        help: "Two-sample KS statistic of the feature in the newest completed window."))
            }
            out.append(
                Sample(
                    name: "drift_feature_drifted", labels: labels, value: try r.bool("drifted") ? 1 : 0,
                    help: "1 if the feature drifted in the monitor's newest completed window."))
            if seenMonitor.insert(m).inserted, let d = try r.optionalString("run_drifted") {
                out.append(
                    Sample(
                        name: "drift_monitor_drifted", labels: [("monitor", m)], value: d == "t" ? 1 : 0,
                        help: "1 if the monitor's newest completed window drifted (dataset verdict)."))
            }
        }
        let newest = try c.query(
            """
            SELECT DISTINCT ON (monitor) monitor, window_end FROM drift_runs
            WHERE monitor = ANY($1) ORDER BY monitor, window_start DESC
            """, [monitors], name: "metrics.lag")
        for r in newest {
            let m = try r.string("monitor")
            let end = try r.date("window_end")
            out.append(
                Sample(
                    name: "drift_window_lag_seconds", labels: [("monitor", m)], value: now.timeIntervalSince(end),
                    help: "Seconds from the end of the monitor's newest checked window to now."))
            out.append(
                Sample(
                    name: "drift_last_window_end_timestamp_seconds", labels: [("monitor", m)],
                    value: end.timeIntervalSince1970, help: "End of the monitor's newest checked window (Unix time)."))
        }
        // every configured monitor has the series (0 when healthy), so an alert sees the change from 0 to 1
        var failing: [String: Double] = [:]
        for r in try c.query("SELECT monitor FROM monitor_failures WHERE monitor = ANY($1)", [monitors], name: "metrics.failing") {
            failing[try r.string("monitor")] = 1
        }
        for m in monitors {
            out.append(
                Sample(
                    name: "drift_monitor_failing", labels: [("monitor", m)], value: failing[m] ?? 0,
                    help: "1 while the monitor's checks keep failing (paused with backoff; see /readyz and the logs), else 0."))
        }
        // performance (issue 20), only with performance monitoring configured: each metric's newest figure of each
        // kind within the label delay and a month, and the newest scored window's coverage
        // (a bound for the sort, wide enough for windows up to a month long)
        let since = now.addingTimeInterval(-((labelDelays.values.max() ?? 0) + 31 * 86_400))
        let figures =
            labelDelays.isEmpty
            ? []
            : Array(
                try c.query(
                    """
                    SELECT DISTINCT ON (monitor, kind, metric) monitor, kind, metric, value FROM performance_results
                    WHERE monitor = ANY($1) AND window_start >= $2 ORDER BY monitor, kind, metric, window_start DESC
                    """, [monitors, since], name: "metrics.performance"))
        for r in figures {
            let value = try r.double("value")
            guard value.isFinite else { continue }
            out.append(
                Sample(
                    name: "drift_model_performance",
                    labels: [("monitor", try r.string("monitor")), ("metric", try r.string("metric")), ("kind", try r.string("kind"))],
                    value: value,
                    help:
                        "The model's performance metric in the newest window that has it, by monitor, metric and kind (realized from labels, estimated by CBPE)."
                ))
        }
        let windows =
            labelDelays.isEmpty
            ? []
            : Array(
                try c.query(
                    """
                    SELECT DISTINCT ON (monitor) monitor, coverage, dropped FROM performance_windows
                    WHERE monitor = ANY($1) AND window_start >= $2 ORDER BY monitor, window_start DESC
                    """, [monitors, since], name: "metrics.coverage"))
        for r in windows {
            let m = try r.string("monitor")
            out.append(
                Sample(
                    name: "drift_label_coverage_ratio", labels: [("monitor", m)], value: try r.optionalDouble("coverage") ?? 0,
                    help: "Share of the newest scored window's predictions that have a ground-truth label (0 to 1)."))
            out.append(
                Sample(
                    name: "drift_performance_dropped", labels: [("monitor", m)], value: try r.bool("dropped") ? 1 : 0,
                    help: "1 when the newest scored window's performance left its band (realized, else estimated), else 0."))
        }
        // labels still without a captured request `label_delay` after they arrived (served by ground_truth_unmatched)
        for (model, delay) in labelDelays.sorted(by: { $0.key < $1.key }) {
            let n = try c.query(
                "SELECT count(*) AS n FROM ground_truth WHERE model = $1 AND matched_at IS NULL AND received_at < $2",
                [model, now.addingTimeInterval(-delay)], name: "metrics.unmatched")[0]
            out.append(
                Sample(
                    name: "drift_labels_unmatched", labels: [("model", model)], value: Double(try n.int("n")),
                    help:
                        "Ground-truth labels that joined no captured request of their model within label_delay of their arrival (an id capture never stored, or a request captured by no monitor)."
                ))
        }
        var queue: [String: [String: Double]] = [:]
        for r in try c.query(
            """
            SELECT kind, state, count(*) AS n FROM tasks WHERE state = ANY($1) GROUP BY kind, state
            """, [queueStates], name: "metrics.queue")
        {
            queue[try r.string("kind"), default: [:]][try r.string("state")] = Double(try r.int("n"))
        }
        if queue["drift_check"] == nil { queue["drift_check"] = [:] }  // always report the worker's own kind
        for (kind, states) in queue {
            for s in queueStates {
                out.append(
                    Sample(
                        name: "drift_queue_tasks", labels: [("kind", kind), ("state", s)], value: states[s] ?? 0,
                        help: "Queue tasks by kind and state (final states other than discarded are not counted)."))
            }
        }
        var outbox: [String: [String: Double]] = [:]
        for r in try c.query("SELECT action, state, count(*) AS n FROM trigger_outbox GROUP BY action, state", name: "metrics.outbox") {
            outbox[try r.string("action"), default: [:]][try r.string("state")] = Double(try r.int("n"))
        }
        for (action, states) in outbox {
            for s in outboxStates {
                out.append(
                    Sample(
                        name: "drift_trigger_outbox_actions", labels: [("action", action), ("state", s)], value: states[s] ?? 0,
                        help: "Fired actions in the trigger outbox by action and delivery state."))
            }
        }
        return out
    }

    /// Sets the gauges of `samples` (registering new series) and unregisters those of `gauges` that are gone; returns the new set.
    private func apply(_ samples: [Sample], to gauges: [String: Gauge]) -> [String: Gauge] {
        var next: [String: Gauge] = [:]
        for s in samples {
            let key = s.name + "|" + s.labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            let g = gauges[key] ?? registry.makeGauge(descriptor: .named(s.name, help: s.help), labels: s.labels)
            g.set(s.value)
            next[key] = g
        }
        for (key, g) in gauges where next[key] == nil { registry.unregisterGauge(g) }
        return next
    }
}
