import COpenBLAS
import Foundation

/// A linear map from d dimensions to k, fitted on the reference: `z = W (x − μ)`.
///
/// - PCA: μ = the reference mean; C = (X − 1μᵀ)ᵀ(X − 1μᵀ) / (n − 1) by BLAS `dsyrk`; its eigenvectors by LAPACK
///   `dsyevd`, largest eigenvalue first; W's rows are the first k eigenvectors, k the fewest whose eigenvalues
///   reach `varianceShare` of the trace (capped at `maxComponents`). Each component's sign is fixed so that its
///   largest-magnitude entry is positive (numpy's `eigh` leaves signs arbitrary: compare subspaces, not signs).
/// - Random: W has i.i.d. N(0, 1/k) entries from `SeededGaussian(seed)` (Johnson–Lindenstrauss), μ the mean.
///
/// Projections of a window are computed with `dgemm`: Z = X Wᵀ − 1(Wμ)ᵀ.
public struct Projection: Sendable, Equatable, Codable {
    public enum Method: String, Sendable, Codable { case pca, random }

    public var method: Method
    public var dimension: Int
    public var mean: [Double]
    /// k × d.
    public var components: Matrix
    /// PCA: the kept eigenvalues (variances along the components), largest first; random: empty.
    public var eigenvalues: [Double]
    /// PCA: Σ kept eigenvalues / Σ all (the explained variance share); random: 0.
    public var explainedShare: Double

    public var count: Int { components.rows }

    /// PCA on the reference rows. `varianceShare` in (0, 1]; at least one component is kept.
    public static func pca(_ x: Matrix, varianceShare: Double = 0.9, maxComponents: Int = 32) throws -> Projection {
        let n = x.rows
        let d = x.cols
        guard n >= 2, d >= 1 else { throw HighDimensionalError("PCA needs at least 2 reference rows of at least 1 dimension (got \(n)×\(d))") }
        let mean = x.columnMeans
        // X − 1μᵀ as a BLAS rank-1 update (dger) of a copy
        var centered = x.values
        let ones = [Double](repeating: 1, count: n)
        centered.withUnsafeMutableBufferPointer { cp in
            cblas_dger(CblasRowMajor, Int32(n), Int32(d), -1, ones, 1, mean, 1, cp.baseAddress, Int32(d))
        }
        var cov = [Double](repeating: 0, count: d * d)
        centered.withUnsafeBufferPointer { xp in
            cov.withUnsafeMutableBufferPointer { cp in
                cblas_dsyrk(
                    CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1 / Double(n - 1), xp.baseAddress, Int32(d), 0, cp.baseAddress,
                    Int32(d))
            }
        }
        guard let (w, vectors) = LinearAlgebra.symmetricEigen(cov, n: d) else {
            throw HighDimensionalError("LAPACK dsyevd failed on the \(d)×\(d) reference covariance")
        }
        // ascending → descending; row-major: eigenvector j is column j
        let (k, share) = componentCount(ascending: w, varianceShare: varianceShare, maxComponents: maxComponents)
        var comps = Matrix(zeros: k, d)
        for r in 0..<k {
            let col = d - 1 - r
            var big = 0.0
            for i in 0..<d where abs(vectors[i * d + col]) > abs(big) { big = vectors[i * d + col] }
            let sign: Double = big < 0 ? -1 : 1
            for i in 0..<d { comps[r, i] = sign * vectors[i * d + col] }
        }
        return Projection(
            method: .pca, dimension: d, mean: mean, components: comps, eigenvalues: (0..<k).map { w[d - 1 - $0] },
            explainedShare: share)
    }

    /// How many of the largest eigenvalues (given ascending) reach `varianceShare` of their positive sum, at least
    /// one and at most `maxComponents`; and the share they explain.
    public static func componentCount(ascending w: [Double], varianceShare: Double, maxComponents: Int) -> (count: Int, share: Double) {
        let d = w.count
        let total = w.reduce(0) { $0 + max($1, 0) }
        var k = 0
        var kept = 0.0
        while k < max(1, min(maxComponents, d)) {
            kept += max(w[d - 1 - k], 0)
            k += 1
            if total <= 0 || kept >= varianceShare * total { break }
        }
        return (k, total > 0 ? kept / total : 0)
    }

    /// A seeded Gaussian random projection to k dimensions, centred on the reference mean.
    public static func random(_ x: Matrix, components k: Int, seed: UInt64) throws -> Projection {
        guard x.rows >= 1, k >= 1 else { throw HighDimensionalError("a random projection needs reference rows and k ≥ 1") }
        var g = SeededGaussian(seed: seed)
        let scale = 1 / Double(k).squareRoot()
        let values = (0..<(k * x.cols)).map { _ in g.nextGaussian() * scale }
        return Projection(
            method: .random, dimension: x.cols, mean: x.columnMeans, components: Matrix(rows: k, cols: x.cols, values: values),
            eigenvalues: [], explainedShare: 0)
    }

    /// Z = (X − 1μᵀ) Wᵀ, n × k, via `dgemm`.
    public func project(_ x: Matrix) -> Matrix {
        precondition(x.cols == dimension, "the data has \(x.cols) dimensions, the projection \(dimension)")
        var z = Matrix.product(x, components, transposeB: true)
        let offset = Matrix.product(Matrix(rows: 1, cols: dimension, values: mean), components, transposeB: true).values
        for i in 0..<z.rows { for j in 0..<z.cols { z.values[i * z.cols + j] -= offset[j] } }
        return z
    }

    /// PCA reconstruction error of every row: ‖x − (μ + Wᵀ W (x − μ))‖₂ (the distance between a row and its
    /// reconstruction from the kept components; NannyML's data reconstruction drift averages it).
    public func reconstructionErrors(_ x: Matrix) -> [Double] {
        let z = project(x)
        let back = Matrix.product(z, components)
        return (0..<x.rows).map { i in
            var s = 0.0
            for j in 0..<dimension {
                let r = x.values[i * dimension + j] - (back.values[i * dimension + j] + mean[j])
                s += r * r
            }
            return s.squareRoot()
        }
    }
}

public struct HighDimensionalError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ d: String) { description = d }
}
