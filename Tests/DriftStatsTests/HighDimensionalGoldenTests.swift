import DriftStats
import Foundation
import Testing

/// PCA projections, per-component KS, reconstruction error and MMD against numpy/scipy on the same data
/// (Fixtures/generate_highdim_fixtures.py).
@Suite("High-dimensional statistics match numpy and scipy")
struct HighDimensionalGoldenTests {
    struct Case: Decodable {
        struct KS: Decodable {
            var statistic: Double
            var pvalue: Double
        }
        struct MMDCase: Decodable {
            var sigma: Double
            var mmd2_shift: Double
            var mmd2_null: Double
        }
        var dimension: Int
        var checksums: [String: Double]
        var components: Int
        var eigenvalues: [Double]
        var all_eigenvalues: [Double]
        var eigenvectors: [[Double]]
        var ks: [KS]
        var reconstruction_mean_current: Double
        var reconstruction_mean_null: Double
        var mmd: MMDCase
    }

    static let golden = try! Golden.load("highdim_cases.json", as: Case.self)
    static let loadings: [[Double]] = {
        var g = SeededGaussian(seed: 7)
        return (0..<48).map { _ in (0..<6).map { _ in g.nextGaussian() } }
    }()
    static let scales = [4.0, 3.2, 2.5, 1.9, 1.4, 1.0]

    /// The generator's `draw`: x = A z + 0.5 noise, in the same order of operations.
    static func draw(_ n: Int, seed: UInt64, shift: Double = 0) -> Matrix {
        var g = SeededGaussian(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(n * 48)
        for _ in 0..<n {
            var z = scales.map { g.nextGaussian() * $0 }
            z[0] += shift
            let noise = (0..<48).map { _ in g.nextGaussian() }
            for j in 0..<48 {
                var s = 0.0
                for l in 0..<6 { s += loadings[j][l] * z[l] }
                values.append(s + 0.5 * noise[j])
            }
        }
        return Matrix(rows: n, cols: 48, values: values)
    }

    static let reference = draw(1200, seed: 101)
    static let current = draw(700, seed: 202, shift: 1.5)
    static let null = draw(700, seed: 303)

    func close(_ a: Double, _ b: Double, rel: Double, _ what: String) {
        #expect(abs(a - b) <= rel * max(abs(b), 1e-300), "\(what): \(a) vs numpy \(b)")
    }

    @Test func theDataIsNumpysToTheBit() {
        // numpy sums in its own order (pairwise): agreement to 1e-12 relative means the same doubles
        close(Self.reference.values.reduce(0, +), Self.golden.checksums["reference"]!, rel: 1e-12, "reference")
        close(Self.current.values.reduce(0, +), Self.golden.checksums["current"]!, rel: 1e-12, "current")
        close(Self.null.values.reduce(0, +), Self.golden.checksums["null"]!, rel: 1e-12, "null")
    }

    @Test func pcaEigenvaluesAndSubspaceMatchNumpyEigh() throws {
        let p = try Projection.pca(Self.reference, varianceShare: 0.9, maxComponents: 32)
        #expect(p.count == Self.golden.components)
        for (a, b) in zip(p.eigenvalues, Self.golden.eigenvalues) { close(a, b, rel: 1e-10, "eigenvalue") }
        let total = Self.golden.all_eigenvalues.reduce(0) { $0 + max($1, 0) }
        close(p.explainedShare, Self.golden.eigenvalues.reduce(0, +) / total, rel: 1e-10, "explained share")
        // principal angles between the two k-dimensional subspaces: the singular values of W·Vᵀ are their cosines
        let v = Matrix(rows: Self.golden.eigenvectors)
        let m = Matrix.product(p.components, v, transposeB: true)
        let mtm = Matrix.product(m, m, transposeA: true)
        let cosines = try #require(LinearAlgebra.symmetricEigenvalues(mtm.values, n: mtm.rows)).map { $0.squareRoot() }
        for c in cosines { #expect(acos(min(1, c)) < 1e-6, "principal angle \(acos(min(1, c))) rad") }
        // distinct eigenvalues: each component is numpy's up to its sign
        for r in 0..<p.count {
            let dot = zip(p.components.row(r), Self.golden.eigenvectors[r]).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(abs(dot) - 1) < 1e-10)
        }
    }

    @Test func perComponentKSMatchesScipy() throws {
        let p = try Projection.pca(Self.reference)
        let zr = p.project(Self.reference)
        let zc = p.project(Self.current)
        for j in 0..<p.count {
            let r = TwoSampleKS.test(zr.column(j), zc.column(j))
            close(r.statistic, Self.golden.ks[j].statistic, rel: 1e-12, "KS D of component \(j + 1)")
            close(r.pvalue, Self.golden.ks[j].pvalue, rel: 1e-9, "KS p of component \(j + 1)")
        }
    }

    @Test func reconstructionErrorMatchesNumpy() throws {
        let p = try Projection.pca(Self.reference)
        let mean = { (e: [Double]) in e.reduce(0, +) / Double(e.count) }
        close(mean(p.reconstructionErrors(Self.current)), Self.golden.reconstruction_mean_current, rel: 1e-10, "shifted")
        close(mean(p.reconstructionErrors(Self.null)), Self.golden.reconstruction_mean_null, rel: 1e-10, "null")
    }

    @Test func mmdMatchesNumpyAndPermutationsAreReproducible() throws {
        let x = Self.reference.prefix(rows: 400)
        let y = Self.current.prefix(rows: 300)
        let n = Self.null.prefix(rows: 300)
        let sigma = MMD.medianHeuristicSigma(x)
        close(sigma, Self.golden.mmd.sigma, rel: 1e-12, "σ")
        close(MMD.mmd2(x, y, sigma: sigma), Self.golden.mmd.mmd2_shift, rel: 1e-9, "MMD² shifted")
        #expect(abs(MMD.mmd2(x, n, sigma: sigma) - Self.golden.mmd.mmd2_null) < 1e-12, "MMD² null (≈ 0: compared absolutely)")
        let a = try MMD.test(x, y, permutations: 200, seed: 42)
        let b = try MMD.test(x, y, permutations: 200, seed: 42)
        #expect(a == b, "the same seed gives the same p-value")
        // the test's one-pass statistic (dsyrk Gram of the pooled sample) is the estimator's, and its σ numpy's
        close(a.mmd2, Self.golden.mmd.mmd2_shift, rel: 1e-9, "MMD² from the test")
        close(a.sigma, Self.golden.mmd.sigma, rel: 1e-12, "σ from the test")
        #expect(a.pvalue == 1.0 / 201, "a clear shift: no permutation reaches it")
        let null1 = try MMD.test(x, n, permutations: 200, seed: 1)
        let null2 = try MMD.test(x, n, permutations: 200, seed: 2)
        #expect(null1.pvalue > 0.05 && null2.pvalue > 0.05 && null1.pvalue != null2.pvalue)
    }

    @Test func permutationStatisticsEqualDirectComputation() throws {
        // the dgemm shortcut of the permutation test against the estimator on explicitly permuted samples
        let x = Self.reference.prefix(rows: 60)
        let y = Self.null.prefix(rows: 50)
        let sigma = MMD.medianHeuristicSigma(x)
        let pooled = Matrix(rows: 110, cols: 48, values: x.values + y.values)
        var g = SeededGaussian(seed: 9)
        var atLeast = 0
        let observed = MMD.mmd2(x, y, sigma: sigma)
        for _ in 0..<30 {
            let perm = g.permutation(110)
            let v = MMD.mmd2(pooled.rows(Array(perm[0..<60])), pooled.rows(Array(perm[60...])), sigma: sigma)
            if v >= observed { atLeast += 1 }
        }
        let r = try MMD.test(x, y, sigma: sigma, permutations: 30, seed: 9)
        #expect(r.pvalue == Double(1 + atLeast) / 31)
    }
}
