import DriftStats
import Foundation

/// Renders a `DriftReport` as one self-contained HTML file: inline CSS and SVG, no script, no font or image
/// from the network. Colours are Okabe–Ito (reference blue, current orange, drift vermillion, ok green) and
/// every distinction also has a second cue — line style, pattern or text — so colour-blind readers and
/// black-and-white prints lose nothing.
///
/// Structure, for people and for tests: `header#summary` carries `data-verdict`; each feature is a
/// `section.feature` with `data-feature`, `data-kind`, `data-drifted`, `data-psi`, `data-ks` (full precision) and
/// its charts as `svg.chart-hist`, `svg.chart-ecdf`, `svg.chart-psi`, `svg.chart-cat` and `svg.chart-trend`.
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
        h += overview(r)
        for f in r.features { h += feature(f, r) }
        h += quality(r)
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
        h += fact("drifted features", "\(r.driftedCount) of \(r.featureCount)" + (r.driftedShare.map { " (\(ReportFormat.percent($0)))" } ?? ""))
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

    static func fact(_ k: String, _ v: String) -> String { "<div><dt>\(esc(k))</dt><dd>\(esc(v))</dd></div>" }

    static func overview(_ r: DriftReport) -> String {
        var h = "<section id=\"overview\"><h2>Features by severity</h2><table class=\"overview\"><thead><tr>"
        h +=
            "<th>feature</th><th>kind</th><th>verdict</th><th>PSI</th><th>KS D</th><th>p (adj.)</th><th>JS</th><th>missing ref → cur</th><th>reasons</th></tr></thead><tbody>\n"
        for f in r.features {
            h += "<tr class=\"\(f.drifted ? "drift" : "ok")\"><td><a href=\"#\(anchor(f.name))\">\(esc(f.name))</a></td><td>\(f.kind)</td>"
            h += "<td>\(f.drifted ? "<b>DRIFT</b>" : "ok")</td><td>\(num(f.psi))</td><td>\(num(f.ksStatistic))</td>"
            h += "<td>\(ReportFormat.pvalue(f.pvalueAdjusted))</td><td>\(num(f.jensenShannon))</td>"
            h += "<td>\(ReportFormat.percent(f.referenceMissingRate)) → \(ReportFormat.percent(f.currentMissingRate))</td>"
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
        h += "<div class=\"charts\">\n"
        let labels = zip(t.components, t.componentDrifted).map { $1 ? "★ " + $0 : $0 }
        h += figure(
            "PSI per \(t.method == "pca" ? "principal component" : "random projection") (★ drifted)", psiTerms(labels: labels, terms: t.componentPSI))
        if let points = r.trend[f.name], points.count > 1 {
            h += figure("Largest component PSI over the last \(points.count) windows", trend(points, threshold: r.psiThreshold, numeric: false))
        }
        h += "</div>\n<dl class=\"figures\">"
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
        h += "<div class=\"charts\">\n"
        if let d = f.detail {
            if f.kind == "numeric" {
                h += figure(
                    "Distribution on the PSI bins", pairedBars(labels: d.labels, ref: d.reference, cur: d.current, unseen: [], cls: "chart-hist"))
                if let e = d.ecdf { h += figure("ECDFs and the KS distance", ecdf(e, location: d.ksLocation, statistic: f.ksStatistic)) }
            } else {
                h += figure(
                    "Category shares", pairedBars(labels: d.labels, ref: d.reference, cur: d.current, unseen: Set(d.unseen ?? []), cls: "chart-cat"))
            }
            h += figure("PSI contribution per \(f.kind == "numeric" ? "bin" : "category")", psiTerms(labels: d.labels, terms: d.psiTerms))
        } else {
            h += "<p class=\"note\">No chart data was stored for this feature (checked by an older version).</p>\n"
        }
        if let points = r.trend[f.name], points.count > 1 {
            h += figure(
                "PSI\(f.kind == "numeric" ? " and KS" : "") over the last \(points.count) windows",
                trend(points, threshold: r.psiThreshold, numeric: f.kind == "numeric"))
        }
        h += "</div>\n<dl class=\"figures\">"
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
                "<tr><td>\(esc(f.name))</td><td>\(ReportFormat.percent(f.referenceMissingRate))</td><td>\(ReportFormat.percent(f.currentMissingRate))</td>"
            h += "<td>\(f.outOfRangeShare.map(ReportFormat.percent) ?? "–")</td><td>\(f.unseenCount.map(String.init) ?? "–")</td></tr>\n"
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

    // MARK: charts

    static let width = 460.0, height = 220.0, left = 48.0, right = 12.0, top = 14.0, bottom = 54.0

    static func figure(_ caption: String, _ svg: String) -> String {
        "<figure>\(svg)<figcaption>\(esc(caption))</figcaption></figure>\n"
    }

    static func svgOpen(_ cls: String, _ label: String) -> String {
        "<svg class=\"\(cls)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(esc(label))\" xmlns=\"http://www.w3.org/2000/svg\">"
            + "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
            + "<rect width=\"6\" height=\"6\" fill=\"\(curColor)\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"\(ink)\" stroke-width=\"2\"/></pattern></defs>"
    }

    /// A y axis from 0 to `maxY` with 4 grid lines, labelled by `format`.
    static func yAxis(_ maxY: Double, format: (Double) -> String) -> String {
        var s = ""
        for k in 0...4 {
            let v = maxY * Double(k) / 4
            let y = top + (height - top - bottom) * (1 - Double(k) / 4)
            s += "<line x1=\"\(f1(left))\" x2=\"\(f1(width - right))\" y1=\"\(f1(y))\" y2=\"\(f1(y))\" stroke=\"\(grid)\"/>"
            s += "<text x=\"\(f1(left - 4))\" y=\"\(f1(y + 3))\" text-anchor=\"end\" class=\"tick\">\(esc(format(v)))</text>"
        }
        return s
    }

    static func xLabel(_ text: String, x: Double, slots: Int) -> String {
        let y = height - bottom + 12
        if slots > 8 {
            return "<text class=\"tick\" transform=\"translate(\(f1(x)),\(f1(y))) rotate(-40)\" text-anchor=\"end\">\(esc(short(text)))</text>"
        }
        return "<text class=\"tick\" x=\"\(f1(x))\" y=\"\(f1(y))\" text-anchor=\"middle\">\(esc(short(text)))</text>"
    }

    static func pairedBars(labels: [String], ref: [Double], cur: [Double], unseen: Set<String>, cls: String) -> String {
        let n = max(ref.count, 1)
        let maxY = niceCeil(max((ref + cur).max() ?? 0, 0.01))
        let plotW = width - left - right
        let plotH = height - top - bottom
        let slot = plotW / Double(n)
        let bar = max(slot * 0.38, 1)
        var s = svgOpen(cls, "reference and current shares per bin") + yAxis(maxY) { ReportFormat.percent($0) }
        for i in 0..<min(ref.count, cur.count) {
            let x0 = left + Double(i) * slot + slot * 0.1
            let label = i < labels.count ? labels[i] : "\(i + 1)"
            let isUnseen = unseen.contains(label)
            for (j, v) in [ref[i], cur[i]].enumerated() {
                let bh = plotH * v / maxY
                let x = x0 + Double(j) * bar
                let fill = j == 0 ? refColor : (isUnseen ? "url(#hatch)" : curColor)
                s +=
                    "<rect class=\"\(j == 0 ? "ref" : "cur")\" x=\"\(f1(x))\" y=\"\(f1(top + plotH - bh))\" width=\"\(f1(bar))\" height=\"\(f1(bh))\" fill=\"\(fill)\""
                s += j == 1 ? " stroke=\"\(ink)\" stroke-width=\"0.6\" stroke-dasharray=\"2,1\"" : ""
                s += "><title>\(esc(label)): \(j == 0 ? "reference" : "current") \(ReportFormat.percent(v))</title></rect>"
            }
            s += xLabel(isUnseen ? "★ " + label : label, x: x0 + bar, slots: n)
        }
        if !unseen.isEmpty {
            s +=
                "<text x=\"\(f1(width - right))\" y=\"\(f1(top + 10))\" text-anchor=\"end\" class=\"flag\">★ unseen in the reference (hatched)</text>"
        }
        return s + legend() + "</svg>"
    }

    static func legend() -> String {
        "<g class=\"legend\"><rect x=\"\(f1(left + 4))\" y=\"\(f1(top))\" width=\"10\" height=\"8\" fill=\"\(refColor)\"/><text x=\"\(f1(left + 18))\" y=\"\(f1(top + 8))\">reference</text>"
            + "<rect x=\"\(f1(left + 80))\" y=\"\(f1(top))\" width=\"10\" height=\"8\" fill=\"\(curColor)\" stroke=\"\(ink)\" stroke-width=\"0.6\" stroke-dasharray=\"2,1\"/><text x=\"\(f1(left + 94))\" y=\"\(f1(top + 8))\">current</text></g>"
    }

    static func ecdf(_ e: ECDFCurves, location: Double?, statistic: Double?) -> String { ecdfChart(e.x, e.reference, e.current, location, statistic) }

    static func ecdfChart(_ allX: [Double], _ allR: [Double], _ allC: [Double], _ location: Double?, _ statistic: Double?) -> String {
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
        let xs = Array(allX[first...last])
        let fr = Array(allR[first...last])
        let fc = Array(allC[first...last])
        guard let lo = xs.first, let hi = xs.last else { return "" }
        let span = hi > lo ? hi - lo : 1
        let plotW = width - left - right
        let plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + plotW * (x - lo) / span }
        func py(_ y: Double) -> Double { top + plotH * (1 - y) }
        func steps(_ f: [Double]) -> String {
            var d = "M\(f1(px(lo))),\(f1(py(0)))"
            for (i, x) in xs.enumerated() { d += " H\(f1(px(x))) V\(f1(py(f[i])))" }
            return d + " H\(f1(px(hi)))"
        }
        var s = svgOpen("chart-ecdf", "empirical CDFs of reference and current") + yAxis(1) { ReportFormat.number($0) }
        for k in 0...4 {
            let x = lo + span * Double(k) / 4
            s +=
                "<text class=\"tick\" x=\"\(f1(px(x)))\" y=\"\(f1(height - bottom + 14))\" text-anchor=\"middle\">\(esc(ReportFormat.number(x)))</text>"
        }
        s += "<path class=\"ref\" d=\"\(steps(fr))\" fill=\"none\" stroke=\"\(refColor)\" stroke-width=\"2\"/>"
        s += "<path class=\"cur\" d=\"\(steps(fc))\" fill=\"none\" stroke=\"\(curColor)\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>"
        if let location, let i = xs.firstIndex(where: { $0 >= location }) {
            let x = px(xs[i])
            let y1 = py(fr[i])
            let y2 = py(fc[i])
            s += "<line class=\"ks\" x1=\"\(f1(x))\" x2=\"\(f1(x))\" y1=\"\(f1(y1))\" y2=\"\(f1(y2))\" stroke=\"\(driftColor)\" stroke-width=\"3\"/>"
            s += "<text class=\"flag\" x=\"\(f1(min(x + 6, width - 80)))\" y=\"\(f1((y1 + y2) / 2))\">D = \(num(statistic))</text>"
        }
        // legend bottom right, where CDFs rarely are (near 1 on the right, near 0 on the left)
        let lx = width - right - 150
        let ly = height - bottom - 26
        s += "<g class=\"legend\"><rect x=\"\(f1(lx - 4))\" y=\"\(f1(ly - 8))\" width=\"150\" height=\"30\" fill=\"#fff\" opacity=\"0.85\"/>"
        s +=
            "<line x1=\"\(f1(lx))\" x2=\"\(f1(lx + 14))\" y1=\"\(f1(ly))\" y2=\"\(f1(ly))\" stroke=\"\(refColor)\" stroke-width=\"2\"/><text x=\"\(f1(lx + 18))\" y=\"\(f1(ly + 4))\">reference</text>"
        s +=
            "<line x1=\"\(f1(lx + 70))\" x2=\"\(f1(lx + 84))\" y1=\"\(f1(ly))\" y2=\"\(f1(ly))\" stroke=\"\(curColor)\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/><text x=\"\(f1(lx + 88))\" y=\"\(f1(ly + 4))\">current</text>"
        s += "<text x=\"\(f1(lx))\" y=\"\(f1(ly + 16))\">x: 1 %–95 % of the values</text></g>"
        return s + "</svg>"
    }

    static func psiTerms(labels: [String], terms: [Double]) -> String {
        let n = max(terms.count, 1)
        let maxY = niceCeil(max(terms.map(abs).max() ?? 0, 0.01))
        let plotW = width - left - right
        let plotH = height - top - bottom
        let slot = plotW / Double(n)
        var s = svgOpen("chart-psi", "PSI contribution per bin") + yAxis(maxY) { ReportFormat.number($0) }
        for (i, t) in terms.enumerated() {
            let bh = plotH * abs(t) / maxY
            let x = left + Double(i) * slot + slot * 0.15
            let big = abs(t) >= 0.02
            s +=
                "<rect x=\"\(f1(x))\" y=\"\(f1(top + plotH - bh))\" width=\"\(f1(slot * 0.7))\" height=\"\(f1(bh))\" fill=\"\(big ? driftColor : "#999")\">"
            s += "<title>\(esc(i < labels.count ? labels[i] : "")): \(ReportFormat.number(t))</title></rect>"
            if big {
                s +=
                    "<text class=\"tick\" x=\"\(f1(x + slot * 0.35))\" y=\"\(f1(top + plotH - bh - 3))\" text-anchor=\"middle\">\(ReportFormat.number(t))</text>"
            }
            s += xLabel(i < labels.count ? labels[i] : "\(i + 1)", x: x + slot * 0.35, slots: n)
        }
        return s + "</svg>"
    }

    static func trend(_ points: [DriftReport.TrendPoint], threshold: Double, numeric: Bool) -> String {
        let psis = points.compactMap(\.psi)
        let kss = points.compactMap(\.ksStatistic)
        let maxY = niceCeil(max((psis + (numeric ? kss : [])).max() ?? 0, threshold * 1.2))
        let plotW = width - left - right
        let plotH = height - top - bottom
        let n = points.count
        func px(_ i: Int) -> Double { left + plotW * Double(i) / Double(max(n - 1, 1)) }
        func py(_ v: Double) -> Double { top + plotH * (1 - v / maxY) }
        var s = svgOpen("chart-trend", "PSI over recent windows") + yAxis(maxY) { ReportFormat.number($0) }
        let ty = py(threshold)
        s +=
            "<line x1=\"\(f1(left))\" x2=\"\(f1(width - right))\" y1=\"\(f1(ty))\" y2=\"\(f1(ty))\" stroke=\"\(driftColor)\" stroke-dasharray=\"2,3\"/>"
        s +=
            "<text class=\"tick\" x=\"\(f1(width - right))\" y=\"\(f1(ty - 3))\" text-anchor=\"end\">PSI threshold \(ReportFormat.number(threshold))</text>"
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
        for i in Set([0, n / 2, n - 1]).sorted() {
            s +=
                "<text class=\"tick\" x=\"\(f1(px(i)))\" y=\"\(f1(height - bottom + 14))\" text-anchor=\"middle\">\(esc(shortTime(points[i].windowStart)))</text>"
        }
        s +=
            "<g class=\"legend\"><line x1=\"\(f1(left + 4))\" x2=\"\(f1(left + 18))\" y1=\"\(f1(top + 4))\" y2=\"\(f1(top + 4))\" stroke=\"\(ink)\" stroke-width=\"2\"/><text x=\"\(f1(left + 22))\" y=\"\(f1(top + 8))\">PSI</text>"
        if numeric {
            s +=
                "<line x1=\"\(f1(left + 54))\" x2=\"\(f1(left + 68))\" y1=\"\(f1(top + 4))\" y2=\"\(f1(top + 4))\" stroke=\"\(refColor)\" stroke-width=\"2\" stroke-dasharray=\"4,3\"/><text x=\"\(f1(left + 72))\" y=\"\(f1(top + 8))\">KS D</text>"
        }
        s +=
            "<rect x=\"\(f1(left + 114))\" y=\"\(f1(top + 1))\" width=\"6\" height=\"6\" fill=\"\(driftColor)\"/><text x=\"\(f1(left + 124))\" y=\"\(f1(top + 8))\">drifted window</text></g>"
        return s + "</svg>"
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
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:8px 14px}
        figure{margin:0}figcaption{font-size:12px;color:var(--muted);text-align:center}svg{width:100%;height:auto;font-size:10px}
        .tick{fill:#444;font-size:9px}.legend text{font-size:10px;fill:#222}.flag{fill:var(--drift);font-weight:700;font-size:11px}
        .figures{display:flex;flex-wrap:wrap;gap:4px 22px;margin:6px 0}.reasons{margin:4px 0 10px}.note{color:var(--muted)}
        .sw{display:inline-block;width:10px;height:10px}.sw.ref{background:var(--ref)}.sw.cur{background:var(--cur)}
        footer{margin-top:24px;color:var(--muted);font-size:12px}
        @media print{body{max-width:none;padding:0;font-size:11px}.charts{grid-template-columns:1fr 1fr}header{break-after:avoid}a{color:inherit;text-decoration:none}}
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
