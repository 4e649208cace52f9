import ArgumentParser
import DriftCapture
import DriftCore
import DriftStats

extension PSIBinning: ExpressibleByArgument {}
extension KSMethod: ExpressibleByArgument {}
extension KSAlternative: ExpressibleByArgument {}
extension PValueCorrection: ExpressibleByArgument {}
extension TabularFormat: ExpressibleByArgument {}
extension NonNumericPolicy: ExpressibleByArgument, CaseIterable {
    public static let allCases: [NonNumericPolicy] = [.error, .missing]
}

/// Options that choose and type the features, shared by `compare` and `profile`.
struct FeatureOptions: ParsableArguments {
    @Option(name: .long, help: "Compare only these features (comma-separated).")
    var features: String?

    @Option(name: .long, help: "Treat these features as categorical (comma-separated).")
    var categorical: String?

    @Option(name: .long, help: "Treat these features as numeric (comma-separated); a non-numeric value is then an error.")
    var numeric: String?

    @Option(name: .long, help: "Input format when the extension does not tell: csv or jsonl.")
    var inputFormat: TabularFormat?

    @Option(
        name: .long,
        help: "What a numeric column's non-numeric cells are: error (the default: the run stops naming them) or missing.")
    var nonNumeric: NonNumericPolicy = .error

    var selection: FeatureSelection {
        FeatureSelection(
            features: features.map(Self.list), categorical: Set(categorical.map(Self.list) ?? []),
            numeric: Set(numeric.map(Self.list) ?? []))
    }

    static func list(_ s: String) -> [String] {
        s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws {
        let both = Set(categorical.map(Self.list) ?? []).intersection(numeric.map(Self.list) ?? [])
        if let name = both.first { throw ValidationError("'\(name)' is named by both --numeric and --categorical; choose one.") }
    }
}

/// A switch given as `on` or `off`.
enum OnOff: String, ExpressibleByArgument { case on, off }

/// Statistics options and decision thresholds.
struct StatisticsOptions: ParsableArguments {
    @Option(help: "Number of PSI bins (quantile binning).") var bins = 10
    @Option(help: "Floor for bin proportions in PSI.") var epsilon = 1e-4
    @Option(help: "PSI binning: quantile (default) or sturges (Evidently 0.7 compatible).") var psiBinning = PSIBinning.quantile
    @Option(help: "KS p-value method: auto, exact or asymp (scipy's rules).") var ksMethod = KSMethod.auto
    @Option(help: "KS alternative: two-sided, less or greater (scipy's meaning).") var alternative = KSAlternative.twoSided
    @Option(help: "Significance level for adjusted p-values.") var alpha = 0.01
    @Option(help: "Multiple-testing correction across features: bh, bonferroni or none.") var correction = PValueCorrection.bh
    @Option(help: "Minimum KS statistic for a numeric feature to drift by KS.") var ksThreshold = 0.05
    @Option(help: "PSI at or above which a feature drifts.") var psiThreshold = 0.2
    @Option(help: "Minimum Jensen–Shannon distance for a categorical feature to drift by chi-square.") var jsThreshold = 0.1
    @Option(help: "Share of drifted features at or above which the dataset drifts.") var datasetShare = 0.3
    @Option(help: "Rise of a feature's missing share (absolute, 0.05 = 5 points) that counts as drift.") var missingRateIncrease = 0.05
    @Option(help: "Categorical: change of one category's share (absolute, 0.05 = 5 points) that counts as drift when significant.")
    var shareThreshold = 0.05
    @Option(help: "Categorical: share of current values in never-seen categories (0.01 = 1 %) that counts as drift when significant.")
    var unseenShareThreshold = 0.01
    @Option(help: "Numeric: also decide by Anderson–Darling (continuous data) or a chi-square over the values (discrete data): on or off.")
    var distributionTest = OnOff.on

    var settings: DriftSettings {
        var s = DriftSettings()
        s.bins = bins
        s.epsilon = epsilon
        s.binning = psiBinning
        s.ksMethod = ksMethod
        s.alternative = alternative
        s.alpha = alpha
        s.correction = correction
        s.ksMinStatistic = ksThreshold
        s.psiThreshold = psiThreshold
        s.jensenShannonMin = jsThreshold
        s.datasetDriftShare = datasetShare
        s.missingRateIncrease = missingRateIncrease
        s.shareThreshold = shareThreshold
        s.unseenShareThreshold = unseenShareThreshold
        s.distributionTest = distributionTest == .on
        return s
    }

    func validate() throws {
        guard bins >= 2 && bins <= 10_000 else { throw ValidationError("--bins must be between 2 and 10000 (got \(bins)).") }
        guard epsilon > 0 && epsilon < 1 else { throw ValidationError("--epsilon must be in (0, 1) (got \(epsilon)).") }
        guard alpha > 0 && alpha < 1 else { throw ValidationError("--alpha must be in (0, 1) (got \(alpha)).") }
        guard missingRateIncrease > 0 && missingRateIncrease <= 1 else {
            throw ValidationError("--missing-rate-increase must be in (0, 1] (got \(missingRateIncrease)).")
        }
        guard shareThreshold > 0 && shareThreshold <= 1 else { throw ValidationError("--share-threshold must be in (0, 1] (got \(shareThreshold)).") }
        guard unseenShareThreshold > 0 && unseenShareThreshold <= 1 else {
            throw ValidationError("--unseen-share-threshold must be in (0, 1] (got \(unseenShareThreshold)).")
        }
        guard datasetShare > 0 && datasetShare <= 1 else { throw ValidationError("--dataset-share must be in (0, 1] (got \(datasetShare)).") }
    }
}
