import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

@testable import DriftCore

/// `config_hash` is a hash of a canonical JSON encoding with explicit keys: stable under key order in the YAML and
/// renames of Swift properties, different whenever a setting that shapes results differs.
@Suite("Config hash")
struct ConfigHashTests {
    static let yaml = """
        monitors:
          - name: fraud-scorer
            model: fraud
            versions: [v3]
            window: PT1H
            lateness: PT10M
            sample_size: 5000
            min_sample: 200
            features:
              - {name: amount, kind: numeric, key: amount}
              - {name: country, kind: categorical}
              - {name: score, kind: numeric, source: output}
            reference: {file: ref.csv}
            statistics: {psi_threshold: 0.2, alpha: 0.01}
            overrides: {score: {psi_threshold: 0.1}, amount: {alpha: 0.05}}
            policy: {consecutive: 3, cooldown: P1D, actions: []}
        """

    /// The same monitor with every mapping's keys in another order.
    static let reordered = """
        monitors:
          - policy: {actions: [], cooldown: P1D, consecutive: 3}
            overrides: {amount: {alpha: 0.05}, score: {psi_threshold: 0.1}}
            statistics: {alpha: 0.01, psi_threshold: 0.2}
            reference: {file: ref.csv}
            features:
              - {key: amount, kind: numeric, name: amount}
              - {kind: categorical, name: country}
              - {source: output, kind: numeric, name: score}
            min_sample: 200
            sample_size: 5000
            lateness: PT10M
            window: PT1H
            versions: [v3]
            model: fraud
            name: fraud-scorer
        """

    static func hash(_ yaml: String) throws -> String { MonitorsFile.configHash(try MonitorsFile.parse(yaml, file: "monitors.yaml")[0]) }

    @Test func theHashIsPinned() throws {
        // Computed once by this code. A change of this literal means every stored drift_runs.config_hash changes:
        // it needs a release note (README, *The database*), never a silent update of the literal. Changed once by the
        // release that added distribution_test, share_threshold and unseen_share_threshold (noted there).
        let hash = try Self.hash(Self.yaml)
        #expect(hash == "93d4e5d5e32d84e1")
        let m = try MonitorsFile.parse(Self.yaml, file: "monitors.yaml")[0]
        let json = String(decoding: CanonicalMonitorConfig(monitor: m).json(), as: UTF8.self)
        // explicit keys (the monitors.yaml names where there is one), sorted; absent values as null
        let expected = [
            #"{"features":[{"index":null,"key":"amount","kind":"numeric","name":"amount","shape":[],"source":"input","tensor"#,
            #"":null},{"index":null,"key":"country","kind":"categorical","name":"country","shape":[],"source":"input","tenso"#,
            #"r":null},{"index":null,"key":"score","kind":"numeric","name":"score","shape":[],"source":"output","tensor":nul"#,
            #"l}],"min_sample":200,"model":"fraud","name":"fraud-scorer","overrides":{"amount":{"alpha":0.05,"alternative":""#,
            #"two-sided","binning":"quantile","bins":10,"correction":"bh","dataset_drift_share":0.3,"distribution_test":true"#,
            #","epsilon":0.0001,"js_threshold":0.1,"ks_method":"auto","ks_threshold":0.05,"missing_rate_increase":0.05,"psi_"#,
            #"threshold":0.2,"share_threshold":0.05,"unseen_share_threshold":0.01},"score":{"alpha":0.01,"alternative":"two-"#,
            #"sided","binning":"quantile","bins":10,"correction":"bh","dataset_drift_share":0.3,"distribution_test":true,"ep"#,
            #"silon":0.0001,"js_threshold":0.1,"ks_method":"auto","ks_threshold":0.05,"missing_rate_increase":0.05,"psi_thre"#,
            #"shold":0.1,"share_threshold":0.05,"unseen_share_threshold":0.01}},"policy":{"actions":[],"consecutive":3,"cool"#,
            #"down_seconds":86400},"reference":{"end":null,"kind":"file","offset_seconds":null,"path":"ref.csv","start":null"#,
            #"},"roles":["champion"],"sample_size":5000,"schedule":{"alignment_seconds":0,"lateness_seconds":600,"length_sec"#,
            #"onds":3600},"settings":{"alpha":0.01,"alternative":"two-sided","binning":"quantile","bins":10,"correction":"bh"#,
            #"","dataset_drift_share":0.3,"distribution_test":true,"epsilon":0.0001,"js_threshold":0.1,"ks_method":"auto","k"#,
            #"s_threshold":0.05,"missing_rate_increase":0.05,"psi_threshold":0.2,"share_threshold":0.05,"unseen_share_thresh"#,
            #"old":0.01},"versions":["v3"]}"#
        ].joined()
        #expect(json == expected)
    }

    @Test func theOrderOfKeysInTheYAMLDoesNotMatter() throws {
        #expect(try Self.hash(Self.yaml) == Self.hash(Self.reordered))
    }

    @Test func everySettingThatShapesResultsChangesIt() throws {
        let base = try Self.hash(Self.yaml)
        let changes = [
            ("psi_threshold: 0.2", "psi_threshold: 0.25"), ("min_sample: 200", "min_sample: 201"), ("window: PT1H", "window: PT2H"),
            ("{name: country, kind: categorical}", "{name: country, kind: categorical, key: cc}"), ("file: ref.csv", "file: ref2.csv"),
            ("consecutive: 3", "consecutive: 2"), ("score: {psi_threshold: 0.1}", "score: {psi_threshold: 0.15}"),
            ("versions: [v3]", "versions: [v4]")
        ]
        for (from, to) in changes {
            #expect(try Self.hash(Self.yaml.replacingOccurrences(of: from, with: to)) != base, "\(to)")
        }
        // what is captured and fired does not shape a check's results
        let captured = Self.yaml.replacingOccurrences(of: "versions: [v3]\n", with: "versions: [v3]\n    capture: {keep: 0.5}\n")
        #expect(try Self.hash(captured) == base)
    }

    /// `performance:` (issue 20) shapes a check's results, so it is hashed; it and `policy.on` are written only when a
    /// monitor has them, so the hashes above (monitors without them) are those of earlier releases.
    @Test func aPerformanceBlockChangesItAndOnDriftWrittenOutDoesNot() throws {
        let base = try Self.hash(Self.yaml)
        let explicitDrift = Self.yaml.replacingOccurrences(of: "policy: {consecutive: 3,", with: "policy: {on: drift, consecutive: 3,")
        #expect(try MonitorsFile.parse(explicitDrift, file: "monitors.yaml")[0].policy.trigger == .drift)
        #expect(try Self.hash(explicitDrift) == base)

        let performance = Self.yaml + "\n    performance: {task: binary_classification, prediction: score, bounds: {f1: {lower: 0.6}}}"
        let withPerformance = try Self.hash(performance)
        #expect(withPerformance != base)
        let m = try MonitorsFile.parse(performance, file: "monitors.yaml")[0]
        let json = String(decoding: CanonicalMonitorConfig(monitor: m).json(), as: UTF8.self)
        // every field under its snake_case name, the label delay in seconds, the bounds keyed by metric, absent as null
        let expected = [
            #""performance":{"bounds":{"f1":{"lower":0.6,"upper":null}},"chunk_size":null,"classes":null,"label_delay_seconds":"#,
            #"172800,"label_positive":"1","max_rows":100000,"metrics":["roc_auc","f1","precision","recall","accuracy"],"min_label"#,
            #"s":200,"prediction":"score","reference_label":"label","task":"binary_classification","threshold":0.5},"policy":{"a"#,
            #"ctions":[],"consecutive":3,"cooldown_seconds":86400},"#
        ].joined()
        #expect(json.contains(expected), "\(json)")

        // each of its fields counts, and so does a trigger other than drift
        let changes = [
            ("bounds: {f1: {lower: 0.6}}", "bounds: {f1: {lower: 0.65}}"), ("bounds: {f1: {lower: 0.6}}", "bounds: {f1: {upper: 0.6}}"),
            ("prediction: score", "prediction: amount"), ("task: binary_classification", "task: binary_classification, threshold: 0.6"),
            ("task: binary_classification", "task: binary_classification, label_positive: fraud"),
            ("task: binary_classification", "task: binary_classification, metrics: [f1, roc_auc]"),
            ("task: binary_classification", "task: binary_classification, min_labels: 100"),
            ("task: binary_classification", "task: binary_classification, label_delay: P3D"),
            ("task: binary_classification", "task: binary_classification, reference_label: y"),
            ("task: binary_classification", "task: binary_classification, chunk_size: 1000"),
            ("task: binary_classification", "task: binary_classification, max_rows: 5000"),
            ("policy: {consecutive: 3,", "policy: {on: performance_drop, consecutive: 3,")
        ]
        for (from, to) in changes {
            #expect(try Self.hash(performance.replacingOccurrences(of: from, with: to)) != withPerformance, "\(to)")
        }
        // a default written out is the same configuration
        let defaults = performance.replacingOccurrences(
            of: "task: binary_classification", with: "task: binary_classification, threshold: 0.5, label_delay: P2D")
        #expect(try Self.hash(defaults) == withPerformance)
    }
}
