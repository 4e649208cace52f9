import COpenBLAS
import Foundation

/// The maximum mean discrepancy two-sample test with a Gaussian RBF kernel.
///
/// - Kernel: k(x, y) = exp(−‖x − y‖² / (2σ²)); squared distances as ‖x‖² + ‖y‖² − 2·XYᵀ (BLAS `dgemm`).
/// - Bandwidth (median heuristic, Alibi Detect's convention on the reference alone): σ = √(median{‖xᵢ − xⱼ‖² : i < j} / 2).
/// - Statistic: the unbiased estimator
///   MMD²ᵤ = Σ_{i≠j} k(xᵢ,xⱼ) / (m(m−1)) + Σ_{i≠j} k(yᵢ,yⱼ) / (n(n−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / (mn).
/// - p-value: a permutation test — the pooled sample's labels shuffled `permutations` times with
///   `SeededGaussian(seed)` (Fisher–Yates), p = (1 + #{MMD²_perm ≥ MMD²_obs}) / (1 + permutations). All
///   permutations at once: with the pooled kernel matrix K and the permutations' indicator vectors as the
///   columns of A, U = K·A is one `dgemm`, and each permutation's three block sums follow from aᵀu, aᵀ(K1), 1ᵀK1.
public enum MMD {
    public struct Result: Sendable, Equatable, Codable {
        public var mmd2: Double
        public var pvalue: Double
        public var sigma: Double
        public var permutations: Int
        public var referenceCount: Int
        public var currentCount: Int
    }

    /// σ by the median heuristic on `x`'s rows.
    public static func medianHeuristicSigma(_ x: Matrix) -> Double {
        let d = Matrix.squaredDistances(x, x)
        var upper = [Double]()
        upper.reserveCapacity(x.rows * (x.rows - 1) / 2)
        for i in 0..<x.rows { for j in (i + 1)..<x.rows { upper.append(d.values[i * x.rows + j]) } }
        guard !upper.isEmpty else { return 1 }
        FastSort.sort(&upper)
        let m = upper.count
        let median = m % 2 == 1 ? upper[m / 2] : (upper[m / 2 - 1] + upper[m / 2]) / 2
        return median > 0 ? (median / 2).squareRoot() : 1
    }

    /// The kernel matrix between the rows of x and y.
    static func kernel(_ x: Matrix, _ y: Matrix, sigma: Double, zeroDiagonal: Bool = false) -> Matrix {
        var k = Matrix.squaredDistances(x, y)
        if zeroDiagonal { for i in 0..<min(x.rows, y.rows) { k.values[i * y.rows + i] = 0 } }
        let g = -1 / (2 * sigma * sigma)
        for i in k.values.indices { k.values[i] = exp(k.values[i] * g) }
        return k
    }

    /// MMD²ᵤ of x against y.
    public static func mmd2(_ x: Matrix, _ y: Matrix, sigma: Double) -> Double {
        let m = Double(x.rows), n = Double(y.rows)
        let kxx = kernel(x, x, sigma: sigma, zeroDiagonal: true), kyy = kernel(y, y, sigma: sigma, zeroDiagonal: true), kxy = kernel(x, y, sigma: sigma)
        let sxx = kxx.values.reduce(0, +) - m, syy = kyy.values.reduce(0, +) - n, sxy = kxy.values.reduce(0, +)
        return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n)
    }

    /// The test. `sigma` nil: the median heuristic on `x`.
    public static func test(_ x: Matrix, _ y: Matrix, sigma: Double? = nil, permutations: Int = 100, seed: UInt64 = 0) throws -> Result {
        guard x.rows >= 2, y.rows >= 2, x.cols == y.cols else {
            throw HighDimensionalError("MMD needs at least 2 rows on each side with the same dimensions (got \(x.rows)×\(x.cols) and \(y.rows)×\(y.cols))")
        }
        let s = sigma ?? medianHeuristicSigma(x)
        let observed = mmd2(x, y, sigma: s)
        let m = x.rows, n = y.rows, total = m + n
        let pooled = Matrix(rows: total, cols: x.cols, values: x.values + y.values)
        let k = kernel(pooled, pooled, sigma: s, zeroDiagonal: true)
        let rowSums = (0..<total).map { i in k.values[(i * total)..<((i + 1) * total)].reduce(0, +) }
        let all = rowSums.reduce(0, +)
        var g = SeededGaussian(seed: seed)
        var indicators = Matrix(zeros: total, permutations)
        var members = [[Int]]()
        for p in 0..<permutations {
            let perm = g.permutation(total)
            let first = Array(perm[0..<m])
            members.append(first)
            for i in first { indicators[i, p] = 1 }
        }
        let u = Matrix.product(k, indicators)
        let md = Double(m), nd = Double(n)
        var atLeast = 0
        for p in 0..<permutations {
            var saa = 0.0, sar = 0.0
            for i in members[p] {
                saa += u[i, p]
                sar += rowSums[i]
            }
            let sab = sar - saa
            let sbb = all - 2 * sar + saa
            let v = (saa - md) / (md * (md - 1)) + (sbb - nd) / (nd * (nd - 1)) - 2 * sab / (md * nd)
            if v >= observed { atLeast += 1 }
        }
        return Result(mmd2: observed, pvalue: Double(1 + atLeast) / Double(1 + permutations), sigma: s, permutations: permutations,
                      referenceCount: m, currentCount: n)
    }
}
