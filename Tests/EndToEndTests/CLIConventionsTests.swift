import DriftCore
import Foundation
import Testing

/// The command line's conventions (README "Exit status"): `--version`, usage errors exit 2 with ArgumentParser's
/// message, typed arguments keep their precise messages, a missing monitors file names how to choose another.
/// Each spawn here fails or finishes while parsing or loading, before any database is needed.
@Suite("drift-worker command-line conventions")
struct CLIConventionsTests {
    @Test func versionFlagPrintsTheVersionAndHelpStillExitsZero() throws {
        let v = try CLI.run(["--version"])
        #expect(v.status == 0 && v.stdout == BuildInfo.version + "\n", "\(v.status) \(v.stdout) \(v.stderr)")
        let help = try CLI.run(["run-once", "--help"])
        #expect(help.status == 0 && help.stdout.contains("Exit status"), "\(help.status) \(help.stderr)")
    }

    @Test func inJSONLogModeABatchCommandsErrorIsAJSONRecord() throws {
        let r = try CLI.run(["run-once", "--config", "/nonexistent/monitors.yaml"], environment: ["LOG_FORMAT": "json"])
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(obj?["level"] as? String == "error" && (obj?["message"] as? String)?.contains("monitors.yaml") == true, "\(line)")
        }
    }

    @Test func openBLASIsNamedOnce() {
        #expect(
            BuildInfo.openBLAS(config: "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64")
                == "OpenBLAS 0.3.21 (NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64)")
        #expect(BuildInfo.openBLAS(config: "0.3.26") == "OpenBLAS 0.3.26")
        #expect(BuildInfo.openBLAS(config: "") == "OpenBLAS (version unknown)")
        #expect(BuildInfo.describe().components(separatedBy: "OpenBLAS").count == 2)
    }

    @Test func usageErrorsExitTwoWithArgumentParsersMessage() throws {
        let unknown = try CLI.run(["version", "--bogus"])
        #expect(
            unknown.status == 2 && unknown.stderr.contains("Unknown option '--bogus'") && unknown.stdout.isEmpty,
            "\(unknown.status) \(unknown.stderr)")
        // the duration parser's own sentence, not a generic "invalid value"
        let months = try CLI.run(["run-once", "--lookback", "P1M"])
        #expect(
            months.status == 2 && months.stderr.contains("--lookback")
                && months.stderr.contains("'P1M' uses years or months, whose length varies; use days or weeks"),
            "\(months.status) \(months.stderr)")
        let dateOnly = try CLI.run(["backfill", "--monitor", "m", "--from", "2026-11-24", "--to", "2026-11-25T00:00:00Z"])
        #expect(dateOnly.status == 2 && dateOnly.stderr.contains("'2026-11-24' is a date without a time"), "\(dateOnly.status) \(dateOnly.stderr)")
    }

    @Test func aMissingMonitorsFileNamesTheFileAndHowToChooseAnother() throws {
        let missing = "/nonexistent/drift/monitors.yaml"
        let r = try CLI.run(["dispatch"], environment: ["DRIFT_CONFIG": missing])
        #expect(
            r.status == 2 && r.stderr == "drift-worker: error: no such file: \(missing) (set --config or DRIFT_CONFIG)\n",
            "\(r.status) \(r.stderr)")
    }

    @Test func validateConfigTakesConfigLikeEveryOtherCommand() throws {
        let r = try CLI.run(["validate-config", "--config", "sample-data/monitors.yaml"])
        #expect(r.status == 0 && r.stdout.contains("sample-data/monitors.yaml: ") && r.stdout.contains("no problems"), "\(r.status) \(r.stderr)")
    }
}
