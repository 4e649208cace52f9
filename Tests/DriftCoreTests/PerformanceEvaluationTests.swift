import DriftStats
import Foundation
import Testing

@testable import DriftCore

/// The per-window performance pass without I/O: truth mapping, the min_labels gate, the reference bands, CBPE on a
/// shifted window, absolute bounds, and the status each policy trigger decides on.
@Suite("Window performance: realized and estimated figures, bands and policy triggers")
struct PerformanceEvaluationTests {
    /// A seeded generator (SplitMix64): the same rows on every run.
    struct Rng {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }

    /// Calibrated scores: label ~ Bernoulli(score), scores spread over [0, 1] (or squeezed toward 0.5 by `squeeze`).
    static func calibrated(_ n: Int, seed: UInt64, squeeze: Double = 1) -> [PredictionRow] {
        var r = Rng(state: seed)
        return (0..<n).map { _ in
            let s = 0.5 + (r.next() - 0.5) * squeeze
            return PredictionRow(score: s, label: r.next() < s ? "1" : "0")
        }
    }

    static func config(_ metrics: [PerformanceMetric] = [.accuracy, .rocAUC, .f1], minLabels: Int = 100) -> PerformanceConfig {
        var p = PerformanceConfig(task: .binaryClassification, prediction: "score", metrics: metrics)
        p.minLabels = minLabels
        return p
    }

    @Test func realizedFiguresAppearOnlyOnceMinLabelsArePresentAndUnlabelledRowsCountForCoverage() {
        let baseline = PerformanceBaseline(config: Self.config(), chunkSize: 200, reference: Self.calibrated(2_000, seed: 1))
        var window = Self.calibrated(300, seed: 2)
        for i in 0..<210 { window[i].label = nil }  // 90 labelled < 100
        let early = baseline.evaluate(window)
        #expect(early.predictions == 300 && early.labels == 90)
        #expect(!early.realized && early.figures.allSatisfy { $0.kind == .estimated })
        #expect(early.figures.map(\.metric) == [.accuracy, .rocAUC, .f1], "the configured metrics, in their order")
        #expect(abs((early.coverage ?? 0) - 0.3) < 1e-12)
        for i in 0..<20 { window[i].label = "1" }
        let later = baseline.evaluate(window)
        #expect(later.labels == 110 && later.realized)
        #expect(later.deciding.allSatisfy { $0.kind == .realized }, "realized figures decide once they exist")
        // the realized accuracy is exactly scikit-learn's on the labelled rows (RealizedPerformance is golden-tested)
        let labelled = window.filter(\.labelled)
        let o = try! BinaryOutcomes(labels: labelled.map { $0.label == "1" }, scores: labelled.map { $0.score! })
        let expected = RealizedPerformance.binary(o, metrics: [.accuracy])[.accuracy]!
        #expect(later.figures.first { $0.kind == .realized && $0.metric == .accuracy }?.value == expected)
    }

    @Test func bandsAreMeanPlusMinusThreeSigmaOfTheReferenceChunks() {
        let reference = Self.calibrated(1_000, seed: 3)
        let baseline = PerformanceBaseline(config: Self.config([.accuracy]), chunkSize: 100, reference: reference)
        var values: [Double] = []
        for k in 0..<10 {
            let chunk = reference[(k * 100)..<((k + 1) * 100)]
            let o = try! BinaryOutcomes(labels: chunk.map { $0.label == "1" }, scores: chunk.map { $0.score! })
            values.append(RealizedPerformance.binary(o, metrics: [.accuracy])[.accuracy]!)
        }
        let mean = values.reduce(0, +) / 10
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10).squareRoot()
        let band = baseline.bands[.accuracy]!
        #expect(abs(band.lower! - max(0, mean - 3 * std)) < 1e-12 && abs(band.upper! - min(1, mean + 3 * std)) < 1e-12)
        // the CBPE thresholds come from the same chunks: the estimate's band equals the realized one
        #expect(baseline.cbpe?.thresholds[.accuracy] == band)
    }

    @Test func cbpeSeesADropWhenScoresLoseTheirConfidenceBeforeAnyLabel() {
        let baseline = PerformanceBaseline(config: Self.config(), chunkSize: 500, reference: Self.calibrated(5_000, seed: 4))
        let same = baseline.evaluate(Self.calibrated(500, seed: 5).map { PredictionRow(score: $0.score) })
        #expect(!same.dropped && same.decidable, "a window like the reference stays within its bands: \(same.reasons)")
        let unsure = baseline.evaluate(Self.calibrated(500, seed: 6, squeeze: 0.1).map { PredictionRow(score: $0.score) })
        #expect(unsure.dropped && !unsure.realized)
        #expect(unsure.reasons.contains { $0.hasPrefix("estimated roc_auc") && $0.contains("below its band") }, "\(unsure.reasons)")
    }

    @Test func anAbsoluteBoundReplacesTheReferenceBand() {
        var p = Self.config([.accuracy], minLabels: 10)
        p.bounds[.accuracy] = .init(lower: 0.99)
        let baseline = PerformanceBaseline(config: p, chunkSize: 200, reference: Self.calibrated(1_000, seed: 7))
        #expect(baseline.bands[.accuracy] == CBPEThresholds(lower: 0.99, upper: nil))
        let e = baseline.evaluate(Self.calibrated(200, seed: 8))
        #expect(e.realized && e.dropped && e.reasons.first?.hasPrefix("realized accuracy") == true)
        #expect(e.figures.filter { $0.kind == .estimated }.allSatisfy { $0.thresholdLower == 0.99 })
    }

    @Test func truthIsReadFromTextOrNumbersForEachTask() {
        let p = Self.config()
        #expect(PerformanceBaseline.positive(PredictionRow(label: "1"), p) == true)
        #expect(PerformanceBaseline.positive(PredictionRow(label: "1.0"), p) == true)
        #expect(PerformanceBaseline.positive(PredictionRow(label: "true"), p) == true)
        #expect(PerformanceBaseline.positive(PredictionRow(label: "0"), p) == false)
        #expect(PerformanceBaseline.positive(PredictionRow(label: "fraud"), p) == false)
        #expect(PerformanceBaseline.positive(PredictionRow(value: 1), p) == true)
        #expect(PerformanceBaseline.positive(PredictionRow(score: 0.3), p) == nil)
        var named = p
        named.labelPositive = "fraud"
        #expect(PerformanceBaseline.positive(PredictionRow(label: "fraud"), named) == true)
        #expect(PerformanceBaseline.positive(PredictionRow(label: "legit"), named) == false)
        #expect(PerformanceBaseline.truthClass(PredictionRow(value: 3)) == "3")
        #expect(PerformanceBaseline.truthClass(PredictionRow(value: 2.5)) == "2.5")
        #expect(PerformanceBaseline.truthClass(PredictionRow(label: "cat", value: 3)) == "cat")
    }

    @Test func multiclassAndRegressionHaveRealizedFiguresAndNoEstimates() {
        var m = PerformanceConfig(task: .multiclass, prediction: "class")
        m.minLabels = 3
        let rows = ["a", "b", "c", "a", "b", "c"].enumerated().map { i, y in
            PredictionRow(predictedClass: i < 4 ? y : "a", label: y)
        }
        let mb = PerformanceBaseline(config: m, chunkSize: 3, reference: rows)
        #expect(mb.classes == ["a", "b", "c"] && mb.cbpe == nil)
        let me = mb.evaluate(rows)
        #expect(me.figures.first { $0.metric == .accuracy }?.value == 4.0 / 6.0)
        #expect(me.figures.allSatisfy { $0.kind == .realized })

        var r = PerformanceConfig(task: .regression, prediction: "y")
        r.minLabels = 2
        let rrows = [PredictionRow(score: 1, value: 2), PredictionRow(score: 3, label: "3"), PredictionRow(score: 5)]
        let rb = PerformanceBaseline(config: r, chunkSize: 10, reference: rrows)
        let re = rb.evaluate(rrows)
        #expect(re.predictions == 3 && re.labels == 2)
        #expect(re.figures.first { $0.metric == .mae }?.value == 0.5)
    }

    @Test func eachTriggerDecidesOnItsOwnStatus() {
        let drop = PerformanceEvaluation(
            predictions: 10, labels: 0,
            figures: [.init(kind: .estimated, metric: .f1, value: 0.2, thresholdLower: 0.5, thresholdUpper: 0.9, alert: true)])
        let held = PerformanceEvaluation(
            predictions: 10, labels: 0,
            figures: [.init(kind: .estimated, metric: .f1, value: 0.7, thresholdLower: 0.5, thresholdUpper: 0.9, alert: false)])
        let none = PerformanceEvaluation(predictions: 0, labels: 0, figures: [])
        typealias S = DriftPolicy.Status
        #expect(DriftPolicy.status(trigger: .drift, drift: .drifted, performance: held) == S.drifted)
        #expect(DriftPolicy.status(trigger: .performanceDrop, drift: .notDrifted, performance: drop) == S.drifted)
        #expect(DriftPolicy.status(trigger: .performanceDrop, drift: .drifted, performance: held) == S.notDrifted)
        #expect(DriftPolicy.status(trigger: .performanceDrop, drift: .drifted, performance: none) == S.insufficientData)
        #expect(DriftPolicy.status(trigger: .driftAndEstimatedDrop, drift: .drifted, performance: drop) == S.drifted)
        #expect(DriftPolicy.status(trigger: .driftAndEstimatedDrop, drift: .drifted, performance: held) == S.notDrifted)
        #expect(DriftPolicy.status(trigger: .driftAndEstimatedDrop, drift: .notDrifted, performance: drop) == S.notDrifted)
        #expect(DriftPolicy.status(trigger: .driftAndEstimatedDrop, drift: .drifted, performance: none) == S.insufficientData)
        #expect(drop.reasons == ["estimated f1 0.2 below its band [0.5, 0.9]"])
    }
}
