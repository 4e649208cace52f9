import Dispatch
import Foundation

/// The exact one-sided Kolmogorov–Smirnov (Smirnov) distribution and the limiting two-sided
/// Kolmogorov distribution.
///
/// `smirnovSF(n, d)` = Pr(D⁺ₙ ≥ d) by the Birnbaum–Tingey sum
/// Σ_{v=0}^{⌊n(1−d)⌋} C(n,v)·d·(d+v/n)^{v−1}·(1−d−v/n)^{n−v}, summed in double-double with the
/// binomial kept as (significand, exponent) — the algorithm of van Mulbregt (arXiv:1802.06966)
/// used by `scipy.special.smirnov` (scipy 1.17), including its special cases and its switch to
/// the upper sum. Agrees with scipy to ~1e-15 relative.
enum Smirnov {
    private static let minLog = -7.451332191019412076235E2
    private static let maxComputeN = 1_000_000
    private static let upperMaxTerms = 3
    private static let upperSumMinN = 10
    private static let maxExponent = 960

    static func sf(n: Int, d x: Double) -> Double { sf(n: n, d: x, allowLogSpace: true) }

    /// `allowLogSpace: false` forces scipy's double-double term products (for consistency tests).
    static func sf(n: Int, d x: Double, allowLogSpace: Bool) -> Double {
        guard n > 0, x >= 0, x <= 1 else { return .nan }
        if n == 1 { return 1 - x }
        if x == 0 { return 1 }
        if x == 1 { return 0 }

        // floor(n·x) and its remainder, exactly.
        let nxD = DoubleDouble(x) * Double(n)
        let nxFloorD = nxD.floor()
        var alpha = (nxD - nxFloorD).hi
        var nxfl = Int(nxFloorD.double)
        if alpha == 1 {
            nxfl += 1
            alpha = 0
        }

        var n1mxfl = n - nxfl - (alpha == 0 ? 0 : 1)
        var n1mxceil = n - nxfl
        if alpha == 0 {
            n1mxfl -= 1
            n1mxceil += 1
        }

        if nxfl == 0 || (nxfl == 1 && alpha == 0) {
            let t = pow2(1, x, n - 1)
            return clamp01(1 - x * t)
        }
        if -2 * Double(n) * x * x < minLog { return 0 }
        if nxfl >= n - 1 { return clamp01(pow2(1, -x, n)) }
        if n > maxComputeN {
            let logp = -pow(6.0 * Double(n) * x + 1, 2) / 18.0 / Double(n)
            return clamp01(logp < -M_LN2 ? exp(logp) : 1 - (-expm1(logp)))
        }

        let nUpperTerms = n - n1mxceil + 1
        let useUpper =
            (nUpperTerms <= 1 && x < 0.5)
            || (n >= upperSumMinN && nUpperTerms <= upperMaxTerms && x <= 0.5 / Double(n).squareRoot())

        if allowLogSpace && !useUpper && n1mxfl + 1 > logSpaceMinTerms {
            return clamp01(lowerSumInLogSpace(n: n, x: x, nTerms: n1mxfl + 1))
        }

        var start = 0
        var step = 1
        var nTerms = n1mxfl + 1
        let vmid = n / 2
        var cman = DoubleDouble(1)
        var cexpt = 0
        var aj: DoubleDouble
        var sum = DoubleDouble(0)
        if useUpper {
            start = n
            step = -1
            nTerms = n - n1mxceil + 1
            aj = pow4(1, x, 1, 0, n - 1)
        } else {
            let t2 = pow4(1, -x, 1, 0, n)
            aj = t2 / x
        }
        sum = sum + aj
        updateBinomial(&cman, &cexpt, n, 0)

        var j = 1
        while j < nTerms {
            let v = start + j * step
            aj = term(n: n, x: x, v: v, cman: cman, cexpt: cexpt)
            if aj.isFinite && !aj.isZero { sum = sum + aj }
            if !aj.isZero {
                if 4 * Double(nTerms - j) * abs(aj.double) < Double.ulpOfOne * sum.double && j != nTerms - 1 { break }
            } else if j > vmid {
                break
            }
            updateBinomial(&cman, &cexpt, n, j)
            j += 1
        }
        let prob = (sum * x).double
        return clamp01(step < 0 ? 1 - prob : prob)
    }

    private static func clamp01(_ p: Double) -> Double { min(max(p, 0), 1) }

    /// Above this many terms the lower sum is evaluated in log space (about 5× faster).
    static let logSpaceMinTerms = 2_000
    /// Above this many terms the log-space sum is split across two cores.
    static let parallelMinTerms = 20_000

    /// x·Σ_{v<nTerms} A_v with log A_v = log C(n,v) + (v−1)·log(x+v/n) + (n−v)·log(1−x−v/n): the bases
    /// in double-double, log C(n,v) accumulated in double-double, each log and exp in double. Every
    /// term is positive, so the relative error is that of the worst term — below 1e-10 for n ≤ 10⁶
    /// (typically 1e-13) — against scipy's double-double products. Same early stop as scipy.
    static func lowerSumInLogSpace(n: Int, x: Double, nTerms: Int) -> Double {
        guard nTerms > parallelMinTerms else {
            return (termSum(n: n, x: x, from: 0, to: nTerms, nTerms: nTerms, logC: DoubleDouble(0)) * x).hi
        }
        // The second chunk first walks log C(n, v) up to its start, so it gets fewer terms.
        let mid = nTerms * 55 / 100
        let parts = PartialSums()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 {
                parts.first = termSum(n: n, x: x, from: 0, to: mid, nTerms: nTerms, logC: DoubleDouble(0))
            } else {
                var logC = DoubleDouble(0)
                for v in 0..<mid { logC = logC + logRatio(n, v) }
                parts.second = termSum(n: n, x: x, from: mid, to: nTerms, nTerms: nTerms, logC: logC)
            }
        }
        return ((parts.first + parts.second) * x).hi
    }

    private final class PartialSums: @unchecked Sendable {
        var first = DoubleDouble(0)
        var second = DoubleDouble(0)
    }

    /// log(C(n, v+1)/C(n, v)) = log((n−v)/(v+1)).
    private static func logRatio(_ n: Int, _ v: Int) -> Double {
        let ratio = DoubleDouble(Double(n - v)) / (Double(v) + 1)
        return log(ratio.hi) + ratio.lo / ratio.hi
    }

    private static func termSum(n: Int, x: Double, from: Int, to: Int, nTerms: Int, logC start: DoubleDouble) -> DoubleDouble {
        let nd = Double(n)
        var logC = start
        var sum = DoubleDouble(0)
        let logX = log(x)
        // The bases x + v/n and 1 − x − v/n advance by 1/n per term: one double-double addition each
        // instead of a division (the accumulated error stays near 1e-30).
        let step = DoubleDouble(1) / nd
        var t1 = DoubleDouble(Double(from)) / nd + x
        var t2 = DoubleDouble(Double(n - from)) / nd - x
        for v in from..<to {
            let logT1 = log(t1.hi) + t1.lo / t1.hi
            let logT2 = log(t2.hi) + t2.lo / t2.hi
            var logA = logC + DoubleDouble(Double(n - v)) * logT2
            logA = v == 0 ? logA - logX : logA + DoubleDouble(Double(v - 1)) * logT1
            let a = exp(logA.hi) * (1 + logA.lo)
            if a.isFinite && a != 0 { sum = sum + a }
            if a != 0 {
                if 4 * Double(nTerms - v) * a < Double.ulpOfOne * sum.hi && v != nTerms - 1 && v > 0 { break }
            } else if v > n / 2 {
                break
            }
            logC = logC + logRatio(n, v)
            t1 = t1 + step
            t2 = t2 - step
        }
        return sum
    }

    private static func updateBinomial(_ cman: inout DoubleDouble, _ cexpt: inout Int, _ n: Int, _ j: Int) {
        let rat = DoubleDouble(Double(n - j)) / (Double(j) + 1.0)
        let (m, e) = (cman * rat).frexp()
        cexpt += e
        cman = m
    }

    /// (1+r)^m for a double-double base, trading a little accuracy for speed as scipy does.
    private static func powD(_ a: DoubleDouble, _ m: Int) -> DoubleDouble {
        if m <= 0 {
            if m == 0 { return DoubleDouble(1) }
            return 1.0 / powD(a, -m)
        }
        if a.isZero { return DoubleDouble(0) }
        let ans = pow(a.hi, Double(m))
        let r = a.lo / a.hi
        var adj = Double(m) * r
        if abs(adj) > 1e-8 {
            if abs(adj) < 1e-4 {
                adj += (Double(m) * r) * ((Double(m) - 1) / 2.0 * r)
            } else {
                adj = expm1(Double(m) * log1p(r))
            }
        }
        return DoubleDouble(ans) + ans * adj
    }

    private static func pow2(_ a: Double, _ b: Double, _ m: Int) -> Double {
        powD(DoubleDouble(a) + b, m).double
    }

    private static func pow2Scaled(_ a: DoubleDouble, _ m: Int) -> (DoubleDouble, Int) {
        if m <= 0 {
            if m == 0 { return (DoubleDouble(1), 0) }
            let (ans, e1) = pow2Scaled(a, -m)
            let (inv, e2) = (1.0 / ans).frexp()
            return (inv, -e1 + e2)
        }
        let (y, yE) = a.frexp()
        if m == 1 { return (y, yE) }
        var maxExpt = maxExponent
        if Double(m) * (y.hi - 1) / y.hi < -Double(maxExponent) * M_LN2 {
            let lg2y = log(y.hi) / M_LN2
            let lgAns = Double(m) * lg2y
            if lgAns <= -Double(maxExponent) {
                maxExpt = Int(nextPowerOf2(-Double(maxExponent) / lg2y + 1) / 2)
            }
        }
        if m <= maxExpt {
            let (ans, ansE) = powD(y, m).frexp()
            return (ans, ansE + m * yE)
        }
        let q = m / maxExpt
        let r = m % maxExpt
        let (y2r, y2rE) = pow2Scaled(y, r)
        let (y2m, y2mE) = pow2Scaled(y, maxExpt)
        let (y2mq, y2mqE) = pow2Scaled(y2m, q)
        let (ans, ansE) = (y2r * y2mq).frexp()
        return (ans, ansE + y2mqE + y2mE * q + y2rE + m * yE)
    }

    private static func nextPowerOf2(_ x: Double) -> Double {
        let q = Foundation.scalbn(x, 1 - Double.significandBitCount - 1)
        var l = abs(q + x)
        if l == 0 { l = abs(x) } else if Double(Int(l)) == l { l = Double(Int(l)) }
        return l
    }

    private static func pow4(_ a: Double, _ b: Double, _ c: Double, _ d: Double, _ m: Int) -> DoubleDouble {
        if m <= 0 {
            if m == 0 { return DoubleDouble(1) }
            return pow4(c, d, a, b, -m)
        }
        let aa = DoubleDouble(a) + b
        let cc = DoubleDouble(c) + d
        if aa.isZero { return cc.isZero ? DoubleDouble(.nan) : DoubleDouble(0) }
        if cc.isZero { return DoubleDouble(aa.hi < 0 ? -.infinity : .infinity) }
        return powD(aa / cc, m)
    }

    /// A_v(n, x) = C(n,v)·(1−x−v/n)^(n−v)·(x+v/n)^(v−1).
    private static func term(n: Int, x: Double, v: Int, cman: DoubleDouble, cexpt: Int) -> DoubleDouble {
        let t2x = DoubleDouble(Double(n - v)) / Double(n) - x
        let (t2, t2E) = pow2Scaled(t2x, n - v)
        let t1x = DoubleDouble(Double(v)) / Double(n) + x
        let (t1, t1E) = pow2Scaled(t1x, v - 1)
        let ans = t1 * t2 * cman
        return ans.ldexp(cexpt + t1E + t2E)
    }
}

/// The limiting distribution of √n·Dₙ (scipy's `kstwobign`, `scipy.special.kolmogorov`):
/// K(x) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²x²}, with the Jacobi-theta form for x ≤ 0.82.
enum KolmogorovLimit {
    static func sf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        if x <= Double.pi / (8.0 * 746.0).squareRoot() { return 1 }
        if x <= 0.82 {
            let w = (2 * Double.pi).squareRoot() / x
            let logu8 = -Double.pi * Double.pi / (x * x)
            let u = exp(logu8 / 8)
            var p = 1.0
            if u == 0 {
                p = exp(logu8 / 8 + log(w))
            } else {
                let u8 = exp(logu8)
                let u8cub = pow(u8, 3)
                p = 1 + u8cub * p
                p = 1 + u8 * u8 * p
                p = 1 + u8 * p
                p = w * u * p
            }
            return min(max(1 - p, 0), 1)
        }
        let v = exp(-2 * x * x)
        let vsq = v * v
        let v3 = pow(v, 3)
        var p = 1.0
        p = 1 - v3 * v3 * v * p
        p = 1 - v3 * vsq * p
        p = 1 - v3 * p
        p = 2 * v * p
        return min(max(p, 0), 1)
    }
}
