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
    /// Numeric: drift by KS — and by the complementary distribution test — needs adjusted p < α and D ≥ this effect size.
    public var ksMinStatistic = 0.05
    /// Numeric: whether the complementary distribution test (Anderson–Darling for continuous data, a chi-square over the
    /// values for discrete data; `DistributionTests`) is a rule besides KS.
    public var distributionTest = true
    /// Drift whenever PSI ≥ this.
    public var psiThreshold = 0.2
    /// Categorical: drift by chi-square needs adjusted p < α and JS distance ≥ this.
    public var jensenShannonMin = 0.1
    /// Categorical: drift when one category's share moved by at least this much (absolute, 0.05 = 5 points) and the
    /// two-proportion test of that category has adjusted p < α.
    public var shareThreshold = 0.05
    /// Categorical: drift when at least this share of the current values (0.01 = 1 %) is in categories the reference
    /// never had, and Fisher's exact test of that has adjusted p < α.
    public var unseenShareThreshold = 0.01
    /// A rise of the missing share by at least this much (absolute, 0.05 = 5 points) is a reason.
    public var missingRateIncrease = 0.05
    /// The dataset is drifted when drifted features / features ≥ this share.
    public var datasetDriftShare = 0.3

    public init() {}

    /// Every threshold is met when `value ≥ threshold − tolerance`: shares, distances and PSI are differences and
    /// quotients of rounded binary numbers, so a missing share rising 1 % → 6 % is 0.049999999999999996, not 0.05. The
    /// tolerance (1e-9 absolute, relative above 1) is far below any count a sample can resolve.
    public static func meets(_ value: Double, _ threshold: Double) -> Bool {
        value >= threshold - 1e-9 * max(1, abs(threshold))
    }
}

extension DriftSettings {
    enum CodingKeys: String, CodingKey {
        case bins, epsilon, binning, ksMethod, alternative, alpha, correction, ksMinStatistic, distributionTest, psiThreshold
        case jensenShannonMin, shareThreshold, unseenShareThreshold, missingRateIncrease, datasetDriftShare
    }

    /// Decodes what `encode` wrote; a key an older version did not write takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = DriftSettings()
        s.bins = try c.decodeIfPresent(Int.self, forKey: .bins) ?? s.bins
        s.epsilon = try c.decodeIfPresent(Double.self, forKey: .epsilon) ?? s.epsilon
        s.binning = try c.decodeIfPresent(PSIBinning.self, forKey: .binning) ?? s.binning
        s.ksMethod = try c.decodeIfPresent(KSMethod.self, forKey: .ksMethod) ?? s.ksMethod
        s.alternative = try c.decodeIfPresent(KSAlternative.self, forKey: .alternative) ?? s.alternative
        s.alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? s.alpha
        s.correction = try c.decodeIfPresent(PValueCorrection.self, forKey: .correction) ?? s.correction
        s.ksMinStatistic = try c.decodeIfPresent(Double.self, forKey: .ksMinStatistic) ?? s.ksMinStatistic
        s.distributionTest = try c.decodeIfPresent(Bool.self, forKey: .distributionTest) ?? s.distributionTest
        s.psiThreshold = try c.decodeIfPresent(Double.self, forKey: .psiThreshold) ?? s.psiThreshold
        s.jensenShannonMin = try c.decodeIfPresent(Double.self, forKey: .jensenShannonMin) ?? s.jensenShannonMin
        s.shareThreshold = try c.decodeIfPresent(Double.self, forKey: .shareThreshold) ?? s.shareThreshold
        s.unseenShareThreshold = try c.decodeIfPresent(Double.self, forKey: .unseenShareThreshold) ?? s.unseenShareThreshold
        s.missingRateIncrease = try c.decodeIfPresent(Double.self, forKey: .missingRateIncrease) ?? s.missingRateIncrease
        s.datasetDriftShare = try c.decodeIfPresent(Double.self, forKey: .datasetDriftShare) ?? s.datasetDriftShare
        self = s
    }
}
