/// The alternative hypothesis of a two-sample KS test, with scipy's meaning: for `less` the
/// statistic is D⁻ = max(F_cur − F_ref) … expressed on (first, second) samples exactly as
/// `scipy.stats.ks_2samp(data1, data2, alternative=…)`: `greater` tests whether the CDF of
/// `data1` lies above that of `data2` (statistic max(F₁ − F₂)), `less` the reverse
/// (statistic max(F₂ − F₁)).
public enum KSAlternative: String, Sendable, CaseIterable, Codable {
    case twoSided = "two-sided"
    case less
    case greater
}

/// How the p-value is computed, with scipy's rules: `auto` is exact when max(n₁, n₂) ≤ 10,000,
/// else asymptotic; `exact` falls back to asymptotic when the lattice computation is impossible
/// (lcm too large) or fails numerically.
public enum KSMethod: String, Sendable, CaseIterable, Codable {
    case auto
    case exact
    case asymp
}

/// The result of a two-sample Kolmogorov–Smirnov test.
public struct KSResult: Sendable, Equatable {
    /// The statistic D (for `exact`, rounded to the lattice h/lcm(n₁,n₂) as scipy does).
    public var statistic: Double
    public var pvalue: Double
    /// The method actually used (after scipy's fallbacks): `.exact` or `.asymp`.
    public var method: KSMethod
    /// The observation at which the ECDF distance is attained, and its sign (+1: F₁ above F₂).
    public var location: Double
    public var sign: Int
}
