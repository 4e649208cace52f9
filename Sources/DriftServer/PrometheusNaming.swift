import DriftCore
import Metrics
import Prometheus

/// The swift-metrics backend of the process: swift-prometheus' factory, with every family named to Prometheus
/// conventions and given its HELP text.
///
/// swift-prometheus' own factory registers what swift-metrics hands it under the label as given and without HELP,
/// so Hummingbird's `hb.requests` became `hb_requests` (a counter without `_total`) and `http.server.request.duration`
/// a histogram of seconds without `_seconds`, and `promtool check metrics` failed on every family. Here each known
/// label maps to a full name and a HELP text (`WorkerMetrics.help` for the worker's own; `renamed` for
/// Hummingbird's); dimensions keep their names (dots become underscores in the registry). A label nobody declared
/// still gets a HELP line naming it, so the exposition stays lint-clean.
public struct PrometheusNaming: MetricsFactory {
    public let registry: PrometheusCollectorRegistry
    /// Buckets of every duration histogram (`Timer`).
    public let durationBuckets: [Duration]

    /// Hummingbird's request metrics (MetricsMiddleware) → Prometheus names and HELP texts.
    public static let renamed: [String: (name: String, help: String)] = [
        "hb.requests": ("hb_requests_total", "HTTP requests answered, by route pattern, method and status code."),
        "hb.request.errors": (
            "hb_request_errors_total", "HTTP requests that ended in an error, by route pattern, method and error type (the status code)."
        ),
        "http.server.request.duration": (
            "http_server_request_duration_seconds", "Time to answer HTTP requests, by route pattern, method and status code."
        ),
        "http.server.active_requests": ("http_server_active_requests", "HTTP requests being answered now, by method.")
    ]

    public init(registry: PrometheusCollectorRegistry, durationBuckets: [Duration]) {
        self.registry = registry
        self.durationBuckets = durationBuckets
    }

    /// The exposed name and HELP text of a swift-metrics label.
    public static func describe(_ label: String) -> MetricNameDescriptor {
        if let r = renamed[label] { return MetricNameDescriptor(metricName: r.name, unitName: "", helpText: r.help) }
        if let help = WorkerMetrics.help[label] { return MetricNameDescriptor(metricName: label, unitName: "", helpText: help) }
        let name = String(label.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" ? $0 : "_" })
        // from the sanitised name: two labels that sanitise alike must not register one family with two HELP texts
        return MetricNameDescriptor(metricName: name, unitName: "", helpText: "The swift-metrics metric \(name).")
    }

    private static func labels(_ dimensions: [(String, String)]) -> [(String, String)] {
        dimensions.map { (String($0.0.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }), $0.1) }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: Self.describe(label), labels: Self.labels(dimensions))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: Self.describe(label), labels: Self.labels(dimensions))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        // the worker records gauges only (`Gauge` is a non-aggregating recorder); an aggregating one becomes a gauge too
        registry.makeGauge(descriptor: Self.describe(label), labels: Self.labels(dimensions))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: Self.describe(label), labels: Self.labels(dimensions))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: Self.describe(label), labels: Self.labels(dimensions), buckets: durationBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let h = handler as? DurationHistogram { registry.unregisterDurationHistogram(h) }
    }
}
