import Foundation

/// The alert band of a performance metric from a labelled reference, as NannyML derives it (its
/// `StandardDeviationThreshold(std_lower_multiplier=3, std_upper_multiplier=3)`): the reference is cut into chunks of
/// the window's size, the metric is computed on each chunk, and the band is mean ± 3σ of those chunk values (numpy
/// `nanmean` and `nanstd`, ddof 0, undefined chunks skipped). Metrics bounded to [0, 1] (accuracy, precision, recall,
/// F1, ROC AUC, Brier, ECE) have the band clipped to [0, 1], as NannyML clips them; the others only at 0 below
/// (log loss, MAE, RMSE, MAPE) or not at all (R²). A band with no defined chunk is nil on both sides.
public enum PerformanceBand {
    public static func fromChunks(_ values: [Double], metric: PerformanceMetric) -> CBPEThresholds {
        let (mean, std) = NumpySum.nanMeanAndStd(values)
        var lower = mean - 3 * std
        var upper = mean + 3 * std
        switch metric {
        case .accuracy, .precision, .recall, .f1, .rocAUC, .brier, .ece:
            lower = Swift.max(0, lower)
            upper = Swift.min(1, upper)
        case .logLoss, .mae, .rmse, .mape:
            lower = Swift.max(0, lower)
        case .r2:
            break
        }
        return CBPEThresholds(lower: lower.isNaN ? nil : lower, upper: upper.isNaN ? nil : upper)
    }
}
