import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

@testable import DriftStats

/// The feature sections of a rendered report: name → (the section's opening tag, its whole HTML).
func reportSections(_ html: String) -> [String: (tag: String, body: String)] {
    var out: [String: (String, String)] = [:]
    var rest = html[...]
    while let open = rest.range(of: "<section class=\"feature") {
        guard let tagEnd = rest[open.lowerBound...].firstIndex(of: ">"),
            let close = rest[open.lowerBound...].range(of: "</section>")
        else { break }
        let tag = String(rest[open.lowerBound...tagEnd])
        if let name = attribute(tag, "data-feature") { out[name] = (tag, String(rest[open.lowerBound..<close.upperBound])) }
        rest = rest[close.upperBound...]
    }
    return out
}

func attribute(_ tag: String, _ name: String) -> String? {
    guard let r = tag.range(of: "\(name)=\"") else { return nil }
    return String(tag[r.upperBound...].prefix { $0 != "\"" })
}

@Suite("The drift report", .serialized)
struct ReportTests {
    @Test func theStoredReportOfTheDriftedWindowHasEveryChartAndTheStoredNumbers() throws {
        let schema = try WorkerSchema(prefix: "rep")
        defer { schema.drop() }
        #expect(try schema.ingestSampleTraffic() == 0)
        let backfill = try CLI.run(
            [
                "backfill", "--config", WorkerSchema.config, "--monitor", "fraud-scorer",
                "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-26T00:00:00Z"
            ], environment: schema.env)
        #expect(backfill.status == 0, "\(backfill.stderr)")
        let s = try Scratch()
        let out = s.path("report.html")
        let r = try CLI.run(
            [
                "report", "--config", WorkerSchema.config, "--monitor", "fraud-scorer",
                "--window", "2026-11-25T17:00:00Z", "--out", out
            ], environment: schema.env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("window 2026-11-25T17:00:00Z, DRIFT — 4 of 11 features drifted"), "\(r.stdout)")
        let html = try String(contentsOfFile: out, encoding: .utf8)

        // Self-contained: no script, nothing fetched (the only URL is the SVG namespace).
        #expect(!html.contains("<script"))
        let urls = html.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix(30) }
        #expect(urls.allSatisfy { $0.hasPrefix("http://www.w3.org/2000/svg") }, "\(Set(urls))")
        #expect(html.contains("data-verdict=\"DRIFT\"") && html.contains("data-window-start=\"2026-11-25T17:00:00Z\""))
        #expect(html.contains("fired retrain, shadow_eval after 2 consecutive drifted windows"))

        let conn = try schema.connect()
        let stored = try conn.query(
            """
            SELECT f.* FROM drift_feature_results f JOIN drift_runs d ON d.id = f.run_id
            WHERE d.window_start = '2026-11-25T17:00:00Z'
            """, name: "t")
        let sections = reportSections(html)
        #expect(stored.count == 11 && sections.count == 11)
        var order: [String] = []
        for row in stored {
            let name = try row.string("feature")
            guard let (tag, body) = sections[name] else {
                Issue.record("no section for \(name)")
                continue
            }
            order.append(name)
            #expect(attribute(tag, "data-psi").flatMap(Double.init) == (try row.optionalDouble("psi")), "\(name) PSI")
            #expect(attribute(tag, "data-ks").flatMap(Double.init) == (try row.optionalDouble("ks_statistic")), "\(name) KS")
            #expect(attribute(tag, "data-drifted") == String(try row.bool("drifted")), "\(name) verdict")
            let charts =
                try row.string("kind") == "numeric"
                ? ["chart-hist", "chart-ecdf", "chart-psi", "chart-trend"] : ["chart-cat", "chart-psi", "chart-trend"]
            for chart in charts { #expect(body.contains("<svg class=\"\(chart)\""), "\(name) has \(chart)") }
            if try row.string("kind") == "numeric" {
                #expect(body.contains("class=\"ks\""), "\(name): the KS distance is marked")
            }
            let detail = try #require(FeatureDetail.parse(try row.string("detail")))
            let bars = body.components(separatedBy: "<rect class=\"cur\"").count - 1
            #expect(bars == detail.current.count, "\(name): one current bar per bin")
            let termSum = detail.psiTerms.reduce(0, +)
            #expect(abs(termSum - (try row.double("psi"))) <= 1e-12 * max(1, termSum), "\(name): the PSI terms add up to the stored PSI")
        }
        let merchant = try #require(sections["merchant_category"]?.body)
        #expect(merchant.contains("★ crypto_exchange") && merchant.contains("url(#hatch)"), "the unseen category is highlighted")
        // sorted by severity: the four drifted features come first
        let firstFour = Set(
            html.components(separatedBy: "<section class=\"feature").dropFirst().prefix(4).compactMap { attribute($0, "data-feature") })
        #expect(firstFour == ["amount", "score", "avg_amount_30d", "merchant_category"])
        #expect(html.contains("id=\"quality\"") && html.contains("id=\"correlation\""))
        // the trend covers the windows from the start of the traffic to the reported one
        let trend = try #require(sections["amount"]?.body)
        #expect(trend.contains("over the last 42 windows"))

        // the actions this window fired, not delivered yet
        #expect(html.contains("<section id=\"actions\">"))
        #expect(
            html.contains("data-action-id=\"fraud-scorer:2026-11-25T17:00:00Z:retrain\" data-run-state=\"\"><td>retrain</td><td>pending</td>"),
            "\(html)")
        // …and once the retraining run was followed to its end and fired its on_success: the run state links to the
        // run, the fired action is listed under it, and what the target said is escaped
        _ = try conn.query(
            """
            UPDATE trigger_outbox SET state = 'delivered', attempts = 1, external_run_id = '5551', run_state = 'succeeded',
                   run_url = 'https://github.com/acme/fraud/actions/runs/5551', run_detail = 'completed/<b>success</b>'
             WHERE action_id = 'fraud-scorer:2026-11-25T17:00:00Z:retrain'
            """, name: "t")
        _ = try conn.query(
            """
            INSERT INTO trigger_outbox (action_id, monitor, run_id, action, preset, parent_action_id)
            SELECT action_id || ':on_success:notify', monitor, run_id, 'notify', 'webhook', action_id FROM trigger_outbox
             WHERE action_id = 'fraud-scorer:2026-11-25T17:00:00Z:retrain'
            """, name: "t")
        let again = try CLI.run(
            [
                "report", "--config", WorkerSchema.config, "--monitor", "fraud-scorer",
                "--window", "2026-11-25T17:00:00Z", "--out", out
            ], environment: schema.env)
        #expect(again.status == 0, "\(again.stderr)")
        let followed = try String(contentsOfFile: out, encoding: .utf8)
        #expect(
            followed.contains(
                "data-run-state=\"succeeded\"><td>retrain</td><td>delivered</td><td>1</td><td><a href=\"https://github.com/acme/fraud/actions/runs/5551\" rel=\"noopener noreferrer\">succeeded</a></td><td>5551</td><td>completed/&lt;b&gt;success&lt;/b&gt;</td>"
            ), "\(followed)")
        #expect(followed.contains("<td>↳ notify</td><td>pending</td>"))

        let missing = try CLI.run(
            [
                "report", "--config", WorkerSchema.config, "--monitor", "fraud-scorer",
                "--window", "2027-01-01T00:00:00Z", "--out", s.path("none.html")
            ], environment: schema.env)
        #expect(missing.status == 2 && missing.stderr.contains("has no checked run for a window starting at 2027-01-01T00:00:00Z"))
        #expect(!FileManager.default.fileExists(atPath: s.path("none.html")))
    }

    @Test func compareWritesTheSameReportForTwoFiles() throws {
        let s = try Scratch()
        let ref = fraud.appendingPathComponent("reference.csv").path
        let cur = fraud.appendingPathComponent("current_drift.csv").path
        let r = try CLI.run(["compare", "--reference", ref, "--current", cur, "--html", s.path("c.html"), "--format", "json"])
        #expect(r.status == 0 && r.stderr.contains("wrote the drift report to"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let features = try #require(json["features"] as? [[String: Any]])
        let html = try String(contentsOfFile: s.path("c.html"), encoding: .utf8)
        let sections = reportSections(html)
        #expect(sections.count == features.count && features.count == 11)
        for f in features {
            let name = try #require(f["name"] as? String)
            let tag = try #require(sections[name]?.tag)
            // (Foundation's JSONSerialization on Linux may misread the last digit of a double: allow 4 ulp.)
            let shown = try #require(attribute(tag, "data-psi").flatMap(Double.init))
            let printed = try #require(f["psi"] as? Double)
            #expect(abs(shown - printed) <= 4 * printed.ulp, "\(name)")
        }
        #expect(html.contains("data-verdict=\"DRIFT\"") && !html.contains("chart-trend"), "no history, no trend")
    }

    @Test func binLabelsAndNumbers() {
        var f = FeatureDrift(
            name: "x", kind: .numeric, referenceCount: 1, currentCount: 1, referenceMissing: 0, currentMissing: 0,
            ks: nil, psi: 0, jensenShannon: 0, wassersteinNormed: nil, hellinger: 0, chiSquare: nil,
            unseenCategories: nil, referenceProportions: [0.5, 0.25, 0.25], currentProportions: [0.5, 0.25, 0.25],
            pvalue: nil, pvalueAdjusted: nil, drifted: false, reasons: [])
        f.bins = Bins(edges: [1.5, 20], layout: .openEnded)
        #expect(FeatureDetail(f).labels == ["< 1.5", "[1.5, 20)", "≥ 20"])
        f.bins = Bins(edges: [0, 0.5, 1], layout: .closedRange)
        #expect(FeatureDetail(f).labels == ["[0, 0.5)", "[0.5, 1]"])
        #expect(ReportFormat.number(0.000123456) == "0.0001235" && ReportFormat.number(1234.6) == "1235" && ReportFormat.number(2e-7) == "2e-07")
        #expect(ReportFormat.pvalue(0) == "< 1e-300" && ReportFormat.pvalue(0.0421) == "0.042")
        let parsed = FeatureDetail.parse(FeatureDetail(f).json())
        #expect(parsed == FeatureDetail(f), "the stored JSON reads back the same")
    }
}
