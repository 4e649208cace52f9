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
        let m = Double(x.rows)
        let n = Double(y.rows)
        let kxx = kernel(x, x, sigma: sigma, zeroDiagonal: true)
        let kyy = kernel(y, y, sigma: sigma, zeroDiagonal: true)
        let kxy = kernel(x, y, sigma: sigma)
        let sxx = kxx.values.reduce(0, +) - m
        let syy = kyy.values.reduce(0, +) - n
        let sxy = kxy.values.reduce(0, +)
        return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n)
    }

    /// The test. `sigma` nil: the median heuristic on `x`.
    ///
    /// One pass of linear algebra serves everything: the pooled sample's Gram matrix by `dsyrk` (upper triangle),
    /// squared distances and the kernel on that triangle (mirrored), the bandwidth from the reference block of the
    /// same distances, the observed statistic from the kernel's blocks, and every permutation from U = K·A.
    public static func test(_ x: Matrix, _ y: Matrix, sigma: Double? = nil, permutations: Int = 100, seed: UInt64 = 0) throws -> Result {
        guard x.rows >= 2, y.rows >= 2, x.cols == y.cols else {
            throw HighDimensionalError(
                "MMD needs at least 2 rows on each side with the same dimensions (got \(x.rows)×\(x.cols) and \(y.rows)×\(y.cols))")
        }
        let m = x.rows
        let n = y.rows
        let total = m + n
        let d = x.cols
        let pooled = Matrix(rows: total, cols: d, values: x.values + y.values)
        var k = [Double](repeating: 0, count: total * total)
        pooled.values.withUnsafeBufferPointer { zp in
            k.withUnsafeMutableBufferPointer { kp in
                cblas_dsyrk(
                    CblasRowMajor, CblasUpper, CblasNoTrans, Int32(total), Int32(d), 1, zp.baseAddress, Int32(d), 0, kp.baseAddress, Int32(total))
            }
        }
        let norms = (0..<total).map { k[$0 * total + $0] }
        // squared distances on the upper triangle (in place), then the bandwidth from the reference block
        k.withUnsafeMutableBufferPointer { kp in
            for i in 0..<total {
                let ni = norms[i]
                let base = i * total
                for j in (i + 1)..<total { kp[base + j] = max(0, ni + norms[j] - 2 * kp[base + j]) }
            }
        }
        let s: Double
        if let sigma {
            s = sigma
        } else {
            var upper = [Double]()
            upper.reserveCapacity(m * (m - 1) / 2)
            for i in 0..<m { upper.append(contentsOf: k[(i * total + i + 1)..<(i * total + m)]) }
            FastSort.sort(&upper)
            let c = upper.count
            let median = c % 2 == 1 ? upper[c / 2] : (upper[c / 2 - 1] + upper[c / 2]) / 2
            s = median > 0 ? (median / 2).squareRoot() : 1
        }
        let g = -1 / (2 * s * s)
        k.withUnsafeMutableBufferPointer { kp in
            for i in 0..<total {
                let base = i * total
                kp[base + i] = 1
                for j in (i + 1)..<total {
                    let v = exp(kp[base + j] * g)
                    kp[base + j] = v
                    kp[j * total + i] = v
                }
            }
        }
        let rowSums = (0..<total).map { i in k[(i * total)..<((i + 1) * total)].reduce(0, +) }
        let all = rowSums.reduce(0, +)
        let md = Double(m)
        let nd = Double(n)
        func statistic(saa: Double, sar: Double) -> Double {
            let sab = sar - saa
            let sbb = all - 2 * sar + saa
            return (saa - md) / (md * (md - 1)) + (sbb - nd) / (nd * (nd - 1)) - 2 * sab / (md * nd)
        }
        var saa0 = 0.0
        var sar0 = 0.0
        for i in 0..<m {
            sar0 += rowSums[i]
            saa0 += k[(i * total)..<(i * total + m)].reduce(0, +)
        }
        let observed = statistic(saa: saa0, sar: sar0)
        var rng = SeededGaussian(seed: seed)
        var indicators = Matrix(zeros: total, permutations)
        var members = [[Int]]()
        for p in 0..<permutations {
            let first = Array(rng.permutation(total)[0..<m])
            members.append(first)
            for i in first { indicators[i, p] = 1 }
        }
        let kernel = Matrix(rows: total, cols: total, values: k)
        let u = Matrix.product(kernel, indicators)
        var atLeast = 0
        for p in 0..<permutations {
            var saa = 0.0
            var sar = 0.0
            for i in members[p] {
                saa += u[i, p]
                sar += rowSums[i]
            }
            if statistic(saa: saa, sar: sar) >= observed { atLeast += 1 }
        }
        return Result(
            mmd2: observed, pvalue: Double(1 + atLeast) / Double(1 + permutations), sigma: s, permutations: permutations,
            referenceCount: m, currentCount: n)
    }
}
