import COpenBLAS
import Foundation

/// Pearson correlation matrices through BLAS and the largest change between two of them.
public enum Correlation {
    /// The Pearson correlation matrix (row-major p×p) of the columns of an n×p sample, as
    /// `numpy.corrcoef(columns)`: columns are centred, C = XᵀX is formed by `cblas_dsyrk`, and
    /// rᵢⱼ = Cᵢⱼ/√(CᵢᵢCⱼⱼ), clipped to [−1, 1]. A constant column gives NaN in its row and column.
    public static func matrix(columns: [[Double]]) -> [Double] {
        let p = columns.count
        guard p > 0 else { return [] }
        let n = columns[0].count
        // X is stored column-major n×p (each column contiguous): exactly `columns` flattened.
        var x = [Double](repeating: 0, count: n * p)
        for (j, col) in columns.enumerated() {
            precondition(col.count == n, "all columns need the same length")
            let mean = col.reduce(0, +) / Double(n)
            for i in 0..<n { x[j * n + i] = col[i] - mean }
        }
        var c = [Double](repeating: 0, count: p * p)
        x.withUnsafeBufferPointer { xp in
            c.withUnsafeMutableBufferPointer { cp in
                // C (upper, column-major p×p) = Xᵀ X with X column-major n×p, lda = n.
                cblas_dsyrk(
                    CblasColMajor, CblasUpper, CblasTrans, Int32(p), Int32(n), 1.0,
                    xp.baseAddress, Int32(max(n, 1)), 0.0, cp.baseAddress, Int32(p))
            }
        }
        return normalize(c, dimension: p)
    }

    /// r = Cᵢⱼ/√(CᵢᵢCⱼⱼ) (row-major) from a co-moment matrix C (column-major upper triangle), clipped to [−1, 1]; a
    /// zero variance gives NaN in its row and column.
    static func normalize(_ c: [Double], dimension p: Int) -> [Double] {
        var r = [Double](repeating: 0, count: p * p)
        for j in 0..<p {
            for i in 0...j {
                let cij = c[j * p + i]  // column-major upper triangle
                let denom = (c[i * p + i] * c[j * p + j]).squareRoot()
                var v = cij / denom
                if i == j { v = denom > 0 ? 1 : .nan } else if !v.isNaN { v = min(max(v, -1), 1) }
                if denom == 0 { v = .nan }
                r[i * p + j] = v
                r[j * p + i] = v
            }
        }
        return r
    }

    /// The largest |r_ref − r_cur| over feature pairs i < j (pairs with NaN are skipped).
    public static func maxAbsoluteChange(reference: [Double], current: [Double], dimension p: Int)
        -> (delta: Double, i: Int, j: Int)?
    {
        var best: (Double, Int, Int)? = nil
        for i in 0..<p {
            for j in (i + 1)..<max(p, i + 1) {
                let d = abs(reference[i * p + j] - current[i * p + j])
                if d.isNaN { continue }
                if best == nil || d > best!.0 { best = (d, i, j) }
            }
        }
        return best.map { (delta: $0.0, i: $0.1, j: $0.2) }
    }
}
