import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// Runs scripts/check-report-layout.py (headless Chromium measuring the rendered page) on `reports`.
func checkLayout(_ reports: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", repoRoot.appendingPathComponent("scripts/check-report-layout.py").path] + reports
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: text, as: UTF8.self))
}

/// A CSV of `rows` rows whose columns stress the report: p-values from 1e-20 down past the smallest double (shifted
/// uniforms, KS p ≈ 2·exp(−2·n/2·shift²)), values of 1e9 (long tick labels) and long category names (rotated, cut labels).
func stressCSV(rows: Int, shifted: Bool) -> String {
    let shifts = [0.05, 0.2, 0.26, 0.267, 0.27, 0.5]
    var lines = [(shifts.indices.map { "p\($0)" } + ["huge", "merchant"]).joined(separator: ",")]
    let names = (0..<12).map { "a_rather_long_merchant_category_name_\($0)" }
    for i in 0..<rows {
        let u = (Double(i) + 0.5) / Double(rows)
        var row = shifts.map { String(u + (shifted ? $0 : 0)) }
        row.append(String(1e9 * (u + (shifted ? 0.1 : 0))))
        row.append(names[(i * 7 + (shifted && i % 3 == 0 ? 5 : 0)) % names.count])
        lines.append(row.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
}

@Suite("The drift report's layout in Chromium", .serialized)
struct ReportLayoutTests {
    @Test func everyKindOfReportLaysOutInChromiumWithNothingClippedOverlappingOrWrapped() throws {
        let s = try Scratch()
        // the demo's drifted window (and its no-drift, low-D features) and an insufficient-data window, from stored runs
        let schema = try WorkerSchema(prefix: "layout")
        defer { schema.drop() }
        #expect(try schema.ingestSampleTraffic() == 0)
        let backfill = try CLI.run(
            [
                "backfill", "--config", WorkerSchema.config, "--monitor", "fraud-scorer",
                "--from", "2026-11-23T00:00:00Z", "--to", "2026-11-26T00:00:00Z"
            ], environment: schema.env)
        #expect(backfill.status == 0, "\(backfill.stderr)")
        let drifted = try CLI.run(
            [
                "report", "--config", WorkerSchema.config, "--monitor", "fraud-scorer", "--window", "2026-11-25T17:00:00Z",
                "--out", s.path("drifted.html")
            ], environment: schema.env)
        #expect(drifted.status == 0, "\(drifted.stderr)")
        let rows = try schema.connect().query(
            "SELECT window_start FROM drift_runs WHERE status = 'insufficient_data' ORDER BY window_start LIMIT 1", name: "t")
        let empty = try #require(rows.first, "the backfill from before the traffic checks windows with too few events")
        let insufficient = try CLI.run(
            [
                "report", "--config", WorkerSchema.config, "--monitor", "fraud-scorer",
                "--window", PGTimeText.iso(try empty.date("window_start")), "--out", s.path("insufficient.html")
            ], environment: schema.env)
        #expect(insufficient.status == 0, "\(insufficient.stderr)")
        let insufficientHTML = try String(contentsOfFile: s.path("insufficient.html"), encoding: .utf8)
        #expect(insufficientHTML.contains("id=\"insufficient\" data-min-sample=\"500\""), "\(insufficientHTML)")
        #expect(insufficientHTML.contains("fewer than the monitor’s <code>min_sample</code> of <b>500</b>"))
        #expect(!insufficientHTML.contains("id=\"overview\"") && !insufficientHTML.contains("id=\"quality\""), "no empty tables")

        // two files without drift (low D everywhere), and two with p-values down to 0 and numbers of 1e9
        let calm = try CLI.run(
            [
                "compare", "--reference", fraud.appendingPathComponent("reference.csv").path,
                "--current", fraud.appendingPathComponent("current_no_drift.csv").path, "--html", s.path("no-drift.html"), "--format", "json"
            ])
        #expect(calm.status == 0, "\(calm.stderr)")
        let ref = s.write("stress-ref.csv", stressCSV(rows: 10_000, shifted: false))
        let cur = s.write("stress-cur.csv", stressCSV(rows: 10_000, shifted: true))
        let stress = try CLI.run(["compare", "--reference", ref, "--current", cur, "--html", s.path("p-values.html"), "--format", "json"])
        #expect(stress.status == 0, "\(stress.stderr)")
        let stressHTML = try String(contentsOfFile: s.path("p-values.html"), encoding: .utf8)
        #expect(stressHTML.contains("e-321") && stressHTML.contains("&lt; 1e-300"), "p-values among the subnormals and below them are shown")

        let reports = ["drifted", "no-drift", "p-values", "insufficient"].map { s.path("\($0).html") }
        let check = try checkLayout(reports)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.components(separatedBy: "layout ok").count - 1 == reports.count, "\(check.output)")
    }

    @Test func theLayoutCheckFindsClippedTextAndWrappedNumbers() throws {
        // a page with one of each fault: it must fail, naming the element and the overflow
        let s = try Scratch()
        let page = s.write(
            "broken.html",
            """
            <!DOCTYPE html><html><body style="font:14px sans-serif">
            <section id="overview"><table><thead><tr><th>feature</th><th>p (adj.)</th></tr></thead>
            <tbody><tr><td>amount</td><td style="width:20px;display:inline-block">1.11e-308</td></tr></tbody></table></section>
            <section class="feature" data-feature="amount"><svg class="chart-ecdf" viewBox="0 0 100 50" width="200">
            <path class="ref" d="M0,40 H100" stroke="#000" stroke-width="2"/><text x="95" y="20">318.5</text>
            <text x="10" y="44">D = 0.01</text></svg></section></body></html>
            """)
        let check = try checkLayout([page])
        #expect(check.status == 1, "\(check.output)")
        #expect(check.output.contains("feature amount › svg.chart-ecdf: text “318.5” extends"), "\(check.output)")
        #expect(check.output.contains("px past the right edge of its chart"), "\(check.output)")
        #expect(check.output.contains("text “D = 0.01” lies over the chart's path.ref"), "\(check.output)")
        #expect(check.output.contains("td “1.11e-308” (row “amount”, column “p (adj.)”) wraps onto 2 lines"), "\(check.output)")
    }
}
