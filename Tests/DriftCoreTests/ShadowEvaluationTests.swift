import DriftCore
import DriftStats
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

    @Test func percentilesInterpolateLikeNumpy() {
        // numpy.percentile([1, 2, 3, 4], [50, 95, 99]) → [2.5, 3.85, 3.97]; numpy.percentile([7], 95) → 7.0
        #expect(ShadowEvaluation.percentile([1, 2, 3, 4], 50) == 2.5)
        #expect(abs(ShadowEvaluation.percentile([1, 2, 3, 4], 95) - 3.85) < 1e-12)
        #expect(abs(ShadowEvaluation.percentile([1, 2, 3, 4], 99) - 3.97) < 1e-12)
        #expect(ShadowEvaluation.percentile([7], 95) == 7)
        #expect(ShadowEvaluation.pearson([1, 2, 3], [2, 4, 6]) == 1 && ShadowEvaluation.pearson([1, 1, 1], [1, 2, 3]) == nil)
    }
}
