import DriftCommon
import DriftStats
import Foundation

/// One request as the champion and the challenger saw it (paired on the request id).
public struct ShadowRequest: Sendable, Equatable {
    public struct Side: Sendable, Equatable {
        /// When the request / the response was captured, in microseconds since 1970 (whole numbers, so latencies
        /// are exact), if it was.
        public var requestAt: Double?
        public var responseAt: Double?
        /// The compared output (numeric, or a label), when a response or paired record carried it.
        public var value: Double?
        public var label: String?

        public init(requestAt: Double? = nil, responseAt: Double? = nil, value: Double? = nil, label: String? = nil) {
            self.requestAt = requestAt
            self.responseAt = responseAt
            self.value = value
            self.label = label
        }

        public var seen: Bool { requestAt != nil || responseAt != nil }
        public var answered: Bool { value != nil || label != nil }
        /// Response time − request time, when both were captured, in milliseconds.
        public var latencyMs: Double? {
            guard let a = requestAt, let b = responseAt, b >= a else { return nil }
            return (b - a) / 1000
        }
    }

    /// A request's ground truth (`ground_truth.label` / `.value` on the model and request id): a label text, a number,
    /// or both.
    public struct Truth: Sendable, Equatable {
        public var label: String?
        public var value: Double?

        public init(label: String? = nil, value: Double? = nil) {
            self.label = label
            self.value = value
        }
    }

    public var champion = Side()
    public var challenger = Side()
    /// nil: no label has arrived for this request (or none was read).
    public var truth: Truth?

    public init(champion: Side = Side(), challenger: Side = Side(), truth: Truth? = nil) {
        self.champion = champion
        self.challenger = challenger
        self.truth = truth
    }
}

/// The figures of a shadow evaluation and its verdict. Pure: computed from the paired requests and the
/// configuration alone (tested without a database).
///
/// - pairs: requests with an output from both; `pair_coverage` = pairs / requests the champion answered.
/// - agreement: share of pairs whose outputs agree — same label, same side of `class_threshold`, or
///   |Δ| ≤ `tolerance`; `correlation`: Pearson's r of the numeric outputs over the pairs.
/// - output distance between the champion's and the challenger's outputs on the pairs (champion as reference):
///   PSI, KS statistic and p-value, Jensen–Shannon (numeric: the monitor's binning; labels: categories).
/// - latency p50 / p95 / p99 in ms (numpy's default linear interpolation) from request and response capture
///   times, where both exist; `latency_regression` = challenger p95 / champion p95 − 1.
/// - `error_rate`: challenger requests without a challenger response / challenger requests; `orphan_rate`:
///   challenger responses to requests the champion never answered / challenger responses.
/// - realized performance, when the monitor has `performance:` and the compared output is its `prediction` (the caller
///   passes `performance` only then): `labelled_pairs` = pairs with a ground truth on which both outputs are usable
///   predictions for the task (binary: a score in [0, 1] and a label; multiclass: a predicted class and a truth class,
///   both among `classes` when it is configured; regression: finite numbers). Once there are at least
///   `performance.min_labels` of them, each configured metric is computed for each side on exactly those pairs by
///   `PerformanceBaseline.realized` (the monitor's own metric code, scikit-learn's formulas; multiclass classes:
///   `classes`, else the sorted union of the truths and both sides' predictions on those pairs), giving
///   `champion_<metric>` and `challenger_<metric>`. drop = champion − challenger for a metric where higher is
///   better, challenger − champion otherwise; the check is drop ≤ `max_performance_drop`. A NaN figure (undefined on
///   those pairs) is stored as null and not checked. The minimum is `min_labels`, not `min_pairs`: it is the monitor's
///   own bar for a realized figure, and `min_pairs` already holds the verdict on too few pairs overall.
///
/// Verdict: fewer pairs than `min_pairs` → hold; any threshold missed → reject; otherwise promote.
public struct ShadowEvaluation: Sendable {
    public enum Verdict: String, Sendable { case promote, hold, reject }

    public var verdict: Verdict
    /// Every check made, one sentence each, failed ones first.
    public var reasons: [String]
    public var figures: [(String, JSONValue)]

    public func figure(_ name: String) -> Double? {
        switch figures.first(where: { $0.0 == name })?.1 {
        case .int(let i)?: Double(i)
        case .double(let d)?: d
        default: nil
        }
    }

    /// `performance`: the monitor's `performance:` when the compared output is its prediction, else nil (no
    /// realized-performance comparison).
    public static func evaluate(
        _ requests: [ShadowRequest], config: ShadowEvalConfig, settings: DriftSettings = DriftSettings(), performance: PerformanceConfig? = nil
    ) -> ShadowEvaluation {
        let championAnswered = requests.filter { $0.champion.answered }.count
        let challengerRequests = requests.filter { $0.challenger.requestAt != nil }
        let challengerAnswered = requests.filter { $0.challenger.answered }
        let pairs = requests.filter { $0.champion.answered && $0.challenger.answered }
        let numeric = pairs.allSatisfy { $0.champion.value != nil && $0.challenger.value != nil }
        var f: [(String, JSONValue)] = [
            ("requests", .int(requests.count)), ("champion_answered", .int(championAnswered)),
            ("challenger_requests", .int(challengerRequests.count)), ("challenger_answered", .int(challengerAnswered.count)),
            ("pairs", .int(pairs.count)), ("pair_coverage", .number(championAnswered == 0 ? nil : Double(pairs.count) / Double(championAnswered)))
        ]
        var agreement: Double?
        var psi: Double?
        if !pairs.isEmpty {
            let agreeing = pairs.filter { p in
                if numeric, let a = p.champion.value, let b = p.challenger.value {
                    if let t = config.classThreshold { return (a >= t) == (b >= t) }
                    return abs(a - b) <= config.tolerance
                }
                return (p.champion.label ?? p.champion.value.map { "\($0)" }) == (p.challenger.label ?? p.challenger.value.map { "\($0)" })
            }.count
            agreement = Double(agreeing) / Double(pairs.count)
            f.append(("agreement", .number(agreement)))
            if numeric {
                let a = pairs.map { $0.champion.value! }
                let b = pairs.map { $0.challenger.value! }
                f.append(("correlation", .number(pearson(a, b))))
                f.append(("champion_mean", .number(a.reduce(0, +) / Double(a.count))))
                f.append(("challenger_mean", .number(b.reduce(0, +) / Double(b.count))))
                let d = FeatureComparison.numeric(
                    name: "output", reference: NumericSample(values: a), current: NumericSample(values: b), settings: settings)
                psi = d.psi
                f += [
                    ("output_psi", .number(d.psi)), ("output_ks", .number(d.ks?.statistic)), ("output_ks_pvalue", .number(d.ks?.pvalue)),
                    ("output_js", .number(d.jensenShannon))
                ]
            } else {
                let a = pairs.map { $0.champion.label ?? $0.champion.value.map { "\($0)" } }
                let b = pairs.map { $0.challenger.label ?? $0.challenger.value.map { "\($0)" } }
                let d = FeatureComparison.categorical(
                    name: "output", reference: CategoricalSample(values: a), current: CategoricalSample(values: b), settings: settings)
                psi = d.psi
                f += [("output_psi", .number(d.psi)), ("output_js", .number(d.jensenShannon))]
            }
        }
        let champLatency = requests.compactMap(\.champion.latencyMs).sorted()
        let chalLatency = requests.compactMap(\.challenger.latencyMs).sorted()
        for (name, values) in [("champion", champLatency), ("challenger", chalLatency)] where !values.isEmpty {
            f += [
                ("\(name)_latency_p50_ms", .number(percentile(values, 50))), ("\(name)_latency_p95_ms", .number(percentile(values, 95))),
                ("\(name)_latency_p99_ms", .number(percentile(values, 99)))
            ]
        }
        var regression: Double?
        if !champLatency.isEmpty, !chalLatency.isEmpty {
            let c = percentile(champLatency, 95)
            regression = c > 0 ? percentile(chalLatency, 95) / c - 1 : nil
            f.append(("latency_regression", .number(regression)))
        }
        var errorRate: Double?
        if !challengerRequests.isEmpty {
            errorRate = Double(challengerRequests.filter { !$0.challenger.answered }.count) / Double(challengerRequests.count)
            f.append(("error_rate", .number(errorRate)))
        }
        if !challengerAnswered.isEmpty {
            f.append(("orphan_rate", .number(Double(challengerAnswered.filter { !$0.champion.answered }.count) / Double(challengerAnswered.count))))
        }

        let realized = performance.map { Self.realizedPerformance(pairs, config: $0) }
        if let realized {
            f.append(("labelled_pairs", .int(realized.pairs)))
            for (metric, champion, challenger) in realized.metrics {
                f += [("champion_\(metric.rawValue)", .number(champion)), ("challenger_\(metric.rawValue)", .number(challenger))]
            }
        }

        let t = config.thresholds
        var failed: [String] = []
        var passed: [String] = []
        func check(_ ok: Bool, _ text: String) { if ok { passed.append(text) } else { failed.append(text) } }
        if pairs.count < t.minPairs {
            return ShadowEvaluation(
                verdict: .hold, reasons: ["only \(pairs.count) requests served by both (min_pairs \(t.minPairs)): not enough evidence yet"],
                figures: f)
        }
        if let agreement {
            check(
                agreement >= t.minAgreement,
                String(format: "agreement %.4f %@ min_agreement %.4f", agreement, agreement >= t.minAgreement ? "≥" : "<", t.minAgreement))
        }
        if let psi {
            check(
                psi <= t.maxOutputPSI,
                String(format: "output PSI %.4f %@ max_output_psi %.4f", psi, psi <= t.maxOutputPSI ? "≤" : ">", t.maxOutputPSI))
        }
        if let regression {
            check(
                regression <= t.maxLatencyRegression,
                String(
                    format: "p95 latency change %+.1f%% %@ max_latency_regression %+.1f%%", regression * 100,
                    regression <= t.maxLatencyRegression ? "≤" : ">", t.maxLatencyRegression * 100))
        } else {
            passed.append("latency not compared (no request and response capture times for both)")
        }
        if let errorRate {
            check(
                errorRate <= t.maxErrorRate,
                String(format: "error rate %.4f %@ max_error_rate %.4f", errorRate, errorRate <= t.maxErrorRate ? "≤" : ">", t.maxErrorRate))
        }
        if let realized, let performance {
            // no labelled pair at all (labels not in yet, the usual case when drift fires the evaluation): nothing to say
            if realized.pairs > 0 && realized.pairs < Self.minimum(performance) {
                passed.append("realized performance not compared (\(realized.pairs) labelled pairs, need \(Self.minimum(performance)))")
            }
            for (metric, champion, challenger) in realized.metrics {
                guard !champion.isNaN, !challenger.isNaN else {
                    passed.append(
                        "realized \(metric.rawValue) not compared: undefined on the \(realized.pairs) labelled pairs "
                            + "(champion \(PerformanceFigure.shown(champion)), challenger \(PerformanceFigure.shown(challenger)))")
                    continue
                }
                let drop = metric.higherIsBetter ? champion - challenger : challenger - champion
                check(
                    drop <= t.maxPerformanceDrop,
                    String(
                        format: "realized %@: challenger %.4f vs champion %.4f on %d labelled pairs, drop %.4f %@ max_performance_drop %.4f",
                        metric.rawValue, challenger, champion, realized.pairs, drop, drop <= t.maxPerformanceDrop ? "≤" : ">",
                        t.maxPerformanceDrop))
            }
        }
        return ShadowEvaluation(verdict: failed.isEmpty ? .promote : .reject, reasons: failed + passed, figures: f)
    }

    /// The realized metrics of both sides on the same labelled pairs: how many pairs, and per configured metric the
    /// champion's and the challenger's value (NaN when undefined); no metrics when fewer than `min_labels` pairs.
    static func realizedPerformance(
        _ pairs: [ShadowRequest], config: PerformanceConfig
    ) -> (pairs: Int, metrics: [(PerformanceMetric, Double, Double)]) {
        // as `PerformanceStore.rows` reads a prediction: a numeric output is the score, a categorical one the class
        func row(_ side: ShadowRequest.Side, _ truth: ShadowRequest.Truth) -> PredictionRow {
            config.task == .multiclass
                ? PredictionRow(predictedClass: side.label, label: truth.label, value: truth.value)
                : PredictionRow(score: side.value, label: truth.label, value: truth.value)
        }
        var candidates: [(PredictionRow, PredictionRow)] = []
        for p in pairs {
            guard let truth = p.truth, truth.label != nil || truth.value != nil else { continue }
            candidates.append((row(p.champion, truth), row(p.challenger, truth)))
        }
        var classes = config.classes ?? []
        if config.task == .multiclass && config.classes == nil {
            var seen = Set<String>()
            for (a, b) in candidates {
                for c in [PerformanceBaseline.truthClass(a), a.predictedClass, b.predictedClass].compactMap({ $0 }) { seen.insert(c) }
            }
            classes = Array(seen.sorted().prefix(PerformanceBaseline.maxClasses))
        }
        // a pair counts when both sides' rows are usable: each metric then rests on exactly the same requests
        let known = Set(classes)
        let labelled = candidates.filter { usable($0.0, config, known) && usable($0.1, config, known) }
        guard labelled.count >= minimum(config) else { return (labelled.count, []) }
        let champion = PerformanceBaseline.realized(config: config, classes: classes, rows: labelled.map(\.0)).values
        let challenger = PerformanceBaseline.realized(config: config, classes: classes, rows: labelled.map(\.1)).values
        return (labelled.count, config.metrics.map { ($0, champion[$0] ?? .nan, challenger[$0] ?? .nan) })
    }

    /// Labelled pairs needed to compare realized performance: `min_labels` (at least one).
    static func minimum(_ config: PerformanceConfig) -> Int { max(1, config.minLabels) }

    /// The row filter of `PerformanceBaseline.realized`, per row: a prediction and a truth of the task's kind.
    static func usable(_ r: PredictionRow, _ config: PerformanceConfig, _ classes: Set<String>) -> Bool {
        PerformanceBaseline.outcome(r, config, classes) != nil
    }

    /// Percentile with linear interpolation between closest ranks (numpy.percentile's default), of sorted values.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard sorted.count > 1 else { return sorted.first ?? .nan }
        let h = (Double(sorted.count) - 1) * q / 100
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// Pearson's correlation coefficient (nil when either side is constant).
    public static func pearson(_ a: [Double], _ b: [Double]) -> Double? {
        let n = Double(a.count)
        guard a.count > 1 else { return nil }
        let ma = a.reduce(0, +) / n
        let mb = b.reduce(0, +) / n
        var sab = 0.0
        var saa = 0.0
        var sbb = 0.0
        for i in a.indices {
            let x = a[i] - ma
            let y = b[i] - mb
            sab += x * y
            saa += x * x
            sbb += y * y
        }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }
}
