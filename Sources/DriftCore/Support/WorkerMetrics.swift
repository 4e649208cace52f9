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
    /// `drift_labels_total{model, outcome}`: ground-truth labels received (`POST /v1/labels`, `ingest --format labels`),
    /// outcome ∈ stored (a request's first label) | replaced (another truth replaced the stored one) | duplicate (the same
    /// truth again) | rejected (with `reason`, a `CaptureDecodeError.Reason`; `model` "unknown" when no monitor watches it).
    public static let labels = "drift_labels_total"

    /// The HELP text of each family above (the Prometheus backend writes it; `promtool check metrics` wants one per family).
    public static let help: [String: String] = [
        checks: "Drift checks written, by monitor and result (drift, no_drift, insufficient_data).",
        checkErrors: "Drift checks that failed (the task is retried or discarded), by monitor.",
        actionsFired: "Actions a monitor's policy fired (written to the trigger outbox), by monitor and action.",
        taskDuration: "Run time of queue tasks, by kind and outcome (completed, failed).",
        captureEvents: "Captured inference events, by model, format and result (accepted, rejected; rejected with a reason).",
        captureDropped: "Captured events left out on purpose, by model and reason (sampled, duplicate, component).",
        triggerDeliveries: "Delivery attempts of fired actions, by action and result (delivered, retry, dead).",
        triggerDeliverySeconds: "Time of each trigger delivery attempt's HTTP exchange, by action.",
        triggerRuns: "Followed pipeline runs that ended, by action and result (succeeded, failed, timed_out).",
        shadowEvaluations: "Shadow evaluations stored, by monitor and verdict (promote, hold, reject).",
        windowBacklog: "Due windows within the look-back that have no run yet, by monitor (0: caught up).",
        labels: "Ground-truth labels received, by model and outcome (stored, replaced, duplicate, rejected; rejected with a reason)."
    ]

    /// The capture formats of `POST /v1/capture` as `drift_capture_events_total` labels them.
    public static let httpCaptureFormats = [
        "kserve-v1", "kserve-oip", "kserve-csv", "seldon-v1", "seldon-oip", "seldon-message", "azureml", "sagemaker"
    ]
    static let checkResults = ["drift", "no_drift", DriftCheck.Status.insufficientData.rawValue]
    static let deliveryResults = ["delivered", "retry", "dead"]
    static let runResults = ["succeeded", "failed", "timed_out"]
    static let verdicts = ["promote", "hold", "reject"]

    /// Creates, at 0, every counter and histogram series the configured `monitors` can produce, so that
    /// Prometheus' first scrape sees 0 and `increase()`/`rate()` count the first events (a series that appears
    /// on its first increment already holds it). `capture`: also the capture series of each monitored model
    /// (processes that serve `POST /v1/capture`). Call after the metrics backend is bootstrapped; calling again is harmless.
    public static func initialise(monitors: [MonitorConfig], capture: Bool) {
        let refusals = CaptureDecodeError.Reason.allCases.map(\.rawValue)
        var triggerActions = Set<String>()
        for m in monitors {
            for r in checkResults { _ = Counter(label: checks, dimensions: [("monitor", m.name), ("result", r)]) }
            _ = Counter(label: checkErrors, dimensions: [("monitor", m.name)])
            var shadow = false
            for (name, action) in m.actions.sorted(by: { $0.key < $1.key }) {
                _ = Counter(label: actionsFired, dimensions: [("monitor", m.name), ("action", name)])
                switch action {
                case .trigger: triggerActions.insert(name)
                case .shadowEval: shadow = true
                }
            }
            if shadow { for v in verdicts { _ = Counter(label: shadowEvaluations, dimensions: [("monitor", m.name), ("verdict", v)]) } }
        }
        for kind in DriftTasks.kinds + [ShadowEvalTasks.kind] {
            for outcome in ["completed", "failed"] { _ = Timer(label: taskDuration, dimensions: [("kind", kind), ("outcome", outcome)]) }
        }
        for action in triggerActions.sorted() {
            for r in deliveryResults { _ = Counter(label: triggerDeliveries, dimensions: [("action", action), ("result", r)]) }
            for r in runResults { _ = Counter(label: triggerRuns, dimensions: [("action", action), ("result", r)]) }
            _ = Timer(label: triggerDeliverySeconds, dimensions: [("action", action)])
        }
        guard capture else { return }
        for model in Set(monitors.map(\.model)).sorted() {
            for format in httpCaptureFormats {
                _ = Counter(label: captureEvents, dimensions: [("model", model), ("format", format), ("result", "accepted")])
                for reason in refusals {
                    _ = Counter(label: captureEvents, dimensions: [("model", model), ("format", format), ("result", "rejected"), ("reason", reason)])
                }
            }
            for reason in ["sampled", "duplicate", "component"] {
                _ = Counter(label: captureDropped, dimensions: [("model", model), ("reason", reason)])
            }
            for outcome in labelOutcomes { _ = Counter(label: labels, dimensions: [("model", model), ("outcome", outcome)]) }
            for reason in refusals { _ = Counter(label: labels, dimensions: [("model", model), ("outcome", "rejected"), ("reason", reason)]) }
        }
        for reason in refusals { _ = Counter(label: labels, dimensions: [("model", "unknown"), ("outcome", "rejected"), ("reason", reason)]) }
        // refused before the model or the format was known
        for reason in refusals {
            _ = Counter(label: captureEvents, dimensions: [("model", "unknown"), ("format", "unknown"), ("result", "rejected"), ("reason", reason)])
        }
    }

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

    /// An action fired outside a check (a re-score whose performance drop fired the policy).
    public static func recordActionFired(monitor: String, action: String) {
        Counter(label: actionsFired, dimensions: [("monitor", monitor), ("action", action)]).increment()
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

    /// Labels received for `model` (a configured model, or "unknown"), by outcome (`stored`, `replaced`, `duplicate`).
    public static func recordLabels(model: String, outcome: String, count: Int) {
        guard count > 0 else { return }
        Counter(label: labels, dimensions: [("model", model), ("outcome", outcome)]).increment(by: count)
    }

    /// Labels refused, by reason.
    public static func recordLabelsRejected(model: String, reason: String, count: Int = 1) {
        guard count > 0 else { return }
        Counter(label: labels, dimensions: [("model", model), ("outcome", "rejected"), ("reason", reason)]).increment(by: count)
    }

    static let labelOutcomes = ["stored", "replaced", "duplicate"]

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
