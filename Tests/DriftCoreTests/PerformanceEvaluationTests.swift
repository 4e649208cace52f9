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

    @Test func theBandIsScaledToTheRowsOfTheFigureItJudges() {
        let baseline = PerformanceBaseline(config: Self.config([.accuracy]), chunkSize: 400, reference: Self.calibrated(4_000, seed: 9))
        let atChunk = baseline.band(.accuracy, rows: 400)
        let quarter = baseline.band(.accuracy, rows: 100)
        let stats = baseline.chunkStats[.accuracy]!
        // σ·√(400/100) = 2σ: the band of a quarter-size window is twice as wide around the same mean (unclipped here)
        #expect(abs(atChunk.lower! - (stats.mean - 3 * stats.std)) < 1e-12)
        #expect(abs(quarter.lower! - (stats.mean - 6 * stats.std)) < 1e-12 && abs(quarter.upper! - min(1, stats.mean + 6 * stats.std)) < 1e-12)
        #expect(baseline.bands[.accuracy] == atChunk, "bands: NannyML's band, at the chunk size")
        #expect(baseline.band(.accuracy, rows: 40_000) == atChunk, "never narrower than NannyML's band")
    }

    @Test func aClassOnlyInUnlabelledRowsDoesNotDiluteTheMacroMeans() {
        var m = PerformanceConfig(task: .multiclass, prediction: "class", metrics: [.f1])
        m.minLabels = 1
        let reference = ["a", "b", "a", "b"].map { PredictionRow(predictedClass: $0, label: $0) }
        let baseline = PerformanceBaseline(config: m, chunkSize: 2, reference: reference)
        let window = ["a", "b"].map { PredictionRow(predictedClass: $0, label: $0) } + [PredictionRow(predictedClass: "z")]
        #expect(baseline.evaluate(window).figures.first { $0.metric == .f1 }?.value == 1)
    }

    @Test func onlyTheBadSideOfTheBandIsADrop() {
        var p = Self.config([.accuracy, .brier], minLabels: 50)
        p.bounds[.accuracy] = .init(lower: 0.5, upper: 0.6)
        p.bounds[.brier] = .init(lower: 0.3, upper: 0.4)
        let baseline = PerformanceBaseline(config: p, chunkSize: 100, reference: Self.calibrated(500, seed: 10))
        // near-perfect predictions: accuracy above its band (better), Brier below its band (better)
        let perfect = (0..<200).map { i in PredictionRow(score: i % 2 == 0 ? 0.99 : 0.01, label: i % 2 == 0 ? "1" : "0") }
        let e = baseline.evaluate(perfect)
        let realized = e.figures.filter { $0.kind == .realized }
        #expect(realized.count == 2 && realized.allSatisfy { $0.alert && !$0.worse }, "\(realized)")
        #expect(!e.dropped && e.reasons.isEmpty)
        // all wrong: accuracy below (worse), Brier above (worse)
        let wrong = (0..<200).map { i in PredictionRow(score: i % 2 == 0 ? 0.99 : 0.01, label: i % 2 == 0 ? "0" : "1") }
        let w = baseline.evaluate(wrong)
        #expect(w.dropped && w.figures.filter { $0.kind == .realized }.allSatisfy(\.worse))
    }

    @Test func aMetricWithoutItsDenominatorIsUndefinedButACollapseIsNot() {
        let baseline = PerformanceBaseline(
            config: Self.config([.accuracy, .precision, .recall, .f1], minLabels: 10), chunkSize: 200, reference: Self.calibrated(2_000, seed: 11))
        func realized(_ rows: [PredictionRow]) -> [PerformanceMetric: Double] {
            Dictionary(uniqueKeysWithValues: baseline.evaluate(rows).figures.filter { $0.kind == .realized }.map { ($0.metric, $0.value) })
        }
        // every label negative: recall has no denominator (NaN; scikit-learn's zero_division would say 0, a false
        // collapse); precision and F1 are defined (positives were predicted, all wrongly): 0
        let negatives = realized((0..<100).map { i in PredictionRow(score: Double(i % 10) / 10, label: "0") })
        #expect(negatives[.recall]!.isNaN && negatives[.precision] == 0 && negatives[.f1] == 0 && !negatives[.accuracy]!.isNaN)
        // the model predicts no positive while positives exist: recall 0 is a real collapse, precision undefined
        let collapsed = realized((0..<100).map { i in PredictionRow(score: 0.1, label: i % 5 == 0 ? "1" : "0") })
        #expect(collapsed[.recall] == 0 && collapsed[.precision]!.isNaN && collapsed[.f1] == 0)
        // neither a predicted nor an actual positive: F1 undefined too
        let quiet = realized((0..<100).map { _ in PredictionRow(score: 0.1, label: "0") })
        #expect(quiet[.f1]!.isNaN && quiet[.recall]!.isNaN && quiet[.precision]!.isNaN && quiet[.accuracy] == 1)
    }

    @Test func aReferenceWithTooFewChunksGivesNoBandAndSaysWhy() {
        let baseline = PerformanceBaseline(config: Self.config([.accuracy]), chunkSize: 1_000, reference: Self.calibrated(2_000, seed: 12))
        #expect(baseline.band(.accuracy, rows: 1_000) == CBPEThresholds(lower: nil, upper: nil))
        #expect(baseline.problem?.contains("fewer than 3 chunks of 1000") == true, "\(baseline.problem ?? "")")
        let unlabelled = PerformanceBaseline(
            config: Self.config(), chunkSize: 100, reference: Self.calibrated(500, seed: 13).map { PredictionRow(score: $0.score) })
        #expect(unlabelled.cbpe == nil && unlabelled.problem?.contains("no labelled predictions") == true)
        let e = unlabelled.evaluate(Self.calibrated(300, seed: 14))
        #expect(e.realized && !e.dropped, "realized figures without a band: shown, never a drop")
    }

    @Test func aClassTheReferenceNeverHadCountsAsAMiss() {
        var m = PerformanceConfig(task: .multiclass, prediction: "class", metrics: [.accuracy])
        m.minLabels = 1
        let reference = ["a", "b", "a", "b"].map { PredictionRow(predictedClass: $0, label: $0) }
        let baseline = PerformanceBaseline(config: m, chunkSize: 2, reference: reference)
        // the world now has class "c", which the model never predicts: 2 of 4 right, not 2 of 2
        let window = [("a", "a"), ("b", "b"), ("a", "c"), ("b", "c")].map { PredictionRow(predictedClass: $0.0, label: $0.1) }
        let e = baseline.evaluate(window)
        #expect(e.labels == 4 && e.figures.first { $0.metric == .accuracy }?.value == 0.5)
    }

    @Test func estimatesWaitForMinSamplePredictions() {
        let baseline = PerformanceBaseline(config: Self.config(), chunkSize: 500, reference: Self.calibrated(5_000, seed: 15), minPredictions: 50)
        #expect(baseline.evaluate(Self.calibrated(49, seed: 16).map { PredictionRow(score: $0.score) }).figures.isEmpty)
        #expect(!baseline.evaluate(Self.calibrated(50, seed: 16).map { PredictionRow(score: $0.score) }).figures.isEmpty)
    }
}
