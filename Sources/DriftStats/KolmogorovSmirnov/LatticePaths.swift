import Foundation

/// Hodges' (1958) lattice-path counts behind the exact two-sample KS p-values, in the forms
/// scipy 1.17 uses (`_compute_prob_outside_square`, `_compute_outer_prob_inside_method`,
/// `_count_paths_outside_method`).
enum LatticePaths {
    /// Pr(D_{n,n} ≥ h/n) = 2·Σ_k (−1)^k C(2n, n−kh)/C(2n, n), evaluated Horner-style.
    static func probOutsideSquare(n: Int, h: Int) -> Double {
        var p = 0.0
        var k = Int((Double(n) / Double(h)).rounded(.down))
        while k >= 0 {
            var p1 = 1.0
            for j in 0..<h {
                p1 = Double(n - k * h - j) * p1 / Double(n + k * h + j + 1)
            }
            p = p1 * (1.0 - p)
            k -= 1
        }
        return 2 * p
    }

    /// 1 − (share of paths from (0,0) to (m,n) staying strictly inside |x/m − y/n| < h/lcm),
    /// computed directly as a probability (Viehmann 2021), one sliding column at a time.
    static func outerProbInside(m: Int, n: Int, g: Int, h: Int) -> Double {
        var m = m
        var n = n
        if m < n { swap(&m, &n) }
        let mg = m / g
        let ng = n / g
        var minj = 0
        var maxj = min(Int((Double(h) / Double(mg)).rounded(.up)), n + 1)
        var curlen = maxj - minj
        let lenA = min(2 * maxj + 2, n + 1)
        var a = [Double](repeating: 1, count: max(lenA, 1))
        for idx in minj..<maxj where idx < a.count { a[idx] = 0 }
        return a.withUnsafeMutableBufferPointer { a in
            for i in 1...m {
                let lastminj = minj
                let lastlen = curlen
                minj = max(Int((Double(ng * i - h) / Double(mg)).rounded(.down)) + 1, 0)
                minj = min(minj, n)
                maxj = min(Int((Double(ng * i + h) / Double(mg)).rounded(.up)), n + 1)
                if maxj <= minj { return 1.0 }
                var val = minj == 0 ? 0.0 : 1.0
                let di = Double(i)
                for jj in 0..<(maxj - minj) {
                    let j = jj + minj
                    val = (a[jj + minj - lastminj] * di + val * Double(j)) / (di + Double(j))
                    a[jj] = val
                }
                curlen = maxj - minj
                if lastlen > curlen {
                    let from = maxj - minj
                    for idx in from..<min(from + (lastlen - curlen), a.count) { a[idx] = 1 }
                }
            }
            return a[maxj - minj - 1]
        }
    }

    /// The number of paths from (0,0) to (m,n) that reach m·y ≤ n·x − h·g somewhere (may be
    /// non-finite when it overflows; the caller then falls back to the asymptotic method).
    static func countOutside(m: Int, n: Int, g: Int, h: Int) -> Double {
        var m = m
        var n = n
        if m < n { swap(&m, &n) }
        let mg = m / g
        let ng = n / g
        let lxj = n + floorDiv(mg - h, mg)
        if lxj <= 0 { return SpecialFunctions.binom(Double(m + n), Double(n)) }
        var xj = [Int](repeating: 0, count: lxj)
        for j in 0..<lxj { xj[j] = floorDiv(h + mg * j + ng - 1, ng) }
        var b = [Double](repeating: 0, count: lxj)
        b[0] = 1
        for j in 1..<max(lxj, 1) {
            var bj = SpecialFunctions.binom(Double(xj[j] + j), Double(j))
            for i in 0..<j {
                let c = SpecialFunctions.binom(Double(xj[j] - xj[i] + j - i), Double(j - i))
                bj -= c * b[i]
            }
            b[j] = bj
        }
        var numPaths = 0.0
        for j in 0..<lxj {
            let c = SpecialFunctions.binom(Double((m - xj[j]) + (n - j)), Double(n - j))
            numPaths += b[j] * c
        }
        return numPaths
    }

    /// Python's floor division.
    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
    }
}
