import DriftCore
import DriftStats
import DriftTestSupport
import Foundation
import Testing

@Suite("monitors.yaml")
struct MonitorsFileTests {
    @Test func theSampleFileLoads() throws {
        let monitors = try MonitorsFile.load(path: repoRoot.appendingPathComponent("sample-data/monitors.yaml").path)
        let m = try #require(monitors.first)
        #expect(monitors.count == 1 && m.name == "fraud-scorer" && m.model == "fraud")
        #expect(m.features.count == 11)
        #expect(m.features.last == .init(name: "score", kind: .numeric, source: .output(key: "score", index: nil)))
        #expect(m.schedule.length.seconds == 3600 && m.schedule.lateness.seconds == 600)
        #expect(m.reference == .file("sample-data/fraud/reference.csv"))
        #expect(m.overrides["score"]?.psiThreshold == 0.1 && m.settings.psiThreshold == 0.2)
        #expect(m.policy == DriftPolicy(consecutive: 2, cooldown: ISODuration(seconds: 86_400), actions: ["retrain", "shadow_eval"]))
    }

    @Test func everyProblemIsReportedWithLineAndColumn() {
        let yaml = """
            monitors:
              - name: a
                model: m
                window: P1M
                sample_size: 50
                features:
                  - {name: x, kind: numerical}
                  - {name: y, kind: numeric, colour: red}
                reference: {rolling: {offset: P7D}}
                policy: {consecutive: 0}
              - name: b
                model: m
                features: [{name: z, kind: categorical}]
                reference: {file: "${REFERENCE_DIR}/ref.csv", window: {start: x, end: y}}
            """
        do {
            _ = try MonitorsFile.parse(yaml, file: "monitors.yaml", environment: [:])
            Issue.record("the file has problems")
        } catch let e as ConfigError {
            let text = e.issues.map(\.description)
            #expect(
                text.contains("monitors.yaml:4:13: `window`: 'P1M' uses years or months, whose length varies; use days or weeks (e.g. P30D)"),
                "\(text)")
            #expect(text.contains("monitors.yaml:5:18: `sample_size` must be a whole number from 100 to 5000000"), "\(text)")
            #expect(
                text.contains {
                    $0.hasPrefix("monitors.yaml:7:") && $0.contains("feature kind must be numeric, categorical or tensor, not 'numerical'")
                }, "\(text)")
            #expect(text.contains { $0.hasPrefix("monitors.yaml:8:") && $0.contains("unknown key `colour`") }, "\(text)")
            #expect(text.contains { $0.hasPrefix("monitors.yaml:10:") && $0.contains("`consecutive` must be a whole number") }, "\(text)")
            #expect(
                text.contains("monitors.yaml:14:23: environment variable REFERENCE_DIR is not set (set it, or write ${REFERENCE_DIR:-default})"),
                "\(text)")
            #expect(text.contains { $0.hasPrefix("monitors.yaml:14:") && $0.contains("exactly one of file, window or rolling") }, "\(text)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func theDriftRulesAreConfigurablePerMonitorAndPerFeature() throws {
        let yaml = """
            monitors:
              - name: a
                model: m
                features: [{name: x, kind: numeric}, {name: c, kind: categorical}]
                reference: {file: ref.csv}
                statistics: {share_threshold: 0.1, unseen_share_threshold: 0.02, distribution_test: false}
                overrides:
                  c: {share_threshold: 0.03}
                  x: {distribution_test: true}
            """
        let m = try #require(try MonitorsFile.parse(yaml, file: "monitors.yaml", environment: [:]).first)
        #expect(m.settings.shareThreshold == 0.1 && m.settings.unseenShareThreshold == 0.02 && !m.settings.distributionTest)
        #expect(m.overrides["c"]?.shareThreshold == 0.03 && m.overrides["c"]?.unseenShareThreshold == 0.02)
        #expect(m.overrides["x"]?.distributionTest == true)
        let bad = yaml.replacingOccurrences(of: "distribution_test: false", with: "distribution_test: maybe")
            .replacingOccurrences(of: "share_threshold: 0.1,", with: "share_threshold: 2,")
        do {
            _ = try MonitorsFile.parse(bad, file: "monitors.yaml", environment: [:])
            Issue.record("out-of-range share and an unknown switch value")
        } catch let e as ConfigError {
            let text = e.issues.map(\.description)
            #expect(text.contains { $0.contains("`distribution_test` must be true or false (got 'maybe')") }, "\(text)")
            #expect(text.contains { $0.contains("share_threshold") }, "\(text)")
        }
    }

    @Test func environmentVariablesAreSubstituted() throws {
        let yaml = """
            monitors:
              - {name: a, model: m, features: [{name: x, kind: numeric}], reference: {file: "${DATA}/ref.csv"}}
            """
        let m = try MonitorsFile.parse(yaml, file: "f.yaml", environment: ["DATA": "/mnt/data"])
        #expect(m[0].reference == .file("/mnt/data/ref.csv"))
    }

    @Test func brokenYAMLNamesItsPosition() {
        do {
            _ = try MonitorsFile.parse("monitors:\n  - name: [unclosed\n", file: "m.yaml")
            Issue.record("invalid YAML must be refused")
        } catch let e as ConfigError {
            #expect(e.issues.count == 1 && e.issues[0].description.hasPrefix("m.yaml:") && e.issues[0].message.hasPrefix("invalid YAML"))
        } catch { Issue.record("\(error)") }
    }

    @Test func theKubernetesConfigMapHoldsAValidMonitorsFile() throws {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("jobs/configmap-monitors.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasSuffix("monitors.yaml: |") })
        let embedded = lines[(start + 1)...].map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }.joined(separator: "\n")
        // the variables it needs are the ones the Deployment and the CronJob set
        for manifest in ["jobs/deployment-serve.yaml", "jobs/cronjob-run-once.yaml"] {
            let m = try String(contentsOf: repoRoot.appendingPathComponent(manifest), encoding: .utf8)
            #expect(m.contains("name: DRIFT_WEBHOOK_SECRET") && m.contains("serviceAccountName: drift-worker"), "\(manifest)")
        }
        #expect(throws: ConfigError.self) { try MonitorsFile.parse(embedded, file: "jobs/configmap-monitors.yaml") }
        let monitors = try MonitorsFile.parse(
            embedded, file: "jobs/configmap-monitors.yaml",
            environment: ["DRIFT_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(monitors.map(\.name) == ["fraud-scorer"])
        #expect(monitors[0].reference == .file("/data/fraud/reference.csv"))
        #expect(monitors[0].actions["retrain"]?.preset == "kubernetes_job" && monitors[0].actions["promote"]?.preset == "webhook")
        if case .shadowEval(let s)? = monitors[0].actions["shadow_eval"] {
            #expect(s.challenger == "v4" && s.onPromote == ["promote"])
        } else {
            Issue.record("shadow_eval is not a shadow evaluation")
        }
    }

}
