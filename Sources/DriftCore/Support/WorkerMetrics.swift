import DriftCapture
import Foundation
import Metrics

/// The counters and histograms the worker records as it works, through swift-metrics (exported by
/// whatever backend the process bootstraps — Prometheus in `serve`; nothing when none is).
///
/// Labels are bounded: `monitor`, `model` and `action` come from `monitors.yaml`; `result`, `kind`,
/// `format` and `outcome` from small fixed sets. No label ever carries a request id, a window or free text.
public enum WorkerMetrics {
    /// `drift_checks_total{monitor, result}`: checks written, `result` ∈ drift | no_drift | insufficient_data.
    public static let checks = "drift_checks_total"
    /// `drift_check_errors_total{monitor}`: checks that failed (the task is retried or discarded).
    public static let checkErrors = "drift_check_errors_total"
    /// `drift_actions_fired_total{monitor, action}`: actions a policy fired (written to the outbox).
    public static let actionsFired = "drift_actions_fired_total"
    /// `drift_task_duration_seconds{kind, outcome}`: queue task run time, outcome ∈ completed | failed.
    public static let taskDuration = "drift_task_duration_seconds"
    /// `drift_capture_events_total{model, format, result}`: captured events, result ∈ accepted | rejected; rejected
    /// series carry `reason` too (`CaptureDecodeError.Reason`: malformed, invalid_value, time, too_large,
    /// unknown_model, unsupported, unauthorized, unavailable) and `model` "unknown" when no monitor watches it.
    public static let captureEvents = "drift_capture_events_total"
    /// `drift_capture_dropped_total{model, reason}`: events left out on purpose, reason ∈ sampled (capture.keep,
    /// max_events_per_second) | duplicate (a re-sent record already committed) | component (another component of the serving
    /// graph than the monitor's `capture.component`).
    public static let captureDropped = "drift_capture_dropped_total"
    /// `drift_trigger_deliveries_total{action, result}`: delivery attempts of outbox actions, result ∈ delivered |
    /// retry | dead.
    public static let triggerDeliveries = "drift_trigger_deliveries_total"
    /// `drift_trigger_delivery_seconds{action}`: time of each delivery attempt's HTTP exchange.
    public static let triggerDeliverySeconds = "drift_trigger_delivery_seconds"
    /// `drift_trigger_runs_total{action, result}`: followed runs that ended, result ∈ succeeded | failed | timed_out
    /// (counted once, by whoever recorded the end: a status check or the receiver's callback).
    public static let triggerRuns = "drift_trigger_runs_total"
    /// `drift_shadow_evaluations_total{monitor, verdict}`: shadow evaluations stored, verdict ∈ promote | hold | reject.
    public static let shadowEvaluations = "drift_shadow_evaluations_total"
    /// `drift_window_backlog{monitor}` (gauge): windows due within the look-back that have no run yet, as of the
    /// scheduler's last tick or the last check task; 0 when the monitor is caught up.
    public static let windowBacklog = "drift_window_backlog"

    /// Sets a monitor's window backlog.
    public static func recordBacklog(monitor: String, windows: Int) {
        Gauge(label: windowBacklog, dimensions: [("monitor", monitor)]).record(windows)
    }

    /// Records a written check and the actions it fired (a check that wrote nothing — already done — is not counted).
    public static func recordCheck(monitor: String, outcome: DriftCheck.Outcome) {
        guard outcome.written else { return }
        let result: String
        switch (outcome.status, outcome.drifted) {
        case (.insufficientData, _): result = DriftCheck.Status.insufficientData.rawValue
        case (_, true): result = "drift"
        default: result = "no_drift"
        }
        Counter(label: checks, dimensions: [("monitor", monitor), ("result", result)]).increment()
        for action in outcome.firedActions {
            Counter(label: actionsFired, dimensions: [("monitor", monitor), ("action", action)]).increment()
        }
    }

    public static func recordCheckError(monitor: String) {
        Counter(label: checkErrors, dimensions: [("monitor", monitor)]).increment()
    }

    /// Times `body` as a task of `kind`.
    public static func timeTask<T>(kind: String, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let value = try await body()
            record(kind: kind, outcome: "completed", since: start)
            return value
        } catch {
            record(kind: kind, outcome: "failed", since: start)
            throw error
        }
    }

    private static func record(kind: String, outcome: String, since start: ContinuousClock.Instant) {
        let d = ContinuousClock.now - start
        let nanos = d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
        Timer(label: taskDuration, dimensions: [("kind", kind), ("outcome", outcome)]).recordNanoseconds(nanos)
    }

    /// Accepted events, and rejected rows of files (`ingest`: reason `invalid_value`).
    public static func recordCapture(model: String, format: String, accepted: Int, rejected: Int) {
        if accepted > 0 {
            Counter(label: captureEvents, dimensions: [("model", model), ("format", format), ("result", "accepted")]).increment(by: accepted)
        }
        recordCaptureRejected(model: model, format: format, reason: CaptureDecodeError.Reason.invalidValue.rawValue, count: rejected)
    }

    /// Events (or whole requests) refused at the boundary, by reason. `model` must be a configured model or
    /// "unknown"; `format` a format label or "unknown".
    public static func recordCaptureRejected(model: String, format: String, reason: String, count: Int = 1) {
        guard count > 0 else { return }
        Counter(label: captureEvents, dimensions: [("model", model), ("format", format), ("result", "rejected"), ("reason", reason)]).increment(
            by: count)
    }

    public static func recordCaptureDropped(model: String, sampled: Int, duplicates: Int, otherComponent: Int = 0) {
        if otherComponent > 0 {
            Counter(label: captureDropped, dimensions: [("model", model), ("reason", "component")]).increment(by: otherComponent)
        }
        if sampled > 0 { Counter(label: captureDropped, dimensions: [("model", model), ("reason", "sampled")]).increment(by: sampled) }
        if duplicates > 0 { Counter(label: captureDropped, dimensions: [("model", model), ("reason", "duplicate")]).increment(by: duplicates) }
    }

    public static func recordDelivery(action: String, result: String, seconds: Double) {
        Counter(label: triggerDeliveries, dimensions: [("action", action), ("result", result)]).increment()
        if seconds > 0 { Timer(label: triggerDeliverySeconds, dimensions: [("action", action)]).recordNanoseconds(Int64(seconds * 1e9)) }
    }

    public static func recordRunEnd(action: String, result: String) {
        Counter(label: triggerRuns, dimensions: [("action", action), ("result", result)]).increment()
    }

    public static func recordShadowEvaluation(monitor: String, verdict: String) {
        Counter(label: shadowEvaluations, dimensions: [("monitor", monitor), ("verdict", verdict)]).increment()
    }
}
