import Foundation

/// The alert band of a performance metric from a labelled reference. NannyML's rule
/// (`StandardDeviationThreshold(std_lower_multiplier=3, std_upper_multiplier=3)`): the reference is cut into chunks,
/// the metric is computed on each chunk, and the band is mean ± 3σ of those chunk values (numpy `nanmean` and
/// `nanstd`, ddof 0, undefined chunks skipped). NannyML then judges chunks of that same size; a monitor's windows
/// hold however many labels (or predictions) they hold, so `band(rows:)` widens or narrows σ by √(chunk / rows) —
/// the standard error of a mean-like metric scales with 1/√n — for windows smaller than a chunk, and equals NannyML's
/// band from one chunk's rows on (a larger window does not make the reference's own spread smaller). Metrics bounded to [0, 1] (accuracy, precision, recall, F1, ROC AUC, Brier, ECE) have the band clipped to
/// [0, 1], as NannyML clips them; the others at 0 below (log loss, MAE, RMSE, MAPE) or not at all (R²).
public struct PerformanceBand: Sendable, Equatable {
    public var metric: PerformanceMetric
    /// nanmean and nanstd (ddof 0) of the defined chunk values.
    public var mean: Double
    public var std: Double
    /// Chunks with a defined value, and the chunk size.
    public var chunks: Int
    public var chunkSize: Int

    /// Fewer defined chunks than this give no band: σ from one or two chunks says nothing.
    public static let minimumChunks = 3

    public init(chunkValues: [Double], metric: PerformanceMetric, chunkSize: Int) {
        let (mean, std) = NumpySum.nanMeanAndStd(chunkValues)
        self.metric = metric
        self.mean = mean
        self.std = std
        self.chunks = chunkValues.filter { !$0.isNaN }.count
        self.chunkSize = chunkSize
    }

    /// The band for a figure computed on `rows` rows; nil on both sides with fewer than `minimumChunks` defined chunks
    /// or no rows.
    public func band(rows: Int) -> CBPEThresholds {
        guard chunks >= Self.minimumChunks, rows > 0, mean.isFinite, std.isFinite else { return CBPEThresholds(lower: nil, upper: nil) }
        // never narrower than NannyML's band: more rows than a chunk do not make the reference's spread smaller
        let sigma = std * Swift.max(1, Double(chunkSize) / Double(rows)).squareRoot()
        var lower = mean - 3 * sigma
        var upper = mean + 3 * sigma
        switch metric {
        case .accuracy, .precision, .recall, .f1, .rocAUC, .brier, .ece:
            lower = Swift.max(0, lower)
            upper = Swift.min(1, upper)
        case .logLoss, .mae, .rmse, .mape:
            lower = Swift.max(0, lower)
        case .r2:
            break
        }
        return CBPEThresholds(lower: lower, upper: upper)
    }

}
