import Foundation
import Testing

@testable import DriftStats

/// CBPE against NannyML 0.13.1 (Fixtures/generate_cbpe_fixtures.py writes cbpe_cases.json).
struct CBPEFixture: Decodable, @unchecked Sendable {
    struct Rows: Decodable {
        var scores: [Int]
        var labels: String
    }
    struct Split: Decodable {
        var train_count: Int
        var test_count: Int
        var train_sum: Int
        var test_sum: Int
        var train_head: [Int]
        var test_head: [Int]
    }
    struct Calibration: Decodable {
        var reference_roc_auc: Double
        var ece_uncalibrated: Double
        var ece_calibrated_numpy: Double
        var ece_calibrated_stable: Double
        var ece_calibrated_tie_range: [Double]
        var needs_calibration: Bool
        var splits: [Split]
    }
    struct Record: Decodable {
        var value: Double?
        var sampling_error: Double?
        var realized: Double?
        var upper_confidence_boundary: Double?
        var lower_confidence_boundary: Double?
        var upper_threshold: Double?
        var lower_threshold: Double?
        var alert: Bool?
    }
    struct Chunk: Decodable {
        var period: String
        var start: Int
        var end: Int
        var metrics: [String: Record]
    }
    struct Case: Decodable, CustomTestStringConvertible {
        var name: String
        var threshold: Double
        var chunk_size: Int
        var metrics: [String]
        var reference: Rows
        var analysis: Rows
        var calibration: Calibration
        var chunks: [Chunk]
        var testDescription: String { name }
    }
    var score_scale: Int
    var cases: [Case]
}

let cbpeFixture: CBPEFixture = {
    do { return try Golden.load("cbpe_cases.json", as: CBPEFixture.self) } catch { fatalError("cbpe_cases.json: \(error)") }
}()

extension CBPEFixture.Rows {
    /// Scores are k/2³⁰, exact in binary on both sides.
    var values: [Double] { scores.map { Double($0) / Double(cbpeFixture.score_scale) } }
    var flags: [Bool] { labels.map { $0 == "1" } }
}

extension CBPEFixture.Case {
    var model: CBPEModel? {
        CBPEModel(
            referenceScores: reference.values, referenceLabels: reference.flags, threshold: threshold, chunkSize: chunk_size,
            metrics: metrics.compactMap(PerformanceMetric.init(rawValue:)))
    }
}

@Suite("CBPE: estimated binary-classification performance against NannyML 0.13.1")
struct CBPEGoldenTests {
    /// Absolute tolerance for every figure. Measured on the fixture (the test prints it): values, sampling errors and
    /// bands are bit-identical to NannyML's (the isotonic fit, numpy's pairwise sums and the rounding in
    /// `estimate_roc_auc` are reproduced operation for operation); thresholds differ by at most 3.3e-16, from the
    /// realized ROC AUC of the reference chunks (exact Mann–Whitney in `RealizedPerformance`, scikit-learn's trapezoid
    /// sum in NannyML, 1 ulp apart). 1e-12 leaves room for a harmless reassociation, nothing more.
    static let tolerance = 1e-12

    @Test(arguments: cbpeFixture.cases)
    func stratifiedShuffleSplitMatchesScikitLearn(_ c: CBPEFixture.Case) throws {
        let folds = try #require(StratifiedShuffleSplit.splits(labels: c.reference.flags, count: 10, testFraction: 0.1, seed: 42))
        #expect(folds.count == c.calibration.splits.count)
        for (fold, expected) in zip(folds, c.calibration.splits) {
            #expect(fold.train.count == expected.train_count && fold.test.count == expected.test_count)
            #expect(fold.train.reduce(0, +) == expected.train_sum && fold.test.reduce(0, +) == expected.test_sum)
            #expect(Array(fold.train.prefix(8)) == expected.train_head && Array(fold.test.prefix(8)) == expected.test_head)
        }
    }

    @Test(arguments: cbpeFixture.cases)
    func calibrationDecisionMatchesNannyML(_ c: CBPEFixture.Case) throws {
        let model = try #require(c.model)
        let check = model.calibrationCheck
        #expect(model.calibrated == c.calibration.needs_calibration)
        #expect(check.calibrate == c.calibration.needs_calibration)
        #expect(abs(check.referenceROCAUC - c.calibration.reference_roc_auc) <= 1e-12)
        let before = try #require(check.eceUncalibrated)
        let after = try #require(check.eceCalibrated)
        // the raw scores have no ties: numpy's ECE exactly
        #expect(before == c.calibration.ece_uncalibrated, "ECE raw \(before) vs \(c.calibration.ece_uncalibrated)")
        // calibrated scores tie; NannyML's figure depends on numpy's unstable sort, ours is the stable-sort one
        #expect(after == c.calibration.ece_calibrated_stable, "ECE calibrated \(after) vs \(c.calibration.ece_calibrated_stable)")
        let range = c.calibration.ece_calibrated_tie_range
        #expect(before > range[1] || before < range[0], "the decision does not depend on the tie order")
    }

    @Test(arguments: cbpeFixture.cases)
    func estimatesMatchNannyML(_ c: CBPEFixture.Case) throws {
        let model = try #require(c.model)
        let tol = Self.tolerance
        var worst: [String: Double] = [:]
        func compare(_ ours: Double?, _ theirs: Double?, _ what: String, _ context: String) {
            guard let theirs else {
                #expect(ours == nil || ours!.isNaN, "\(context) \(what): \(String(describing: ours)) vs NaN")
                return
            }
            guard let ours else {
                Issue.record("\(context) \(what): nil vs \(theirs)")
                return
            }
            let d = abs(ours - theirs)
            worst[what] = max(worst[what] ?? 0, d)
            #expect(d <= tol, "\(context) \(what): \(ours) vs NannyML \(theirs)")
        }
        var alerts = 0
        for chunk in c.chunks {
            let rows = chunk.period == "reference" ? c.reference : c.analysis
            let scores = Array(rows.values[chunk.start..<chunk.end])
            let estimates = model.estimate(scores: scores)
            for name in c.metrics {
                let metric = try #require(PerformanceMetric(rawValue: name))
                let e = try #require(estimates[metric], "\(name) estimated")
                let r = try #require(chunk.metrics[name])
                let context = "\(chunk.period) [\(chunk.start), \(chunk.end)) \(name)"
                compare(e.value, r.value, "value", context)
                compare(e.samplingError, r.sampling_error, "sampling error", context)
                compare(e.lower, r.lower_confidence_boundary, "lower bound", context)
                compare(e.upper, r.upper_confidence_boundary, "upper bound", context)
                compare(e.thresholdLower, r.lower_threshold, "lower threshold", context)
                compare(e.thresholdUpper, r.upper_threshold, "upper threshold", context)
                #expect(e.alert == r.alert, "\(context) alert: \(e.alert) vs NannyML \(String(describing: r.alert))")
                if e.alert { alerts += 1 }
            }
        }
        #expect(alerts > 0, "the shift raises alerts")
        let report = worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("CBPE \(c.name): largest |ours − NannyML|: \(report)")
    }

    @Test func refusesUnusableReferences() {
        let s = [0.2, 0.7, 0.4, 0.9]
        let y = [false, true, false, true]
        #expect(CBPEModel(referenceScores: [], referenceLabels: [], threshold: 0.5, chunkSize: 2, metrics: [.f1]) == nil)
        #expect(CBPEModel(referenceScores: s, referenceLabels: [true], threshold: 0.5, chunkSize: 2, metrics: [.f1]) == nil)
        #expect(CBPEModel(referenceScores: [0.2, .nan, 0.4, 0.9], referenceLabels: y, threshold: 0.5, chunkSize: 2, metrics: [.f1]) == nil)
        #expect(CBPEModel(referenceScores: [0.2, 1.5, 0.4, 0.9], referenceLabels: y, threshold: 0.5, chunkSize: 2, metrics: [.f1]) == nil)
        #expect(CBPEModel(referenceScores: s, referenceLabels: y, threshold: 0.5, chunkSize: 0, metrics: [.f1]) == nil)
        #expect(CBPEModel(referenceScores: s, referenceLabels: y, threshold: 0.5, chunkSize: 2, metrics: [.logLoss]) == nil)
        // too small to split 10 ways: kept uncalibrated, still usable
        let small = CBPEModel(referenceScores: s, referenceLabels: y, threshold: 0.5, chunkSize: 2, metrics: [.accuracy])
        #expect(small?.calibrated == false)
        #expect(abs((small?.estimate(scores: [0.1, 0.8])[.accuracy]?.value ?? 0) - 0.85) < 1e-15)
        #expect(small?.estimate(scores: [])[.accuracy]?.value.isNaN == true)
    }
}
