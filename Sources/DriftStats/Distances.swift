import Foundation

/// Distances between two binned distributions. `p` is the reference, `q` the current; both are
/// proportions (each sums to 1 unless stated).
public enum Distances {
    /// PSI = Σ (qᵢ − pᵢ)·ln(qᵢ / pᵢ) after raising every proportion below ε to ε (no
    /// renormalisation). The PSI convention of drift-worker's `quantile` binning.
    public static func psi(reference p: [Double], current q: [Double], epsilon: Double) -> Double {
        var sum = 0.0
        for t in psiTerms(reference: p, current: q, epsilon: epsilon) { sum += t }
        return sum
    }

    /// The per-bin terms of `psi` (its sum, in this order), for reports.
    public static func psiTerms(reference p: [Double], current q: [Double], epsilon: Double) -> [Double] {
        p.indices.map { i in
            let a = max(p[i], epsilon)
            let b = max(q[i], epsilon)
            return (b - a) * log(b / a)
        }
    }

    /// The per-bin terms of `evidentlyPSI` (its sum, in this order), for reports.
    public static func evidentlyPSITerms(reference p: [Double], current q: [Double]) -> [Double] {
        let pf = evidentlyFillZeroes(p)
        let qf = evidentlyFillZeroes(q)
        return pf.indices.map { (pf[$0] - qf[$0]) * log(pf[$0] / qf[$0]) }
    }

    /// Evidently 0.7's PSI: zero proportions on each side become min(nonzero)/10⁶ when
    /// min(nonzero) ≤ 1e-4, else 1e-4; PSI = Σ (p − q)·ln(p / q).
    public static func evidentlyPSI(reference p: [Double], current q: [Double]) -> Double {
        var sum = 0.0
        for t in evidentlyPSITerms(reference: p, current: q) { sum += t }
        return sum
    }

    static func evidentlyFillZeroes(_ x: [Double]) -> [Double] {
        guard let smallest = x.filter({ $0 != 0 }).min() else { return x }
        let fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001
        return x.map { $0 == 0 ? fill : $0 }
    }

    /// The Jensen–Shannon distance in base 2, `scipy.spatial.distance.jensenshannon(p, q, base=2)`:
    /// √(½·KL(p‖m) + ½·KL(q‖m)) / √ln 2 with m = (p + q)/2 and 0·log 0 = 0; inputs are normalised
    /// to sum 1 first, as scipy does. In [0, 1].
    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        let sp = p.reduce(0, +)
        let sq = q.reduce(0, +)
        var left = 0.0
        var right = 0.0
        for i in p.indices {
            let a = p[i] / sp
            let b = q[i] / sq
            let m = (a + b) / 2.0
            if a > 0 && m > 0 { left += a * log(a / m) }
            if b > 0 && m > 0 { right += b * log(b / m) }
        }
        let js = (left + right) / log(2.0)
        return (max(js, 0) / 2.0).squareRoot()
    }

    /// The Hellinger distance H = √(Σ(√pᵢ − √qᵢ)²)/√2, in [0, 1].
    public static func hellinger(_ p: [Double], _ q: [Double]) -> Double {
        var sum = 0.0
        for i in p.indices {
            let d = p[i].squareRoot() - q[i].squareRoot()
            sum += d * d
        }
        return sum.squareRoot() / 2.0.squareRoot()
    }

    /// `scipy.stats.wasserstein_distance(u, v)` for ascending samples: ∫|F_u − F_v| dx, summed
    /// over the gaps between consecutive pooled values.
    public static func wasserstein(sorted u: [Double], sorted v: [Double]) -> Double {
        let nu = Double(u.count)
        let nv = Double(v.count)
        var i = 0
        var j = 0
        var sum = 0.0
        var prev = 0.0
        var started = false
        while i < u.count || j < v.count {
            let x: Double = (j >= v.count || (i < u.count && u[i] <= v[j])) ? u[i] : v[j]
            if started {
                sum += abs(Double(i) / nu - Double(j) / nv) * (x - prev)
            }
            while i < u.count && u[i] == x { i += 1 }
            while j < v.count && v[j] == x { j += 1 }
            prev = x
            started = true
        }
        return sum
    }

    /// Population standard deviation (ddof = 0), two-pass.
    public static func standardDeviation(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return .nan }
        let mean = x.reduce(0, +) / Double(x.count)
        var ss = 0.0
        for v in x { ss += (v - mean) * (v - mean) }
        return (ss / Double(x.count)).squareRoot()
    }
}
