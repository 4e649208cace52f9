import COpenBLAS
import Foundation

/// A dense row-major matrix of doubles: `rows` observations × `cols` dimensions.
public struct Matrix: Sendable, Equatable, Codable {
    public var rows: Int
    public var cols: Int
    public var values: [Double]

    public init(rows: Int, cols: Int, values: [Double]) {
        precondition(values.count == rows * cols, "a \(rows)×\(cols) matrix needs \(rows * cols) values, not \(values.count)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(zeros rows: Int, _ cols: Int) { self.init(rows: rows, cols: cols, values: [Double](repeating: 0, count: rows * cols)) }

    /// From rows of equal length.
    public init(rows list: [[Double]]) {
        self.init(rows: list.count, cols: list.first?.count ?? 0, values: list.flatMap { $0 })
    }

    public subscript(i: Int, j: Int) -> Double {
        get { values[i * cols + j] }
        set { values[i * cols + j] = newValue }
    }

    public func row(_ i: Int) -> ArraySlice<Double> { values[(i * cols)..<((i + 1) * cols)] }

    /// Column j as an array.
    public func column(_ j: Int) -> [Double] { (0..<rows).map { values[$0 * cols + j] } }

    /// The first `n` rows.
    public func prefix(rows n: Int) -> Matrix {
        let k = min(n, rows)
        return Matrix(rows: k, cols: cols, values: Array(values[0..<(k * cols)]))
    }

    /// Rows at the given indices.
    public func rows(_ indices: [Int]) -> Matrix {
        var out = [Double]()
        out.reserveCapacity(indices.count * cols)
        for i in indices { out.append(contentsOf: row(i)) }
        return Matrix(rows: indices.count, cols: cols, values: out)
    }

    /// The rows in lexicographic order: the same rows in any order give the same matrix (window samples come in
    /// random order; seeded sub-samples and chunks of them must not depend on it).
    public func canonicalized() -> Matrix {
        let order = (0..<rows).sorted { a, b in
            for j in 0..<cols where values[a * cols + j] != values[b * cols + j] { return values[a * cols + j] < values[b * cols + j] }
            return false
        }
        return self.rows(order)
    }

    /// α · op(A) · op(B) through BLAS `dgemm` (op = transpose when asked).
    public static func product(_ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false, alpha: Double = 1) -> Matrix {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let n = transposeB ? b.rows : b.cols
        precondition(k == (transposeB ? b.cols : b.rows), "inner dimensions differ")
        var c = Matrix(zeros: m, n)
        guard m > 0, n > 0, k > 0 else { return c }
        a.values.withUnsafeBufferPointer { ap in
            b.values.withUnsafeBufferPointer { bp in
                c.values.withUnsafeMutableBufferPointer { cp in
                    cblas_dgemm(
                        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, ap.baseAddress, Int32(a.cols), bp.baseAddress, Int32(b.cols),
                        0, cp.baseAddress, Int32(n))
                }
            }
        }
        return c
    }

    /// Column means (through `dgemv`: 1ᵀX / n).
    public var columnMeans: [Double] {
        var mean = [Double](repeating: 0, count: cols)
        guard rows > 0 else { return mean }
        let ones = [Double](repeating: 1, count: rows)
        values.withUnsafeBufferPointer { xp in
            ones.withUnsafeBufferPointer { op in
                mean.withUnsafeMutableBufferPointer { mp in
                    cblas_dgemv(
                        CblasRowMajor, CblasTrans, Int32(rows), Int32(cols), 1 / Double(rows), xp.baseAddress, Int32(cols),
                        op.baseAddress, 1, 0, mp.baseAddress, 1)
                }
            }
        }
        return mean
    }

    /// Squared Euclidean norm of every row.
    public var rowSquaredNorms: [Double] {
        (0..<rows).map { i in
            var s = 0.0
            for v in row(i) { s += v * v }
            return s
        }
    }

    /// ‖xᵢ − yⱼ‖² for every row pair, as ‖x‖² + ‖y‖² − 2·XYᵀ with the cross term from `dgemm` (clamped at 0).
    public static func squaredDistances(_ x: Matrix, _ y: Matrix) -> Matrix {
        var d = product(x, y, transposeB: true, alpha: -2)
        let nx = x.rowSquaredNorms
        let ny = y.rowSquaredNorms
        for i in 0..<x.rows {
            let base = i * y.rows
            for j in 0..<y.rows { d.values[base + j] = max(0, d.values[base + j] + nx[i] + ny[j]) }
        }
        return d
    }
}

/// A seeded Gaussian generator (the project's `SplitMix64` → uniform → Box–Muller), the same stream on every
/// platform, so that random projections, MMD sub-samples and permutations are reproducible from their seed.
public struct SeededGaussian: Sendable {
    private var bits: SplitMix64
    private var spare: Double?

    public init(seed: UInt64) { bits = SplitMix64(seed: seed) }

    /// A seed for one purpose, derived from a base seed and a label (FNV-1a of the label mixed in), so that the
    /// streams of one seed used for different purposes — or of nearby seeds — are unrelated.
    public static func derive(_ seed: UInt64, _ purpose: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in purpose.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        var g = SeededGaussian(seed: seed ^ h)
        return g.nextBits()
    }

    /// The next 64 random bits.
    public mutating func nextBits() -> UInt64 { bits.next() }

    /// Uniform in (0, 1): the top 53 bits, offset by half a step so that 0 never occurs.
    public mutating func nextUniform() -> Double { (Double(nextBits() >> 11) + 0.5) / 9_007_199_254_740_992 }

    /// Standard normal.
    public mutating func nextGaussian() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u1 = nextUniform()
        let u2 = nextUniform()
        let r = (-2 * log(u1)).squareRoot()
        spare = r * sin(2 * Double.pi * u2)
        return r * cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0..<n (rejection-free multiply-shift; the bias is below 2⁻³² for n < 2³²).
    public mutating func nextIndex(_ n: Int) -> Int { Int(((nextBits() >> 32) &* UInt64(n)) >> 32) }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextIndex(i + 1)) }
        return p
    }
}
