import DriftStats
import Foundation

/// Renders a `DriftReport` as one self-contained HTML file: inline CSS and SVG, no script, no font or image
/// from the network. Colours are Okabe–Ito (reference blue, current orange, drift vermillion, ok green) and
/// every distinction also has a second cue — line style, pattern or text — so colour-blind readers and
/// black-and-white prints lose nothing.
///
/// Structure, for people and for tests: `header#summary` carries `data-verdict`; each feature is a
/// `section.feature` with `data-feature`, `data-kind`, `data-drifted`, `data-psi`, `data-ks` (full precision) and
/// its charts as `svg.chart-hist`, `svg.chart-ecdf`, `svg.chart-psi`, `svg.chart-cat` and `svg.chart-trend`; a monitor
/// with `performance:` adds `section#performance` (see `performance(_:)`).
public enum HTMLReport {
    static let refColor = "#0072B2", curColor = "#E69F00", driftColor = "#D55E00", okColor = "#009E73", ink = "#222", grid = "#ddd"

    public static func render(_ r: DriftReport) -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(r.title)) — \(esc(r.verdict))</title>
            <style>\(css)</style></head><body>

            """
        h += header(r)
        h += actions(r)
        if let shortfall = r.shortfall {
            h += insufficient(shortfall)
            h += performance(r)
        } else {
            h += overview(r)
            h += performance(r)
            for f in r.features { h += feature(f, r) }
            h += quality(r)
        }
        h +=
            "<footer>drift-worker \(esc(BuildInfo.version)) · generated \(esc(iso(r.generatedAt))) · reference <span class=\"sw ref\"></span> blue solid, current <span class=\"sw cur\"></span> orange dashed</footer>\n"
        h += "</body></html>\n"
        return h
    }

    // MARK: sections

    static func header(_ r: DriftReport) -> String {
        let cls = r.drifted == true ? "drift" : (r.drifted == false ? "ok" : "na")
        var h = "<header id=\"summary\" class=\"\(cls)\" data-verdict=\"\(esc(r.verdict))\""
        if let s = r.windowStart { h += " data-window-start=\"\(iso(s))\"" }
        h += ">\n<div class=\"verdict\">\(esc(r.verdict))</div>\n<div><h1>\(esc(r.title))</h1><p class=\"sub\">\(esc(r.subtitle))</p></div>\n"
        h += "<dl class=\"facts\">"
        if let s = r.shortfall {
            h += fact("features compared", "none: \(s.currentCount) events, min_sample \(s.minSample)")
        } else {
            h += fact("drifted features", "\(r.driftedCount) of \(r.featureCount)" + (r.driftedShare.map { " (\(ReportFormat.percent($0)))" } ?? ""))
        }
        h += fact("reference rows", "\(r.referenceCount)")
        h += fact("current rows", "\(r.currentCount)")
        if let d = r.decision { h += fact("policy decision", d) }
        h += fact("actions fired", r.firedActions.isEmpty ? "none" : r.firedActions.joined(separator: ", "))
        h += "</dl>\n</header>\n"
        return h
    }

    /// The fired actions, their delivery and their runs (stored reports; nothing when none fired).
    static func actions(_ r: DriftReport) -> String {
        guard !r.actions.isEmpty else { return "" }
        var h = "<section id=\"actions\"><h2>Actions and their runs</h2><table class=\"overview\"><thead><tr>"
        h += "<th>action</th><th>delivery</th><th>attempts</th><th>run</th><th>run id</th><th>detail</th></tr></thead><tbody>\n"
        for a in r.actions {
            let name = a.parentActionID == nil ? a.action : "↳ \(a.action)"
            let run: String
            if let u = a.runURL, u.hasPrefix("https://") || u.hasPrefix("http://") {
                run = "<a href=\"\(esc(u))\" rel=\"noopener noreferrer\">\(esc(a.runState?.rawValue ?? "not followed"))</a>"
            } else {
                run = esc(a.runState?.rawValue ?? "not followed")
            }
            let (runState, state) = (a.runState?.rawValue ?? "", a.state.rawValue)
            h += "<tr data-action-id=\"\(esc(a.actionID))\" data-run-state=\"\(esc(runState))\"><td>\(esc(name))</td><td>\(esc(state))</td>"
            h +=
                "<td>\(a.attempts)</td><td>\(run)</td><td>\(esc(a.externalRunID ?? "–"))</td><td>\(esc(String((a.detail ?? "").prefix(300))))</td></tr>\n"
        }
        return h + "</tbody></table></section>\n"
    }

    /// A figure's name and value; a number (`isNumber`) never wraps.
    static func fact(_ k: String, _ v: String) -> String {
        "<div><dt>\(esc(k))</dt><dd\(isNumber(v) ? " class=\"num\"" : "")>\(esc(v))</dd></div>"
    }

    /// A table cell holding a number, a rate or a pair of them (`0.0% → 1.2%`): one line, tabular digits.
    static func numCell(_ v: String) -> String { "<td class=\"num\">\(esc(v))</td>" }

    /// Whether `v` is a number or a few of them with units and arrows: what must not wrap.
    static func isNumber(_ v: String) -> Bool {
        v.contains { $0.isNumber } && v.count <= 40 && v.allSatisfy { $0.isNumber || " .,:eE%+-−–<>≥≤→/()·∞".contains($0) }
    }

    /// Why a stored window has no figures: its sample against the monitor's `min_sample`, side by side.
    static func insufficient(_ s: DriftReport.SampleShortfall) -> String {
        var h = "<section id=\"insufficient\" data-min-sample=\"\(s.minSample)\" data-current-count=\"\(s.currentCount)\">"
        h += "<h2>Why this window has no figures</h2>\n<p>This window was not compared: its current side has <b>\(s.currentCount)</b> "
        h += "event\(s.currentCount == 1 ? "" : "s"), fewer than the monitor’s <code>min_sample</code> of <b>\(s.minSample)</b>, "
        h += "so no feature was measured and there is nothing to chart. To check windows this small, lower <code>min_sample</code> "
        h += "in the monitor’s configuration or lengthen its windows (<code>window</code>).</p>\n"
        h += "<table class=\"overview sample-sizes\"><thead><tr><th>side</th><th>rows</th><th>min_sample</th><th>compared?</th></tr></thead><tbody>\n"
        let sides = [("reference", s.referenceCount), ("current window", s.currentCount)]
        for (side, n) in sides {
            let verdict = n >= s.minSample ? "enough" : "fewer than min_sample — not compared"
            h += "<tr data-side=\"\(side)\"><td>\(side)</td>\(numCell("\(n)"))\(numCell("\(s.minSample)"))<td>\(verdict)</td></tr>\n"
        }
        return h + "</tbody></table></section>\n"
    }

    static func overview(_ r: DriftReport) -> String {
        var h = "<section id=\"overview\"><h2>Features by severity</h2><table class=\"overview\"><thead><tr>"
        h +=
            "<th>feature</th><th>kind</th><th>verdict</th><th>PSI</th><th>KS D</th><th>p (adj.)</th><th>JS</th><th>missing ref → cur</th><th>reasons</th></tr></thead><tbody>\n"
        for f in r.features {
            h += "<tr class=\"\(f.drifted ? "drift" : "ok")\"><td><a href=\"#\(anchor(f.name))\">\(esc(f.name))</a></td><td>\(f.kind)</td>"
            h += "<td>\(f.drifted ? "<b>DRIFT</b>" : "ok")</td>\(numCell(num(f.psi)))\(numCell(num(f.ksStatistic)))"
            h += numCell(ReportFormat.pvalue(f.pvalueAdjusted)) + numCell(num(f.jensenShannon))
            h += numCell("\(ReportFormat.percent(f.referenceMissingRate)) → \(ReportFormat.percent(f.currentMissingRate))")
            h += "<td>\(esc(f.reasons.joined(separator: "; ")))</td></tr>\n"
        }
        return h + "</tbody></table></section>\n"
    }

    /// A tensor: PSI per component (bars, drifted components marked), then projection, reconstruction and MMD figures.
    static func tensor(_ f: DriftReport.Feature, _ t: FeatureDetail.TensorSummary, _ r: DriftReport) -> String {
        var h = "<section class=\"feature \(f.drifted ? "drift" : "ok")\" id=\"\(anchor(f.name))\" data-feature=\"\(esc(f.name))\""
        h += " data-kind=\"tensor\" data-drifted=\"\(f.drifted)\""
        if let m = t.mmd2 { h += " data-mmd2=\"\(m)\"" }
        if let p = t.mmdPValue { h += " data-mmd-p=\"\(p)\"" }
        if let e = t.reconstructionError { h += " data-reconstruction=\"\(e)\"" }
        h += ">\n<h2>\(esc(f.name)) <span class=\"badge\">\(f.drifted ? "DRIFT" : "ok")</span> <small>tensor, \(t.dimension) elements</small></h2>\n"
        let labels = zip(t.components, t.componentDrifted).map { $1 ? "★ " + $0 : $0 }
        let bottom = max(labelBand(labels, slots: t.componentPSI.count), 44)
        var figures = [
            figure(
                "PSI per \(t.method == "pca" ? "principal component" : "random projection") (★ drifted)",
                psiTerms(labels: labels, terms: t.componentPSI, bottom: bottom))
        ]
        if let points = r.trend[f.name], points.count > 1 {
            figures.append(
                figure(
                    "Largest component PSI over the last \(points.count) windows",
                    trend(points, threshold: r.psiThreshold, numeric: false, bottom: bottom)))
        }
        h += charts(figures)
        h += "<dl class=\"figures\">"
        h += fact(
            "projection",
            t.method == "pca"
                ? "PCA, \(t.components.count) components" + (t.explainedShare.map { ", \(ReportFormat.percent($0)) of the variance" } ?? "")
                : "random, \(t.components.count) directions")
        h += fact("components drifted", "\(t.componentDrifted.filter { $0 }.count) of \(t.components.count)")
        if let e = t.reconstructionError {
            h += fact("reconstruction error", num(e)) + fact("reference band", "[\(num(t.reconstructionLower)), \(num(t.reconstructionUpper))]")
        }
        if let m = t.mmd2 {
            h +=
                fact("MMD²", num(m)) + fact("MMD p (\(t.mmdPermutations ?? 0) permutations)", ReportFormat.pvalue(t.mmdPValue))
                + fact("kernel σ", num(t.mmdSigma))
        }
        h += fact("tensors ref / cur", "\(f.referenceCount) / \(f.currentCount)")
        h += "</dl>\n"
        h += "<p class=\"reasons\">\(f.reasons.isEmpty ? "No drift rule fired." : "Why: " + esc(f.reasons.joined(separator: "; ")))</p>\n"
        return h + "</section>\n"
    }

    static func feature(_ f: DriftReport.Feature, _ r: DriftReport) -> String {
        if let t = f.detail?.tensor { return tensor(f, t, r) }
        var h = "<section class=\"feature \(f.drifted ? "drift" : "ok")\" id=\"\(anchor(f.name))\" data-feature=\"\(esc(f.name))\""
        h += " data-kind=\"\(f.kind)\" data-drifted=\"\(f.drifted)\""
        if let p = f.psi { h += " data-psi=\"\(p)\"" }
        if let k = f.ksStatistic { h += " data-ks=\"\(k)\"" }
        h += ">\n<h2>\(esc(f.name)) <span class=\"badge\">\(f.drifted ? "DRIFT" : "ok")</span> <small>\(f.kind)</small></h2>\n"
        // one bottom margin for all of a feature's charts, so a row of them lines up
        var bottom = 44.0
        if let d = f.detail {
            let unseen = Set(d.unseen ?? [])
            bottom = max(labelBand(d.labels.map { unseen.contains($0) ? "★ " + $0 : $0 }, slots: d.reference.count), bottom)
        }
        var figures: [String] = []
        if let d = f.detail {
            if f.kind == "numeric" {
                figures.append(
                    figure(
                        "Distribution on the PSI bins",
                        pairedBars(labels: d.labels, ref: d.reference, cur: d.current, unseen: [], cls: "chart-hist", bottom: bottom)))
                if let e = d.ecdf {
                    figures.append(figure("ECDFs and the KS distance", ecdf(e, location: d.ksLocation, statistic: f.ksStatistic, bottom: bottom)))
                }
            } else {
                figures.append(
                    figure(
                        "Category shares",
                        pairedBars(labels: d.labels, ref: d.reference, cur: d.current, unseen: Set(d.unseen ?? []), cls: "chart-cat", bottom: bottom))
                )
            }
            figures.append(
                figure(
                    "PSI contribution per \(f.kind == "numeric" ? "bin" : "category")", psiTerms(labels: d.labels, terms: d.psiTerms, bottom: bottom))
            )
        } else {
            h += "<p class=\"note\">No chart data was stored for this feature (checked by an older version).</p>\n"
        }
        if let points = r.trend[f.name], points.count > 1 {
            figures.append(
                figure(
                    "PSI\(f.kind == "numeric" ? " and KS" : "") over the last \(points.count) windows",
                    trend(points, threshold: r.psiThreshold, numeric: f.kind == "numeric", bottom: bottom)))
        }
        h += charts(figures)
        h += "<dl class=\"figures\">"
        h += fact("PSI", num(f.psi))
        if f.kind == "numeric" {
            h += fact("KS D", num(f.ksStatistic)) + fact("KS p", ReportFormat.pvalue(f.ksPValue))
            h += fact("Wasserstein (normed)", num(f.wassersteinNormed))
        } else {
            h += fact("chi-square", num(f.chiSquare)) + fact("chi-square p", ReportFormat.pvalue(f.chiSquarePValue))
        }
        h +=
            fact("p adjusted", ReportFormat.pvalue(f.pvalueAdjusted)) + fact("Jensen–Shannon", num(f.jensenShannon))
            + fact("Hellinger", num(f.hellinger))
        h += fact("values ref / cur", "\(f.referenceCount) / \(f.currentCount)")
        h += fact("missing ref → cur", "\(ReportFormat.percent(f.referenceMissingRate)) → \(ReportFormat.percent(f.currentMissingRate))")
        if let o = f.outOfRangeShare { h += fact("outside reference range", ReportFormat.percent(o)) }
        if let u = f.unseenCount, u > 0 { h += fact("unseen categories", (f.detail?.unseen ?? []).joined(separator: ", ")) }
        h += "</dl>\n"
        h += "<p class=\"reasons\">\(f.reasons.isEmpty ? "No drift rule fired." : "Why: " + esc(f.reasons.joined(separator: "; ")))</p>\n"
        return h + "</section>\n"
    }

    static func quality(_ r: DriftReport) -> String {
        var h = "<section id=\"quality\"><h2>Data quality and correlation</h2><table class=\"overview\"><thead><tr><th>feature</th>"
        h +=
            "<th>missing (reference)</th><th>missing (current)</th><th>outside the reference range</th><th>unseen categories</th></tr></thead><tbody>\n"
        for f in r.features.sorted(by: { $0.name < $1.name }) {
            h +=
                "<tr><td>\(esc(f.name))</td>\(numCell(ReportFormat.percent(f.referenceMissingRate)))\(numCell(ReportFormat.percent(f.currentMissingRate)))"
            h += numCell(f.outOfRangeShare.map(ReportFormat.percent) ?? "–") + numCell(f.unseenCount.map(String.init) ?? "–") + "</tr>\n"
        }
        h += "</tbody></table>\n"
        if let c = r.correlation {
            h +=
                "<p id=\"correlation\" data-max-abs-delta=\"\(c.maxAbsDelta)\">Largest change of a pairwise correlation: <b>\(esc(c.pair.0)) × \(esc(c.pair.1))</b> "
            h += "from \(num(c.reference)) to \(num(c.current)) (|Δ| = \(num(c.maxAbsDelta))).</p>\n"
        } else {
            h += "<p id=\"correlation\">No correlation drift figure: \(esc(r.correlationNote ?? "fewer than two numeric features")).</p>\n"
        }
        return h + "</section>\n"
    }

    /// The model's performance (monitors with `performance:`): per metric, realized and estimated figures over the trend
    /// windows with the estimate's confidence band and the alert band, the label coverage per window, and the reported
    /// window's figures and reasons. `section#performance` carries `data-dropped`; each figure's row carries `data-kind`,
    /// `data-metric`, `data-value` (full precision) and `data-alert`; each metric's chart is `svg.chart-performance`
    /// with `data-metric`, the coverage chart `svg.chart-coverage`.
    static func performance(_ r: DriftReport) -> String {
        guard let p = r.performance else { return "" }
        var h = "<section id=\"performance\" data-task=\"\(esc(p.task.rawValue))\""
        if let w = p.current { h += " data-dropped=\"\(w.dropped)\"" }
        h += ">\n<h2>Model performance <small>\(esc(p.task.rawValue.replacingOccurrences(of: "_", with: " ")))</small></h2>\n"
        guard !p.windows.isEmpty else {
            h += "<p class=\"note\">No performance figures are stored for the last \(p.trendWindows) windows: "
            return h + "a window’s performance is measured when it is checked with <code>performance:</code> configured.</p>\n</section>\n"
        }
        if let w = p.current {
            h += "<dl class=\"figures\">"
            h += fact("predictions", "\(w.predictions)") + fact("labelled", "\(w.labels)")
            h += fact("label coverage", w.coverage.map(ReportFormat.percent) ?? "–") + fact("min_labels", "\(p.minLabels)")
            h += fact("policy reads", w.figures.isEmpty ? "nothing yet" : "\(w.decidingKind.rawValue) figures")
            h += fact("performance", w.dropped ? "DROPPED" : "within its bands")
            if w.revisions > 0 { h += fact("re-scores", "\(w.revisions)") }
            h += "</dl>\n"
        } else {
            h += "<p class=\"note\">This window has no performance figures yet (it is scored when it is checked).</p>\n"
        }
        let span = p.windows.count == 1 ? "in the one scored window" : "over the last \(p.windows.count) scored windows"
        var figures = p.metrics.compactMap { m -> String? in
            guard p.windows.contains(where: { w in w.figures.contains { $0.metric == m } }) else { return nil }
            return figure("\(m.rawValue) \(span)", performanceChart(p, metric: m))
        }
        figures.append(figure("Label coverage (labels / predictions) \(span)", coverageChart(p)))
        h += chartRows(figures)
        if let w = p.current {
            if w.figures.isEmpty {
                h += "<p class=\"note\">No figures for this window: \(w.labels) of its \(w.predictions) predictions have a label, "
                h += "fewer than min_labels (\(p.minLabels))\(p.task == .binaryClassification ? "" : ", and this task has no estimate").</p>\n"
            } else {
                h += performanceTable(w)
            }
            h += "<p class=\"reasons\">"
            h += w.reasons.isEmpty ? "No figure the policy reads left its band." : "Why: " + esc(w.reasons.joined(separator: "; "))
            h += "</p>\n"
        }
        return h + "</section>\n"
    }

    /// The reported window's figures: one row per kind and metric, alerts marked by the row's edge and in words.
    static func performanceTable(_ w: DriftReport.Performance.Window) -> String {
        var h = "<table class=\"overview performance\"><thead><tr><th>kind</th><th>metric</th><th>value</th>"
        h += "<th>confidence band</th><th>alert band</th><th>alert</th><th>labels</th><th>coverage</th></tr></thead><tbody>\n"
        for f in w.figures {
            h += "<tr class=\"\(f.alert ? "drift" : "ok")\" data-kind=\"\(f.kind.rawValue)\" data-metric=\"\(f.metric.rawValue)\""
            h += " data-value=\"\(f.value)\" data-alert=\"\(f.alert)\"><td>\(f.kind.rawValue)</td><td>\(f.metric.rawValue)</td>"
            h += numCell(f.value.isNaN ? "undefined" : ReportFormat.number(f.value))
            h += numCell(f.kind == .estimated ? band(f.lower, f.upper) : "–") + numCell(band(f.thresholdLower, f.thresholdUpper))
            h +=
                "<td>\(f.alert ? "<b>ALERT</b>" : "ok")</td>" + numCell("\(w.labels)") + numCell(w.coverage.map(ReportFormat.percent) ?? "–")
                + "</tr>\n"
        }
        return h + "</tbody></table>\n"
    }

    /// A band as "[lower, upper]", an open side as "–"; "–" when it has neither.
    static func band(_ lower: Double?, _ upper: Double?) -> String {
        lower == nil && upper == nil ? "–" : "[\(num(lower)), \(num(upper))]"
    }

    /// Charts in full rows: of 3, or of 2 where 3 would leave a row part empty (5 = 3 + 2, 4 = 2 + 2, 7 = 3 + 2 + 2).
    static func chartRows(_ figures: [String]) -> String {
        var rest = figures[...]
        var h = ""
        while !rest.isEmpty {
            let take = rest.count == 4 || rest.count == 2 ? 2 : rest.count == 1 ? 1 : (rest.count % 3 == 1 ? 2 : 3)
            h += charts(Array(rest.prefix(take)))
            rest = rest.dropFirst(take)
        }
        return h
    }

    /// One metric over the scored windows: realized (blue, solid) and estimated (orange, dashed) values, the estimate's
    /// confidence band (orange, shaded), the alert band of the figure the policy reads (vermillion, dotted, a step per window) and the
    /// figures that left it (vermillion squares). Undefined (NaN) figures leave gaps.
    static func performanceChart(_ p: DriftReport.Performance, metric m: PerformanceMetric) -> String {
        let ws = p.windows
        let n = ws.count
        guard let newest = ws.last else { return "" }
        func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
        let realized = ws.map { finite($0.figure(.realized, m)?.value) }
        let estimated = ws.map { finite($0.figure(.estimated, m)?.value) }
        let lower = ws.map { finite($0.figure(.estimated, m)?.lower) }
        let upper = ws.map { finite($0.figure(.estimated, m)?.upper) }
        let deciding = ws.map { $0.figure($0.decidingKind, m) ?? $0.figure(.realized, m) ?? $0.figure(.estimated, m) }
        let alertLower = deciding.map { finite($0?.thresholdLower) }
        let alertUpper = deciding.map { finite($0?.thresholdUpper) }
        let all = (realized + estimated + lower + upper + alertLower + alertUpper).compactMap { $0 }
        // scores and rates stay within [0, 1]; errors and R² only below or above
        let atMostOne: Set<PerformanceMetric> = [.accuracy, .precision, .recall, .f1, .rocAUC, .brier, .ece, .r2]
        let (lo, hi) = niceRange(
            all.min() ?? 0, all.max() ?? 1, floor: (all.min() ?? 0) >= 0 ? 0 : nil, ceiling: atMostOne.contains(m) && (all.max() ?? 0) <= 1 ? 1 : nil)
        let ticks = Set([0, n / 2, n - 1]).sorted()
        let labels = (0...4).map { ReportFormat.number(lo + (hi - lo) * Double($0) / 4) }
        let f = Frame.chart(yLabels: labels, lastXLabel: shortTime(newest.windowStart), bottom: 44)
        func px(_ i: Int) -> Double { n == 1 ? f.left + f.plotW / 2 : f.left + f.plotW * Double(i) / Double(n - 1) }
        func py(_ v: Double) -> Double { f.top + f.plotH * (1 - (v - lo) / (hi - lo)) }
        var s = svgOpen("chart-performance", "\(m.rawValue) over recent windows", f, attributes: " data-metric=\"\(m.rawValue)\"")
        for (k, label) in labels.enumerated() {
            let y = f.top + f.plotH * (1 - Double(k) / 4)
            s += "<line x1=\"\(f1(f.left))\" x2=\"\(f1(f.width - f.right))\" y1=\"\(f1(y))\" y2=\"\(f1(y))\" stroke=\"\(grid)\"/>"
            s += "<text x=\"\(f1(f.left - 4))\" y=\"\(f1(y + 3))\" text-anchor=\"end\" class=\"tick\">\(esc(label))</text>"
        }
        // the confidence band: one shaded polygon per run of windows that have both sides
        var i = 0
        while i < n {
            guard lower[i] != nil, upper[i] != nil else {
                i += 1
                continue
            }
            var j = i
            while j + 1 < n, lower[j + 1] != nil, upper[j + 1] != nil { j += 1 }
            let halfWidth = i == j ? min(f.plotW / Double(max(n - 1, 1)) / 3, 6) : 0
            var d = "M\(f1(px(i) - halfWidth)),\(f1(py(upper[i]!)))"
            if i == j { d += " L\(f1(px(i) + halfWidth)),\(f1(py(upper[i]!)))" }
            for k in i...j where k > i { d += " L\(f1(px(k))),\(f1(py(upper[k]!)))" }
            if i == j { d += " L\(f1(px(i) + halfWidth)),\(f1(py(lower[i]!)))" }
            for k in stride(from: j, through: i, by: -1) { d += " L\(f1(px(k) - (k == i ? halfWidth : 0))),\(f1(py(lower[k]!)))" }
            s += "<path class=\"confidence\" d=\"\(d) Z\" fill=\"\(curColor)\" fill-opacity=\"0.22\" stroke=\"none\"/>"
            i = j + 1
        }
        // a series as a line broken at missing values; a lone value (no neighbour) as a dot, hollow when `hollow`
        func series(_ values: [Double?], _ color: String, _ dash: String, _ cls: String, hollow: Bool) -> String {
            var d = ""
            var dots = ""
            for (k, v) in values.enumerated() {
                guard let v else { continue }
                let joined = k > 0 && values[k - 1] != nil
                d += (joined ? " L" : " M") + "\(f1(px(k))),\(f1(py(v)))"
                if !joined && (k + 1 >= n || values[k + 1] == nil) {
                    dots += "<circle class=\"\(cls)\" cx=\"\(f1(px(k)))\" cy=\"\(f1(py(v)))\" r=\"2.5\""
                    dots += hollow ? " fill=\"#fff\" stroke=\"\(color)\" stroke-width=\"1.5\"/>" : " fill=\"\(color)\"/>"
                }
            }
            guard d.contains(" L") else { return dots }
            return "<path class=\"\(cls)\" d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"\(dash)\"/>" + dots
        }
        // an alert band's side as steps: each window's bound across its share of the x axis
        func steps(_ values: [Double?]) -> String {
            func edge(_ k: Int) -> Double { k == 0 ? f.left : k == n ? f.left + f.plotW : (px(k - 1) + px(k)) / 2 }
            var d = ""
            for (k, v) in values.enumerated() {
                guard let v else { continue }
                d += (k > 0 && values[k - 1] != nil ? " V" : " M\(f1(edge(k))),") + "\(f1(py(v))) H\(f1(edge(k + 1)))"
            }
            guard !d.isEmpty else { return "" }
            return "<path class=\"threshold\" d=\"\(d)\" fill=\"none\" stroke=\"\(driftColor)\" stroke-dasharray=\"2,3\"/>"
        }
        s += steps(alertLower) + steps(alertUpper)
        s += series(estimated, curColor, "5,3", "estimated", hollow: true) + series(realized, refColor, "none", "realized", hollow: false)
        for (k, w) in ws.enumerated() {
            for fig in w.figures where fig.metric == m && fig.alert && fig.value.isFinite {
                s += "<rect class=\"alert\" x=\"\(f1(px(k) - 3))\" y=\"\(f1(py(fig.value) - 3))\" width=\"6\" height=\"6\" fill=\"\(driftColor)\">"
                s += "<title>\(iso(w.windowStart)): \(esc(fig.reason))</title></rect>"
            }
        }
        for k in ticks { s += timeTick(ws[k].windowStart, x: px(k), f) }
        var top: [(Swatch, String)] = []
        if realized.contains(where: { $0 != nil }) { top.append((.line(refColor, dash: "none"), "realized")) }
        if estimated.contains(where: { $0 != nil }) { top.append((.line(curColor, dash: "5,3"), "estimated")) }
        if lower.contains(where: { $0 != nil }) { top.append((.box(curColor + "55", dashed: false), "estimate ±3 SE")) }
        s += legend(top, f)
        var bottom: [(Swatch, String)] = []
        if (alertLower + alertUpper).contains(where: { $0 != nil }) { bottom.append((.line(driftColor, dash: "2,3"), "alert band")) }
        bottom.append((.square(driftColor), "outside its band"))
        s += legend(bottom, f, y: f.top + f.plotH + 30)
        return s + "</svg>"
    }

    /// Label coverage per scored window (labels / predictions), as bars: blue where the window had min_labels labels
    /// (realized figures), grey where it had fewer.
    static func coverageChart(_ p: DriftReport.Performance) -> String {
        let ws = p.windows
        let n = ws.count
        guard let newest = ws.last else { return "" }
        let maxY = min(niceCeil(max(ws.compactMap(\.coverage).max() ?? 0, 0.01)), 1)
        let ticks = Set([0, n / 2, n - 1]).sorted()
        let f = Frame.chart(yLabels: yLabels(maxY, format: ReportFormat.percent), lastXLabel: shortTime(newest.windowStart), bottom: 44)
        let slot = f.plotW / Double(max(n, 1))
        var s = svgOpen("chart-coverage", "label coverage per window", f) + yAxis(maxY, f, format: ReportFormat.percent)
        for (k, w) in ws.enumerated() {
            let c = min(max(w.coverage ?? 0, 0), maxY)
            let bh = f.plotH * c / maxY
            let x = f.left + Double(k) * slot + slot * 0.15
            let enough = w.labels >= p.minLabels
            s += "<rect class=\"coverage\" x=\"\(f1(x))\" y=\"\(f1(f.top + f.plotH - bh))\" width=\"\(f1(max(slot * 0.7, 0.5)))\""
            s += " height=\"\(f1(bh))\" fill=\"\(enough ? refColor : "#999")\"><title>\(iso(w.windowStart)): "
            s += "\(w.coverage.map(ReportFormat.percent) ?? "–") (\(w.labels) of \(w.predictions))</title></rect>"
        }
        for k in ticks { s += timeTick(ws[k].windowStart, x: f.left + (Double(k) + 0.5) * slot, f) }
        s += legend([(.box(refColor, dashed: false), "≥ min_labels (\(p.minLabels)) labels"), (.box("#999", dashed: false), "fewer")], f)
        return s + "</svg>"
    }

    /// A window's start under the plot at `x`.
    static func timeTick(_ d: Date, x: Double, _ f: Frame) -> String {
        "<text class=\"tick\" x=\"\(f1(x))\" y=\"\(f1(f.top + f.plotH + 14))\" text-anchor=\"middle\">\(esc(shortTime(d)))</text>"
    }

    /// A y range holding [`lo`, `hi`] on 4 grid steps of a nice size (1, 2, 2.5 or 5 × 10^k) from a multiple of the step,
    /// kept within [`floor`, `ceiling`] where the values are (a flat range is widened around its value first).
    static func niceRange(_ lo: Double, _ hi: Double, floor: Double?, ceiling: Double?) -> (Double, Double) {
        var (a, b) = (lo, hi)
        if !(b - a > 1e-12) {
            let pad = max(abs(a) * 0.05, 0.01)
            (a, b) = (a - pad, b + pad)
        }
        if let floor { a = max(a, floor) }
        if let ceiling { b = min(b, ceiling) }
        var step = niceCeil((b - a) / 4)
        for _ in 0..<8 {
            var start = (a / step).rounded(.down) * step
            if let ceiling, start + 4 * step > ceiling, ceiling - 4 * step <= a { start = ((ceiling / step).rounded() - 4) * step }
            if start + 4 * step >= b - 1e-12 * max(abs(b), 1) { return (start, start + 4 * step) }
            step = niceCeil(step * 1.000001)
        }
        return (a, b)
    }

    // MARK: charts

    /// A chart's drawing in SVG user units: the viewBox (`width` × `height`) and the plot's margins inside it. Text sizes
    /// are in the same units (the CSS below: ticks 9, legends 10, the KS label 11 bold).
    struct Frame {
        var width = 460.0, height = 220.0, left = 48.0, right = 12.0, top = 24.0, bottom = 40.0
        var plotW: Double { width - left - right }
        var plotH: Double { height - top - bottom }

        /// The standard chart with room on the left for the y labels (and `leftRoom`, what a first rotated x label
        /// needs) and on the right for half the last x label.
        static func chart(yLabels: [String], lastXLabel: String = "", leftRoom: Double = 0, bottom: Double = 40) -> Frame {
            var f = Frame()
            f.left = max(48, (yLabels.map { HTMLReport.textWidth($0, size: HTMLReport.tickSize) }.max() ?? 0) + 8, leftRoom)
            f.right = max(12, HTMLReport.textWidth(lastXLabel, size: HTMLReport.tickSize) / 2 + 3)
            f.bottom = bottom
            f.height = f.top + HTMLReport.plotHeight + f.bottom
            return f
        }
    }

    /// The plot's height in every chart (the charts of a feature differ only in the room their labels take).
    static let plotHeight = 150.0, tickSize = 9.0, legendSize = 10.0, flagSize = 11.0
    /// Rotated x labels are drawn at 45° and cut (with …) to this width; the full label is in the bar's tooltip.
    static let maxLabelWidth = 100.0

    /// A generous estimate of `text`'s width at `size`, for DejaVu Sans (Debian's default sans, wider than most:
    /// digits are 0.64 em): layout decisions made with it hold for narrower fonts too.
    static func textWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
        var em = 0.0
        for c in text.unicodeScalars {
            switch c {
            case " ", ".", ",", ":", ";", "(", ")", "[", "]", "|", "!", "'", "i", "l", "j", "f", "t", "I": em += 0.4
            case "m", "w", "M", "W", "%", "@": em += 0.95
            case "A"..."Z": em += 0.75
            case _ where c.isASCII: em += 0.64
            default: em += 1.0
            }
        }
        return em * size * (bold ? 1.12 : 1)
    }

    /// `text` cut with … to at most `width` at `size`.
    static func fitted(_ text: String, width: Double, size: Double) -> String {
        guard textWidth(text, size: size) > width else { return text }
        var s = text
        while !s.isEmpty && textWidth(s + "…", size: size) > width { s.removeLast() }
        return s + "…"
    }

    /// Whether the x labels of `slots` bars must be rotated: some label is wider than its slot.
    /// (Decided on the narrowest plot a chart can have, so a feature's charts agree with its `labelBand`.)
    static func rotates(_ labels: [String], slots: Int) -> Bool {
        let slot = (Frame().width - 70 - Frame().right) / Double(max(slots, 1))
        return labels.contains { textWidth($0, size: tickSize) > slot - 4 }
    }

    /// The room left of the plot the first of `labels` needs when they are drawn at 45° (it ends under its bar).
    static func leftRoom(_ labels: [String], rotated: Bool) -> Double {
        guard rotated, let first = labels.first else { return 0 }
        return min(textWidth(first, size: tickSize), maxLabelWidth) * 0.7072 + 4
    }

    /// The bottom margin the x labels of a bar chart need: one line, or the rotated labels' height at 45°.
    static func labelBand(_ labels: [String], slots: Int) -> Double {
        guard rotates(labels, slots: slots) else { return 30 }
        let widest = min(labels.map { textWidth($0, size: tickSize) }.max() ?? 0, maxLabelWidth)
        return 18 + widest * 0.7072
    }

    /// A feature's charts on a grid that leaves no cell empty: one row of up to 3, four as 2 × 2 (the CSS narrows
    /// the grid on small screens).
    static func charts(_ figures: [String]) -> String {
        guard !figures.isEmpty else { return "" }
        let columns = figures.count == 4 ? 2 : min(figures.count, 3)
        return "<div class=\"charts cols-\(columns)\">\n" + figures.joined() + "</div>\n"
    }

    static func figure(_ caption: String, _ svg: String) -> String {
        "<figure>\(svg)<figcaption>\(esc(caption))</figcaption></figure>\n"
    }

    /// An `<svg>` of class `cls` with `attributes` (e.g. ` data-metric="f1"`), its viewBox from `f`, and the hatch pattern.
    static func svgOpen(_ cls: String, _ label: String, _ f: Frame, attributes: String = "") -> String {
        "<svg class=\"\(cls)\"\(attributes) viewBox=\"0 0 \(Int(f.width)) \(Int(f.height.rounded(.up)))\" role=\"img\" aria-label=\"\(esc(label))\" xmlns=\"http://www.w3.org/2000/svg\">"
            + "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
            + "<rect width=\"6\" height=\"6\" fill=\"\(curColor)\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"\(ink)\" stroke-width=\"2\"/></pattern></defs>"
    }

    /// The labels of a y axis from 0 to `maxY` at 4 grid lines.
    static func yLabels(_ maxY: Double, format: (Double) -> String) -> [String] { (0...4).map { format(maxY * Double($0) / 4) } }

    /// A y axis from 0 to `maxY` with 4 grid lines, labelled by `format`.
    static func yAxis(_ maxY: Double, _ f: Frame, format: (Double) -> String) -> String {
        var s = ""
        for (k, label) in yLabels(maxY, format: format).enumerated() {
            let y = f.top + f.plotH * (1 - Double(k) / 4)
            s += "<line x1=\"\(f1(f.left))\" x2=\"\(f1(f.width - f.right))\" y1=\"\(f1(y))\" y2=\"\(f1(y))\" stroke=\"\(grid)\"/>"
            s += "<text x=\"\(f1(f.left - 4))\" y=\"\(f1(y + 3))\" text-anchor=\"end\" class=\"tick\">\(esc(label))</text>"
        }
        return s
    }

    /// An x label under a bar centred at `x`: level, or at 45° ending under the bar and cut to fit between the
    /// chart's left edge and `maxLabelWidth`.
    static func xLabel(_ text: String, x: Double, rotated: Bool, _ f: Frame) -> String {
        let y = f.top + f.plotH + 12
        if rotated {
            let room = min(maxLabelWidth, (x - 2) / 0.7072 - 4)
            return
                "<text class=\"tick\" transform=\"translate(\(f1(x)),\(f1(y))) rotate(-45)\" text-anchor=\"end\">\(esc(fitted(text, width: room, size: tickSize)))</text>"
        }
        return "<text class=\"tick\" x=\"\(f1(x))\" y=\"\(f1(y))\" text-anchor=\"middle\">\(esc(text))</text>"
    }

    /// A legend in the band above the plot: swatches and their names left to right, from the plot's left edge.
    enum Swatch {
        case box(String, dashed: Bool), line(String, dash: String), square(String), textOnly
    }

    static func legend(_ items: [(Swatch, String)], _ f: Frame, y: Double = 8) -> String {
        var s = "<g class=\"legend\">"
        var x = f.left
        for (swatch, name) in items {
            switch swatch {
            case .box(let color, let dashed):
                s += "<rect x=\"\(f1(x))\" y=\"\(f1(y - 4))\" width=\"10\" height=\"8\" fill=\"\(color)\""
                s += dashed ? " stroke=\"\(ink)\" stroke-width=\"0.6\" stroke-dasharray=\"2,1\"/>" : "/>"
            case .line(let color, let dash):
                s +=
                    "<line x1=\"\(f1(x))\" x2=\"\(f1(x + 14))\" y1=\"\(f1(y))\" y2=\"\(f1(y))\" stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"\(dash)\"/>"
            case .square(let color):
                s += "<rect x=\"\(f1(x + 4))\" y=\"\(f1(y - 3))\" width=\"6\" height=\"6\" fill=\"\(color)\"/>"
            case .textOnly: x -= 18
            }
            s += "<text x=\"\(f1(x + 18))\" y=\"\(f1(y + 4))\">\(esc(name))</text>"
            x += 18 + textWidth(name, size: legendSize) + 14
        }
        return s + "</g>"
    }

    static func pairedBars(labels: [String], ref: [Double], cur: [Double], unseen: Set<String>, cls: String, bottom: Double) -> String {
        let n = max(ref.count, 1)
        let maxY = niceCeil(max((ref + cur).max() ?? 0, 0.01))
        let names = (0..<n).map { i in
            let label = i < labels.count ? labels[i] : "\(i + 1)"
            return unseen.contains(label) ? "★ " + label : label
        }
        let rotated = rotates(names, slots: n)
        let f = Frame.chart(yLabels: yLabels(maxY, format: ReportFormat.percent), leftRoom: leftRoom(names, rotated: rotated), bottom: bottom)
        let slot = f.plotW / Double(n)
        let bar = max(slot * 0.38, 1)
        var s = svgOpen(cls, "reference and current shares per bin", f) + yAxis(maxY, f, format: ReportFormat.percent)
        for i in 0..<min(ref.count, cur.count) {
            let x0 = f.left + Double(i) * slot + slot * 0.1
            let label = i < labels.count ? labels[i] : "\(i + 1)"
            let isUnseen = unseen.contains(label)
            for (j, v) in [ref[i], cur[i]].enumerated() {
                let bh = f.plotH * v / maxY
                let x = x0 + Double(j) * bar
                let fill = j == 0 ? refColor : (isUnseen ? "url(#hatch)" : curColor)
                s +=
                    "<rect class=\"\(j == 0 ? "ref" : "cur")\" x=\"\(f1(x))\" y=\"\(f1(f.top + f.plotH - bh))\" width=\"\(f1(bar))\" height=\"\(f1(bh))\" fill=\"\(fill)\""
                s += j == 1 ? " stroke=\"\(ink)\" stroke-width=\"0.6\" stroke-dasharray=\"2,1\"" : ""
                s += "><title>\(esc(label)): \(j == 0 ? "reference" : "current") \(ReportFormat.percent(v))</title></rect>"
            }
            s += xLabel(names[i], x: x0 + bar, rotated: rotated, f)
        }
        var items: [(Swatch, String)] = [(.box(refColor, dashed: false), "reference"), (.box(curColor, dashed: true), "current")]
        if !unseen.isEmpty { items.append((.box("url(#hatch)", dashed: true), "★ unseen in the reference")) }
        return s + legend(items, f) + "</svg>"
    }

    static func ecdf(_ e: ECDFCurves, location: Double?, statistic: Double?, bottom: Double) -> String {
        ecdfChart(e.x, e.reference, e.current, location, statistic, bottom: bottom)
    }

    static func ecdfChart(
        _ allX: [Double], _ allR: [Double], _ allC: [Double], _ location: Double?, _ statistic: Double?, bottom: Double
    ) -> String {
        // Long tails squeeze the curves: show from where either CDF reaches 1 % to where both reach 95 %
        // (always keeping the KS location in view).
        var first = 0
        var last = max(allX.count - 1, 0)
        if let i = allX.indices.first(where: { max(allR[$0], allC[$0]) >= 0.01 }) { first = max(i - 1, 0) }
        if let i = allX.indices.first(where: { min(allR[$0], allC[$0]) >= 0.95 }) { last = i }
        if let location, let k = allX.firstIndex(where: { $0 >= location }) {
            first = min(first, k)
            last = max(last, k)
        }
        guard first <= last, last < allX.count, last < allR.count, last < allC.count else { return "" }
        let xs = Array(allX[first...last])
        let fr = Array(allR[first...last])
        let fc = Array(allC[first...last])
        guard let lo = xs.first, let hi = xs.last else { return "" }
        let span = hi > lo ? hi - lo : 1
        let ticks = (0...4).map { ReportFormat.number(lo + span * Double($0) / 4) }
        // the legend goes under the x labels, outside the plot
        let f = Frame.chart(yLabels: yLabels(1, format: ReportFormat.number), lastXLabel: ticks[4], bottom: max(bottom, 44))
        func px(_ x: Double) -> Double { f.left + f.plotW * (x - lo) / span }
        func py(_ y: Double) -> Double { f.top + f.plotH * (1 - y) }
        func steps(_ v: [Double]) -> String {
            var d = "M\(f1(px(lo))),\(f1(py(0)))"
            for (i, x) in xs.enumerated() { d += " H\(f1(px(x))) V\(f1(py(v[i])))" }
            return d + " H\(f1(px(hi)))"
        }
        var s = svgOpen("chart-ecdf", "empirical CDFs of reference and current", f) + yAxis(1, f) { ReportFormat.number($0) }
        for (k, tick) in ticks.enumerated() {
            s +=
                "<text class=\"tick\" x=\"\(f1(px(lo + span * Double(k) / 4)))\" y=\"\(f1(f.top + f.plotH + 14))\" text-anchor=\"middle\">\(esc(tick))</text>"
        }
        s += "<path class=\"ref\" d=\"\(steps(fr))\" fill=\"none\" stroke=\"\(refColor)\" stroke-width=\"2\"/>"
        s += "<path class=\"cur\" d=\"\(steps(fc))\" fill=\"none\" stroke=\"\(curColor)\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>"
        if let location, let i = xs.firstIndex(where: { $0 >= location }) {
            let x = px(xs[i])
            s +=
                "<line class=\"ks\" x1=\"\(f1(x))\" x2=\"\(f1(x))\" y1=\"\(f1(py(fr[i])))\" y2=\"\(f1(py(fc[i])))\" stroke=\"\(driftColor)\" stroke-width=\"3\"/>"
            // above the plot, where no curve goes (they end at 1, the plot's top), over the KS line as far as it fits
            let text = "D = \(num(statistic))"
            let half = textWidth(text, size: flagSize, bold: true) / 2
            let lx = min(max(x, half + 2), f.width - half - 2)
            s += "<line class=\"ks-guide\" x1=\"\(f1(x))\" x2=\"\(f1(x))\" y1=\"\(f1(f.top - 6))\" y2=\"\(f1(f.top))\" stroke=\"\(driftColor)\"/>"
            s += "<text class=\"flag\" x=\"\(f1(lx))\" y=\"\(f1(f.top - 9))\" text-anchor=\"middle\">\(esc(text))</text>"
        }
        let ly = f.top + f.plotH + 30
        s += legend(
            [(.line(refColor, dash: "none"), "reference"), (.line(curColor, dash: "5,3"), "current"), (.textOnly, "x: 1 %–95 % of the values")], f,
            y: ly)
        return s + "</svg>"
    }

    static func psiTerms(labels: [String], terms: [Double], bottom: Double) -> String {
        let n = max(terms.count, 1)
        let maxY = niceCeil(max(terms.map(abs).max() ?? 0, 0.01))
        let names = (0..<n).map { i in i < labels.count ? labels[i] : "\(i + 1)" }
        let rotated = rotates(names, slots: n)
        let f = Frame.chart(yLabels: yLabels(maxY, format: ReportFormat.number), leftRoom: leftRoom(names, rotated: rotated), bottom: bottom)
        let slot = f.plotW / Double(n)
        var s = svgOpen("chart-psi", "PSI contribution per bin", f) + yAxis(maxY, f) { ReportFormat.number($0) }
        for (i, t) in terms.enumerated() {
            let bh = f.plotH * abs(t) / maxY
            let x = f.left + Double(i) * slot + slot * 0.15
            let big = abs(t) >= 0.02
            s +=
                "<rect x=\"\(f1(x))\" y=\"\(f1(f.top + f.plotH - bh))\" width=\"\(f1(slot * 0.7))\" height=\"\(f1(bh))\" fill=\"\(big ? driftColor : "#999")\">"
            s += "<title>\(esc(i < names.count ? names[i] : "")): \(ReportFormat.number(t))</title></rect>"
            // a term's value (2 significant digits) over its bar when it fits in the bar's slot; the tooltip has 4
            let value = String(format: "%.2g", t)
            if big, textWidth(value, size: tickSize) <= slot - 2 {
                s +=
                    "<text class=\"tick\" x=\"\(f1(x + slot * 0.35))\" y=\"\(f1(f.top + f.plotH - bh - 4))\" text-anchor=\"middle\">\(value)</text>"
            }
            s += xLabel(i < names.count ? names[i] : "\(i + 1)", x: x + slot * 0.35, rotated: rotated, f)
        }
        return s + "</svg>"
    }

    static func trend(_ points: [DriftReport.TrendPoint], threshold: Double, numeric: Bool, bottom: Double) -> String {
        let psis = points.compactMap(\.psi)
        let kss = points.compactMap(\.ksStatistic)
        let maxY = niceCeil(max((psis + (numeric ? kss : [])).max() ?? 0, threshold * 1.2))
        guard let newest = points.last else { return "" }
        let n = points.count
        let ticks = Set([0, n / 2, n - 1]).sorted()
        let f = Frame.chart(yLabels: yLabels(maxY, format: ReportFormat.number), lastXLabel: shortTime(newest.windowStart), bottom: bottom)
        func px(_ i: Int) -> Double { f.left + f.plotW * Double(i) / Double(max(n - 1, 1)) }
        func py(_ v: Double) -> Double { f.top + f.plotH * (1 - v / maxY) }
        var s = svgOpen("chart-trend", "PSI over recent windows", f) + yAxis(maxY, f) { ReportFormat.number($0) }
        let ty = py(threshold)
        s +=
            "<line class=\"threshold\" x1=\"\(f1(f.left))\" x2=\"\(f1(f.width - f.right))\" y1=\"\(f1(ty))\" y2=\"\(f1(ty))\" stroke=\"\(driftColor)\" stroke-dasharray=\"2,3\"/>"
        func line(_ values: [Double?], _ color: String, _ dash: String, _ cls: String) -> String {
            var d = ""
            var pen = false
            for (i, v) in values.enumerated() {
                guard let v else {
                    pen = false
                    continue
                }
                d += (pen ? " L" : " M") + "\(f1(px(i))),\(f1(py(v)))"
                pen = true
            }
            return "<path class=\"\(cls)\" d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"\(dash)\"/>"
        }
        s += line(points.map(\.psi), ink, "none", "psi")
        if numeric { s += line(points.map(\.ksStatistic), refColor, "4,3", "ks") }
        for (i, p) in points.enumerated() where p.drifted {
            if let v = p.psi {
                s +=
                    "<rect x=\"\(f1(px(i) - 3))\" y=\"\(f1(py(v) - 3))\" width=\"6\" height=\"6\" fill=\"\(driftColor)\"><title>\(iso(p.windowStart)) drifted</title></rect>"
            }
        }
        for i in ticks {
            s +=
                "<text class=\"tick\" x=\"\(f1(px(i)))\" y=\"\(f1(f.top + f.plotH + 14))\" text-anchor=\"middle\">\(esc(shortTime(points[i].windowStart)))</text>"
        }
        var items: [(Swatch, String)] = [(.line(ink, dash: "none"), "PSI")]
        if numeric { items.append((.line(refColor, dash: "4,3"), "KS D")) }
        items += [(.square(driftColor), "drifted window"), (.line(driftColor, dash: "2,3"), "PSI threshold \(ReportFormat.number(threshold))")]
        return s + legend(items, f) + "</svg>"
    }

    // MARK: helpers

    static let css = """
        :root{--ink:#222;--muted:#666;--drift:#D55E00;--ok:#009E73;--ref:#0072B2;--cur:#E69F00}
        *{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);margin:0 auto;max-width:1180px;padding:16px 20px}
        header{display:grid;grid-template-columns:auto 1fr;gap:6px 18px;align-items:center;border:2px solid var(--muted);border-radius:8px;padding:12px 16px;margin-bottom:18px}
        header.drift{border-color:var(--drift)}header.ok{border-color:var(--ok)}
        .verdict{font-size:26px;font-weight:700;padding:6px 14px;border-radius:6px;color:#fff;background:var(--muted)}
        header.drift .verdict{background:var(--drift)}header.ok .verdict{background:var(--ok)}
        h1{font-size:20px;margin:0}h2{font-size:17px;margin:18px 0 8px}.sub{margin:2px 0 0;color:var(--muted)}
        .facts{grid-column:1/-1;display:flex;flex-wrap:wrap;gap:6px 28px;margin:6px 0 0}.facts dt,.figures dt{color:var(--muted);font-size:12px}.facts dd,.figures dd{margin:0;font-weight:600}
        table.overview{border-collapse:collapse;width:100%;font-size:13px}table.overview th,table.overview td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
        tr.drift td:first-child{border-left:4px solid var(--drift)}tr.ok td:first-child{border-left:4px solid transparent}
        section.feature{border-top:1px solid #ccc;padding-top:4px;break-inside:avoid;page-break-inside:avoid}
        .badge{font-size:12px;padding:2px 8px;border-radius:10px;color:#fff;background:var(--ok);vertical-align:middle}section.drift .badge{background:var(--drift)}
        h2 small{color:var(--muted);font-weight:400;font-size:12px}
        .charts{display:grid;gap:8px 14px;grid-template-columns:minmax(0,1fr)}.charts.cols-2{grid-template-columns:repeat(2,minmax(0,1fr))}.charts.cols-3{grid-template-columns:repeat(3,minmax(0,1fr))}
        .charts.cols-1 svg{max-height:320px}td.num,dd.num{white-space:nowrap;font-variant-numeric:tabular-nums}#overview,#quality,#actions,#insufficient,#performance{overflow-x:auto}
        figure{margin:0}figcaption{font-size:12px;color:var(--muted);text-align:center}svg{width:100%;height:auto;font-size:10px}
        .tick{fill:#444;font-size:9px}.legend text{font-size:10px;fill:#222}.flag{fill:var(--drift);font-weight:700;font-size:11px}
        .figures{display:flex;flex-wrap:wrap;gap:4px 22px;margin:6px 0}.reasons{margin:4px 0 10px}.note{color:var(--muted)}
        .sw{display:inline-block;width:10px;height:10px}.sw.ref{background:var(--ref)}.sw.cur{background:var(--cur)}
        footer{margin-top:24px;color:var(--muted);font-size:12px}
        @media screen and (max-width:620px){.charts.cols-2,.charts.cols-3{grid-template-columns:minmax(0,1fr)}}
        @media print{body{max-width:none;padding:0;font-size:11px}header{break-after:avoid}a{color:inherit;text-decoration:none}}
        """

    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func anchor(_ name: String) -> String {
        "feature-" + String(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "-" })
    }

    static func num(_ x: Double?) -> String { x.map(ReportFormat.number) ?? "–" }
    static func f1(_ x: Double) -> String { String(format: "%.1f", x) }
    static func short(_ s: String) -> String { s.count > 18 ? String(s.prefix(17)) + "…" : s }

    static func niceCeil(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let mag = pow(10, floor(log10(x)))
        for m in [1.0, 2, 2.5, 5, 10] where m * mag >= x { return m * mag }
        return 10 * mag
    }

    static func iso(_ d: Date) -> String { PGTimeText.iso(d) }

    static func shortTime(_ d: Date) -> String {
        let s = PGTimeText.iso(d)  // 2026-11-25T16:00:00Z
        return String(s.dropFirst(5).prefix(11)).replacingOccurrences(of: "T", with: " ")
    }
}
