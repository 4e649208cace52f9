import COpenBLAS
import Foundation

/// Pearson correlation matrices through BLAS and the largest change between two of them.
public enum Correlation {
    /// The Pearson correlation matrix (row-major p×p) of the columns of an n×p sample, as
    /// `numpy.corrcoef(columns)`: columns are centred, C = XᵀX is formed by `cblas_dsyrk`, and
    /// rᵢⱼ = Cᵢⱼ/√(CᵢᵢCⱼⱼ), clipped to [−1, 1]. A constant column gives NaN in its row and column.
    public static func matrix(columns: [[Double]]) -> [Double] {
        guard let n = columns.first?.count else { return [] }
        for col in columns { precondition(col.count == n, "all columns need the same length") }
        return centredMatrix(columns, rows: n, keep: nil, sums: nil)
    }

    /// `matrix(columns:)` over the complete cases: the rows where every column is finite (listwise deletion, as
    /// `pandas.DataFrame.dropna().corr()`), or nil when there are fewer than two columns or fewer than three such rows.
    /// Column-wise, in two passes per column when nothing is missing: each column's sum (finite only when every value
    /// is, as ±∞ and NaN never cancel back to a finite sum), then its centring straight into the matrix BLAS reads — no
    /// filtered copy. Otherwise a finiteness mask is built column by column and the kept rows are gathered while
    /// centring. Means are summed in row order, so the result is bit-identical to `matrix(columns:)` of the filtered
    /// columns.
    public static func completeCaseMatrix(columns: [[Double]]) -> [Double]? {
        guard columns.count >= 2 else { return nil }
        let n = columns[0].count
        for col in columns { precondition(col.count == n, "all columns need the same length") }
        let sums = columns.map { $0.reduce(0, +) }
        if sums.allSatisfy(\.isFinite) { return n >= 3 ? centredMatrix(columns, rows: n, keep: nil, sums: sums) : nil }
        var keep = [Bool](repeating: true, count: n)
        keep.withUnsafeMutableBufferPointer { mask in
            for (col, sum) in zip(columns, sums) where !sum.isFinite {
                col.withUnsafeBufferPointer { c in
                    for i in 0..<n where !c[i].isFinite { mask[i] = false }
                }
            }
        }
        var rows: [Int] = []
        rows.reserveCapacity(n)
        for i in 0..<n where keep[i] { rows.append(i) }
        guard rows.count >= 3 else { return nil }
        return centredMatrix(columns, rows: rows.count, keep: rows.count == n ? nil : rows, sums: rows.count == n ? sums : nil)
    }

    /// Centres the columns (restricted to the row indices `keep`, all rows when nil; `sums` are the full columns'
    /// sums when known) into one column-major n×p matrix, forms XᵀX with `dsyrk` and normalises it.
    private static func centredMatrix(_ columns: [[Double]], rows n: Int, keep: [Int]?, sums: [Double]?) -> [Double] {
        let p = columns.count
        // no rows (or no columns): nothing to correlate, as numpy gives NaN (and no zero-sized BLAS call)
        guard n > 0 && p > 0 else { return [Double](repeating: .nan, count: p * p) }
        var x = [Double](unsafeUninitializedCapacity: n * p) { buffer, initialized in
            for (j, col) in columns.enumerated() {
                col.withUnsafeBufferPointer { c in
                    let out = buffer.baseAddress! + j * n
                    if let keep {
                        var sum = 0.0
                        for i in keep { sum += c[i] }
                        let mean = sum / Double(n)
                        for (k, i) in keep.enumerated() { out[k] = c[i] - mean }
                    } else {
                        let mean = (sums?[j] ?? c.reduce(0, +)) / Double(n)
                        for i in 0..<n { out[i] = c[i] - mean }
                    }
                }
            }
            initialized = n * p
        }
        return normalize(gram(&x, rows: n, columns: p), dimension: p)
    }

    /// C (upper triangle, column-major p×p) = XᵀX for a column-major n×p X, by `cblas_dsyrk`.
    private static func gram(_ x: inout [Double], rows n: Int, columns p: Int) -> [Double] {
        var c = [Double](repeating: 0, count: p * p)
        x.withUnsafeBufferPointer { xp in
            c.withUnsafeMutableBufferPointer { cp in
                cblas_dsyrk(
                    CblasColMajor, CblasUpper, CblasTrans, Int32(p), Int32(n), 1.0,
                    xp.baseAddress, Int32(max(n, 1)), 0.0, cp.baseAddress, Int32(p))
            }
        }
        return c
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
