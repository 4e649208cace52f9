import DriftTriggers
import Foundation

/// An action a monitor can fire (`actions:` in monitors.yaml): a request to a pipeline or webhook (through the
/// outbox and the dispatcher), or a shadow-traffic evaluation (a task the workers run).
public enum MonitorAction: Sendable, Equatable {
    case trigger(TriggerAction)
    case shadowEval(ShadowEvalConfig)

    /// What the outbox row records as its preset.
    public var preset: String {
        switch self {
        case .trigger(let t): t.target.preset.rawValue
        case .shadowEval: ShadowEvalConfig.preset
        }
    }
}

/// `preset: shadow_eval`: compare a challenger with the champion on the requests both served in the `period`
/// that ends with the window where the policy fired, and decide promote / hold / reject.
public struct ShadowEvalConfig: Sendable, Equatable {
    public static let preset = "shadow_eval"

    /// The challenger's model version (nil: every event with the challenger role).
    public var challenger: String?
    /// How much traffic to judge on, ending at the firing window's end (default: one window).
    public var period: ISODuration?
    /// The output compared (default: the monitor's first output feature).
    public var output: String?
    /// Numeric outputs agree when |champion − challenger| ≤ tolerance…
    public var tolerance: Double = 0.05
    /// …or, when set, when both fall on the same side of this threshold (a score read as a class).
    public var classThreshold: Double?
    public var thresholds = ShadowThresholds()
    /// Actions fired, through the outbox, when the verdict is promote / reject.
    public var onPromote: [String] = []
    public var onReject: [String] = []

    public init(challenger: String? = nil, period: ISODuration? = nil, output: String? = nil) {
        self.challenger = challenger
        self.period = period
        self.output = output
    }
}

/// What a challenger must show to be promoted. Fewer pairs than `minPairs` → hold (not enough evidence); any
/// other threshold missed → reject.
public struct ShadowThresholds: Sendable, Equatable {
    public var minPairs = 200
    public var minAgreement = 0.9
    /// PSI between the champion's and the challenger's outputs on the same requests.
    public var maxOutputPSI = 0.2
    /// Relative p95 latency increase allowed (0.2 = 20 % slower), where latencies are known.
    public var maxLatencyRegression = 0.2
    /// Share of the challenger's requests without a response.
    public var maxErrorRate = 0.01
    /// How much worse than the champion's each realized metric of the challenger may be on the same labelled requests
    /// (absolute, in the metric's own units; "worse" is lower for accuracy-like metrics, higher for error metrics).
    /// Checked only when the monitor has `performance:` and enough of the pairs have ground truth.
    public var maxPerformanceDrop = 0.01

    public init() {}
}
