import DriftCore
import DriftStats
import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// The verdict logic of a shadow evaluation, without a database.
@Suite("Shadow evaluation: figures and verdicts")
struct ShadowEvaluationTests {
    /// n requests answered by both, the challenger's score = champion's + delta; latencies in ms.
    static func requests(_ n: Int, delta: Double, championMs: Double = 10, challengerMs: Double = 11, unanswered: Int = 0) -> [ShadowRequest] {
        (0..<n).map { i in
            let score = Double(i % 100) / 100
            let t = Double(i) * 1_000_000
            let answered = i >= unanswered
            return ShadowRequest(
                champion: .init(requestAt: t, responseAt: t + championMs * 1000, value: score),
                challenger: .init(requestAt: t, responseAt: answered ? t + challengerMs * 1000 : nil, value: answered ? score + delta : nil))
        }
    }

    @Test func aCloseChallengerIsPromotedAFarOneRejectedAndTooFewPairsHold() {
        var config = ShadowEvalConfig(challenger: "v4")
        config.thresholds.minPairs = 100
        let good = ShadowEvaluation.evaluate(Self.requests(500, delta: 0.01), config: config)
        #expect(good.verdict == .promote, "\(good.reasons)")
        #expect(good.figure("pairs") == 500 && good.figure("agreement") == 1 && good.figure("error_rate") == 0)
        #expect(abs(good.figure("latency_regression")! - 0.1) < 1e-12)

        let bad = ShadowEvaluation.evaluate(Self.requests(500, delta: 0.3, challengerMs: 20, unanswered: 20), config: config)
        #expect(bad.verdict == .reject)
        #expect(bad.reasons.prefix(4).allSatisfy { $0.contains("<") || $0.contains(">") }, "\(bad.reasons)")
        #expect(bad.figure("error_rate") == 20.0 / 500 && bad.figure("pairs") == 480)

        let few = ShadowEvaluation.evaluate(Self.requests(50, delta: 0), config: config)
        #expect(few.verdict == .hold && few.reasons == ["only 50 requests served by both (min_pairs 100): not enough evidence yet"])
    }

    @Test func aClassThresholdComparesDecisionsNotScores() {
        var config = ShadowEvalConfig()
        config.thresholds.minPairs = 10
        config.classThreshold = 0.5
        config.thresholds.maxOutputPSI = 10
        // scores move by 0.2 but only those crossing 0.5 change the decision: 0.30–0.49 → 0.50–0.69 (20 of 100)
        let r = ShadowEvaluation.evaluate(Self.requests(100, delta: 0.2), config: config)
        #expect(r.figure("agreement") == 0.8)
    }

    // MARK: realized performance on the same labelled requests

    /// Thresholds that pass any outputs: only the realized-performance checks can reject.
    static func lenient(minPairs: Int = 10) -> ShadowEvalConfig {
        var config = ShadowEvalConfig(challenger: "v4")
        config.thresholds.minPairs = minPairs
        config.thresholds.minAgreement = 0
        config.thresholds.maxOutputPSI = 1_000
        return config
    }

    static func binary(minLabels: Int = 50, metrics: [PerformanceMetric] = [.accuracy, .rocAUC]) -> PerformanceConfig {
        var p = PerformanceConfig(task: .binaryClassification, prediction: "score", metrics: metrics)
        p.minLabels = minLabels
        return p
    }

    /// n pairs, the first `labelled` with a truth (alternating 1 / 0). The champion scores every labelled request right
    /// (0.9 / 0.1); the challenger scores the first `wrong` of them the wrong way round, the others as the champion.
    static func labelled(_ n: Int, labelled: Int, wrong: Int) -> [ShadowRequest] {
        (0..<n).map { i in
            let positive = i % 2 == 0
            let right = positive ? 0.9 : 0.1
            return ShadowRequest(
                champion: .init(requestAt: Double(i), value: right), challenger: .init(requestAt: Double(i), value: i < wrong ? 1 - right : right),
                truth: i < labelled ? .init(label: positive ? "1" : "0") : nil)
        }
    }

    @Test func aChallengerWorseOnTheLabelledRequestsIsRejectedNamingTheMetricAndBothValues() {
        let r = ShadowEvaluation.evaluate(Self.labelled(300, labelled: 100, wrong: 20), config: Self.lenient(), performance: Self.binary())
        #expect(r.verdict == .reject, "\(r.reasons)")
        #expect(r.figure("labelled_pairs") == 100)
        #expect(r.figure("champion_accuracy") == 1 && r.figure("challenger_accuracy") == 0.8)
        #expect(r.figure("champion_roc_auc") == 1 && r.figure("challenger_roc_auc").map { $0 < 1 } == true)
        #expect(
            r.reasons.first
                == "realized accuracy: challenger 0.8000 vs champion 1.0000 on 100 labelled pairs, drop 0.2000 > max_performance_drop 0.0100",
            "\(r.reasons)")
        #expect(r.reasons.prefix(2).allSatisfy { $0.contains(">") } && r.reasons[1].hasPrefix("realized roc_auc: challenger 0."))
    }

    @Test func aChallengerAsGoodOrBetterIsPromoted() {
        let equal = ShadowEvaluation.evaluate(Self.labelled(300, labelled: 100, wrong: 0), config: Self.lenient(), performance: Self.binary())
        #expect(equal.verdict == .promote, "\(equal.reasons)")
        #expect(
            equal.reasons.contains(
                "realized accuracy: challenger 1.0000 vs champion 1.0000 on 100 labelled pairs, drop 0.0000 ≤ max_performance_drop 0.0100"))
        // the champion wrong where the challenger is right: swap the sides
        let swapped = Self.labelled(300, labelled: 100, wrong: 20).map {
            ShadowRequest(champion: $0.challenger, challenger: $0.champion, truth: $0.truth)
        }
        let better = ShadowEvaluation.evaluate(swapped, config: Self.lenient(), performance: Self.binary())
        #expect(better.verdict == .promote && better.figure("challenger_accuracy") == 1 && better.figure("champion_accuracy") == 0.8)
        #expect(better.reasons.contains { $0.hasPrefix("realized accuracy: challenger 1.0000 vs champion 0.8000") && $0.contains("drop -0.2000 ≤") })
        // a drop within max_performance_drop passes: 1 of 100 wrong is 0.01
        var config = Self.lenient()
        config.thresholds.maxPerformanceDrop = 0.02
        let small = ShadowEvaluation.evaluate(
            Self.labelled(300, labelled: 100, wrong: 1), config: config, performance: Self.binary(metrics: [.accuracy]))
        #expect(small.verdict == .promote && small.figure("challenger_accuracy") == 0.99, "\(small.reasons)")
    }

    @Test func tooFewLabelledPairsCompareNoPerformance() {
        let r = ShadowEvaluation.evaluate(Self.labelled(300, labelled: 49, wrong: 49), config: Self.lenient(), performance: Self.binary())
        #expect(r.verdict == .promote, "\(r.reasons)")
        #expect(r.figure("labelled_pairs") == 49 && r.figure("champion_accuracy") == nil && r.figure("challenger_accuracy") == nil)
        #expect(r.reasons.contains("realized performance not compared (49 labelled pairs, need 50)"))
        // too few pairs at all still holds, whatever the labels
        let hold = ShadowEvaluation.evaluate(
            Self.labelled(300, labelled: 100, wrong: 50), config: Self.lenient(minPairs: 500), performance: Self.binary())
        #expect(hold.verdict == .hold && hold.reasons.count == 1 && hold.figure("labelled_pairs") == 100)
    }

    @Test func withoutPerformanceNothingChanges() {
        let requests = Self.labelled(300, labelled: 100, wrong: 20)
        let plain = ShadowEvaluation.evaluate(requests, config: Self.lenient())
        let unlabelled = ShadowEvaluation.evaluate(
            requests.map { ShadowRequest(champion: $0.champion, challenger: $0.challenger) }, config: Self.lenient())
        #expect(plain.verdict == .promote && plain.reasons == unlabelled.reasons)
        #expect(plain.figures.map(\.0) == unlabelled.figures.map(\.0) && plain.figure("labelled_pairs") == nil)
        #expect(!plain.reasons.contains { $0.contains("realized") })
    }

    @Test func onlyPairsBothSidesCanBeScoredOnCountAndUndefinedMetricsAreNotChecked() {
        var requests = Self.labelled(300, labelled: 100, wrong: 0)
        // a challenger score outside [0, 1] is no probability: the pair drops out for both sides
        requests[0].challenger.value = 1.5
        // a request whose label has only a reward (no truth) is not labelled
        requests[1].truth = .init()
        let r = ShadowEvaluation.evaluate(requests, config: Self.lenient(), performance: Self.binary(minLabels: 10))
        #expect(r.figure("labelled_pairs") == 98)
        // one class among the labels: ROC AUC is undefined (NaN → null), reported and not checked
        let oneClass = (0..<40).map { i in
            ShadowRequest(
                champion: .init(requestAt: 0, value: 0.9), challenger: .init(requestAt: 0, value: i < 10 ? 0.1 : 0.9), truth: .init(value: 1))
        }
        let n = ShadowEvaluation.evaluate(oneClass, config: Self.lenient(), performance: Self.binary(minLabels: 10))
        #expect(n.figures.contains { $0.0 == "champion_roc_auc" && $0.1 == .null } && n.figure("challenger_accuracy") == 0.75)
        #expect(
            n.reasons.contains("realized roc_auc not compared: undefined on the 40 labelled pairs (champion NaN, challenger NaN)"), "\(n.reasons)")
        #expect(n.verdict == .reject && n.reasons.first?.hasPrefix("realized accuracy: challenger 0.7500 vs champion 1.0000") == true)
    }

    @Test func errorMetricsAreWorseWhenHigherAndMulticlassComparesClasses() {
        // regression: the challenger's MAE 0.5 against the champion's 0 — worse, though the number is higher
        var reg = PerformanceConfig(task: .regression, prediction: "y", metrics: [.mae])
        reg.minLabels = 10
        let requests = (0..<20).map { i in
            ShadowRequest(
                champion: .init(requestAt: 0, value: Double(i)), challenger: .init(requestAt: 0, value: Double(i) + 0.5),
                truth: .init(label: "\(i)", value: Double(i)))
        }
        let r = ShadowEvaluation.evaluate(requests, config: Self.lenient(), performance: reg)
        #expect(r.verdict == .reject && r.figure("champion_mae") == 0 && r.figure("challenger_mae") == 0.5)
        #expect(
            r.reasons.first == "realized mae: challenger 0.5000 vs champion 0.0000 on 20 labelled pairs, drop 0.5000 > max_performance_drop 0.0100")
        let swapped = requests.map { ShadowRequest(champion: $0.challenger, challenger: $0.champion, truth: $0.truth) }
        #expect(ShadowEvaluation.evaluate(swapped, config: Self.lenient(), performance: reg).verdict == .promote)

        // multiclass: the outputs are labels; classes are those of the truths and both sides' predictions
        var multi = PerformanceConfig(task: .multiclass, prediction: "class", metrics: [.accuracy])
        multi.minLabels = 10
        let classes = ["a", "b", "c"]
        let m = (0..<30).map { i in
            ShadowRequest(
                champion: .init(requestAt: 0, label: classes[i % 3]), challenger: .init(requestAt: 0, label: i < 3 ? "d" : classes[i % 3]),
                truth: .init(label: classes[i % 3]))
        }
        let mr = ShadowEvaluation.evaluate(m, config: Self.lenient(), performance: multi)
        #expect(mr.figure("labelled_pairs") == 30 && mr.figure("champion_accuracy") == 1 && mr.figure("challenger_accuracy") == 0.9)
        #expect(mr.verdict == .reject)
    }

    @Test func maxPerformanceDropIsReadAndChecked() throws {
        func monitor(_ drop: String) throws -> MonitorConfig {
            let yaml = """
                monitors:
                  - name: m
                    model: fraud
                    features: [{name: score, kind: numeric, source: output}]
                    reference: {file: ref.csv}
                    actions:
                      shadow: {preset: shadow_eval, max_performance_drop: \(drop)}
                """
            return try MonitorsFile.parse(yaml, file: "monitors.yaml")[0]
        }
        guard case .shadowEval(let s)? = try monitor("0.03").actions["shadow"] else {
            Issue.record("shadow")
            return
        }
        #expect(s.thresholds.maxPerformanceDrop == 0.03 && ShadowThresholds().maxPerformanceDrop == 0.01)
        for bad in ["1e13", "-0.1", ".nan", "lots"] {
            #expect {
                _ = try monitor(bad)
            } throws: { e in
                (e as? ConfigError)?.issues.contains { $0.description.contains("`max_performance_drop` must be a number from 0.0 to") } == true
            }
        }
    }

    /// Labels are read with the events: LEFT JOIN ground_truth on (model, request id), a label of another model left out.
    @Test func theEvaluationJoinsEachRequestsGroundTruth() async throws {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("sample-data/monitors.yaml"), encoding: .utf8)
        var m = try MonitorsFile.parse(text, file: "monitors.yaml")[0]
        m.performance?.minLabels = 20
        m.performance?.metrics = [.accuracy]
        guard case .shadowEval(var config)? = m.actions["shadow_eval"] else {
            Issue.record("the sample monitor's shadow_eval action")
            return
        }
        config.thresholds.minPairs = 10
        config.thresholds.minAgreement = 0
        config.thresholds.maxOutputPSI = 1_000
        let layout = FeatureLayout(m)
        let slot = try #require(layout.numeric.firstIndex(of: "score"))
        let start = Date(timeIntervalSince1970: 1_795_622_400)  // 2026-11-25T16:00:00Z
        var events: [CaptureEvent] = []
        for i in 0..<40 {
            let positive = i % 2 == 0
            func event(_ role: CaptureEvent.Role, _ version: String, _ score: Double) -> CaptureEvent {
                var numeric = [Double](repeating: .nan, count: layout.numeric.count)
                numeric[slot] = score
                return CaptureEvent(
                    model: "fraud", modelVersion: version, role: role, requestID: "r\(i)", kind: .paired,
                    observedAt: start.addingTimeInterval(Double(i)),
                    numeric: numeric, categorical: [String?](repeating: nil, count: layout.categorical.count))
            }
            // the challenger misses the first 6 requests' class (threshold 0.1)
            events.append(event(.champion, "v3", positive ? 0.9 : 0.05))
            events.append(event(.challenger, "v4", i < 6 ? (positive ? 0.05 : 0.9) : (positive ? 0.9 : 0.05)))
        }
        try await TestDatabase.withSchema { client, _ in
            _ = try await CaptureWriter(client: client).write(events)
            try await client.withConnection { c in
                // 30 of the 40 requests labelled; r0 also has a label under another model, which must not join
                for i in 0..<30 {
                    _ = try c.query(
                        "INSERT INTO ground_truth (model, request_id, label, labelled_at, source) VALUES ('fraud', $1, $2, now(), 'http')",
                        ["r\(i)", i % 2 == 0 ? "1" : "0"], name: "test.label")
                }
                _ = try c.query(
                    "INSERT INTO ground_truth (model, request_id, label, labelled_at, source) VALUES ('other', 'r0', '0', now(), 'http')",
                    name: "test.label")
            }
            let stored = try await ShadowEvalTasks(client: client, monitors: [m]).evaluate(
                monitor: m, config: config, from: start, to: start.addingTimeInterval(3600))
            let f = try #require(JSONTemplate.parse(Data(stored.figures.utf8)))
            #expect(f.value(at: "pairs") == .number(40) && f.value(at: "labelled_pairs") == .number(30), "\(stored.figures)")
            #expect(f.value(at: "champion_accuracy") == .number(1) && f.value(at: "challenger_accuracy") == .number(0.8))
            #expect(stored.verdict == "reject")
            guard case .array(let reasons)? = f.value(at: "reasons") else {
                Issue.record("no reasons")
                return
            }
            #expect(reasons.first?.scalarText?.hasPrefix("realized accuracy: challenger 0.8000 vs champion 1.0000 on 30 labelled pairs") == true)
        }
    }

    @Test func percentilesInterpolateLikeNumpy() {
        // numpy.percentile([1, 2, 3, 4], [50, 95, 99]) → [2.5, 3.85, 3.97]; numpy.percentile([7], 95) → 7.0
        #expect(ShadowEvaluation.percentile([1, 2, 3, 4], 50) == 2.5)
        #expect(abs(ShadowEvaluation.percentile([1, 2, 3, 4], 95) - 3.85) < 1e-12)
        #expect(abs(ShadowEvaluation.percentile([1, 2, 3, 4], 99) - 3.97) < 1e-12)
        #expect(ShadowEvaluation.percentile([7], 95) == 7)
        #expect(ShadowEvaluation.pearson([1, 2, 3], [2, 4, 6]) == 1 && ShadowEvaluation.pearson([1, 1, 1], [1, 2, 3]) == nil)
    }
}
