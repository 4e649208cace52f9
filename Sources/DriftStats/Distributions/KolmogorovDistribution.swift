import COpenBLAS
import Foundation

/// The exact distribution of the two-sided one-sample statistic Dₙ (scipy's `kstwo`).
///
/// `sf(n:x:)` = Pr(Dₙ ≥ x), computed exactly as `scipy.stats.kstwo.sf(x, n)` (scipy 1.17,
/// `_ksstats._kolmogn`): Ruben–Gambino closed forms at the ends, 2·smirnov(n, x) for x ≥ 0.5 or
/// large n·x², the Durbin matrix (Marsaglia–Tsang–Wang, matrix powers through BLAS `dgemm`) or
/// Pomeranz recursion for small n, and the Pelz–Good expansion for large n (Simard & L'Ecuyer 2011).
public enum KolmogorovDistribution {
    public static func sf(n: Int, x: Double) -> Double {
        guard n > 0, !x.isNaN else { return .nan }
        if x >= 1 { return 0 }
        if x <= 0 { return 1 }
        let nd = Double(n)
        let t = nd * x
        if t <= 1 {
            if t <= 0.5 { return 1 }
            let cdf: Double
            if n <= 140 {
                var p = 1.0
                for i in 1...n { p *= Double(i) * (1.0 / nd) * (2 * t - 1) }
                cdf = p
            } else {
                cdf = exp(logNFactorialOverNPowN(nd) + nd * log(2 * t - 1))
            }
            return clip(1 - cdf)
        }
        if t >= nd - 1 { return clip(2 * pow(1.0 - x, nd)) }
        if x >= 0.5 { return clip(2 * Smirnov.sf(n: n, d: x)) }
        let nxSquared = t * x
        if n <= 140 {
            if nxSquared <= 0.754693 { return clip(1 - durbinMatrixCDF(n: n, d: x)) }
            if nxSquared <= 4 { return clip(1 - pomeranzCDF(n: n, x: x)) }
            return clip(2 * Smirnov.sf(n: n, d: x))
        }
        if nxSquared >= 370 { return 0 }
        if nxSquared >= 2.2 { return clip(2 * Smirnov.sf(n: n, d: x)) }
        let cdf: Double
        if n <= 100_000 && nd * pow(x, 1.5) <= 1.4 {
            cdf = durbinMatrixCDF(n: n, d: x)
        } else {
            cdf = pelzGoodCDF(n: nd, x: x)
        }
        return clip(1 - cdf)
    }

    private static func clip(_ p: Double) -> Double { min(max(p, 0), 1) }

    private static let stirling: [Double] = [
        -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
        8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
        -2.7777777777777777778e-3, 8.3333333333333333333e-2
    ]

    /// log(n!/nⁿ) by Stirling's series.
    private static func logNFactorialOverNPowN(_ n: Double) -> Double {
        let rn = 1.0 / n
        let z = rn / n
        var poly = 0.0
        for c in stirling { poly = poly * z + c }
        return log(n) / 2 - n + log(2 * Double.pi) / 2 + rn * poly
    }

    private static let e128 = 128
    private static let ep128 = Foundation.scalbn(1.0, 128)
    private static let em128 = Foundation.scalbn(1.0, -128)

    /// Pr(Dₙ < d) by Durbin's matrix method as improved by Marsaglia, Tsang and Wang (2003).
    static func durbinMatrixCDF(n: Int, d: Double) -> Double {
        if d >= 1 { return 1 }
        let nd = Double(n) * d
        if nd <= 0.5 { return 0 }
        let k = Int(nd.rounded(.up))
        let h = Double(k) - nd
        let m = 2 * k - 1
        var v = [Double](repeating: 0, count: m)
        var w = [Double](repeating: 0, count: m)
        var fac = 1.0
        for j in 1...m {
            w[j - 1] = fac
            fac /= Double(j)
            v[j - 1] = (1.0 - pow(h, Double(j))) * fac
        }
        let tt = pow(max(2 * h - 1.0, 0), Double(m)) - 2 * pow(h, Double(m))
        v[m - 1] = (1.0 + tt) * fac
        // H is row-major m×m.
        var hm = [Double](repeating: 0, count: m * m)
        for i in 1..<max(m, 1) {
            for r in (i - 1)..<m { hm[r * m + i] = w[r - (i - 1)] }
        }
        for r in 0..<m { hm[r * m] = v[r] }
        for c in 0..<m { hm[(m - 1) * m + c] = v[m - 1 - c] }

        var power = [Double](repeating: 0, count: m * m)
        for i in 0..<m { power[i * m + i] = 1 }
        var scratch = [Double](repeating: 0, count: m * m)
        var nn = n
        var expnt = 0
        var hExpnt = 0
        while nn > 0 {
            if nn % 2 == 1 {
                matmul(power, hm, into: &scratch, m)
                swap(&power, &scratch)
                expnt += hExpnt
            }
            matmul(hm, hm, into: &scratch, m)
            swap(&hm, &scratch)
            hExpnt *= 2
            if abs(hm[(k - 1) * m + (k - 1)]) > ep128 {
                for i in hm.indices { hm[i] /= ep128 }
                hExpnt += e128
            }
            nn /= 2
        }
        var p = power[(k - 1) * m + (k - 1)]
        for i in 1...n {
            p = Double(i) * p / Double(n)
            if abs(p) < em128 {
                p *= ep128
                expnt -= e128
            }
        }
        if expnt != 0 { p = Foundation.scalbn(p, expnt) }
        return clip(p)
    }

    private static func matmul(_ a: [Double], _ b: [Double], into c: inout [Double], _ m: Int) {
        let mm = Int32(m)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, mm, mm, mm, 1.0,
                        pa.baseAddress, mm, pb.baseAddress, mm, 0.0, pc.baseAddress, mm)
                }
            }
        }
    }

    private static func pomeranzBounds(_ i: Int, _ n: Int, _ ll: Int, _ ceilf: Int, _ roundf: Int) -> (Int, Int) {
        var j1: Int
        var j2: Int
        if i == 0 {
            j1 = -ll - ceilf - 1
            j2 = ll + ceilf - 1
        } else {
            let ip1div2 = (i + 1) / 2
            let ip1mod2 = (i + 1) % 2
            if ip1mod2 == 0 {
                if ip1div2 == n + 1 {
                    j1 = n - ll - ceilf - 1
                    j2 = n + ll + ceilf - 1
                } else {
                    j1 = ip1div2 - 1 - ll - roundf - 1
                    j2 = ip1div2 + ll - 1 + ceilf - 1
                }
            } else {
                j1 = ip1div2 - 1 - ll - 1
                j2 = ip1div2 + ll + roundf - 1
            }
        }
        return (max(j1 + 2, 0), min(j2, n))
    }

    /// Pr(Dₙ ≤ x) by the Pomeranz (1974) recursion.
    static func pomeranzCDF(n: Int, x: Double) -> Double {
        let nd = Double(n)
        let t = nd * x
        let ll = Int(t.rounded(.down))
        let f = t - Double(ll)
        let g = min(f, 1.0 - f)
        let ceilf = f > 0 ? 1 : 0
        let roundf = f > 0.5 ? 1 : 0
        let npwrs = 2 * (ll + 1)
        var gpower = [Double](repeating: 1, count: npwrs)
        var twogpower = [Double](repeating: 1, count: npwrs)
        var onem2gpower = [Double](repeating: 1, count: npwrs)
        let gOverN = g / nd
        let twoGOverN = 2 * g / nd
        let oneMinusTwoGOverN = (1 - 2 * g) / nd
        for m in 1..<npwrs {
            gpower[m] = gpower[m - 1] * gOverN / Double(m)
            twogpower[m] = twogpower[m - 1] * twoGOverN / Double(m)
            onem2gpower[m] = onem2gpower[m - 1] * oneMinusTwoGOverN / Double(m)
        }
        var v0 = [Double](repeating: 0, count: npwrs)
        var v1 = [Double](repeating: 0, count: npwrs)
        v1[0] = 1
        var v0s = 0
        var v1s = 0
        var expnt = 0
        var (j1, j2) = pomeranzBounds(0, n, ll, ceilf, roundf)
        for i in 1..<(2 * n + 2) {
            let k1 = j1
            swap(&v0, &v1)
            swap(&v0s, &v1s)
            for idx in v1.indices { v1[idx] = 0 }
            (j1, j2) = pomeranzBounds(i, n, ll, ceilf, roundf)
            let pwrs = (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 == 1 ? twogpower : onem2gpower)
            let ln2 = j2 - k1 + 1
            if ln2 > 0 {
                // conv = convolve(V0[k1-V0s ..< k1-V0s+ln2], pwrs[..<ln2]); take conv[j1-k1 ..< j1-k1+len]
                let base = k1 - v0s
                let convStart = j1 - k1
                let convLen = j2 - j1 + 1
                var maxV = 0.0
                for o in 0..<max(convLen, 0) {
                    let idx = convStart + o
                    var s = 0.0
                    let lo = max(0, idx - (ln2 - 1))
                    let hi = min(idx, ln2 - 1)
                    if lo <= hi {
                        for a in lo...hi {
                            let ai = base + a
                            if ai >= 0 && ai < npwrs { s += v0[ai] * pwrs[idx - a] }
                        }
                    }
                    v1[o] = s
                    maxV = max(maxV, s)
                }
                if maxV > 0 && maxV < em128 {
                    for idx in v1.indices { v1[idx] *= ep128 }
                    expnt -= e128
                }
                v1s = v0s + j1 - k1
            }
        }
        var ans = v1[n - v1s]
        for m in 1...n {
            if abs(ans) > ep128 {
                ans *= em128
                expnt += e128
            }
            ans *= Double(m)
        }
        if expnt != 0 { ans = Foundation.scalbn(ans, expnt) }
        return clip(ans)
    }

    /// The Pelz–Good (1976) asymptotic approximation of Pr(Dₙ ≤ x).
    static func pelzGoodCDF(n: Double, x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let pi2 = Double.pi * Double.pi
        let pi4 = pi2 * pi2
        let pi6 = pi4 * pi2
        let z = n.squareRoot() * x
        let z2 = z * z
        let z3 = z2 * z
        let z4 = z2 * z2
        let z6 = z4 * z2
        let qlog = -pi2 / 8 / z2
        if qlog < -708 { return 0 }
        var q = exp(qlog)
        let k1a = -z2
        let k1b = pi2 / 4
        let k2a = 6 * z6 + 2 * z4
        let k2b = (2 * z4 - 5 * z2) * pi2 / 4
        let k2c = pi4 * (1 - 2 * z2) / 16
        let k3d = pi6 * (5 - 30 * z2) / 64
        let k3c = pi4 * (-60 * z2 + 212 * z4) / 16
        let k3b = pi2 * (135 * z4 - 96 * z6) / 4
        let k3a = -30 * z6 - 90 * pow(z, 8)
        var k = [0.0, 0.0, 0.0, 0.0]
        let maxk = Int((16 * z / Double.pi).rounded(.up))
        if maxk >= 1 {
            for kk in stride(from: maxk, through: 1, by: -1) {
                let m = Double(2 * kk - 1)
                let m2 = m * m
                let m4 = pow(m, 4)
                let m6 = pow(m, 6)
                let qpower = pow(q, Double(8 * kk))
                let coeffs = [
                    1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                    k3a + k3b * m2 + k3c * m4 + k3d * m6
                ]
                for i in 0..<4 { k[i] = k[i] * qpower + coeffs[i] }
            }
        }
        let sqrt2pi = (2 * Double.pi).squareRoot()
        let denoms = [z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)]
        for i in 0..<4 { k[i] = k[i] * q * sqrt2pi / denoms[i] }
        q = exp(-pi2 / 2 / z2)
        var k2extra = 0.0
        var k3extra = 0.0
        let sqrt3z = 3.0.squareRoot() * z
        if maxk >= 1 {
            for kk in stride(from: maxk, through: 1, by: -1) {
                let ks = Double(kk)
                let ks2 = ks * ks
                let qp = pow(q, ks2)
                k2extra += ks2 * qp
                let kspi = Double.pi * ks
                k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp
            }
        }
        k[2] += k2extra * (pi2 * sqrt2pi / (-36 * z3))
        k[3] += k3extra * (pi2 * sqrt2pi / (216 * z6))
        var sum = 0.0
        for i in 0..<4 { sum += k[i] / pow(n, Double(i) / 2.0) }
        return sum
    }
}
