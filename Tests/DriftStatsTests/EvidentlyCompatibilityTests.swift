import DriftStats
import Foundation
import Testing

/// `--psi-binning sturges` against PSI values produced by the real Evidently 0.7 package
/// (Fixtures/generate_evidently_fixtures.py).
@Suite("Evidently 0.7 PSI compatibility")
struct EvidentlyCompatibilityTests {
    struct Fixture: Decodable, @unchecked Sendable {
        struct Numeric: Decodable {
            var x: DataSpec
            var y: DataSpec
            var psi: Double
        }
        struct Categorical: Decodable {
            var reference: [String]
            var current: [String]
            var psi: Double
        }
        var evidently: String
        var numeric: [Numeric]
        var categorical: [Categorical]
    }

    let fixture = try! Golden.load("evidently_cases.json", as: Fixture.self)

    var settings: DriftSettings {
        var s = DriftSettings()
        s.binning = .sturges
        return s
    }

    @Test func numericPSIEqualsEvidently() {
        #expect(fixture.evidently.hasPrefix("0.7"))
        #expect(fixture.numeric.count >= 5)
        for c in fixture.numeric {
            let f = FeatureComparison.numeric(
                name: "x", reference: NumericSample(values: c.x.values),
                current: NumericSample(values: c.y.values), settings: settings)
            #expect(close(f.psi, c.psi, rel: 1e-12, abs: 1e-15), "ours \(f.psi) vs Evidently \(c.psi)")
        }
    }

    @Test func categoricalPSIEqualsEvidently() {
        #expect(!fixture.categorical.isEmpty)
        for c in fixture.categorical {
            let f = FeatureComparison.categorical(
                name: "c", reference: CategoricalSample(values: c.reference),
                current: CategoricalSample(values: c.current), settings: settings)
            #expect(close(f.psi, c.psi, rel: 1e-12, abs: 1e-15), "ours \(f.psi) vs Evidently \(c.psi)")
        }
    }
}
