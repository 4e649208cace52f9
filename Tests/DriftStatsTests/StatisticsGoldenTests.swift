import DriftStats
import Foundation
import Testing

struct NumericCase: Decodable, CustomTestStringConvertible, @unchecked Sendable {
    var name: String
    var x: DataSpec
    var y: DataSpec
    var bins: Int
    var epsilon: Double
    var edges: [Double]
    var p: [Double]
    var q: [Double]
    var psi: Double
    var jensen_shannon: Double
    var hellinger: Double
    var wasserstein_normed: Double
    var psi_sturges: Double
    var testDescription: String { name }
}

struct ChiCase: Decodable, Sendable {
    var reference: [Int]
    var current: [Int]
    var statistic: Double
    var pvalue: Double
    var dof: Int
    var jensen_shannon: Double
    var psi: Double
}

struct StatsFixture: Decodable, @unchecked Sendable {
    struct SF: Decodable {
        var x: Double
        var dof: Double
        var sf: Double
    }
    struct CorrectionCase: Decodable {
        var p: [Double]
        var bh: [Double]
        var bonferroni: [Double]
    }
    struct CorrelationCase: Decodable {
        var n: Int
        var p: Int
        var ref_seed: UInt64
        var cur_seed: UInt64
        var shift: Double
        var reference_matrix: [Double]
        var current_matrix: [Double]
        var max_abs_delta: Double
        var pair: [Int]
    }
    struct QuantileCase: Decodable {
        var x: [Double]
        var q: [Double]
        var values: [Double]
    }
    var numeric: [NumericCase]
    var chi_square: [ChiCase]
    var chi_square_sf: [SF]
    var corrections: [CorrectionCase]
    var correlation: [CorrelationCase]
    var quantiles: [QuantileCase]
}

let statsFixture = try! Golden.load("stats_cases.json", as: StatsFixture.self)

@Suite("PSI, JS, Hellinger, Wasserstein, chi-square, corrections and correlation against scipy/numpy")
struct StatisticsGoldenTests {
    @Test func quantilesEqualNumpyBitForBit() {
        for c in statsFixture.quantiles {
            for (q, expected) in zip(c.q, c.values) {
                #expect(Quantile.linear(sorted: c.x, q) == expected, "n=\(c.x.count) q=\(q)")
            }
        }
    }

    @Test(arguments: statsFixture.numeric)
    func numericFeature(_ c: NumericCase) {
        let ref = NumericSample(values: c.x.values)
        let cur = NumericSample(values: c.y.values)
        var settings = DriftSettings()
        settings.bins = c.bins
        settings.epsilon = c.epsilon
        let bins = Bins.quantile(sortedReference: ref.sorted, bins: c.bins)
        #expect(bins.edges == c.edges)
        let f = FeatureComparison.numeric(name: c.name, reference: ref, current: cur, settings: settings)
        #expect(f.referenceProportions == c.p)
        #expect(f.currentProportions == c.q)
        #expect(close(f.psi, c.psi, rel: 1e-12, abs: 1e-15), "psi \(f.psi) vs \(c.psi)")
        #expect(close(f.jensenShannon, c.jensen_shannon, rel: 1e-12, abs: 1e-15), "js \(f.jensenShannon) vs \(c.jensen_shannon)")
        #expect(close(f.hellinger, c.hellinger, rel: 1e-12, abs: 1e-15))
        #expect(
            close(f.wassersteinNormed!, c.wasserstein_normed, rel: 1e-12, abs: 1e-15),
            "wasserstein \(f.wassersteinNormed!) vs \(c.wasserstein_normed)")
        settings.binning = .sturges
        let s = FeatureComparison.numeric(name: c.name, reference: ref, current: cur, settings: settings)
        #expect(close(s.psi, c.psi_sturges, rel: 1e-12, abs: 1e-15), "sturges psi \(s.psi) vs \(c.psi_sturges)")
    }

    @Test func chiSquareMatchesChi2Contingency() {
        for c in statsFixture.chi_square {
            let r = ChiSquareResult.homogeneity(reference: c.reference, current: c.current)
            #expect(r.dof == c.dof)
            #expect(close(r.statistic, c.statistic, rel: 1e-12, abs: 1e-13), "\(c.reference) \(c.current)")
            #expect(close(r.pvalue, c.pvalue, rel: 1e-9, abs: 1e-15), "p \(r.pvalue) vs \(c.pvalue)")
            if c.reference.count > 1 { #expect(r.pvalue > 0, "a category on one side only must not give p = 0") }
            let p = c.reference.map { Double($0) / Double(c.reference.reduce(0, +)) }
            let q = c.current.map { Double($0) / Double(c.current.reduce(0, +)) }
            #expect(close(Distances.jensenShannon(p, q), c.jensen_shannon, rel: 1e-12, abs: 1e-15))
            #expect(close(Distances.psi(reference: p, current: q, epsilon: 1e-4), c.psi, rel: 1e-12, abs: 1e-15))
        }
    }

    @Test func chiSquareSurvivalFunction() {
        for c in statsFixture.chi_square_sf {
            let sf = SpecialFunctions.chiSquareSF(c.x, dof: c.dof)
            #expect(close(sf, c.sf, rel: 1e-10, abs: 1e-300), "chi2.sf(\(c.x), \(c.dof)) = \(sf) vs \(c.sf)")
        }
    }

    @Test func multipleTestingCorrections() {
        for c in statsFixture.corrections {
            let bh = PValueCorrection.bh.adjust(c.p)
            let bf = PValueCorrection.bonferroni.adjust(c.p)
            for i in c.p.indices {
                #expect(close(bh[i], c.bh[i], rel: 1e-14, abs: 1e-16))
                #expect(close(bf[i], c.bonferroni[i], rel: 1e-14, abs: 1e-16))
            }
            #expect(PValueCorrection.none.adjust(c.p) == c.p)
        }
    }

    @Test func correlationDriftMatchesNumpyCorrcoef() {
        for c in statsFixture.correlation {
            func columns(_ seed: UInt64, slope: Double) -> [[Double]] {
                let v = DataSpec.generated(n: c.n * c.p, seed: seed, dist: "irwin", a: 1, b: 0, k: 1).values
                var cols = (0..<c.p).map { Array(v[($0 * c.n)..<(($0 + 1) * c.n)]) }
                cols[1] = zip(cols[1], cols[0]).map { $0 + slope * $1 }
                return cols
            }
            let r = Correlation.matrix(columns: columns(c.ref_seed, slope: 0.6))
            let k = Correlation.matrix(columns: columns(c.cur_seed, slope: 0.6 + c.shift))
            for i in r.indices {
                #expect(close(r[i], c.reference_matrix[i], rel: 1e-12, abs: 1e-14))
                #expect(close(k[i], c.current_matrix[i], rel: 1e-12, abs: 1e-14))
            }
            let names = (0..<c.p).map { "f\($0)" }
            let drift = CorrelationDrift.between(reference: r, current: k, names: names)!
            #expect(close(drift.maxAbsDelta, c.max_abs_delta, rel: 1e-11, abs: 1e-14))
            #expect([drift.pair.0, drift.pair.1] == c.pair.map { "f\($0)" })
        }
    }
}
