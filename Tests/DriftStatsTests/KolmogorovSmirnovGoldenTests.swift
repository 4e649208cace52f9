import DriftStats
import Foundation
import Testing

struct KSCase: Decodable, CustomTestStringConvertible, Sendable {
    struct Suite: Decodable, Sendable {
        var statistic: Double
        var pvalue: Double?
    }
    var name: String
    var x: DataSpec
    var y: DataSpec
    var alternative: String
    var method: String
    var statistic: Double
    var pvalue: Double
    var location: Double
    var sign: Int
    var fell_back_to_asymp: Bool
    var suite_expected: Suite?
    var testDescription: String { name }
}

extension DataSpec: @unchecked Sendable {}

struct KSFixture: Decodable {
    var scipy: String
    var cases: [KSCase]
}

let ksCases: [KSCase] = (try? Golden.load("ks_cases.json", as: KSFixture.self).cases) ?? []

@Suite("Two-sample KS against scipy.stats.ks_2samp")
struct KolmogorovSmirnovGoldenTests {
    @Test func fixtureHasEveryRegime() {
        #expect(ksCases.count >= 200)
        #expect(ksCases.contains { $0.name.hasPrefix("scipy_suite_") })
        #expect(ksCases.contains { $0.name.hasPrefix("large_1000000") })
        #expect(ksCases.contains { $0.fell_back_to_asymp })
        #expect(Set(ksCases.map(\.alternative)) == ["two-sided", "less", "greater"])
    }

    @Test(arguments: ksCases)
    func matchesScipy(_ c: KSCase) throws {
        let r = TwoSampleKS.test(
            c.x.values, c.y.values,
            alternative: KSAlternative(rawValue: c.alternative)!,
            method: KSMethod(rawValue: c.method)!)
        #expect(abs(r.statistic - c.statistic) <= 1e-15, "statistic \(r.statistic) vs scipy \(c.statistic)")
        #expect(close(r.pvalue, c.pvalue, rel: 1e-9, abs: 1e-15), "p-value \(r.pvalue) vs scipy \(c.pvalue) (method \(r.method))")
        #expect(r.location == c.location, "location \(r.location) vs scipy \(c.location)")
        #expect(r.sign == c.sign)
        if c.fell_back_to_asymp { #expect(r.method == .asymp) }
        if let s = c.suite_expected {
            // scipy's own suite compares to 6 decimals (assert_array_almost_equal).
            #expect(abs(r.statistic - s.statistic) < 1.5e-6)
            if let p = s.pvalue { #expect(abs(r.pvalue - p) < 1.5e-6) }
        }
    }
}
