import DriftStats
import Foundation
import Testing

@Suite("complete-case correlation: column-wise, bit-identical to filtering rows first")
struct CompleteCaseCorrelationTests {
    /// The row filter `completeCaseMatrix` replaces: keep the rows where every column is finite, copy, correlate.
    static func rowFiltered(_ columns: [[Double]]) -> [Double]? {
        guard columns.count >= 2 else { return nil }
        let n = columns[0].count
        let complete = (0..<n).filter { i in columns.allSatisfy { $0[i].isFinite } }
        guard complete.count >= 3 else { return nil }
        return Correlation.matrix(columns: columns.map { col in complete.map { col[$0] } })
    }

    static func columns(_ p: Int, _ n: Int, seed: UInt64) -> [[Double]] {
        var cols = (0..<p).map { DataSpecFree.normalish(n, seed: seed + UInt64($0)) }
        if p > 1 { cols[1] = zip(cols[1], cols[0]).map { $0 + 0.7 * $1 } }
        return cols
    }

    func expectSame(_ columns: [[Double]], _ label: String) {
        let got = Correlation.completeCaseMatrix(columns: columns)
        let expected = Self.rowFiltered(columns)
        #expect(got?.map(\.bitPattern) == expected?.map(\.bitPattern), "\(label)")
    }

    @Test func completeColumnsAreCorrelatedAsTheyAre() {
        for (p, n) in [(2, 3), (3, 10), (7, 1000), (20, 4097)] {
            let cols = Self.columns(p, n, seed: UInt64(p * n))
            expectSame(cols, "p=\(p) n=\(n)")
            #expect(Correlation.completeCaseMatrix(columns: cols)?.map(\.bitPattern) == Correlation.matrix(columns: cols).map(\.bitPattern))
        }
    }

    @Test func rowsWithAMissingValueInAnyColumnAreDropped() {
        var g = SplitMix64(seed: 42)
        for (p, n, rate) in [(2, 50, 0.1), (5, 2000, 0.01), (12, 3000, 0.3), (4, 500, 0.9)] {
            var cols = Self.columns(p, n, seed: UInt64(n))
            for j in 0..<p {
                for i in 0..<n where Double(g.next() >> 11) * 0x1p-53 < rate {
                    cols[j][i] = [Double.nan, .infinity, -.infinity][Int(g.next() % 3)]
                }
            }
            expectSame(cols, "p=\(p) n=\(n) rate=\(rate)")
        }
    }

    @Test func tooFewRowsOrColumnsGiveNoMatrix() {
        #expect(Correlation.completeCaseMatrix(columns: []) == nil)
        #expect(Correlation.completeCaseMatrix(columns: [[1, 2, 3, 4]]) == nil)
        #expect(Correlation.completeCaseMatrix(columns: [[1, 2], [3, 5]]) == nil)
        #expect(Correlation.completeCaseMatrix(columns: [[], []]) == nil)
        #expect(Correlation.completeCaseMatrix(columns: [[1, 2, .nan, 4], [3, .infinity, 5, 6]]) == nil)
        #expect(Correlation.completeCaseMatrix(columns: [[1, 2, .nan, 4, 8], [3, 7, 5, 6, 1]]) != nil)
    }

    @Test func finiteValuesWhoseSumOverflowsAreKeptAndConstantColumnsGiveNaN() {
        let big: [[Double]] = [[1e308, 1.5e308, 1.7e308, -1e308, 2], [1, 2, 3, 4, 5], [6, 6, 6, 6, 6]]
        expectSame(big, "overflowing sum")
        let r = Correlation.completeCaseMatrix(columns: [[1, 2, 3, .nan], [4, 4, 4, 1]])
        #expect(r?.first == 1 && r?.dropFirst().allSatisfy(\.isNaN) == true, "a column constant on the complete rows has no correlation")
    }

    @Test func goldenCasesMatchNumpyCorrcoef() {
        for c in statsFixture.correlation {
            let v = DataSpec.generated(n: c.n * c.p, seed: c.ref_seed, dist: "irwin", a: 1, b: 0, k: 1).values
            var cols = (0..<c.p).map { Array(v[($0 * c.n)..<(($0 + 1) * c.n)]) }
            cols[1] = zip(cols[1], cols[0]).map { $0 + 0.6 * $1 }
            let r = Correlation.completeCaseMatrix(columns: cols)!
            for i in r.indices { #expect(close(r[i], c.reference_matrix[i], rel: 1e-12, abs: 1e-14)) }
        }
    }
}
