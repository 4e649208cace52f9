import DriftStats
import Foundation

/// `performance:` of a monitor (issue 20): what the model predicts and how its performance is measured per window,
/// realized from ground-truth labels joined to the captured requests, and estimated (CBPE) before they arrive.
///
/// ```yaml
/// performance:
///   task: binary_classification      # binary_classification | multiclass | regression
///   prediction: score                # a monitor feature: numeric (a score or a regression output) or, for
///                                    # multiclass, categorical (the predicted class)
///   threshold: 0.5                   # binary: score >= threshold predicts the positive class
///   label_positive: "1"              # binary: the label text (or number) of the positive class
///   classes: [a, b, c]               # multiclass, optional: the class list (default: the classes seen)
///   metrics: [roc_auc, f1, accuracy] # default per task, see `defaultMetrics`
///   min_labels: 200                  # realized figures once this many of a window's predictions have a label
///   label_delay: P2D                 # labels are waited for this long after a window's end
///   reference_label: label           # a reference file's column holding the labels
///   reference_file: labelled.csv     # a labelled file for the baseline instead of the monitor's reference
///   chunk_size: 1000                 # reference chunk size for the alert bands (default: sample_size)
///   max_rows: 100000                 # a window's predictions read at most (a uniform sample beyond it)
///   bounds: {f1: {lower: 0.6}}       # absolute alert bounds, replacing the reference band of a metric
/// ```
public struct PerformanceConfig: Sendable, Equatable {
    /// An absolute alert bound of one metric; either side may be absent.
    public struct Bound: Sendable, Equatable {
        public var lower: Double?
        public var upper: Double?
        public init(lower: Double? = nil, upper: Double? = nil) {
            self.lower = lower
            self.upper = upper
        }
    }

    public var task: PerformanceTask
    /// The monitor feature holding the model's prediction.
    public var prediction: String
    public var threshold: Double = 0.5
    public var labelPositive: String = "1"
    public var classes: [String]? = nil
    public var metrics: [PerformanceMetric]
    public var minLabels: Int = 200
    public var labelDelay: ISODuration = ISODuration(seconds: 2 * 86_400)
    public var referenceLabel: String = "label"
    /// A labelled file (CSV / JSON Lines with the prediction column and `referenceLabel`) the baseline is fitted on
    /// instead of the monitor's reference: a validation set when the drift reference has no labels. Relative paths
    /// resolve like `reference.file`'s. nil: the monitor's reference.
    public var referenceFile: String? = nil
    /// nil: the monitor's `sample_size`.
    public var chunkSize: Int? = nil
    public var maxRows: Int = 100_000
    public var bounds: [PerformanceMetric: Bound] = [:]

    public init(task: PerformanceTask, prediction: String, metrics: [PerformanceMetric]? = nil) {
        self.task = task
        self.prediction = prediction
        self.metrics = metrics ?? Self.defaultMetrics(task)
    }

    /// binary_classification: roc_auc, f1, precision, recall, accuracy (the metrics CBPE also estimates);
    /// multiclass: accuracy, f1; regression: mae, rmse.
    public static func defaultMetrics(_ task: PerformanceTask) -> [PerformanceMetric] {
        switch task {
        case .binaryClassification: [.rocAUC, .f1, .precision, .recall, .accuracy]
        case .multiclass: [.accuracy, .f1]
        case .regression: [.mae, .rmse]
        }
    }

    /// The metrics a task accepts. A multiclass prediction is a class, not probabilities, so only the metrics of
    /// predicted classes apply there.
    public static func allowedMetrics(_ task: PerformanceTask) -> [PerformanceMetric] {
        switch task {
        case .binaryClassification: [.accuracy, .precision, .recall, .f1, .rocAUC, .logLoss, .brier, .ece]
        case .multiclass: [.accuracy, .precision, .recall, .f1]
        case .regression: [.mae, .rmse, .mape, .r2]
        }
    }

    /// Per model with performance monitoring, the largest `label_delay` of its monitors, in seconds
    /// (`drift_labels_unmatched` counts the labels still unmatched that long after their arrival).
    public static func labelDelays(_ monitors: [MonitorConfig]) -> [String: Double] {
        var out: [String: Double] = [:]
        for m in monitors { if let p = m.performance { out[m.model] = max(out[m.model] ?? 0, p.labelDelay.seconds) } }
        return out
    }

    /// Largest `max_rows` accepted.
    public static let maxRowsLimit = 1_000_000
}

/// What makes a monitor's policy fire (`policy.on`).
public enum PolicyTrigger: String, Sendable, Equatable, CaseIterable {
    /// Data drift confirmed over `consecutive` windows (the default, and the only mode without `performance:`).
    case drift
    /// A window's performance left its band: the realized figure once it exists, else the estimated one.
    case performanceDrop = "performance_drop"
    /// The alert-fatigue mode: a window drifted AND its estimated (or realized) performance left its band.
    case driftAndEstimatedDrop = "drift_and_estimated_drop"
}
