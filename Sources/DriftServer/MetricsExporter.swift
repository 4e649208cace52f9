import DriftStore
import Foundation
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

    /// Points swift-metrics at `shared`; call once per process, before any metric is recorded.
    public static func bootstrapMetricsSystem() {
        var factory = PrometheusMetricsFactory(registry: shared)
        // Task durations: 10 ms … 5 min; HTTP requests use the same buckets.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(300)
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// `client` and `monitors`: read the stored drift state at scrape time (nil: only in-process metrics).
    public init(registry: PrometheusCollectorRegistry = MetricsExporter.shared, client: PostgresClient?, monitors: [String]) {
        self.registry = registry
        self.process = ProcessMetrics(registry: registry)
        self.stored = client.map { StoredStateMetrics(registry: registry, client: $0, monitors: monitors) }
    }

    /// The exposition text (format 0.0.4), after reading the stored state and the process figures.
    public func scrape() async -> String {
        await stored?.refresh()
        process.update()
        return registry.emitToString()
    }

    /// The in-process metrics only (for a Pushgateway push at the end of a batch job).
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
