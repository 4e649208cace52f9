import Foundation

/// The two-sample Kolmogorov–Smirnov test, identical to `scipy.stats.ks_2samp` (scipy 1.17).
///
/// Statistic: with F₁, F₂ the right-continuous ECDFs, the differences F₁(x) − F₂(x) are
/// evaluated (as i/n₁ − j/n₂ in double precision) at every pooled observation, which makes the
/// statistic exact under ties. `two-sided` takes D = max(D⁺, D⁻), `greater` D⁺ = max(F₁ − F₂),
/// `less` D⁻ = max(F₂ − F₁) clipped at 0.
///
/// p-value: `exact` uses Hodges' lattice-path counts — the closed form for n₁ = n₂, the
/// Viehmann "1 − p inside method" for unequal two-sided, the outside-path count divided by
/// C(n₁+n₂, n₁) for unequal one-sided; `asymp` uses kstwo.sf(D, round(n₁n₂/(n₁+n₂))) for
/// two-sided and Hodges' eq. 5.3 for one-sided. Fallbacks follow scipy.
public enum TwoSampleKS {
    public static let maxAutoExactN = 10_000

    /// Runs the test on two samples. Either may be unsorted; NaNs must already be removed.
    public static func test(
        _ a: [Double], _ b: [Double],
        alternative: KSAlternative = .twoSided,
        method: KSMethod = .auto
    ) -> KSResult {
        test(sorted1: FastSort.sorted(a), sorted2: FastSort.sorted(b), alternative: alternative, method: method)
    }

    /// Runs the test on two ascending samples (no NaN), without copying them.
    public static func test(
        sorted1 x: [Double], sorted2 y: [Double],
        alternative: KSAlternative = .twoSided,
        method: KSMethod = .auto
    ) -> KSResult {
        precondition(!x.isEmpty && !y.isEmpty, "ks_2samp needs two non-empty samples")
        let ext = ecdfExtremes(x, y)
        var d: Double
        var location: Double
        var sign: Int
        if alternative == .less || (alternative == .twoSided && ext.minS > ext.maxS) {
            d = ext.minS
            location = ext.minLocation
            sign = -1
        } else {
            d = ext.maxS
            location = ext.maxLocation
            sign = 1
        }
        let p = pvalue(d: d, n1: x.count, n2: y.count, alternative: alternative, method: method)
        return KSResult(statistic: p.d, pvalue: p.p, method: p.method, location: location, sign: sign)
    }

    struct Extremes {
        var maxS: Double
        var maxLocation: Double
        var minS: Double
        var minLocation: Double
    }

    /// max and −min of F₁ − F₂ over the pooled points, with the first pooled point (in the
    /// order sorted1 then sorted2, like numpy's argmax) that attains each.
    static func ecdfExtremes(_ x: [Double], _ y: [Double]) -> Extremes {
        let n1 = Double(x.count)
        let n2 = Double(y.count)
        var i = 0
        var j = 0
        var maxDiff = -Double.infinity
        var minDiff = Double.infinity
        var maxAt = x[0]
        var minAt = x[0]
        var maxFromFirst = true
        var minFromFirst = true
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                let c1 = xs.count
                let c2 = ys.count
                while i < c1 || j < c2 {
                    let v: Double
                    if j >= c2 || (i < c1 && xs[i] <= ys[j]) { v = xs[i] } else { v = ys[j] }
                    var inFirst = false
                    while i < c1 && xs[i] == v {
                        i += 1
                        inFirst = true
                    }
                    while j < c2 && ys[j] == v { j += 1 }
                    let diff = Double(i) / n1 - Double(j) / n2
                    // numpy's argmax returns the first pooled index: points of sample 1 come first.
                    if diff > maxDiff || (diff == maxDiff && inFirst && !maxFromFirst) {
                        maxDiff = diff
                        maxAt = v
                        maxFromFirst = inFirst
                    }
                    if diff < minDiff || (diff == minDiff && inFirst && !minFromFirst) {
                        minDiff = diff
                        minAt = v
                        minFromFirst = inFirst
                    }
                }
            }
        }
        return Extremes(maxS: maxDiff, maxLocation: maxAt, minS: min(max(-minDiff, 0), 1), minLocation: minAt)
    }

    /// The p-value of a statistic `d` for sample sizes n₁, n₂, with scipy's method selection.
    public static func pvalue(
        d: Double, n1: Int, n2: Int, alternative: KSAlternative,
        method requested: KSMethod
    ) -> (d: Double, p: Double, method: KSMethod) {
        var d = d
        var mode = requested
        let g = gcd(n1, n2)
        let n1g = n1 / g
        let n2g = n2 / g
        var prob = -Double.infinity
        switch mode {
        case .auto: mode = max(n1, n2) <= maxAutoExactN ? .exact : .asymp
        case .exact: if Double(n1g) >= Double(Int32.max) / Double(n2g) { mode = .asymp }
        case .asymp: break
        }
        if mode == .exact {
            let attempt = exactPValue(n1: n1, n2: n2, g: g, d: d, alternative: alternative)
            d = attempt.d
            if attempt.success { prob = attempt.p } else { mode = .asymp }
        }
        if mode == .asymp {
            let m = Double(max(n1, n2))
            let n = Double(min(n1, n2))
            let en = m * n / (m + n)
            if alternative == .twoSided {
                prob = KolmogorovDistribution.sf(n: Int(en.rounded(.toNearestOrEven)), x: d)
            } else {
                let z = en.squareRoot() * d
                let expt = -2 * z * z - 2 * z * (m + 2 * n) / (m * n * (m + n)).squareRoot() / 3.0
                prob = exp(expt)
            }
        }
        return (d, min(max(prob, 0), 1), mode)
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var a = a
        var b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    static func exactPValue(
        n1: Int, n2: Int, g: Int, d: Double,
        alternative: KSAlternative
    ) -> (success: Bool, d: Double, p: Double) {
        let lcm = (n1 / g) * n2
        let h = Int((d * Double(lcm)).rounded(.toNearestOrEven))
        let dd = Double(h) * 1.0 / Double(lcm)
        if h == 0 { return (true, dd, 1.0) }
        var prob = Double.nan
        if alternative == .twoSided {
            prob =
                n1 == n2
                ? LatticePaths.probOutsideSquare(n: n1, h: h)
                : LatticePaths.outerProbInside(m: n1, n: n2, g: g, h: h)
        } else if n1 == n2 {
            var p = 1.0
            // numpy computes the factors as an array, then their product.
            for j in 0..<h { p *= (Double(n1) - Double(j)) / (Double(n1) + Double(j) + 1.0) }
            prob = p
        } else {
            let paths = LatticePaths.countOutside(m: n1, n: n2, g: g, h: h)
            let total = SpecialFunctions.binom(Double(n1 + n2), Double(n1))
            if !paths.isFinite || !total.isFinite || paths > total { return (false, dd, .nan) }
            prob = paths / total
        }
        if prob.isNaN { return (false, dd, .nan) }
        if !(0 <= prob && prob <= 1) { return (false, dd, prob) }
        return (true, dd, prob)
    }
}
