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
