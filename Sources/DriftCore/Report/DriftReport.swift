import DriftStats
import Foundation

/// Everything a drift report shows, whatever it came from: a stored run (`drift-worker report`) or a
/// comparison of two files (`compare --html`).
public struct DriftReport: Sendable {
    public struct Feature: Sendable {
        public var name: String
        public var kind: String
        public var drifted: Bool
        public var reasons: [String]
        public var psi: Double?
        public var ksStatistic: Double?
        public var ksPValue: Double?
        public var chiSquare: Double?
        public var chiSquarePValue: Double?
        public var pvalueAdjusted: Double?
        public var jensenShannon: Double?
        public var wassersteinNormed: Double?
        public var hellinger: Double?
        public var referenceCount: Int
        public var currentCount: Int
        public var referenceMissingRate: Double
        public var currentMissingRate: Double
        public var outOfRangeShare: Double?
        public var unseenCount: Int?
        public var detail: FeatureDetail?

        /// Drifted first, then by PSI.
        public var severity: Double { (drifted ? 1e6 : 0) + ((psi?.isFinite ?? false) ? psi! : 0) }
    }

    /// One window of a feature's recent history.
    public struct TrendPoint: Sendable {
        public var windowStart: Date
        public var psi: Double?
        public var ksStatistic: Double?
        public var drifted: Bool
    }

    public struct Correlation: Sendable {
        public var pair: (String, String)
        public var reference: Double?
        public var current: Double?
        public var maxAbsDelta: Double
    }

    /// A window too small to compare: its sample (and the reference's rows) against the monitor's `min_sample`.
    public struct SampleShortfall: Sendable {
        public var referenceCount: Int
        /// Events sampled from the window (all of them below `sample_size`).
        public var currentCount: Int
        public var minSample: Int

        public init(referenceCount: Int, currentCount: Int, minSample: Int) {
            self.referenceCount = referenceCount
            self.currentCount = currentCount
            self.minSample = minSample
        }
    }

    public var title: String
    /// What was compared with what, e.g. "window 2026-11-25T17:00Z – 18:00Z against reference training-v3".
    public var subtitle: String
    /// "DRIFT", "no drift" or "insufficient data".
    public var verdict: String
    public var drifted: Bool?
    public var windowStart: Date?
    public var windowEnd: Date?
    public var referenceCount: Int
    public var currentCount: Int
    public var featureCount: Int
    public var driftedCount: Int
    public var driftedShare: Double?
    public var decision: String?
    public var firedActions: [String]
    /// What became of the fired actions (stored reports): delivery, the runs they started, what those runs' ends fired.
    public var actions: [TriggerStatus.Row] = []
    public var correlation: Correlation?
    /// Set when the window was not compared (verdict "insufficient data"): the report says why instead of showing empty tables.
    public var shortfall: SampleShortfall?
    /// Why there is no correlation figure, as a sentence ("fewer than two numeric input features (1)").
    public var correlationNote: String?
    public var features: [Feature]
    /// Per feature, oldest first; empty for `compare`.
    public var trend: [String: [TrendPoint]]
    public var psiThreshold: Double
    public var generatedAt: Date
    /// The model's performance over the trend windows (stored reports of monitors with `performance:`); nil otherwise.
    public var performance: Performance? = nil

    public init(
        title: String, subtitle: String, verdict: String, drifted: Bool?, windowStart: Date? = nil, windowEnd: Date? = nil,
        referenceCount: Int, currentCount: Int, featureCount: Int, driftedCount: Int, driftedShare: Double?,
        decision: String? = nil, firedActions: [String] = [], correlation: Correlation? = nil, features: [Feature],
        trend: [String: [TrendPoint]] = [:], psiThreshold: Double, generatedAt: Date = Date()
    ) {
        self.title = title
        self.subtitle = subtitle
        self.verdict = verdict
        self.drifted = drifted
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.referenceCount = referenceCount
        self.currentCount = currentCount
        self.featureCount = featureCount
        self.driftedCount = driftedCount
        self.driftedShare = driftedShare
        self.decision = decision
        self.firedActions = firedActions
        self.correlation = correlation
        self.correlationNote = correlation == nil ? "fewer than two numeric features" : nil
        self.features = features.sorted { $0.severity != $1.severity ? $0.severity > $1.severity : $0.name < $1.name }
        self.trend = trend
        self.psiThreshold = psiThreshold
        self.generatedAt = generatedAt
    }
}

extension DriftReport {
    /// A monitor's model performance (issue 20) over the report's trend windows, as stored in `performance_windows`
    /// and `performance_results`: per window the realized figures (from ground-truth labels, once `min_labels` of them
    /// exist) and the estimated ones (CBPE, binary classifiers), each with its alert band, the estimate with its
    /// confidence band, and the window's label coverage.
    public struct Performance: Sendable {
        /// One scored window: its `performance_windows` row and its `performance_results` rows.
        public struct Window: Sendable {
            public var windowStart: Date
            public var windowEnd: Date
            /// Predictions read for the window (at most `max_rows`, a uniform sample beyond it).
            public var predictions: Int
            /// Of those, how many have a usable label.
            public var labels: Int
            /// Label coverage as stored: labels / predictions; nil for a window without predictions.
            public var coverage: Double?
            /// A figure the policy reads (realized once they exist, else estimated) left its alert band.
            public var dropped: Bool
            /// One sentence per deciding figure out of its band (`PerformanceFigure.reason`).
            public var reasons: [String]
            /// Realized first, then estimated; each in the monitor's metric order.
            public var figures: [PerformanceFigure]
            /// How often later labels re-scored the window.
            public var revisions: Int

            public init(
                windowStart: Date, windowEnd: Date, predictions: Int, labels: Int, coverage: Double?, dropped: Bool, reasons: [String],
                figures: [PerformanceFigure], revisions: Int = 0
            ) {
                self.windowStart = windowStart
                self.windowEnd = windowEnd
                self.predictions = predictions
                self.labels = labels
                self.coverage = coverage
                self.dropped = dropped
                self.reasons = reasons
                self.figures = figures
                self.revisions = revisions
            }

            /// The window's figure of `metric` of `kind`, if stored.
            public func figure(_ kind: PerformanceFigure.Kind, _ metric: PerformanceMetric) -> PerformanceFigure? {
                figures.first { $0.kind == kind && $0.metric == metric }
            }

            /// The kind the policy reads: realized once the window has realized figures, else estimated.
            public var decidingKind: PerformanceFigure.Kind { figures.contains { $0.kind == .realized } ? .realized : .estimated }
        }

        public var task: PerformanceTask
        /// The metrics charted: the configured ones in their order, then any other metric stored in the windows.
        public var metrics: [PerformanceMetric]
        /// `performance.min_labels`: realized figures need this many labelled predictions in a window.
        public var minLabels: Int
        /// The scored windows of the trend range, oldest first.
        public var windows: [Window]
        /// The reported window's, when it was scored.
        public var current: Window?
        /// How many windows the trend range spans (scored or not): "over the last N windows".
        public var trendWindows: Int

        public init(
            task: PerformanceTask, metrics: [PerformanceMetric], minLabels: Int, windows: [Window], current: Window?, trendWindows: Int
        ) {
            self.task = task
            self.metrics = metrics
            self.minLabels = minLabels
            self.windows = windows
            self.current = current
            self.trendWindows = trendWindows
        }

        /// The reported window's performance in one line (the CLI prints it after the report is written), e.g.
        /// "performance: dropped — estimated f1 0.612 below its band [0.7, 0.82]; label coverage 12.5% (25 of 200)".
        public var summary: String {
            guard let w = current else { return "performance: this window has not been scored" }
            let coverage = "label coverage \(w.coverage.map(ReportFormat.percent) ?? "–") (\(w.labels) of \(w.predictions))"
            if w.figures.isEmpty { return "performance: no figures; \(coverage)" }
            if w.dropped { return "performance: dropped — \(w.reasons.joined(separator: "; ")); \(coverage)" }
            return "performance: within bands (\(w.decidingKind.rawValue)); \(coverage)"
        }
    }
}

extension DriftReport.Feature {
    /// A feature of a comparison made in this process.
    public init(_ f: FeatureDrift, outOfRangeShare: Double? = nil) {
        self.init(
            name: f.name, kind: f.kind.rawValue, drifted: f.drifted, reasons: f.reasons, psi: f.psi,
            ksStatistic: f.ks?.statistic, ksPValue: f.ks?.pvalue, chiSquare: f.chiSquare?.statistic,
            chiSquarePValue: f.chiSquare?.pvalue, pvalueAdjusted: f.pvalueAdjusted, jensenShannon: f.jensenShannon,
            wassersteinNormed: f.wassersteinNormed, hellinger: f.hellinger, referenceCount: f.referenceCount,
            currentCount: f.currentCount, referenceMissingRate: f.referenceMissingRate, currentMissingRate: f.currentMissingRate,
            outOfRangeShare: outOfRangeShare, unseenCount: f.unseenCategories?.count, detail: FeatureDetail(f))
    }
}

extension DriftReport {
    /// The report of `compare`: two files (or a profile and a file), no history.
    public static func comparison(_ d: DatasetDrift, reference: String, current: String, settings: DriftSettings) -> DriftReport {
        let ref = d.features.map(\.referenceCount).max() ?? 0
        let cur = d.features.map(\.currentCount).max() ?? 0
        return DriftReport(
            title: "Drift report", subtitle: "\(current) against the reference \(reference)",
            verdict: d.drifted ? "DRIFT" : "no drift", drifted: d.drifted, referenceCount: ref, currentCount: cur,
            featureCount: d.featureCount, driftedCount: d.driftedCount, driftedShare: d.driftedShare,
            correlation: d.correlationDrift.map {
                Correlation(pair: $0.pair, reference: $0.referenceCorrelation, current: $0.currentCorrelation, maxAbsDelta: $0.maxAbsDelta)
            },
            features: d.features.map { DriftReport.Feature($0) }, psiThreshold: settings.psiThreshold)
    }
}
