import DriftCommon

/// One feature's data for a comparison.
public enum FeatureInput: Sendable {
    case numeric(name: String, reference: NumericSample, current: NumericSample)
    case categorical(name: String, reference: CategoricalSample, current: CategoricalSample)
}

/// The dataset-level result: every feature, the share that drifted, correlation drift.
public struct DatasetDrift: Sendable, Equatable {
    public var features: [FeatureDrift]
    public var driftedCount: Int
    public var driftedShare: Double
    public var drifted: Bool
    public var correlationDrift: CorrelationDrift?

    public var featureCount: Int { features.count }
}

/// The largest change between the reference and current Pearson correlation matrices.
public struct CorrelationDrift: Sendable, Equatable {
    public var maxAbsDelta: Double
    public var pair: (String, String)
    public var referenceCorrelation: Double
    public var currentCorrelation: Double

    public static func == (a: Self, b: Self) -> Bool {
        a.maxAbsDelta == b.maxAbsDelta && a.pair == b.pair
    }

    /// From two correlation matrices (row-major, same feature order).
    public static func between(reference: [Double], current: [Double], names: [String]) -> CorrelationDrift? {
        guard names.count >= 2,
            let m = Correlation.maxAbsoluteChange(reference: reference, current: current, dimension: names.count)
        else { return nil }
        let p = names.count
        return CorrelationDrift(
            maxAbsDelta: m.delta, pair: (names[m.i], names[m.j]),
            referenceCorrelation: reference[m.i * p + m.j],
            currentCorrelation: current[m.i * p + m.j])
    }
}

public enum DatasetComparison {
    /// Adjusts each test's p-values across the features it applies to, with one correction: the primary p-value
    /// (KS for numeric, chi-square for categorical features) across all features; the complementary numeric test
    /// across the numeric features where it applies; the share and unseen-category tests across the categorical
    /// features. A feature a test does not apply to is not counted for that test.
    public static func adjustPValues(_ features: inout [FeatureDrift], correction: PValueCorrection) {
        let primary = correction.adjust(features.map { $0.pvalue ?? .nan })
        let distribution = correction.adjust(features.map { $0.distributionTest?.pvalue ?? .nan })
        let share = correction.adjust(features.map { $0.shareChange?.pvalue ?? .nan })
        let unseen = correction.adjust(features.map { $0.unseen?.pvalue ?? .nan })
        func value(_ x: Double) -> Double? { x.isNaN ? nil : x }
        for i in features.indices {
            features[i].pvalueAdjusted = value(primary[i])
            features[i].distributionTest?.pvalueAdjusted = value(distribution[i])
            features[i].shareChange?.pvalueAdjusted = value(share[i])
            features[i].unseen?.pvalueAdjusted = value(unseen[i])
        }
    }

    /// Compares every feature, adjusts the p-values across features, decides per feature and for
    /// the dataset. Features are computed concurrently; the result keeps the input order.
    /// A feature named in `overrides` is computed and decided with its own settings (bins, thresholds, …); the
    /// multiple-testing correction is the comparison's.
    public static func compare(
        _ inputs: [FeatureInput], correlation: CorrelationDrift? = nil,
        settings: DriftSettings, overrides: [String: DriftSettings] = [:]
    ) -> DatasetDrift {
        var features = ParallelMap.map(inputs) { input -> FeatureDrift in
            switch input {
            case .numeric(let name, let r, let c):
                return FeatureComparison.numeric(name: name, reference: r, current: c, settings: overrides[name] ?? settings)
            case .categorical(let name, let r, let c):
                return FeatureComparison.categorical(name: name, reference: r, current: c, settings: overrides[name] ?? settings)
            }
        }
        adjustPValues(&features, correction: settings.correction)
        for i in features.indices { FeatureComparison.decide(&features[i], settings: overrides[features[i].name] ?? settings) }
        let drifted = features.filter(\.drifted).count
        let share = features.isEmpty ? 0 : Double(drifted) / Double(features.count)
        return DatasetDrift(
            features: features, driftedCount: drifted, driftedShare: share,
            drifted: !features.isEmpty && DriftSettings.meets(share, settings.datasetDriftShare),
            correlationDrift: correlation)
    }
}
