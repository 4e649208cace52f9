import Foundation

/// The test that complements KS on a numeric feature, chosen by how tied the pooled sample is:
/// Anderson–Darling for (nearly) continuous data, a chi-square over the distinct values for discrete data.
public enum DistributionTestKind: String, Sendable, Codable {
    /// The two-sample Anderson–Darling test (Scholz & Stephens 1987), midrank form.
    case andersonDarling = "anderson_darling"
    /// The chi-square test of homogeneity over the distinct values (adjacent values merged until every expected count ≥ 5).
    case valueChiSquare = "value_chi_square"
}

/// The result of the complementary numeric test.
public struct DistributionTestResult: Sendable, Equatable {
    public var kind: DistributionTestKind
    /// Anderson–Darling: A²akN (Scholz & Stephens eq. 7); value chi-square: χ².
    public var statistic: Double
    /// Anderson–Darling: the standardized statistic T = (A² − 1)/σ_N (what `scipy.stats.anderson_ksamp` returns as
    /// `statistic`); value chi-square: the degrees of freedom.
    public var standardized: Double
    public var pvalue: Double
    public var pvalueAdjusted: Double?

    public init(kind: DistributionTestKind, statistic: Double, standardized: Double, pvalue: Double, pvalueAdjusted: Double? = nil) {
        self.kind = kind
        self.statistic = statistic
        self.standardized = standardized
        self.pvalue = pvalue
        self.pvalueAdjusted = pvalueAdjusted
    }
}

/// The complementary numeric tests and the rule that picks one.
///
/// Why: KS is weak for scale changes and for location changes of flat densities, and conservative with ties. The
/// Anderson–Darling test weights the tails and is more powerful for both (measured by `make detection`), but its
/// asymptotic null is only right for continuous data: with a value repeated in a large share of the rows (a rounded
/// feature, zeros in an amount) its p-values are too small. So:
/// - the largest block of equal values is at most `continuousTieShare` (1 %) of the pooled sample → Anderson–Darling;
/// - otherwise, at most `discreteMaxValues` (50) distinct values → the chi-square over the values;
/// - otherwise (a continuous part with a large tie, e.g. zero-inflated) → none; KS alone decides.
public enum DistributionTests {
    public static let continuousTieShare = 0.01
    public static let discreteMaxValues = 50
    /// Fewer values on a side than this: no complementary test (the asymptotic nulls are not trustworthy there).
    public static let minimumSide = 10

    /// The test for two ascending samples of finite values, or nil when neither applies (or a side has fewer than
    /// `minimumSide` values).
    public static func test(sorted1 x: [Double], sorted2 y: [Double]) -> DistributionTestResult? {
        guard x.count >= minimumSide, y.count >= minimumSide else { return nil }
        // one merge walk gives the shape and A² (no cell is stored: a continuous feature has as many cells as values)
        let walk = andersonDarlingWalk(x, y)
        let n = x.count + y.count
        if walk.largestCell * 100 <= n {
            return andersonDarling(walk, n1: x.count, n2: y.count)
        }
        if walk.cells <= discreteMaxValues {
            return valueChiSquare(cells: ValueCells(sorted1: x, sorted2: y))
        }
        return nil
    }

    /// The two-sample Anderson–Darling test, midrank version A²akN for ties, exactly as
    /// `scipy.stats.anderson_ksamp([x, y], midrank=True).statistic` (standardized T) — and its p-value from the
    /// asymptotic null, which for two samples is the one-sample A∞ law (Scholz & Stephens 1987, §3): T is mapped to
    /// that law's scale, A∞ = 1 + T·√(2(π²−9)/3), whose upper tail is Marsaglia & Marsaglia (2004) `adinf`.
    /// scipy instead interpolates a table and clips p to [0.001, 0.25]; this p-value is not clipped, so it can be
    /// adjusted across features. Nil when every value is equal.
    public static func andersonDarling(sorted1 x: [Double], sorted2 y: [Double]) -> DistributionTestResult? {
        guard !x.isEmpty, !y.isEmpty else { return nil }
        return andersonDarling(walking: x, y)
    }

    static func andersonDarling(walking x: [Double], _ y: [Double]) -> DistributionTestResult? {
        andersonDarling(andersonDarlingWalk(x, y), n1: x.count, n2: y.count)
    }

    /// A²akN summed over the cells of one merge walk (nothing stored), with the walk's shape: how many distinct values,
    /// and the largest pooled count of one value.
    static func andersonDarlingWalk(_ x: [Double], _ y: [Double]) -> (a2: Double, cells: Int, largestCell: Int) {
        let n1 = x.count
        let n2 = y.count
        let bigN = Double(n1 + n2)
        var cells = 0
        var largest = 0
        var below = 0.0
        var below1 = 0.0
        var a2 = 0.0
        let inv = 1 / Double(max(n1, 1)) + 1 / Double(max(n2, 1))
        ValueCells.walk(sorted1: x, sorted2: y) { c1, c2 in
            cells += 1
            largest = max(largest, c1 + c2)
            let f1 = Double(c1)
            let l = f1 + Double(c2)
            let b = below + l / 2
            let m1 = below1 + f1 / 2
            let d = bigN * m1 - b * Double(n1)
            let denominator = b * (bigN - b) - bigN * l / 4
            if denominator > 0 { a2 += l / bigN * d * d / denominator * inv }
            below += l
            below1 += f1
        }
        return ((bigN - 1) / bigN * a2, cells, largest)
    }

    /// The test's result from a walk's A²: standardized by the exact null variance, then its p-value.
    static func andersonDarling(_ walk: (a2: Double, cells: Int, largestCell: Int), n1: Int, n2: Int) -> DistributionTestResult? {
        guard walk.cells >= 2, n1 + n2 >= 4 else { return nil }
        let sigma = sqrt(nullVariance(n1: n1, n2: n2))
        let t = (walk.a2 - 1) / sigma
        let p = upperTail(standardized: t)
        return DistributionTestResult(kind: .andersonDarling, statistic: walk.a2, standardized: t, pvalue: p)
    }

    /// The null variance of A²kN for k = 2 (Scholz & Stephens 1987, eq. 4 — scipy's `sigmasq`).
    static func nullVariance(n1: Int, n2: Int) -> Double {
        let n = n1 + n2
        let bigN = Double(n)
        let bigH = 1 / Double(n1) + 1 / Double(n2)
        // h = Σ_{i=1}^{N−1} 1/i; g = Σ_{i=1}^{N−2} Σ_{j=i+1}^{N−1} 1/((N−i)·j) as scipy forms them.
        var hsCumulative = 0.0
        var g = 0.0
        var i = n - 1
        var position = 2.0
        while i > 1 {
            hsCumulative += 1 / Double(i)
            g += hsCumulative / position
            position += 1
            i -= 1
        }
        let h = hsCumulative + 1
        let k = 2.0
        let a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * bigH
        let b = (2 * g - 4) * k * k + 8 * h * k + (2 * g - 14 * h - 4) * bigH - 8 * h + 4 * g - 6
        let c = (6 * h + 2 * g - 2) * k * k + (4 * h - 4 * g + 6) * k + (2 * h - 6) * bigH + 4 * h
        let d = (2 * h + 6) * k * k - 4 * h * k
        return (a * bigN * bigN * bigN + b * bigN * bigN + c * bigN + d) / ((bigN - 1) * (bigN - 2) * (bigN - 3))
    }

    /// P(A∞ > 1 + T·σ∞) with σ∞² = 2(π² − 9)/3, the variance of the A∞ law (mean 1).
    static func upperTail(standardized t: Double) -> Double {
        let z = 1 + t * (2 * (Double.pi * Double.pi - 9) / 3).squareRoot()
        guard z > 0 else { return 1 }
        return min(max(adinfUpper(z), 0), 1)
    }

    /// P(A∞ > z): 1 − adinf(z) of Marsaglia & Marsaglia, "Evaluating the Anderson-Darling Distribution", J. Stat.
    /// Software 9(2), 2004, for z < 7 (absolute error < 2e-6 in the CDF, relative error of the tail < 0.3 % up to 7, kept
    /// as −expm1 so small p-values keep their digits); beyond, where that fit's tail falls off far too fast (half the true
    /// value at 10), the leading term of the tail, √(3/(πz))·e^(−z), scaled to meet adinf at 7 — within 1 % of the tail
    /// computed by Imhof's inversion of the characteristic function from 7 to 20.
    static func adinfUpper(_ z: Double) -> Double {
        if z >= 7 { return tailScale * tailTerm(z) }
        return adinfFit(z)
    }

    static func tailTerm(_ z: Double) -> Double { (3 / (Double.pi * z)).squareRoot() * exp(-z) }
    static let tailScale = adinfFit(7) / tailTerm(7)

    static func adinfFit(_ z: Double) -> Double {
        if z < 2 {
            let cdf =
                exp(-1.2337141 / z) / z.squareRoot()
                * (2.00012 + (0.247105 - (0.0649821 - (0.0347962 - (0.011672 - 0.00168691 * z) * z) * z) * z) * z)
            return 1 - cdf
        }
        let inner = 1.0776 - (2.30695 - (0.43424 - (0.082433 - (0.008056 - 0.0003146 * z) * z) * z) * z) * z
        return -expm1(-exp(inner))
    }

    /// The chi-square test of homogeneity over the distinct values, adjacent values (in value order) merged until each
    /// merged cell's expected counts are ≥ 5 on both sides (the last cell absorbs a short remainder) — the usual
    /// validity condition of the chi-square approximation. Nil with fewer than two cells after merging.
    static func valueChiSquare(cells c: ValueCells) -> DistributionTestResult? {
        let r0 = c.count1.reduce(0, +)
        let r1 = c.count2.reduce(0, +)
        let total = r0 + r1
        guard min(r0, r1) > 0 else { return nil }
        // expected_i = side · column / total ≥ 5 for both sides ⇔ column ≥ 5 · total / min(side)
        let needed = 5.0 * Double(total) / Double(min(r0, r1))
        var ref: [Int] = []
        var cur: [Int] = []
        var a = 0
        var b = 0
        for j in c.count1.indices {
            a += c.count1[j]
            b += c.count2[j]
            if Double(a + b) >= needed {
                ref.append(a)
                cur.append(b)
                (a, b) = (0, 0)
            }
        }
        if a + b > 0 {
            if ref.isEmpty {
                ref.append(a)
                cur.append(b)
            } else {
                ref[ref.count - 1] += a
                cur[cur.count - 1] += b
            }
        }
        guard ref.count >= 2 else { return nil }
        let chi = ChiSquareResult.homogeneity(reference: ref, current: cur)
        return DistributionTestResult(kind: .valueChiSquare, statistic: chi.statistic, standardized: Double(chi.dof), pvalue: chi.pvalue)
    }
}

/// The distinct values of two ascending samples with each side's count per value (one merge pass).
struct ValueCells {
    var count1: [Int] = []
    var count2: [Int] = []

    /// Stores every cell: for few distinct values (the discrete case); a continuous sample is walked instead.
    init(sorted1 x: [Double], sorted2 y: [Double]) {
        var c1: [Int] = []
        var c2: [Int] = []
        Self.walk(sorted1: x, sorted2: y) { a, b in
            c1.append(a)
            c2.append(b)
        }
        count1 = c1
        count2 = c2
    }

    /// Calls `body` with each distinct value's count in `x` and in `y`, in ascending order of value.
    static func walk(sorted1 x: [Double], sorted2 y: [Double], _ body: (Int, Int) -> Void) {
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                var i = 0
                var j = 0
                while i < x.count || j < y.count {
                    let fromX = j == y.count || (i < x.count && x[i] <= y[j])
                    let v = fromX ? x[i] : y[j]
                    // the value that opened the cell always counts, so the loop advances even on a NaN (callers pass
                    // finite values; a NaN becomes a cell of its own instead of a hang)
                    var a = fromX ? 1 : 0
                    var b = fromX ? 0 : 1
                    if fromX { i += 1 } else { j += 1 }
                    while i < x.count && x[i] == v {
                        a += 1
                        i += 1
                    }
                    while j < y.count && y[j] == v {
                        b += 1
                        j += 1
                    }
                    body(a, b)
                }
            }
        }
    }
}
