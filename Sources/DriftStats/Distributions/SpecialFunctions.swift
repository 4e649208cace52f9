import Foundation

/// Special functions with scipy's conventions.
public enum SpecialFunctions {
    /// The binomial coefficient for real arguments, as `scipy.special.binom`: the exact
    /// multiplication formula for integer k < 20 (after the symmetry reduction), otherwise
    /// 1/((n+1)·B(n−k+1, k+1)).
    public static func binom(_ n: Double, _ k: Double) -> Double {
        if n < 0 && n == n.rounded(.down) { return .nan }
        var kx = k.rounded(.down)
        if k == kx && (abs(n) > 1e-8 || n == 0) {
            let nx = n.rounded(.down)
            if nx == n && kx > nx / 2 && nx > 0 { kx = nx - kx }
            if kx >= 0 && kx < 20 {
                var num = 1.0
                var den = 1.0
                var i = 1
                while i < 1 + Int(kx) {
                    num *= Double(i) + n - kx
                    den *= Double(i)
                    if abs(num) > 1e50 {
                        num /= den
                        den = 1
                    }
                    i += 1
                }
                return num / den
            }
        }
        if n >= 1e10 * k && k > 0 {
            return exp(-logBeta(1 + n - k, 1 + k) - log(n + 1))
        }
        return 1 / (n + 1) / beta(1 + n - k, 1 + k)
    }

    /// The beta function B(a, b) for positive arguments (cephes' evaluation order).
    public static func beta(_ a: Double, _ b: Double) -> Double {
        let y = a + b
        if y > 171.6 {
            return exp(logBeta(a, b))
        }
        let gy = tgamma(y)
        let ga = tgamma(a)
        let gb = tgamma(b)
        if gy == 0 { return .infinity }
        if abs(abs(ga) - abs(gy)) > abs(abs(gb) - abs(gy)) {
            return gb / gy * ga
        }
        return ga / gy * gb
    }

    public static func logBeta(_ a: Double, _ b: Double) -> Double {
        lgamma(a) + lgamma(b) - lgamma(a + b)
    }

    /// The survival function of the chi-square distribution with `dof` degrees of freedom,
    /// Q(dof/2, x/2) (`scipy.stats.chi2.sf`).
    public static func chiSquareSF(_ x: Double, dof: Double) -> Double {
        if x.isNaN || dof <= 0 { return .nan }
        if x <= 0 { return 1 }
        return regularizedGammaQ(dof / 2, x / 2)
    }

    /// The regularised lower incomplete gamma function P(a, x) = 1 − Q(a, x): the power series for x < a + 1 (so a
    /// small P keeps its digits), 1 − Q otherwise. P(u, λ) is the probability that a Poisson(λ) count is ≥ u.
    public static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
        if x < 0 || a <= 0 || x.isNaN { return .nan }
        if x == 0 { return 0 }
        if x.isInfinite { return 1 }
        guard x < a + 1 else { return max(0, 1 - regularizedGammaQ(a, x)) }
        return min(1, lowerSeries(a, x, logPrefactor: a * log(x) - x - lgamma(a)))
    }

    /// P(a, x) by its power series, xᵃe⁻ˣ/Γ(a) · Σ xⁿ/(a(a+1)…(a+n)) with the prefactor given in logs (for x < a + 1).
    private static func lowerSeries(_ a: Double, _ x: Double, logPrefactor: Double) -> Double {
        var sum = 1.0
        var term = 1.0
        var ap = a
        for _ in 0..<10_000 {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-17 { break }
        }
        return exp(logPrefactor) * sum / a
    }

    /// The regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a): the power series
    /// for x < a + 1, Lentz's continued fraction otherwise (as cephes `igamc`), with the
    /// prefactor xᵃe⁻ˣ/Γ(a) formed in logs.
    public static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        if x < 0 || a <= 0 { return .nan }
        if x == 0 { return 1 }
        if x.isInfinite { return 0 }
        let logPrefactor = a * log(x) - x - lgamma(a)
        // P by series, Q = 1 − P
        if x < a + 1 { return max(0, 1 - lowerSeries(a, x, logPrefactor: logPrefactor)) }
        // Continued fraction for Q (modified Lentz).
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        var i = 1.0
        while i < 10_000 {
            let an = -i * (i - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
            i += 1
        }
        return exp(logPrefactor) * h
    }
}
