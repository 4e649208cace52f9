import DriftCore
import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// `validate-config`: what would fail at run time is reported before anything runs.
@Suite("validate-config: references, template variables, database")
struct ConfigValidatorTests {
    static let csv = "amount,country,card_present,ratio,score\n10.5,NL,1,0.25,0.1\n12.0,FR,0,0.5,0.2\n9.75,NL,1,0.75,0.3\n"

    /// A monitor with these features (line 5 on: one per line), reference `reference` (line 4) and actions.
    static func check(features: [String], reference: String = "ref.csv", policy: String = "[]", actions: String = "", in s: Scratch) throws
        -> [String]
    {
        let yaml = """
            monitors:
              - name: m
                model: fraud
                reference: {file: "\(reference)"}
                features:
            \(features.map { "      - \($0)" }.joined(separator: "\n"))
                policy: {actions: \(policy)}
            \(actions.isEmpty ? "" : "    actions:\n" + actions.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """
        let doc = try MonitorsFile.parseDocument(yaml, file: "monitors.yaml", environment: [:])
        return ConfigValidator.check(doc, baseDirectory: s.dir.path).map(\.description)
    }

    @Test func aGoodReferenceHasNoProblems() throws {
        let s = try Scratch()
        _ = s.write("ref.csv", Self.csv)
        #expect(
            try Self.check(
                features: ["{name: amount, kind: numeric}", "{name: country, kind: categorical}", "{name: card_present, kind: categorical}"], in: s)
                == [])
        // an absolute path, and the sample file the README uses
        let sample = try MonitorsFile.loadDocument(path: repoRoot.appendingPathComponent("sample-data/monitors.yaml").path, environment: [:])
        #expect(ConfigValidator.check(sample, baseDirectory: repoRoot.path).isEmpty)
    }

    @Test func aMissingReferenceFileIsNamedAtItsLine() throws {
        let s = try Scratch()
        let p = try Self.check(features: ["{name: amount, kind: numeric}"], reference: "data/missing.csv", in: s)
        #expect(p == ["monitors.yaml:4:23: monitor 'm': the reference file data/missing.csv (resolved against \(s.dir.path)) does not exist"], "\(p)")
    }

    @Test func anUnreadableReferenceIsNamed() throws {
        let s = try Scratch()
        try FileManager.default.createDirectory(atPath: s.path("dir.csv"), withIntermediateDirectories: true)
        #expect(try Self.check(features: ["{name: amount, kind: numeric}"], reference: "dir.csv", in: s).first?.hasSuffix("is a directory") == true)
        _ = s.write("ref.parquet", "PAR1")
        let unknown = try Self.check(features: ["{name: amount, kind: numeric}"], reference: "ref.parquet", in: s)
        #expect(
            unknown.count == 1 && unknown[0].contains("the reference file cannot be used") && unknown[0].contains("cannot tell the format"),
            "\(unknown)")
        _ = s.write("broken.csv", "amount,country\n1,\"NL\n")
        let broken = try Self.check(features: ["{name: amount, kind: numeric}"], reference: "broken.csv", in: s)
        #expect(broken.count == 1 && broken[0].contains("never closed"), "\(broken)")
        if getuid() != 0 {  // root reads any file
            let locked = s.write("locked.csv", Self.csv)
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: locked)
            #expect(
                try Self.check(features: ["{name: amount, kind: numeric}"], reference: "locked.csv", in: s).first?.contains("permission denied")
                    == true)
        }
    }

    @Test func aFeatureAbsentFromTheReferenceIsNamedAtTheFeature() throws {
        let s = try Scratch()
        _ = s.write("ref.csv", Self.csv)
        let p = try Self.check(features: ["{name: amount, kind: numeric}", "{name: merchant, kind: categorical}"], in: s)
        #expect(
            p == [
                "monitors.yaml:7:9: monitor 'm': feature 'merchant' is not a column of the reference file ref.csv (its columns: amount, country, card_present, ratio, score)"
            ], "\(p)")
    }

    @Test func kindMismatchesAreNamed() throws {
        let s = try Scratch()
        _ = s.write("ref.csv", Self.csv)
        let numeric = try Self.check(features: ["{name: country, kind: numeric}"], in: s)
        #expect(
            numeric.count == 1
                && numeric[0].hasPrefix(
                    "monitors.yaml:6:9: monitor 'm': feature 'country' is numeric, but the reference file does not hold numbers there")
                && numeric[0].contains("'NL'"), "\(numeric)")
        let categorical = try Self.check(features: ["{name: ratio, kind: categorical}"], in: s)
        #expect(
            categorical == [
                "monitors.yaml:6:9: monitor 'm': feature 'ratio' is categorical, but the reference file holds fractional numbers there (e.g. 0.25); use kind: numeric"
            ], "\(categorical)")
        _ = s.write("empty-col.csv", "amount,country\n,NL\n,FR\n")
        let empty = try Self.check(features: ["{name: amount, kind: numeric}"], reference: "empty-col.csv", in: s)
        #expect(empty == ["monitors.yaml:6:9: monitor 'm': feature 'amount' has no values in the reference file empty-col.csv"], "\(empty)")
    }

    static let withOutput = ["{name: amount, kind: numeric}", "{name: score, kind: numeric, source: output}"]

    static let shadowActions = """
        shadow: {preset: shadow_eval, challenger: v4, on_promote: [promote], on_reject: [reject]}
        promote:
          preset: webhook
          url: "https://registry.example.com/promote/{{challenger}}"
          body: {model: "{{model}}", verdict: "{{verdict}}", evaluation: "{{shadow_evaluation_id}}"}
        reject: {preset: webhook, url: "https://registry.example.com/reject"}
        retrain: {preset: webhook, url: "https://ci.example.com/retrain/{{monitor}}", body: {features: "{{drifted_features}}"}}
        """

    @Test func shadowActionsMayUseTheShadowVariables() throws {
        let s = try Scratch()
        _ = s.write("ref.csv", Self.csv)
        #expect(try Self.check(features: Self.withOutput, policy: "[retrain, shadow]", actions: Self.shadowActions, in: s) == [])
    }

    @Test func anActionThePolicyFiresCannotUseShadowVariables() throws {
        let s = try Scratch()
        _ = s.write("ref.csv", Self.csv)
        let p = try Self.check(features: Self.withOutput, policy: "[promote, shadow]", actions: Self.shadowActions, in: s)
        #expect(p.count == 3, "\(p)")
        #expect(
            p.first
                == "monitors.yaml:13:14: monitor 'm': action 'promote' uses {{challenger}} in `url`, but the policy fires it, and {{challenger}} is given only to actions a shadow evaluation fires (on_promote / on_reject) (it is also fired by 'shadow'); give the policy its own action; the policy's actions can use {{monitor}}, {{model}}, {{window_start}}, {{window_end}}, {{drifted_features}}, {{run_id}}, {{action_id}}, {{action}}, {{report_path}}",
            "\(p)")
        #expect(p.contains { $0.hasPrefix("monitors.yaml:14:") && $0.contains("{{verdict}} in `body`") }, "\(p)")
        #expect(p.contains { $0.hasPrefix("monitors.yaml:14:") && $0.contains("{{shadow_evaluation_id}} in `body`") }, "\(p)")
    }

}
