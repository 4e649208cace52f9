import DriftTestSupport
import Foundation
import Testing

@Suite("drift-worker command line")
struct CLITests {
    let ref = fraud.appendingPathComponent("reference.csv").path
    let drift = fraud.appendingPathComponent("current_drift.csv").path
    let calm = fraud.appendingPathComponent("current_no_drift.csv").path

    @Test func exitCodes() throws {
        #expect(try CLI.run(["compare", "--reference", ref, "--current", calm, "--fail-on-drift"]).status == 0)
        #expect(try CLI.run(["compare", "--reference", ref, "--current", drift]).status == 0)
        let failing = try CLI.run(["compare", "--reference", ref, "--current", drift, "--fail-on-drift"])
        #expect(failing.status == 3)
        let json = try JSONSerialization.jsonObject(with: Data(failing.stdout.utf8)) as? [String: Any]
        #expect((json?["dataset"] as? [String: Any])?["drifted"] as? Bool == true, "not on a terminal, the default output is JSON")
    }

    @Test func theJSONEchoesEverySettingThatDecidedTheVerdict() throws {
        let r = try CLI.run([
            "compare", "--reference", ref, "--current", drift, "--format", "json", "--share-threshold", "0.07",
            "--unseen-share-threshold", "0.02", "--distribution-test", "off", "--alpha", "0.05", "--correction", "bonferroni",
            "--dataset-share", "0.4"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let s = try #require(json["settings"] as? [String: Any])
        let keys = [
            "binning", "bins", "epsilon", "ks_method", "alternative", "alpha", "correction", "ks_threshold", "distribution_test",
            "psi_threshold", "js_threshold", "share_threshold", "unseen_share_threshold", "missing_rate_increase",
            "dataset_drift_share", "threshold_tolerance", "distribution_test_choice"
        ]
        #expect(Set(s.keys) == Set(keys), "\(s.keys.sorted())")
        #expect(s["share_threshold"] as? Double == 0.07 && s["unseen_share_threshold"] as? Double == 0.02)
        #expect(s["distribution_test"] as? Bool == false && s["alpha"] as? Double == 0.05 && s["correction"] as? String == "bonferroni")
        #expect(s["dataset_drift_share"] as? Double == 0.4)
        // every feature says which rules fired and carries the tests behind them
        let features = try #require(json["features"] as? [[String: Any]])
        for f in features {
            let rules = try #require(f["rules_fired"] as? [String], "\(f["name"] ?? "?")")
            #expect(rules.count == (f["reasons"] as? [String])?.count)
            #expect(!rules.contains("anderson_darling"), "the distribution test is off")
        }
        let merchant = try #require(features.first { $0["name"] as? String == "merchant_category" })
        #expect((merchant["share_change"] as? [String: Any])?["category"] is String)
        #expect((merchant["unseen_share"] as? [String: Any])?["count"] is Int)
        let bad = try CLI.run(["compare", "--reference", ref, "--current", drift, "--share-threshold", "0"])
        #expect(bad.status == 2 && bad.stderr.contains("--share-threshold must be in (0, 1]"), "\(bad.stderr)")
    }

    @Test func badInputExitsTwoWithOneSentence() throws {
        let r = try CLI.run(["compare", "--reference", "/nonexistent/ref.csv", "--current", drift])
        #expect(r.status == 2)
        #expect(r.stderr == "drift-worker: error: /nonexistent/ref.csv: cannot read the file (no such file).\n")
        #expect(r.stdout.isEmpty)
    }

    @Test func tableFormatAndProfileCommand() throws {
        let s = try Scratch()
        let built = try CLI.run(["profile", "--reference", ref, "--out", s.path("p.bin")])
        #expect(built.status == 0 && built.stderr.contains("wrote"))
        let t = try CLI.run(["compare", "--reference", s.path("p.bin"), "--current", drift, "--format", "table"])
        #expect(t.status == 0)
        #expect(t.stdout.contains("dataset: DRIFT"))
        #expect(t.stdout.contains("merchant_category") && t.stdout.contains("crypto_exchange"))
        let bad = try CLI.run(["compare", "--reference", ref, "--current", drift, "--bins", "1"])
        #expect(bad.status != 0 && bad.stderr.contains("--bins must be between 2 and 10000"))
    }

    @Test func versionNamesTheNativeLibraries() throws {
        let v = try CLI.run(["version"])
        #expect(v.status == 0 && v.stdout.contains("libpq") && v.stdout.contains("libcurl") && v.stdout.contains("OpenBLAS"))
        #expect(v.stdout.components(separatedBy: "OpenBLAS").count == 2, "OpenBLAS named once: \(v.stdout)")
    }
}
