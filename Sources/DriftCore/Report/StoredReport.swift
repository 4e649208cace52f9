import DriftStats
import DriftStore
import Foundation

extension DriftReport {
    public struct NotFound: Error, CustomStringConvertible {
        public var description: String
    }

    /// The report of one stored run of `monitor`: the run whose window starts at `windowStart`, or else the
    /// newest run starting at or after `since` (any run when nil). The trend covers up to `trendWindows`
    /// windows ending with it. Every figure comes from `drift_runs` and `drift_feature_results`.
    public static func stored(
        _ c: PGConnection, monitor: MonitorConfig, windowStart: Date?, since: Date?,
        trendWindows: Int = 48
    ) throws -> DriftReport {
        let runs: PGRows
        if let windowStart {
            runs = try c.query("SELECT * FROM drift_runs WHERE monitor = $1 AND window_start = $2", [monitor.name, windowStart], name: "report.run")
        } else {
            runs = try c.query(
                """
                SELECT * FROM drift_runs WHERE monitor = $1 AND window_start >= $2 ORDER BY window_start DESC LIMIT 1
                """, [monitor.name, since ?? Date(timeIntervalSince1970: 0)], name: "report.newest")
        }
        guard let run = runs.first else {
            let which =
                windowStart.map { "a window starting at \(PGTimeText.iso($0))" }
                ?? since.map { "a window since \(PGTimeText.iso($0))" } ?? "any window"
            throw NotFound(description: "monitor \(monitor.name) has no checked run for \(which); run backfill or run-once first.")
        }
        let runID = try run.int("id")
        let start = try run.date("window_start")
        let end = try run.date("window_end")
        let status = try run.string("status")
        let drifted = try run.optionalString("drifted").map { $0 == "t" }
        let decision = try run.optionalString("decision").flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        var correlation: Correlation?
        // drift_runs.correlation: the figure, {"unavailable": why}, or NULL (insufficient data, or a run checked
        // before worker checks computed correlation drift)
        var correlationNote =
            status == DriftCheck.Status.insufficientData.rawValue
            ? "insufficient data: the window was not compared"
            : "not computed for this run (it was checked before worker checks computed correlation drift; recheck it with backfill --recompute)"
        if let text = try run.optionalString("correlation"),
            let c = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        {
            if let pair = c["pair"] as? [String], pair.count == 2, let delta = c["max_abs_delta"] as? Double {
                correlation = Correlation(
                    pair: (pair[0], pair[1]), reference: c["reference"] as? Double, current: c["current"] as? Double, maxAbsDelta: delta)
            } else if let why = c["unavailable"] as? String {
                correlationNote = why
            }
        }

        var features: [Feature] = []
        for r in try c.query("SELECT * FROM drift_feature_results WHERE run_id = $1", [runID], name: "report.features") {
            let refN = try r.int("reference_count")
            let curN = try r.int("current_count")
            let refM = try r.int("reference_missing")
            let curM = try r.int("current_missing")
            features.append(
                Feature(
                    name: try r.string("feature"), kind: try r.string("kind"), drifted: try r.bool("drifted"),
                    reasons: try r.strings("reasons").compactMap { $0 }, psi: try r.optionalDouble("psi"),
                    ksStatistic: try r.optionalDouble("ks_statistic"), ksPValue: try r.optionalDouble("ks_pvalue"),
                    chiSquare: try r.optionalDouble("chi_square"), chiSquarePValue: try r.optionalDouble("chi_square_pvalue"),
                    pvalueAdjusted: try r.optionalDouble("pvalue_adjusted"), jensenShannon: try r.optionalDouble("jensen_shannon"),
                    wassersteinNormed: try r.optionalDouble("wasserstein_normed"), hellinger: try r.optionalDouble("hellinger"),
                    referenceCount: refN, currentCount: curN,
                    referenceMissingRate: refN + refM == 0 ? 0 : Double(refM) / Double(refN + refM),
                    currentMissingRate: curN + curM == 0 ? 0 : Double(curM) / Double(curN + curM),
                    outOfRangeShare: try r.optionalDouble("out_of_range_share"), unseenCount: try r.optionalInt("unseen_categories"),
                    detail: try r.optionalString("detail").flatMap(FeatureDetail.parse)))
        }

        var trend: [String: [TrendPoint]] = [:]
        let from = start.addingTimeInterval(-Double(max(trendWindows - 1, 0)) * monitor.schedule.length.seconds)
        for r in try c.query(
            """
            SELECT d.window_start, f.feature, f.psi, f.ks_statistic, f.drifted
            FROM drift_runs d JOIN drift_feature_results f ON f.run_id = d.id
            WHERE d.monitor = $1 AND d.window_start >= $2 AND d.window_start <= $3 ORDER BY d.window_start
            """, [monitor.name, from, start], name: "report.trend")
        {
            trend[try r.string("feature"), default: []].append(
                TrendPoint(
                    windowStart: try r.date("window_start"), psi: try r.optionalDouble("psi"),
                    ksStatistic: try r.optionalDouble("ks_statistic"), drifted: try r.bool("drifted")))
        }

        let verdict = status == DriftCheck.Status.insufficientData.rawValue ? "insufficient data" : (drifted == true ? "DRIFT" : "no drift")
        let sampleTotal = decision?["sample_total"] as? Int
        var subtitle =
            "model \(monitor.model) · window \(PGTimeText.iso(start)) – \(PGTimeText.iso(end)) · reference \(monitor.reference.description)"
        if let sampleTotal, sampleTotal > (try run.int("current_count")) {
            subtitle += " · sampled \(try run.int("current_count")) of \(sampleTotal) events"
        }
        var report = DriftReport(
            title: "\(monitor.name) — drift report", subtitle: subtitle, verdict: verdict, drifted: drifted,
            windowStart: start, windowEnd: end, referenceCount: try run.int("reference_count"), currentCount: try run.int("current_count"),
            featureCount: try run.int("feature_count"), driftedCount: try run.int("drifted_count"),
            driftedShare: try run.optionalDouble("drifted_share"), decision: decision?["decision"] as? String,
            firedActions: decision?["fired_actions"] as? [String] ?? [], correlation: correlation, features: features,
            trend: trend, psiThreshold: monitor.settings.psiThreshold)
        if correlation == nil { report.correlationNote = correlationNote }
        if status == DriftCheck.Status.insufficientData.rawValue {
            report.shortfall = SampleShortfall(
                referenceCount: try run.int("reference_count"), currentCount: try run.int("current_count"), minSample: monitor.minSample)
        }
        report.actions = try TriggerStatus.forDriftRun(c, runID: runID)
        if let p = monitor.performance {
            report.performance = try storedPerformance(
                c, monitor: monitor.name, config: p, window: TimeWindow(start: start, end: end), from: from, trendWindows: trendWindows)
        }
        return report
    }

    /// The performance of `monitor` over the windows starting in [`from`, `window.start`] — the trend's range — from
    /// `performance_windows` and `performance_results` (two range reads; their primary keys, which lead with
    /// (monitor, window_start), serve them). A result whose metric this version does not know is left out.
    static func storedPerformance(
        _ c: PGConnection, monitor: String, config: PerformanceConfig, window: TimeWindow, from: Date, trendWindows: Int
    ) throws -> Performance {
        struct Key: Hashable {
            var start: Date
            var end: Date
        }
        var figures: [Key: [PerformanceFigure]] = [:]
        var stored = Set<PerformanceMetric>()
        for r in try c.query(
            """
            SELECT window_start, window_end, kind, metric, value, lower, upper, threshold_lower, threshold_upper, alert
              FROM performance_results WHERE monitor = $1 AND window_start >= $2 AND window_start <= $3
            """, [monitor, from, window.start], name: "report.performance_results")
        {
            guard let kind = PerformanceFigure.Kind(rawValue: try r.string("kind")), let metric = PerformanceMetric(rawValue: try r.string("metric"))
            else { continue }
            stored.insert(metric)
            figures[Key(start: try r.date("window_start"), end: try r.date("window_end")), default: []].append(
                PerformanceFigure(
                    kind: kind, metric: metric, value: try r.double("value"), lower: try r.optionalDouble("lower"),
                    upper: try r.optionalDouble("upper"), thresholdLower: try r.optionalDouble("threshold_lower"),
                    thresholdUpper: try r.optionalDouble("threshold_upper"), alert: try r.bool("alert")))
        }
        let metrics = config.metrics + stored.filter { !config.metrics.contains($0) }.sorted { $0.rawValue < $1.rawValue }
        let order = Dictionary(uniqueKeysWithValues: metrics.enumerated().map { ($1, $0) })
        var windows: [Performance.Window] = []
        for r in try c.query(
            """
            SELECT window_start, window_end, predictions, labels, coverage, dropped, reasons, revisions
              FROM performance_windows WHERE monitor = $1 AND window_start >= $2 AND window_start <= $3
             ORDER BY window_start, window_end
            """, [monitor, from, window.start], name: "report.performance_windows")
        {
            let key = Key(start: try r.date("window_start"), end: try r.date("window_end"))
            let sorted = (figures[key] ?? []).sorted {
                $0.kind != $1.kind ? $0.kind == .realized : (order[$0.metric] ?? 0) < (order[$1.metric] ?? 0)
            }
            windows.append(
                Performance.Window(
                    windowStart: key.start, windowEnd: key.end, predictions: try r.int("predictions"), labels: try r.int("labels"),
                    coverage: try r.optionalDouble("coverage"), dropped: try r.bool("dropped"),
                    reasons: try r.strings("reasons").compactMap { $0 }, figures: sorted, revisions: try r.int("revisions")))
        }
        let current = windows.last { $0.windowStart == window.start && $0.windowEnd == window.end }
        return Performance(
            task: config.task, metrics: metrics, minLabels: config.minLabels, windows: windows, current: current, trendWindows: trendWindows)
    }
}
