import DriftStats
import Foundation
import Testing

/// The drift rules' tests besides KS against scipy (Fixtures/generate_rule_fixtures.py writes rule_cases.json).
struct RuleFixture: Decodable, @unchecked Sendable {
    struct AD: Decodable, CustomTestStringConvertible {
        var name: String
        var x: DataSpec
        var y: DataSpec
        var standardized: Double
        var pvalue: Double
        var pvalue_permutation: Double
        var testDescription: String { name }
    }
    struct ValueChi: Decodable {
        var name: String
        var x: DataSpec
        var y: DataSpec
        var statistic: Double
        var dof: Int
        var pvalue: Double
    }
    struct Share: Decodable {
        var name: String
        var reference: [String: Int]
        var current: [String: Int]
        var category: String
        var share_reference: Double
        var share_current: Double
        var share_pvalue: Double
        var unseen_count: Int
        var unseen_expected: Double
        var unseen_pvalue: Double
    }
    var anderson_darling: [AD]
    var value_chi_square: [ValueChi]
    var share: [Share]
}

let ruleFixture: RuleFixture = {
    do { return try Golden.load("rule_cases.json", as: RuleFixture.self) } catch { fatalError("rule_cases.json: \(error)") }
}()

@Suite("Drift rules: Anderson–Darling, chi-square over values, share and unseen tests against scipy")
struct RuleGoldenTests {
    @Test(arguments: ruleFixture.anderson_darling)
    func andersonDarlingMatchesScipy(_ c: RuleFixture.AD) throws {
        let x = c.x.values.sorted()
        let y = c.y.values.sorted()
        let r = try #require(DistributionTests.andersonDarling(sorted1: x, sorted2: y))
        #expect(abs(r.standardized - c.standardized) <= 1e-9 * max(1, abs(c.standardized)), "T \(r.standardized) vs scipy \(c.standardized)")
        #expect(abs(r.pvalue - c.pvalue) <= 1e-9 * max(c.pvalue, 1e-12) + 1e-15, "p \(r.pvalue) vs \(c.pvalue)")
        // the asymptotic p-value against scipy's permutation p-value (20,000 resamples): within a factor of 1.5 where
        // the permutation resolves it (p > 1e-3), and both small where it does not
        if c.pvalue_permutation > 1e-3 {
            #expect(r.pvalue / c.pvalue_permutation < 1.5 && c.pvalue_permutation / r.pvalue < 1.5)
        } else {
            #expect(r.pvalue < 2e-3)
        }
        #expect(DistributionTests.test(sorted1: x, sorted2: y)?.kind == .andersonDarling, "≤ 1 % ties: Anderson–Darling")
    }

    @Test func valueChiSquareMatchesChi2ContingencyOnMergedCells() throws {
        for c in ruleFixture.value_chi_square {
            let r = try #require(DistributionTests.test(sorted1: c.x.values.sorted(), sorted2: c.y.values.sorted()), "\(c.name)")
            #expect(r.kind == .valueChiSquare, "\(c.name): few distinct values")
            #expect(abs(r.statistic - c.statistic) <= 1e-9 * c.statistic, "\(c.name): \(r.statistic) vs \(c.statistic)")
            #expect(Int(r.standardized) == c.dof, "\(c.name)")
            #expect(abs(r.pvalue - c.pvalue) <= 1e-9 * c.pvalue + 1e-300, "\(c.name): \(r.pvalue) vs \(c.pvalue)")
        }
    }

    @Test func shareChangeAndUnseenShareMatchScipy() throws {
        for c in ruleFixture.share {
            let reference = CategoricalSample(counts: c.reference, missing: 0)
            let current = CategoricalSample(counts: c.current, missing: 0)
            let f = FeatureComparison.categorical(name: c.name, reference: reference, current: current, settings: DriftSettings())
            let s = try #require(f.shareChange, "\(c.name)")
            #expect(s.category == c.category, "\(c.name)")
            #expect(s.reference == c.share_reference && s.current == c.share_current, "\(c.name)")
            #expect(abs(s.pvalue - c.share_pvalue) <= 1e-9 * c.share_pvalue + 1e-300, "\(c.name): \(s.pvalue) vs \(c.share_pvalue)")
            let u = try #require(f.unseen)
            #expect(u.count == c.unseen_count && u.expectedShare == c.unseen_expected, "\(c.name)")
            #expect(abs(u.pvalue - c.unseen_pvalue) <= 1e-9 * c.unseen_pvalue + 1e-300, "\(c.name): \(u.pvalue) vs \(c.unseen_pvalue)")
        }
    }

    @Test func heavilyTiedOrZeroInflatedDataGetsTheRightTestOrNone() {
        // 40 % zeros and a continuous rest: Anderson–Darling's asymptotic null is wrong there, the values are too many
        // for the chi-square over values: KS alone decides
        var g = SplitMix64(seed: 19)
        let zeroInflated = { (n: Int) -> [Double] in
            (0..<n).map { _ in Double(g.next() >> 11) * 0x1p-53 < 0.4 ? 0 : Double(g.next() >> 11) * 0x1p-53 + 1 }.sorted()
        }
        #expect(DistributionTests.test(sorted1: zeroInflated(1000), sorted2: zeroInflated(500)) == nil)
        #expect(DistributionTests.test(sorted1: [1, 2], sorted2: [1]) == nil, "a side with fewer than 2 values")
        #expect(DistributionTests.test(sorted1: [3, 3, 3, 3], sorted2: [3, 3, 3]) == nil, "one value")
        // callers pass finite values; a NaN that slipped through ends as a cell of its own, not a hang
        let withNaN = (0..<20).map(Double.init) + [.nan]
        _ = DistributionTests.test(sorted1: withNaN, sorted2: withNaN)
    }
}

@Suite("Drift rules: decisions, reasons, tolerance and per-test corrections")
struct RuleDecisionTests {
    static func categorical(_ name: String, _ ref: [String: Int], _ cur: [String: Int], missing: (Int, Int) = (0, 0)) -> FeatureInput {
        .categorical(
            name: name, reference: CategoricalSample(counts: ref, missing: missing.0), current: CategoricalSample(counts: cur, missing: missing.1))
    }

    @Test func aTenPointShareMoveFiresTheShareRuleNamingTheCategoryAndItsShares() throws {
        // 41 % → 31 %: JS ≈ 0.07 < 0.1 and PSI < 0.2, so only the share rule can see it
        let ref = ["grocery": 4100, "travel": 3000, "fuel": 2900]
        let cur = ["grocery": 1550, "travel": 1800, "fuel": 1650]
        let d = DatasetComparison.compare([Self.categorical("merchant_category", ref, cur)], settings: DriftSettings())
        let f = d.features[0]
        #expect(f.jensenShannon < 0.1 && f.psi < 0.2)
        #expect(f.drifted)
        let reason = try #require(f.reasons.first { $0.hasPrefix("share: ") })
        #expect(reason.hasPrefix("share: grocery 41.0% -> 31.0% (-10.0 points, |change| >= 5.0; adjusted p="), "\(reason)")
        var lenient = DriftSettings()
        lenient.shareThreshold = 0.2
        #expect(!DatasetComparison.compare([Self.categorical("m", ref, cur)], settings: lenient).features[0].drifted, "a 20-point rule")
    }

    @Test func unseenCategoriesAreARuleOfTheirOwn() throws {
        // 150 of 10,000 current values (1.5 %) in two categories the reference never had
        let ref = ["a": 6000, "b": 4000]
        let cur = ["a": 5910, "b": 3940, "new": 100, "newer": 50]
        let f = DatasetComparison.compare([Self.categorical("c", ref, cur)], settings: DriftSettings()).features[0]
        let reason = try #require(f.reasons.first { $0.hasPrefix("unseen: ") })
        #expect(
            reason.hasPrefix(
                "unseen: 1.5% of current values in categories the reference never had (the reference predicts 0.0%; excess >= 1.0%; adjusted p="),
            "\(reason)")
        #expect(reason.hasSuffix("): new, newer"), "\(reason)")
        #expect(f.reasons.count == 1, "\(f.reasons)")
        // 0.5 %: below the rule's share
        let few = DatasetComparison.compare([Self.categorical("c", ref, ["a": 5970, "b": 3980, "new": 50])], settings: DriftSettings())
        #expect(!few.features[0].drifted)
        // one unseen row in 100 is 1 %, but Fisher's p = 100/1100: not significant
        let one = DatasetComparison.compare([Self.categorical("c", ["x": 1000], ["x": 99, "z": 1])], settings: DriftSettings())
        #expect(one.features[0].unseen?.share == 0.01 && !one.features[0].reasons.contains { $0.hasPrefix("unseen:") })
    }

    @Test func aLongTailMeetsNewValuesWithoutAlarm() {
        // 300 of 1,000 reference values are categories seen once: about 30 % of any new window is new by itself
        var ref = ["big": 700]
        for i in 0..<300 { ref["z\(i)"] = 1 }
        var cur = ["big": 345]
        for i in 0..<155 { cur["n\(i)"] = 1 }
        let f = DatasetComparison.compare([Self.categorical("zip", ref, cur)], settings: DriftSettings()).features[0]
        #expect(f.unseen?.expectedShare == 0.3 && f.unseen?.share == 0.31)
        #expect(!f.reasons.contains { $0.hasPrefix("unseen:") }, "\(f.reasons)")
    }

    @Test func pickingTheCategoryThatMovedMostIsPaidFor() throws {
        // five equal categories, one moved 6.5 points: its own two-proportion p (0.0075) would pass α = 0.01, the
        // share test's (which counts the five it was picked from) does not
        let ref = ["a": 200, "b": 200, "c": 200, "d": 200, "e": 200]
        let cur = ["a": 130, "b": 90, "c": 95, "d": 95, "e": 90]
        let f = DatasetComparison.compare([Self.categorical("k", ref, cur)], settings: DriftSettings()).features[0]
        let s = try #require(f.shareChange)
        #expect(s.category == "a" && s.pvalue > 0.01 && s.pvalue < 0.05)
        #expect(!f.reasons.contains { $0.hasPrefix("share:") })
    }

    @Test func thresholdsCompareWithATolerance() {
        // 1 % → 6 % missing: 0.06 − 0.01 = 0.049999999999999996 in binary; the 5-point rule fires
        let ref = NumericSample(values: (0..<990).map { Double($0 % 97) } + Array(repeating: .nan, count: 10))
        let cur = NumericSample(values: (0..<470).map { Double($0 % 97) } + Array(repeating: .nan, count: 30))
        #expect(ref.missing == 10 && cur.missing == 30)
        let d = DatasetComparison.compare([.numeric(name: "x", reference: ref, current: cur)], settings: DriftSettings())
        #expect(d.features[0].reasons.contains("missing rate: 1.0% -> 6.0%"), "\(d.features[0].reasons)")
        #expect(DriftSettings.meets(0.06 - 0.01, 0.05) && !DriftSettings.meets(0.0499, 0.05) && DriftSettings.meets(0.3, 0.3))
    }

    @Test func eachTestIsAdjustedAcrossTheFeaturesItAppliesTo() throws {
        var g = SplitMix64(seed: 7)
        func normal(_ n: Int, _ shift: Double) -> NumericSample {
            NumericSample(
                values: (0..<n).map { _ in
                    let u = Double(g.next() >> 11) * 0x1p-53
                    let v = Double(g.next() >> 11) * 0x1p-53
                    return (-2 * log(max(u, 1e-300))).squareRoot() * cos(2 * .pi * v) + shift
                })
        }
        let inputs: [FeatureInput] = [
            .numeric(name: "n1", reference: normal(1000, 0), current: normal(500, 0.3)),
            .numeric(name: "n2", reference: normal(1000, 0), current: normal(500, 0)),
            Self.categorical("c1", ["a": 50, "b": 50], ["a": 25, "b": 25])
        ]
        let d = DatasetComparison.compare(inputs, settings: DriftSettings())
        let n1 = try #require(d.features[0].distributionTest)
        let n2 = try #require(d.features[1].distributionTest)
        // BH over the two numeric features only: the smaller p is doubled (rank 1 of 2)
        #expect(n1.kind == .andersonDarling)
        let ps = [n1.pvalue, n2.pvalue].sorted()
        #expect(abs((d.features[n1.pvalue < n2.pvalue ? 0 : 1].distributionTest?.pvalueAdjusted ?? 0) - min(ps[0] * 2, ps[1])) < 1e-15)
        #expect(d.features[2].distributionTest == nil && d.features[2].shareChange?.pvalueAdjusted == d.features[2].shareChange?.pvalue)
        #expect(d.features[0].drifted && d.features[0].reasons.contains { $0.hasPrefix("anderson_darling: A2=") })
        #expect(!d.features[0].reasons.contains { $0.hasPrefix("ks: ") }, "continuous data: Anderson–Darling decides instead of KS")
        var off = DriftSettings()
        off.distributionTest = false
        let ksOnly = DatasetComparison.compare(inputs, settings: off).features[0]
        #expect(ksOnly.distributionTest != nil, "still reported")
        #expect(!ksOnly.reasons.contains { $0.hasPrefix("anderson_darling") } && ksOnly.reasons.contains { $0.hasPrefix("ks: ") })
    }
}
