import DriftStats
import DriftStore
import DriftTestSupport
import Foundation
import Testing

@testable import DriftCore

/// The drift report's "Model performance" section (issue 20): realized and estimated figures over the trend windows
/// with their bands, the label coverage, the reported window's figures and reasons — rendered from a report built in
/// memory, and read from `performance_windows` / `performance_results` by `DriftReport.stored`.
@Suite("The drift report's model performance section")
struct PerformanceReportTests {
    static let day = Date(timeIntervalSince1970: 1_795_478_400)  // 2026-11-24T00:00:00Z

    static func hour(_ h: Int) -> Date { day.addingTimeInterval(Double(h) * 3600) }

    static func realized(_ m: PerformanceMetric, _ v: Double, band: (Double?, Double?), alert: Bool = false) -> PerformanceFigure {
        PerformanceFigure(kind: .realized, metric: m, value: v, thresholdLower: band.0, thresholdUpper: band.1, alert: alert)
    }

    static func estimated(
        _ m: PerformanceMetric, _ v: Double, ci: (Double, Double), band: (Double?, Double?), alert: Bool = false
    ) -> PerformanceFigure {
        PerformanceFigure(
            kind: .estimated, metric: m, value: v, lower: ci.0, upper: ci.1, thresholdLower: band.0, thresholdUpper: band.1, alert: alert)
    }

    /// Three hourly windows: the first labelled (realized and estimated), the second with few labels, the third — the
    /// reported one — estimated only, its f1 below its band.
    static func windows() -> [DriftReport.Performance.Window] {
        let w0 = DriftReport.Performance.Window(
            windowStart: hour(0), windowEnd: hour(1), predictions: 400, labels: 150, coverage: 0.375, dropped: false, reasons: [],
            figures: [
                realized(.accuracy, 0.91, band: (0.85, 0.95)), realized(.f1, 0.74, band: (0.7, 0.82)), realized(.rocAUC, 0.93, band: (0.88, nil)),
                estimated(.accuracy, 0.905, ci: (0.88, 0.93), band: (0.85, 0.95)), estimated(.f1, 0.75, ci: (0.69, 0.81), band: (0.7, 0.82))
            ], revisions: 2)
        let w1 = DriftReport.Performance.Window(
            windowStart: hour(1), windowEnd: hour(2), predictions: 420, labels: 20, coverage: 20.0 / 420, dropped: false, reasons: [],
            figures: [
                estimated(.accuracy, 0.9, ci: (0.87, 0.93), band: (0.85, 0.95)), estimated(.f1, 0.71, ci: (0.65, 0.77), band: (0.7, 0.82))
            ])
        let w2 = DriftReport.Performance.Window(
            windowStart: hour(2), windowEnd: hour(3), predictions: 500, labels: 40, coverage: 0.08, dropped: true,
            reasons: ["estimated f1 0.612 below its band [0.7, 0.82]"],
            figures: [
                estimated(.accuracy, 0.9, ci: (0.875, 0.925), band: (0.85, 0.95)),
                estimated(.f1, 0.612, ci: (0.55, 0.67), band: (0.7, 0.82), alert: true)
            ])
        return [w0, w1, w2]
    }

    static func report(_ performance: DriftReport.Performance?) -> DriftReport {
        var r = DriftReport(
            title: "fraud — drift report", subtitle: "test", verdict: "no drift", drifted: false, windowStart: hour(2), windowEnd: hour(3),
            referenceCount: 1000, currentCount: 500, featureCount: 0, driftedCount: 0, driftedShare: 0, features: [],
            psiThreshold: 0.2, generatedAt: hour(4))
        r.performance = performance
        return r
    }

    /// The `<section id="performance">` of a rendered report, or nil.
    static func section(_ html: String) -> String? {
        guard let open = html.range(of: "<section id=\"performance\""), let close = html[open.lowerBound...].range(of: "</section>") else {
            return nil
        }
        return String(html[open.lowerBound..<close.upperBound])
    }

    @Test func theSectionChartsEachMetricAndCoverageAndTablesTheReportedWindowsFigures() throws {
        let ws = Self.windows()
        let p = DriftReport.Performance(
            task: .binaryClassification, metrics: [.accuracy, .f1, .rocAUC], minLabels: 100, windows: ws, current: ws[2], trendWindows: 48)
        let html = HTMLReport.render(Self.report(p))
        let s = try #require(Self.section(html))
        #expect(!html.contains("<script"))
        #expect(s.contains("data-task=\"binary_classification\" data-dropped=\"true\""))
        // one chart per metric that has figures, in the configured order, and the coverage chart
        let charts = s.components(separatedBy: "<svg class=\"chart-performance\" data-metric=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(charts == ["accuracy", "f1", "roc_auc"])
        #expect(s.contains("<svg class=\"chart-coverage\""))
        #expect(s.contains("f1 over the last 3 scored windows") && s.contains("Label coverage (labels / predictions) over the last 3 scored windows"))
        // realized solid, estimated dashed, the estimate's confidence band shaded, the alert band and the alert marked
        let f1Chart = try #require(s.components(separatedBy: "data-metric=\"f1\"").dropFirst().first?.components(separatedBy: "</svg>").first)
        #expect(f1Chart.contains("<path class=\"realized\"") == false, "f1 has one realized value: a dot, not a line")
        #expect(f1Chart.contains("<circle class=\"realized\""))
        #expect(f1Chart.contains("<path class=\"estimated\"") && f1Chart.contains("stroke-dasharray=\"5,3\""))
        #expect(f1Chart.contains("<path class=\"confidence\"") && f1Chart.contains("<path class=\"threshold\""))
        #expect(f1Chart.contains("<rect class=\"alert\"") && f1Chart.contains("estimated f1 0.612 below its band [0.7, 0.82]</title>"))
        let accuracyChart = try #require(
            s.components(separatedBy: "data-metric=\"accuracy\"").dropFirst().first?.components(separatedBy: "</svg>").first)
        #expect(!accuracyChart.contains("class=\"alert\""), "no accuracy figure left its band")
        // the coverage bars: blue at min_labels labels or more, grey below, each with its counts
        #expect(s.contains("fill=\"#0072B2\"><title>2026-11-24T00:00:00Z: 37.5% (150 of 400)</title>"))
        #expect(s.contains("fill=\"#999\"><title>2026-11-24T02:00:00Z: 8.0% (40 of 500)</title>"))

        // the reported window: its facts, one row per figure, and why it dropped
        #expect(s.contains("<dt>label coverage</dt><dd class=\"num\">8.0%</dd>") && s.contains("<dt>min_labels</dt><dd class=\"num\">100</dd>"))
        #expect(s.contains("<dt>policy reads</dt><dd>estimated figures</dd>") && s.contains("<dd>DROPPED</dd>"))
        let rows = s.components(separatedBy: "<tr class=\"").dropFirst()
        #expect(rows.count == 2)
        #expect(
            s.contains(
                "<tr class=\"drift\" data-kind=\"estimated\" data-metric=\"f1\" data-value=\"0.612\" data-alert=\"true\">"
                    + "<td>estimated</td><td>f1</td>"
                    + "<td class=\"num\">0.612</td><td class=\"num\">[0.55, 0.67]</td><td class=\"num\">[0.7, 0.82]</td><td><b>ALERT</b></td>"
                    + "<td class=\"num\">40</td><td class=\"num\">8.0%</td></tr>"))
        #expect(s.contains("data-kind=\"estimated\" data-metric=\"accuracy\" data-value=\"0.9\" data-alert=\"false\""))
        #expect(s.contains("<p class=\"reasons\">Why: estimated f1 0.612 below its band [0.7, 0.82]</p>"))
        #expect(p.summary == "performance: dropped — estimated f1 0.612 below its band [0.7, 0.82]; label coverage 8.0% (40 of 500)")

        // a labelled window decides on its realized figures; an open side of a band shows as –
        let labelled = DriftReport.Performance(
            task: .binaryClassification, metrics: [.accuracy, .f1, .rocAUC], minLabels: 100, windows: Array(ws.prefix(1)), current: ws[0],
            trendWindows: 48)
        let l = try #require(Self.section(HTMLReport.render(Self.report(labelled))))
        #expect(l.contains("<dt>policy reads</dt><dd>realized figures</dd>") && l.contains("<dt>re-scores</dt><dd class=\"num\">2</dd>"))
        #expect(
            l.contains(
                "data-metric=\"roc_auc\" data-value=\"0.93\" data-alert=\"false\"><td>realized</td><td>roc_auc</td><td class=\"num\">0.93</td>"
                    + "<td class=\"num\">–</td><td class=\"num\">[0.88, –]</td>"
            ))
        #expect(l.contains("No figure the policy reads left its band."))
        #expect(labelled.summary == "performance: within bands (realized); label coverage 37.5% (150 of 400)")
        // realized rows come before estimated ones, each in the metric order
        let kinds = l.components(separatedBy: "data-kind=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(kinds == ["realized", "realized", "realized", "estimated", "estimated"])
    }

    @Test func aMonitorWithoutPerformanceShowsNothingAndAnUnscoredWindowOneNote() throws {
        #expect(Self.section(HTMLReport.render(Self.report(nil))) == nil)

        let none = DriftReport.Performance(task: .regression, metrics: [.mae], minLabels: 50, windows: [], current: nil, trendWindows: 24)
        let n = try #require(Self.section(HTMLReport.render(Self.report(none))))
        #expect(n.contains("No performance figures are stored for the last 24 windows") && !n.contains("<svg") && !n.contains("<table"))
        #expect(none.summary == "performance: this window has not been scored")

        let ws = Self.windows()
        let unscored = DriftReport.Performance(
            task: .binaryClassification, metrics: [.accuracy, .f1], minLabels: 100, windows: Array(ws.prefix(2)), current: nil, trendWindows: 48)
        let u = try #require(Self.section(HTMLReport.render(Self.report(unscored))))
        #expect(u.contains("This window has no performance figures yet") && u.contains("chart-performance") && !u.contains("<table"))
        #expect(!u.contains("data-dropped"))

        // scored, but too few labels and no estimate (regression): a note instead of an empty table
        let bare = DriftReport.Performance.Window(
            windowStart: Self.hour(2), windowEnd: Self.hour(3), predictions: 80, labels: 12, coverage: 0.15, dropped: false, reasons: [], figures: [])
        let few = DriftReport.Performance(task: .regression, metrics: [.mae], minLabels: 50, windows: [bare], current: bare, trendWindows: 48)
        let f = try #require(Self.section(HTMLReport.render(Self.report(few))))
        #expect(
            f.contains(
                "No figures for this window: 12 of its 80 predictions have a label, fewer than min_labels (50), and this task has no estimate."))
        #expect(!f.contains("<table") && f.contains("<svg class=\"chart-coverage\"") && !f.contains("chart-performance"))
        #expect(few.summary == "performance: no figures; label coverage 15.0% (12 of 80)")
    }

    @Test func yRangesAreNiceAndStayWithinTheMetricsBounds() {
        #expect(HTMLReport.niceRange(0.55, 0.95, floor: 0, ceiling: 1) == (0.2, 1.0))
        let (flatLo, flatHi) = HTMLReport.niceRange(1, 1, floor: 0, ceiling: 1)
        #expect(abs(flatLo - 0.92) < 1e-12 && flatHi == 1, "a flat 1 is shown at the top of a range that ends at 1")
        #expect(HTMLReport.niceRange(12.3, 48.9, floor: 0, ceiling: nil) == (10, 50))
        let (lo, hi) = HTMLReport.niceRange(-0.4, 0.7, floor: nil, ceiling: 1)
        #expect(lo <= -0.4 && hi >= 0.7 && hi <= 1)
    }

    static let monitorsYAML = """
        monitors:
          - name: fraud
            model: fraud
            window: PT1H
            features:
              - {name: amount, kind: numeric}
              - {name: score, kind: numeric, source: output}
            reference: {file: ref.csv}
            performance:
              task: binary_classification
              prediction: score
              metrics: [accuracy, f1]
              min_labels: 100
          - name: plain
            model: fraud
            window: PT1H
            features:
              - {name: amount, kind: numeric}
            reference: {file: ref.csv}
        """

    @Test func theStoredReportReadsTheTrendWindowsFiguresFromThePerformanceTables() async throws {
        let ms = try MonitorsFile.parse(Self.monitorsYAML, file: "test.yaml")
        try await TestDatabase.withSchema { _, settings in
            let c = try PGConnection.connect(settings)
            for (monitor, h) in [("fraud", 2), ("plain", 2)] {
                try c.query(
                    """
                    INSERT INTO drift_runs (monitor, config_hash, window_start, window_end, status, drifted)
                    VALUES ($1, 't', $2, $3, 'completed', false)
                    """,
                    [monitor, Self.hour(h), Self.hour(h + 1)], name: "t")
            }
            // windows 0…3 of fraud (the trend of 2 windows ending at 2 holds 1 and 2), and one of another monitor
            let windows: [(String, Int, Int, Int, Double, Bool, [String])] = [
                ("fraud", 0, 400, 150, 0.375, false, []), ("fraud", 1, 420, 120, 120.0 / 420, false, []),
                ("fraud", 2, 500, 40, 0.08, true, ["estimated f1 0.612 below its band [0.7, 0.82]"]), ("fraud", 3, 10, 0, 0, false, []),
                ("other", 2, 9, 9, 1, false, [])
            ]
            for (m, h, n, l, cov, dropped, reasons) in windows {
                try c.query(
                    """
                    INSERT INTO performance_windows (monitor, window_start, window_end, predictions, labels, coverage, dropped, reasons, revisions)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], 1)
                    """, [m, Self.hour(h), Self.hour(h + 1), n, l, cov, dropped, reasons], name: "t")
            }
            let results: [(String, Int, String, String, Double, Double?, Double?, Bool)] = [
                ("fraud", 1, "realized", "f1", 0.74, nil, nil, false), ("fraud", 1, "realized", "accuracy", .nan, nil, nil, false),
                ("fraud", 1, "estimated", "f1", 0.75, 0.69, 0.81, false), ("fraud", 2, "estimated", "f1", 0.612, 0.55, 0.67, true),
                ("fraud", 2, "estimated", "accuracy", 0.9, 0.875, 0.925, false), ("fraud", 2, "estimated", "brier", 0.1, nil, nil, false),
                ("fraud", 2, "realized", "someday_metric", 0.5, nil, nil, false), ("fraud", 0, "realized", "f1", 0.2, nil, nil, true)
            ]
            for (m, h, kind, metric, v, lo, up, alert) in results {
                try c.query(
                    """
                    INSERT INTO performance_results (monitor, window_start, window_end, kind, metric, value, lower, upper, threshold_lower,
                                                     threshold_upper, alert, labels, coverage)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0.7, 0.82, $9, 0, 0)
                    """, [m, Self.hour(h), Self.hour(h + 1), kind, metric, v, lo, up, alert], name: "t")
            }

            let r = try DriftReport.stored(c, monitor: ms[0], windowStart: Self.hour(2), since: nil, trendWindows: 2)
            let p = try #require(r.performance)
            #expect(p.windows.map(\.windowStart) == [Self.hour(1), Self.hour(2)], "the trend's windows only")
            #expect(p.metrics == [.accuracy, .f1, .brier], "the configured metrics, then others stored; an unknown metric left out")
            let w1 = p.windows[0]
            #expect(w1.predictions == 420 && w1.labels == 120 && w1.revisions == 1 && w1.decidingKind == .realized)
            #expect(w1.figures.map { "\($0.kind.rawValue) \($0.metric.rawValue)" } == ["realized accuracy", "realized f1", "estimated f1"])
            #expect(w1.figure(.realized, .accuracy)?.value.isNaN == true, "an undefined figure reads back as NaN")
            let now = try #require(p.current)
            #expect(now.windowStart == Self.hour(2) && now.dropped && now.coverage == 0.08)
            #expect(now.reasons == ["estimated f1 0.612 below its band [0.7, 0.82]"])
            let f1 = try #require(now.figure(.estimated, .f1))
            #expect(f1.value == 0.612 && f1.lower == 0.55 && f1.upper == 0.67 && f1.thresholdLower == 0.7 && f1.thresholdUpper == 0.82 && f1.alert)
            #expect(now.figure(.estimated, .brier)?.lower == nil)

            let s = try #require(Self.section(HTMLReport.render(r)))
            #expect(s.contains("data-kind=\"estimated\" data-metric=\"f1\" data-value=\"0.612\" data-alert=\"true\""))
            #expect(s.contains("Why: estimated f1 0.612 below its band [0.7, 0.82]"))
            #expect(s.contains("<td class=\"num\">undefined</td>") == false, "the reported window has no undefined figure")

            let plain = try DriftReport.stored(c, monitor: ms[1], windowStart: Self.hour(2), since: nil)
            #expect(plain.performance == nil && Self.section(HTMLReport.render(plain)) == nil)
        }
    }
}
