import DriftStats
import Foundation

/// One captured prediction with its ground truth, if any (capture_events LEFT JOIN ground_truth).
public struct PredictionRow: Sendable, Equatable {
    /// The numeric prediction (a binary score, a regression output); nil when missing or for multiclass.
    public var score: Double?
    /// The predicted class (multiclass).
    public var predictedClass: String?
    /// The ground truth: a label text or a number (`ground_truth.label` / `.value`); both nil: no label yet.
    public var label: String?
    public var value: Double?

    public init(score: Double? = nil, predictedClass: String? = nil, label: String? = nil, value: Double? = nil) {
        self.score = score
        self.predictedClass = predictedClass
        self.label = label
        self.value = value
    }

    public var labelled: Bool { label != nil || value != nil }
}

/// One performance figure of one window, as stored in `performance_results`.
public struct PerformanceFigure: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case realized, estimated }
    public var kind: Kind
    public var metric: PerformanceMetric
    /// NaN when undefined on this window (e.g. ROC AUC with one class).
    public var value: Double
    /// The estimate's confidence band (CBPE: value ± 3 sampling errors); nil for realized figures.
    public var lower: Double?
    public var upper: Double?
    /// The alert band (reference chunks' mean ± 3σ, or the configured absolute bound).
    public var thresholdLower: Double?
    public var thresholdUpper: Double?
    /// The value left its alert band, on either side (NannyML's alert; never for NaN).
    public var alert: Bool

    /// The value left its band on the bad side: below it for a metric where higher is better, above it otherwise. Only
    /// this is a drop: a model doing better than its reference does not fire a retraining.
    public var worse: Bool {
        guard alert else { return false }
        return metric.higherIsBetter ? thresholdLower.map { value < $0 } == true : thresholdUpper.map { value > $0 } == true
    }

    /// For people and policy reasons: "estimated f1 0.612 below its band [0.700, 0.820]".
    public var reason: String {
        let band = "[\(Self.shown(thresholdLower)), \(Self.shown(thresholdUpper))]"
        let side = thresholdLower.map { value < $0 } == true ? "below" : thresholdUpper.map { value > $0 } == true ? "above" : "within"
        return "\(kind.rawValue) \(metric.rawValue) \(Self.shown(value)) \(side) its band \(band)"
    }

    static func shown(_ x: Double?) -> String {
        guard let x else { return "-" }
        return x.isNaN ? "NaN" : String(format: "%.4g", x)
    }
}

/// What a window's performance says: the figures, the label coverage, and whether it dropped.
public struct PerformanceEvaluation: Sendable, Equatable {
    /// Predictions read for the window (at most `max_rows`, a uniform sample beyond it).
    public var predictions: Int
    /// Of those, how many have a usable label.
    public var labels: Int
    public var figures: [PerformanceFigure]

    /// labels / predictions (nil for a window without predictions).
    public var coverage: Double? { predictions > 0 ? Double(labels) / Double(predictions) : nil }
    /// Realized figures exist (coverage reached `min_labels`).
    public var realized: Bool { figures.contains { $0.kind == .realized } }
    /// The figures the policy reads: the realized ones once they exist, else the estimated ones.
    public var deciding: [PerformanceFigure] { realized ? figures.filter { $0.kind == .realized } : figures.filter { $0.kind == .estimated } }
    /// A deciding figure left its band on the bad side (`PerformanceFigure.worse`).
    public var dropped: Bool { deciding.contains(where: \.worse) }
    /// There is a figure to decide on.
    public var decidable: Bool { deciding.contains { !$0.value.isNaN } }
    /// One sentence per deciding figure worse than its band.
    public var reasons: [String] { deciding.filter(\.worse).map(\.reason) }
}

/// What a labelled reference gives a monitor's performance: each metric's alert band, and for binary classifiers the
/// fitted CBPE model. Pure: built from plain rows (`PerformanceStore` reads them).
public struct PerformanceBaseline: Sendable {
    public let config: PerformanceConfig
    public let chunkSize: Int
    /// Each metric's reference chunk statistics; `band(_:rows:)` turns them into the band for a window's size.
    public let chunkStats: [PerformanceMetric: PerformanceBand]
    /// Estimates need at least this many predictions in the window (the monitor's `min_sample`).
    public let minPredictions: Int
    /// nil for multiclass and regression, and when the reference is unusable for it (no labels, one class).
    public let cbpe: CBPEModel?
    /// The multiclass class list: `classes` as configured, else the sorted classes of the reference's labels and predictions.
    public let classes: [String]
    /// Reference rows with a usable label.
    public let referenceLabels: Int
    /// Why the reference gives no band or estimate (no labels, too few chunks), for the logs; nil when it does.
    public let problem: String?

    /// Classes a multiclass baseline takes from the data at most (a configured `classes` list has the same limit).
    public static let maxClasses = 1_000

    public init(config: PerformanceConfig, chunkSize: Int, reference: [PredictionRow], minPredictions: Int = 1) {
        self.config = config
        self.chunkSize = max(1, chunkSize)
        self.minPredictions = max(1, minPredictions)
        var classes = config.classes ?? []
        if config.task == .multiclass && config.classes == nil {
            var seen = Set<String>()
            for r in reference {
                if let c = Self.truthClass(r) { seen.insert(c) }
                if let p = r.predictedClass { seen.insert(p) }
            }
            classes = Array(seen.sorted().prefix(Self.maxClasses))
        }
        self.classes = classes
        let labelled = reference.filter(\.labelled)
        referenceLabels = labelled.count
        var chunkValues: [PerformanceMetric: [Double]] = [:]
        for start in stride(from: 0, to: labelled.count, by: self.chunkSize) {
            let chunk = Array(labelled[start..<min(start + self.chunkSize, labelled.count)])
            let values = Self.realized(config: config, classes: classes, rows: chunk).values
            for m in config.metrics { chunkValues[m, default: []].append(values[m] ?? .nan) }
        }
        var stats: [PerformanceMetric: PerformanceBand] = [:]
        for m in config.metrics { stats[m] = PerformanceBand(chunkValues: chunkValues[m] ?? [], metric: m, chunkSize: self.chunkSize) }
        chunkStats = stats
        if labelled.isEmpty {
            problem = "the reference has no labelled predictions (performance.reference_label / reference_file): no bands, no estimates"
        } else if let m = config.metrics.first(where: { (stats[$0]?.chunks ?? 0) < PerformanceBand.minimumChunks && config.bounds[$0] == nil }) {
            problem =
                "the reference gives fewer than \(PerformanceBand.minimumChunks) chunks of \(self.chunkSize) labelled rows with a defined \(m.rawValue) (\(labelled.count) labelled rows): no band for it; lower performance.chunk_size or give bounds"
        } else {
            problem = nil
        }
        let estimated = config.metrics.filter { CBPEModel.supportedMetrics.contains($0) }
        if config.task == .binaryClassification, !estimated.isEmpty {
            let usable = labelled.compactMap { r -> (Double, Bool)? in
                guard let s = r.score, s >= 0, s <= 1, let y = Self.positive(r, config) else { return nil }
                return (s, y)
            }
            cbpe = CBPEModel(
                referenceScores: usable.map(\.0), referenceLabels: usable.map(\.1), threshold: config.threshold,
                chunkSize: self.chunkSize, metrics: estimated)
        } else {
            cbpe = nil
        }
    }

    /// The alert band of `metric` for a figure computed on `rows` rows: the configured absolute bound, else the
    /// reference chunks' band scaled to `rows` (`PerformanceBand.band(rows:)`).
    public func band(_ metric: PerformanceMetric, rows: Int) -> CBPEThresholds {
        if let b = config.bounds[metric] { return CBPEThresholds(lower: b.lower, upper: b.upper) }
        return chunkStats[metric]?.band(rows: rows) ?? CBPEThresholds(lower: nil, upper: nil)
    }

    /// Each metric's band at the reference's chunk size (NannyML's band).
    public var bands: [PerformanceMetric: CBPEThresholds] {
        Dictionary(uniqueKeysWithValues: config.metrics.map { ($0, band($0, rows: chunkSize)) })
    }

    /// Evaluates one window: realized figures when at least `min_labels` predictions have a usable label, estimated
    /// (CBPE) figures for binary classifiers on windows with at least `minPredictions` scores. Each figure is judged
    /// against the band for its own row count.
    public func evaluate(_ rows: [PredictionRow]) -> PerformanceEvaluation {
        // multiclass: a class the reference (or `classes`) never had is a class all the same — a label the model cannot
        // predict is a miss. Taken from the labelled rows only: a class with no labelled row would add a zero to the macro means.
        var windowClasses = classes
        if config.task == .multiclass {
            var known = Set(classes)
            for r in rows where r.labelled && windowClasses.count < Self.maxClasses {
                for c in [Self.truthClass(r), r.predictedClass].compactMap({ $0 }) where !known.contains(c) && windowClasses.count < Self.maxClasses {
                    known.insert(c)
                    windowClasses.append(c)
                }
            }
        }
        let r = Self.realized(config: config, classes: windowClasses, rows: rows.filter(\.labelled))
        var figures: [PerformanceFigure] = []
        if r.used >= config.minLabels {
            for m in config.metrics {
                let v = r.values[m] ?? .nan
                let band = band(m, rows: r.used)
                figures.append(
                    PerformanceFigure(
                        kind: .realized, metric: m, value: v, lower: nil, upper: nil, thresholdLower: band.lower, thresholdUpper: band.upper,
                        alert: Self.outside(v, band)))
            }
        }
        if let cbpe {
            let scores = rows.compactMap(\.score).filter { $0 >= 0 && $0 <= 1 }
            if scores.count >= minPredictions {
                let estimates = cbpe.estimate(scores: scores)
                for m in cbpe.metrics {
                    guard let e = estimates[m] else { continue }
                    // the same band as the realized figure, for this window's number of scores
                    let band = band(m, rows: scores.count)
                    figures.append(
                        PerformanceFigure(
                            kind: .estimated, metric: m, value: e.value, lower: e.lower.isNaN ? nil : e.lower, upper: e.upper.isNaN ? nil : e.upper,
                            thresholdLower: band.lower, thresholdUpper: band.upper, alert: Self.outside(e.value, band)))
                }
            }
        }
        let predictions = rows.filter { config.task == .multiclass ? $0.predictedClass != nil : $0.score != nil }.count
        return PerformanceEvaluation(predictions: predictions, labels: r.used, figures: figures)
    }

    static func outside(_ v: Double, _ band: CBPEThresholds) -> Bool {
        guard !v.isNaN else { return false }
        return band.lower.map { v < $0 } == true || band.upper.map { v > $0 } == true
    }

    /// The realized metrics of labelled rows, and how many rows were usable (a prediction and a label of the task's kind).
    static func realized(config: PerformanceConfig, classes: [String], rows: [PredictionRow]) -> (values: [PerformanceMetric: Double], used: Int) {
        switch config.task {
        case .binaryClassification:
            var scores: [Double] = []
            var labels: [Bool] = []
            for r in rows {
                guard case .binary(let s, let y)? = outcome(r, config, []) else { continue }
                scores.append(s)
                labels.append(y)
            }
            guard let o = try? BinaryOutcomes(labels: labels, scores: scores, threshold: config.threshold) else { return ([:], 0) }
            var values = RealizedPerformance.binary(o, metrics: config.metrics)
            // a metric whose own denominator is 0 is undefined (NaN, no alert), not scikit-learn's zero_division 0, which
            // would read as a collapse on a quiet hour: precision without a predicted positive, recall without an actual
            // positive, F1 without either. A model that predicts no positive while positives exist has recall 0: defined.
            let predictedPositive = scores.contains { $0 >= config.threshold }
            let actualPositive = labels.contains(true)
            if !predictedPositive, values[.precision] != nil { values[.precision] = .nan }
            if !actualPositive, values[.recall] != nil { values[.recall] = .nan }
            if !predictedPositive && !actualPositive, values[.f1] != nil { values[.f1] = .nan }
            return (values, labels.count)
        case .multiclass:
            let known = Set(classes)
            var labels: [String] = []
            var predicted: [String] = []
            for r in rows {
                guard case .multiclass(let p, let y)? = outcome(r, config, known) else { continue }
                labels.append(y)
                predicted.append(p)
            }
            guard let o = try? MulticlassOutcomes(classes: classes, labels: labels, predicted: predicted) else { return ([:], 0) }
            return (RealizedPerformance.multiclass(o, metrics: config.metrics), labels.count)
        case .regression:
            var actual: [Double] = []
            var predicted: [Double] = []
            for r in rows {
                guard case .regression(let p, let y)? = outcome(r, config, []) else { continue }
                actual.append(y)
                predicted.append(p)
            }
            guard let o = try? RegressionOutcomes(actual: actual, predicted: predicted) else { return ([:], 0) }
            return (RealizedPerformance.regression(o, metrics: config.metrics), actual.count)
        }
    }

    /// A row as the task scores it: the prediction and the truth, each usable (a binary score in [0, 1] and a truth; a
    /// predicted class and a truth class both in `classes`; a finite prediction and a finite numeric truth).
    enum Outcome {
        case binary(score: Double, positive: Bool)
        case multiclass(predicted: String, truth: String)
        case regression(predicted: Double, actual: Double)
    }

    /// The row's `Outcome`, nil when it cannot be scored. Realized figures and shadow evaluations both take rows by it.
    static func outcome(_ r: PredictionRow, _ config: PerformanceConfig, _ classes: Set<String>) -> Outcome? {
        switch config.task {
        case .binaryClassification:
            guard let s = r.score, s >= 0, s <= 1, let y = positive(r, config) else { return nil }
            return .binary(score: s, positive: y)
        case .multiclass:
            guard let p = r.predictedClass, classes.contains(p), let y = truthClass(r), classes.contains(y) else { return nil }
            return .multiclass(predicted: p, truth: y)
        case .regression:
            guard let p = r.score, p.isFinite, let y = r.value ?? r.label.flatMap(Double.init), y.isFinite else { return nil }
            return .regression(predicted: p, actual: y)
        }
    }

    /// Binary truth: positive when the label text is `label_positive`, or when label and `label_positive` are the same
    /// number (`true`/`false` read as 1/0); nil when there is no label.
    static func positive(_ r: PredictionRow, _ config: PerformanceConfig) -> Bool? {
        let want = number(config.labelPositive)
        if let t = r.label {
            if t == config.labelPositive { return true }
            if let w = want, let x = number(t) { return x == w }
            return false
        }
        if let v = r.value { return want.map { $0 == v } ?? false }
        return nil
    }

    static func number(_ s: String) -> Double? {
        switch s.lowercased() {
        case "true": 1
        case "false": 0
        default: Double(s).flatMap { $0.isFinite ? $0 : nil }
        }
    }

    /// Multiclass truth: the label text, or a number written as the shortest text (3 → "3").
    static func truthClass(_ r: PredictionRow) -> String? {
        if let t = r.label { return t }
        guard let v = r.value, v.isFinite else { return nil }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
