/// Everything that shapes a comparison: statistics options and the drift decision thresholds.
/// Defaults are drift-worker's documented defaults.
public struct DriftSettings: Sendable, Equatable, Codable {
    /// Number of PSI bins for `quantile` binning.
    public var bins = 10
    /// Floor for bin proportions in PSI.
    public var epsilon = 1e-4
    public var binning = PSIBinning.quantile
    public var ksMethod = KSMethod.auto
    public var alternative = KSAlternative.twoSided
    /// Significance level applied to adjusted p-values.
    public var alpha = 0.01
    public var correction = PValueCorrection.bh
    /// Numeric: drift by KS needs adjusted p < α and D ≥ this effect size.
    public var ksMinStatistic = 0.05
    /// Drift whenever PSI ≥ this.
    public var psiThreshold = 0.2
    /// Categorical: drift by chi-square needs adjusted p < α and JS distance ≥ this.
    public var jensenShannonMin = 0.1
    /// A rise of the missing share by at least this much (absolute, 0.05 = 5 points) is a reason.
    public var missingRateIncrease = 0.05
    /// The dataset is drifted when drifted features / features ≥ this share.
    public var datasetDriftShare = 0.3

    public init() {}
}
