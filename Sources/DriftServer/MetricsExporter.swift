import DriftStore
import Foundation
import Logging
import Metrics
import Prometheus

/// The Prometheus side of the process: one registry that backs swift-metrics (the worker's counters and
/// histograms, Hummingbird's request metrics) and the scrape-time gauges (stored drift state, process).
public final class MetricsExporter: Sendable {
    public let registry: PrometheusCollectorRegistry
    let process: ProcessMetrics
    let stored: StoredStateMetrics?

    /// The registry swift-metrics reports into once `bootstrapMetricsSystem()` ran.
    public static let shared = PrometheusCollectorRegistry()

    /// Buckets of every duration histogram: 10 ms … 5 min (task durations, deliveries, HTTP requests).
    public static let durationBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60), .seconds(300)
    ]

    /// Points swift-metrics at `shared` (through `PrometheusNaming`: conventional names, HELP on every family); call
    /// once per process, before any metric is recorded.
    public static func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusNaming(registry: shared, durationBuckets: durationBuckets))
    }

    /// `client` and `monitors`: read the stored drift state at scrape time (nil: only in-process metrics).
    /// `logger`: where a stored-state read that fails or hangs is reported.
    public init(
        registry: PrometheusCollectorRegistry = MetricsExporter.shared, client: PostgresClient?, monitors: [String],
        labelDelays: [String: Double] = [:], logger: Logger = Logger(label: "drift-worker")
    ) {
        self.registry = registry
        self.process = ProcessMetrics(registry: registry)
        self.stored = client.map { StoredStateMetrics(registry: registry, client: $0, monitors: monitors, labelDelays: labelDelays, logger: logger) }
    }

    /// The exposition text (format 0.0.4) for a scrape: the stored state as of the newest read that finished
    /// within `wait` seconds (a read that takes longer goes on in the background and the cached values are served,
    /// flagged by `drift_stored_metrics_up` 0 and `drift_stored_metrics_age_seconds`), and the process figures.
    /// A scrape therefore answers in about `wait` seconds whatever the database does.
    public func scrape(wait: Double = 0.5) async -> String {
        await stored?.refresh(wait: wait)
        process.update()
        return registry.emitToString()
    }

    /// For a Pushgateway push at the end of a batch job: waits up to `wait` seconds for a fresh read of the stored
    /// state (the job's own checks), without the gauges that only mean something while a process runs
    /// (`drift_window_lag_seconds`, `drift_stored_metrics_age_seconds`: a pushed value would never age).
    public func pushExposition(wait: Double = 30) async -> String {
        await stored?.refresh(wait: wait, forPush: true)
        process.update()
        return registry.emitToString()
    }

    /// The in-process metrics only.
    public func snapshot() -> String {
        process.update()
        return registry.emitToString()
    }
}

extension MetricNameDescriptor {
    /// A full metric name (already with its unit suffix) and its HELP text.
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
