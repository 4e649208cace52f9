import Foundation

/// The statistics of one feature, reference against current, and the drift verdict.
public struct FeatureDrift: Sendable, Equatable {
    public var name: String
    public var kind: FeatureKind
    public var referenceCount: Int
    public var currentCount: Int
    public var referenceMissing: Int
    public var currentMissing: Int
    public var ks: KSResult?
    public var psi: Double
    public var jensenShannon: Double
    public var wassersteinNormed: Double?
    public var hellinger: Double
    public var chiSquare: ChiSquareResult?
    /// Categorical: categories in the current data never seen in the reference.
    public var unseenCategories: [String]?
    /// Per-bin (or per-category) proportions, reference and current, for reports.
    public var referenceProportions: [Double]
    public var currentProportions: [Double]
    /// For reports: the PSI bins of a numeric feature, or the categories of a categorical one, in the
    /// order of the proportions above.
    public var bins: Bins? = nil
    public var categories: [String]? = nil
    /// For reports: both ECDFs of a numeric feature on a common grid (no statistic uses them).
    public var ecdf: ECDFCurves? = nil
    /// For reports: each bin's (category's) term of the PSI sum, in the order of the proportions.
    public var psiTerms: [Double] = []
    /// The test's p-value before and after the multiple-testing correction.
    public var pvalue: Double?
    public var pvalueAdjusted: Double?
    public var drifted: Bool
    public var reasons: [String]

    public var referenceMissingRate: Double { rate(referenceMissing, referenceCount) }
    public var currentMissingRate: Double { rate(currentMissing, currentCount) }
    private func rate(_ m: Int, _ n: Int) -> Double { m + n == 0 ? 0 : Double(m) / Double(m + n) }

    /// A severity score for sorting: drifted first, then by PSI.
    public var severity: Double { (drifted ? 1e6 : 0) + (psi.isFinite ? psi : 0) }
}

/// Two empirical CDFs evaluated at the same points, for drawing: F(x) = share of values ≤ x.
public struct ECDFCurves: Sendable, Equatable, Codable {
    public var x: [Double]
    public var reference: [Double]
    public var current: [Double]

    public init(x: [Double], reference: [Double], current: [Double]) {
        self.x = x
        self.reference = reference
        self.current = current
    }

    /// The grid: `points` quantiles of each sample (both ends included) plus `extra`, sorted and deduplicated.
    public init(sortedReference ref: [Double], sortedCurrent cur: [Double], points: Int = 48, extra: [Double] = []) {
        var grid = extra.filter(\.isFinite)
        for s in [ref, cur] where !s.isEmpty {
            for k in 0..<points { grid.append(s[Int((Double(k) / Double(points - 1) * Double(s.count - 1)).rounded())]) }
        }
        grid.sort()
        var xs: [Double] = []
        for v in grid where xs.last != v { xs.append(v) }
        x = xs
        reference = xs.map { Self.cdf(ref, $0) }
        current = xs.map { Self.cdf(cur, $0) }
    }

    /// Share of `sorted` that is ≤ v (upper bound by binary search).
    static func cdf(_ sorted: [Double], _ v: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        var lo = 0
        var hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return Double(lo) / Double(sorted.count)
    }
}

/// Computes per-feature statistics. Pure functions; no decision is made here except through
/// `decide`, which needs the adjusted p-value.
public enum FeatureComparison {
    public static func numeric(
        name: String, reference: NumericSample, current: NumericSample,
        settings: DriftSettings
    ) -> FeatureDrift {
        precondition(!reference.sorted.isEmpty && !current.sorted.isEmpty)
        let ks = TwoSampleKS.test(
            sorted1: reference.sorted, sorted2: current.sorted,
            alternative: settings.alternative, method: settings.ksMethod)
        let bins: Bins
        var referenceCounts: [Int]? = nil
        switch settings.binning {
        case .quantile:
            if let known = reference.knownQuantileBins, known.bins == settings.bins, known.counts.count == known.edges.count + 1 {
                bins = Bins(edges: known.edges, layout: .openEnded)
                referenceCounts = known.counts
            } else {
                bins = .quantile(sortedReference: reference.sorted, bins: settings.bins)
            }
        case .sturges: bins = .sturges(sortedReference: reference.sorted, sortedCurrent: current.sorted)
        }
        let p = proportions(referenceCounts ?? bins.counts(sorted: reference.sorted), reference.sorted.count)
        let q = proportions(bins.counts(sorted: current.sorted), current.sorted.count)
        let terms = psiTerms(p, q, settings)
        let psi =
            settings.binning == .quantile
            ? Distances.psi(reference: p, current: q, epsilon: settings.epsilon)
            : Distances.evidentlyPSI(reference: p, current: q)
        let w = Distances.wasserstein(sorted: reference.sorted, sorted: current.sorted)
        return FeatureDrift(
            name: name, kind: .numeric,
            referenceCount: reference.presentCount, currentCount: current.presentCount,
            referenceMissing: reference.missing, currentMissing: current.missing,
            ks: ks, psi: psi, jensenShannon: Distances.jensenShannon(p, q),
            wassersteinNormed: w / max(reference.standardDeviation, 0.001),
            hellinger: Distances.hellinger(p, q), chiSquare: nil, unseenCategories: nil,
            referenceProportions: p, currentProportions: q, bins: bins,
            ecdf: ECDFCurves(sortedReference: reference.sorted, sortedCurrent: current.sorted, extra: [ks.location]), psiTerms: terms,
            pvalue: ks.pvalue, pvalueAdjusted: nil, drifted: false, reasons: [])
    }

    public static func categorical(
        name: String, reference: CategoricalSample, current: CategoricalSample,
        settings: DriftSettings
    ) -> FeatureDrift {
        let categories = Set(reference.counts.keys).union(current.counts.keys).sorted()
        let rc = categories.map { reference.counts[$0] ?? 0 }
        let cc = categories.map { current.counts[$0] ?? 0 }
        let p = proportions(rc, reference.presentCount)
        let q = proportions(cc, current.presentCount)
        let chi = ChiSquareResult.homogeneity(reference: rc, current: cc)
        let terms = psiTerms(p, q, settings)
        let psi =
            settings.binning == .quantile
            ? Distances.psi(reference: p, current: q, epsilon: settings.epsilon)
            : Distances.evidentlyPSI(reference: p, current: q)
        let unseen = categories.filter { reference.counts[$0] == nil }
        return FeatureDrift(
            name: name, kind: .categorical,
            referenceCount: reference.presentCount, currentCount: current.presentCount,
            referenceMissing: reference.missing, currentMissing: current.missing,
            ks: nil, psi: psi, jensenShannon: Distances.jensenShannon(p, q), wassersteinNormed: nil,
            hellinger: Distances.hellinger(p, q), chiSquare: chi, unseenCategories: unseen,
            referenceProportions: p, currentProportions: q, categories: categories, psiTerms: terms,
            pvalue: chi.pvalue, pvalueAdjusted: nil, drifted: false, reasons: [])
    }

    static func psiTerms(_ p: [Double], _ q: [Double], _ s: DriftSettings) -> [Double] {
        s.binning == .quantile
            ? Distances.psiTerms(reference: p, current: q, epsilon: s.epsilon)
            : Distances.evidentlyPSITerms(reference: p, current: q)
    }

    static func proportions(_ counts: [Int], _ total: Int) -> [Double] {
        counts.map { total == 0 ? 0 : Double($0) / Double(total) }
    }

    /// Applies the drift rule to a feature whose `pvalueAdjusted` is set:
    /// numeric — (adjusted KS p < α and D ≥ ksMinStatistic) or PSI ≥ psiThreshold;
    /// categorical — (adjusted chi-square p < α and JS ≥ jensenShannonMin) or PSI ≥ psiThreshold;
    /// either — a missing-rate rise ≥ missingRateIncrease. Each rule that fires adds a reason.
    public static func decide(_ f: inout FeatureDrift, settings s: DriftSettings) {
        var reasons: [String] = []
        let padj = f.pvalueAdjusted ?? f.pvalue ?? 1
        switch f.kind {
        case .numeric:
            if let ks = f.ks, padj < s.alpha, ks.statistic >= s.ksMinStatistic {
                reasons.append("ks: D=\(fmt(ks.statistic)) >= \(fmt(s.ksMinStatistic)) and adjusted p=\(fmt(padj)) < \(fmt(s.alpha))")
            }
        case .tensor:
            break  // a tensor is decided by `TensorDrift` from its components, reconstruction error and MMD
        case .categorical:
            if padj < s.alpha, f.jensenShannon >= s.jensenShannonMin {
                reasons.append("chi_square: adjusted p=\(fmt(padj)) < \(fmt(s.alpha)) and JS=\(fmt(f.jensenShannon)) >= \(fmt(s.jensenShannonMin))")
            }
            if let unseen = f.unseenCategories, !unseen.isEmpty, !reasons.isEmpty || f.psi >= s.psiThreshold {
                reasons.append("unseen categories: \(unseen.prefix(5).joined(separator: ", "))\(unseen.count > 5 ? ", …" : "")")
            }
        }
        if f.psi >= s.psiThreshold {
            reasons.insert("psi: \(fmt(f.psi)) >= \(fmt(s.psiThreshold))", at: 0)
        }
        let rise = f.currentMissingRate - f.referenceMissingRate
        if rise >= s.missingRateIncrease {
            reasons.append("missing rate: \(pct(f.referenceMissingRate)) -> \(pct(f.currentMissingRate))")
        }
        f.reasons = reasons
        f.drifted = !reasons.isEmpty
    }

    static func fmt(_ x: Double) -> String {
        if x == 0 { return "0" }
        if abs(x) < 1e-3 || abs(x) >= 1e6 { return String(format: "%.3g", x) }
        return String(format: "%.4g", x)
    }

    static func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
}
