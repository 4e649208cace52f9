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
    /// The value left its alert band (never for NaN).
    public var alert: Bool

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
    /// A deciding figure left its band.
    public var dropped: Bool { deciding.contains(where: \.alert) }
    /// There is a figure to decide on.
    public var decidable: Bool { deciding.contains { !$0.value.isNaN } }
    /// One sentence per deciding figure out of its band.
    public var reasons: [String] { deciding.filter(\.alert).map(\.reason) }
}

/// What a labelled reference gives a monitor's performance: each metric's alert band, and for binary classifiers the
/// fitted CBPE model. Pure: built from plain rows (`PerformanceStore` reads them).
public struct PerformanceBaseline: Sendable {
    public let config: PerformanceConfig
    public let chunkSize: Int
    /// The realized-metric alert bands, after the configured absolute bounds.
    public let bands: [PerformanceMetric: CBPEThresholds]
    /// nil for multiclass and regression, and when the reference is unusable for it (no labels, one class).
    public let cbpe: CBPEModel?
    /// The multiclass class list: `classes` as configured, else the sorted classes of the reference's labels and predictions.
    public let classes: [String]
    /// Reference rows with a usable label.
    public let referenceLabels: Int

    public init(config: PerformanceConfig, chunkSize: Int, reference: [PredictionRow]) {
        self.config = config
        self.chunkSize = max(1, chunkSize)
        var classes = config.classes ?? []
        if config.task == .multiclass && config.classes == nil {
            var seen = Set<String>()
            for r in reference {
                if let c = Self.truthClass(r) { seen.insert(c) }
                if let p = r.predictedClass { seen.insert(p) }
            }
            classes = seen.sorted()
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
        var bands: [PerformanceMetric: CBPEThresholds] = [:]
        for m in config.metrics {
            var band = PerformanceBand.fromChunks(chunkValues[m] ?? [], metric: m)
            if let b = config.bounds[m] { band = CBPEThresholds(lower: b.lower, upper: b.upper) }
            bands[m] = band
        }
        self.bands = bands
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

    /// Evaluates one window: realized figures when at least `min_labels` predictions have a usable label, estimated
    /// (CBPE) figures for binary classifiers on every window with predictions.
    public func evaluate(_ rows: [PredictionRow]) -> PerformanceEvaluation {
        let r = Self.realized(config: config, classes: classes, rows: rows.filter(\.labelled))
        var figures: [PerformanceFigure] = []
        if r.used >= config.minLabels {
            for m in config.metrics {
                let v = r.values[m] ?? .nan
                let band = bands[m] ?? CBPEThresholds(lower: nil, upper: nil)
                figures.append(
                    PerformanceFigure(
                        kind: .realized, metric: m, value: v, lower: nil, upper: nil, thresholdLower: band.lower, thresholdUpper: band.upper,
                        alert: Self.outside(v, band)))
            }
        }
        if let cbpe {
            let scores = rows.compactMap(\.score).filter { $0 >= 0 && $0 <= 1 }
            if !scores.isEmpty {
                let estimates = cbpe.estimate(scores: scores)
                for m in cbpe.metrics {
                    guard let e = estimates[m] else { continue }
                    // an absolute bound replaces the reference band for the estimate too
                    let band =
                        config.bounds[m].map { CBPEThresholds(lower: $0.lower, upper: $0.upper) }
                        ?? CBPEThresholds(lower: e.thresholdLower, upper: e.thresholdUpper)
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
                guard let s = r.score, s >= 0, s <= 1, let y = positive(r, config) else { continue }
                scores.append(s)
                labels.append(y)
            }
            guard let o = try? BinaryOutcomes(labels: labels, scores: scores, threshold: config.threshold) else { return ([:], 0) }
            return (RealizedPerformance.binary(o, metrics: config.metrics), labels.count)
        case .multiclass:
            let known = Set(classes)
            var labels: [String] = []
            var predicted: [String] = []
            for r in rows {
                guard let p = r.predictedClass, known.contains(p), let y = truthClass(r), known.contains(y) else { continue }
                labels.append(y)
                predicted.append(p)
            }
            guard let o = try? MulticlassOutcomes(classes: classes, labels: labels, predicted: predicted) else { return ([:], 0) }
            return (RealizedPerformance.multiclass(o, metrics: config.metrics), labels.count)
        case .regression:
            var actual: [Double] = []
            var predicted: [Double] = []
            for r in rows {
                guard let p = r.score, p.isFinite, let y = r.value ?? r.label.flatMap(Double.init), y.isFinite else { continue }
                actual.append(y)
                predicted.append(p)
            }
            guard let o = try? RegressionOutcomes(actual: actual, predicted: predicted) else { return ([:], 0) }
            return (RealizedPerformance.regression(o, metrics: config.metrics), actual.count)
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
