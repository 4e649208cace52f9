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
    /// Numeric: the complementary distribution test (Anderson–Darling or the chi-square over values), when it applies.
    public var distributionTest: DistributionTestResult? = nil
    /// Categorical: the share test — the category that moved most significantly by at least the threshold.
    public var shareChange: ShareChange? = nil
    /// Categorical: the current values in categories the reference never had, with their test.
    public var unseen: UnseenShare? = nil
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

/// The categorical share test: which category's share moved by at least the threshold most significantly, and a
/// p-value that accounts for having picked it among all categories.
///
/// For each category c: Δ_c = q_c − p_c (current minus reference share) and the two-proportion z-statistic of c
/// against the rest, z_c = Δ_c / √(π_c(1 − π_c)(1/n₁ + 1/n₂)) with π_c the pooled share (equal to the chi-square test
/// of the 2×2 table, `scipy.stats.chi2_contingency(…, correction=False)`). The statistic is T = max |z_c| over the
/// categories with |Δ_c| ≥ the threshold g; its p-value is the union (Bonferroni) bound
/// p = min(1, Σ_c 2Φ̄(max(T, g/se_c))) over every category — a category whose standard error makes a g-point move
/// implausible adds almost nothing, so a feature with a few large categories pays for those few, not for its long
/// tail. When no category moved by g the category with the largest |Δ| is reported with p = 1.
public struct ShareChange: Sendable, Equatable {
    public var category: String
    public var reference: Double
    public var current: Double
    public var pvalue: Double
    public var pvalueAdjusted: Double?
    /// The threshold g the p-value was computed for.
    public var threshold: Double

    /// current − reference, in share units (0.1 = 10 points).
    public var change: Double { current - reference }

    /// From per-category counts in the same order as `categories`.
    public static func test(categories: [String], reference rc: [Int], current cc: [Int], threshold g: Double) -> ShareChange? {
        let n1 = rc.reduce(0.0) { $0 + Double($1) }
        let n2 = cc.reduce(0.0) { $0 + Double($1) }
        guard n1 > 0, n2 > 0, !categories.isEmpty else { return nil }
        var largest = 0
        var largestChange = -1.0
        var best: Int? = nil
        var bestZ = -1.0
        var standardErrors = [Double](repeating: 0, count: categories.count)
        for i in categories.indices {
            let change = Double(cc[i]) / n2 - Double(rc[i]) / n1
            let pooled = (Double(rc[i]) + Double(cc[i])) / (n1 + n2)
            let se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
            standardErrors[i] = se
            if abs(change) > largestChange {
                largestChange = abs(change)
                largest = i
            }
            if DriftSettings.meets(abs(change), g), se > 0, abs(change) / se > bestZ {
                bestZ = abs(change) / se
                best = i
            }
        }
        let chosen = best ?? largest
        var p = 1.0
        if best != nil {
            p = 0
            for se in standardErrors where se > 0 { p += erfc(max(bestZ, g / se) / 2.0.squareRoot()) }
            p = min(p, 1)
        }
        return ShareChange(
            category: categories[chosen], reference: Double(rc[chosen]) / n1, current: Double(cc[chosen]) / n2, pvalue: p,
            pvalueAdjusted: nil, threshold: g)
    }
}

/// The current values of a categorical feature in categories the reference never had, against what the reference
/// itself predicts: a long-tailed feature (user agents, zip codes) meets new values all the time, and the share of
/// the next values that are new is estimated by Good–Turing as f₁/n₁ (reference categories seen once, over the
/// reference's values). With u such values among n₂ current ones:
/// - `excess` = u/n₂ − f₁/n₁ is what the rule compares with its threshold;
/// - the p-value is the larger of Fisher's exact one-sided test that the reference has none of them,
///   C(n₂, u)/C(n₁ + n₂, u) (`scipy.stats.fisher_exact([[0, n1], [u, n2 − u]], alternative='less')`), and the
///   chance of u or more under the Good–Turing rate, P(Poisson(n₂f₁/n₁) ≥ u) (`scipy.stats.poisson.sf(u − 1, λ)`).
public struct UnseenShare: Sendable, Equatable {
    public var count: Int
    public var share: Double
    /// The Good–Turing estimate of the share of new values, f₁/n₁.
    public var expectedShare: Double
    public var pvalue: Double
    public var pvalueAdjusted: Double?

    /// The share beyond what the reference predicts.
    public var excess: Double { share - expectedShare }

    public init(count: Int, referenceTotal n1: Int, currentTotal n2: Int, referenceSingletons f1: Int) {
        self.count = count
        share = n2 > 0 ? Double(count) / Double(n2) : 0
        expectedShare = n1 > 0 ? Double(f1) / Double(n1) : 0
        if count <= 0 || n2 <= 0 {
            pvalue = 1
            return
        }
        let a = Double(n2)
        let u = Double(count)
        let total = Double(n1) + Double(n2)
        let current: Double = lgamma(a + 1) - lgamma(a - u + 1)
        let pooled: Double = lgamma(total + 1) - lgamma(total - u + 1)
        let fisher = min(exp(current - pooled), 1)
        let lambda = a * expectedShare
        let poisson = lambda > 0 ? SpecialFunctions.regularizedGammaP(u, lambda) : 0
        pvalue = max(fisher, poisson.isNaN ? 1 : poisson)
    }
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
        var f = FeatureDrift(
            name: name, kind: .numeric,
            referenceCount: reference.presentCount, currentCount: current.presentCount,
            referenceMissing: reference.missing, currentMissing: current.missing,
            ks: ks, psi: psi, jensenShannon: Distances.jensenShannon(p, q),
            wassersteinNormed: w / max(reference.standardDeviation, 0.001),
            hellinger: Distances.hellinger(p, q), chiSquare: nil, unseenCategories: nil,
            referenceProportions: p, currentProportions: q, bins: bins,
            ecdf: ECDFCurves(sortedReference: reference.sorted, sortedCurrent: current.sorted, extra: [ks.location]), psiTerms: terms,
            pvalue: ks.pvalue, pvalueAdjusted: nil, drifted: false, reasons: [])
        // computed whatever `distributionTest` says: it is reported either way, the setting decides whether it is a rule
        f.distributionTest = DistributionTests.test(sorted1: reference.sorted, sorted2: current.sorted)
        return f
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
        let unseen = categories.filter { (reference.counts[$0] ?? 0) == 0 }
        let unseenCount = categories.indices.reduce(0) { sum, i in rc[i] == 0 ? sum + cc[i] : sum }
        var f = FeatureDrift(
            name: name, kind: .categorical,
            referenceCount: reference.presentCount, currentCount: current.presentCount,
            referenceMissing: reference.missing, currentMissing: current.missing,
            ks: nil, psi: psi, jensenShannon: Distances.jensenShannon(p, q), wassersteinNormed: nil,
            hellinger: Distances.hellinger(p, q), chiSquare: chi, unseenCategories: unseen,
            referenceProportions: p, currentProportions: q, categories: categories, psiTerms: terms,
            pvalue: chi.pvalue, pvalueAdjusted: nil, drifted: false, reasons: [])
        f.shareChange = ShareChange.test(categories: categories, reference: rc, current: cc, threshold: settings.shareThreshold)
        f.unseen = UnseenShare(
            count: unseenCount, referenceTotal: reference.presentCount, currentTotal: current.presentCount,
            referenceSingletons: rc.reduce(0) { $1 == 1 ? $0 + 1 : $0 })
        return f
    }

    static func psiTerms(_ p: [Double], _ q: [Double], _ s: DriftSettings) -> [Double] {
        s.binning == .quantile
            ? Distances.psiTerms(reference: p, current: q, epsilon: s.epsilon)
            : Distances.evidentlyPSITerms(reference: p, current: q)
    }

    static func proportions(_ counts: [Int], _ total: Int) -> [Double] {
        counts.map { total == 0 ? 0 : Double($0) / Double(total) }
    }

    /// Applies the drift rules to a feature whose adjusted p-values are set (`DatasetComparison` adjusts each test's
    /// p-values across the features it applies to). Thresholds are met with `DriftSettings.meets` (a 1e-9 tolerance).
    /// - numeric: `anderson_darling` (continuous data, two-sided) — adjusted Anderson–Darling p < α and D ≥
    ///   ksMinStatistic; otherwise `ks` — adjusted KS p < α and D ≥ ksMinStatistic, and for discrete data (two-sided)
    ///   also `value_chi_square` — the chi-square over values' adjusted p < α/2 and D ≥ ksMinStatistic, KS then at α/2
    ///   too (the same effect-size gate throughout);
    /// - categorical: `chi_square` — adjusted chi-square p < α and JS ≥ jensenShannonMin; `share` — the category whose
    ///   share moved by ≥ shareThreshold most significantly has adjusted `ShareChange` p < α; `unseen` — the share of
    ///   current values in never-seen categories exceeds the reference's own rate of new values by ≥
    ///   unseenShareThreshold and the adjusted `UnseenShare` p < α;
    /// - either: `psi` — PSI ≥ psiThreshold; `missing rate` — a missing-share rise ≥ missingRateIncrease.
    /// Each rule that fires adds a reason that starts with its name.
    public static func decide(_ f: inout FeatureDrift, settings s: DriftSettings) {
        var reasons: [String] = []
        let padj = f.pvalueAdjusted ?? f.pvalue ?? 1
        switch f.kind {
        case .numeric:
            // Where Anderson–Darling applies (continuous data) it decides instead of KS: it is the more powerful of the
            // two for shifts of location and of scale, and one test per feature keeps a null feature's false-alarm
            // rate at α. Elsewhere KS decides, with the chi-square over values beside it for discrete data (KS is
            // very conservative with ties, so the pair stays below α).
            // The complementary tests are two-sided: with a one-sided `alternative` KS alone decides. For discrete data
            // KS and the chi-square over values each get α/2, so the pair stays within α.
            let test = s.distributionTest && s.alternative == .twoSided ? f.distributionTest : nil
            let level = test?.kind == .valueChiSquare ? s.alpha / 2 : s.alpha
            if test?.kind != .andersonDarling, let ks = f.ks, padj < level, DriftSettings.meets(ks.statistic, s.ksMinStatistic) {
                reasons.append("ks: D=\(fmt(ks.statistic)) >= \(fmt(s.ksMinStatistic)) and adjusted p=\(fmt(padj)) < \(fmt(level))")
            }
            if let t = test, let ks = f.ks {
                let p = t.pvalueAdjusted ?? t.pvalue
                if p < level, DriftSettings.meets(ks.statistic, s.ksMinStatistic) {
                    let what =
                        t.kind == .andersonDarling
                        ? "anderson_darling: A2=\(fmt(t.statistic))"
                        : "value_chi_square: chi2=\(fmt(t.statistic)) (\(Int(t.standardized)) dof)"
                    reasons.append("\(what), adjusted p=\(fmt(p)) < \(fmt(level)) and D=\(fmt(ks.statistic)) >= \(fmt(s.ksMinStatistic))")
                }
            }
        case .tensor:
            break  // a tensor is decided by `TensorDrift` from its components, reconstruction error and MMD
        case .categorical:
            if padj < s.alpha, DriftSettings.meets(f.jensenShannon, s.jensenShannonMin) {
                reasons.append("chi_square: adjusted p=\(fmt(padj)) < \(fmt(s.alpha)) and JS=\(fmt(f.jensenShannon)) >= \(fmt(s.jensenShannonMin))")
            }
            if let c = f.shareChange {
                let p = c.pvalueAdjusted ?? c.pvalue
                if p < s.alpha, DriftSettings.meets(abs(c.change), s.shareThreshold) {
                    reasons.append(
                        "share: \(c.category) \(pct(c.reference)) -> \(pct(c.current)) (\(points(c.change)) points, |change| >= "
                            + "\(points(s.shareThreshold, sign: false)); adjusted p=\(fmt(p)) < \(fmt(s.alpha)))")
                }
            }
            let unseenNames = (f.unseenCategories ?? []).prefix(5).joined(separator: ", ") + ((f.unseenCategories?.count ?? 0) > 5 ? ", …" : "")
            var unseenFired = false
            if let u = f.unseen, u.count > 0 {
                let p = u.pvalueAdjusted ?? u.pvalue
                if p < s.alpha, DriftSettings.meets(u.excess, s.unseenShareThreshold) {
                    unseenFired = true
                    reasons.append(
                        "unseen: \(pct(u.share)) of current values in categories the reference never had (the reference predicts "
                            + "\(pct(u.expectedShare)); excess >= \(pct(s.unseenShareThreshold)); adjusted p=\(fmt(p)) < \(fmt(s.alpha))): \(unseenNames)"
                    )
                }
            }
            if !unseenFired, let unseen = f.unseenCategories, !unseen.isEmpty, !reasons.isEmpty || DriftSettings.meets(f.psi, s.psiThreshold) {
                reasons.append("unseen categories: \(unseenNames)")
            }
        }
        if DriftSettings.meets(f.psi, s.psiThreshold) {
            reasons.insert("psi: \(fmt(f.psi)) >= \(fmt(s.psiThreshold))", at: 0)
        }
        let rise = f.currentMissingRate - f.referenceMissingRate
        if rise > 0, DriftSettings.meets(rise, s.missingRateIncrease) {
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

    /// A share difference in percentage points, signed unless asked not to: 0.101 → "-10.1" for a fall.
    static func points(_ x: Double, sign: Bool = true) -> String { String(format: sign ? "%+.1f" : "%.1f", x * 100) }
}
