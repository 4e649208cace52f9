import DriftCore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

@Suite("monitors.yaml: actions")
struct ActionsConfigTests {
    static func monitor(_ extra: String, policy: String = "[retrain]", environment: [String: String] = [:]) throws -> MonitorConfig {
        let yaml = """
            monitors:
              - name: m
                model: fraud
                features: [{name: amount, kind: numeric}, {name: score, kind: numeric, source: output}]
                reference: {file: ref.csv}
                policy: {actions: \(policy)}
                actions:
            \(extra.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """
        return try MonitorsFile.parse(yaml, file: "monitors.yaml", environment: environment)[0]
    }

    static func problems(_ extra: String, policy: String = "[retrain]") -> [String] {
        do {
            _ = try monitor(extra, policy: policy)
            return []
        } catch let e as ConfigError { return e.issues.map(\.description) } catch { return ["\(error)"] }
    }

    @Test func thePresetsAndTheirDefaultsLoad() throws {
        let m = try Self.monitor(
            """
            retrain:
              preset: webhook
              url: ${HOOK:-https://hooks.example.com/retrain}/{{monitor}}
              secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
              auth: {type: token, file: /var/run/secrets/pipeline/token}
              timeout: 12
              max_attempts: 3
            aml: {preset: azureml_job, subscription: s, resource_group: rg, workspace: ws, job: {jobType: Command, command: "python train.py"}}
            k8s: {preset: kubernetes_job, namespace: ml, job: {spec: {template: {spec: {restartPolicy: Never}}}}}
            shadow: {preset: shadow_eval, challenger: v4, class_threshold: 0.5, min_pairs: 1000, on_reject: [retrain]}
            """, policy: "[retrain, shadow]")
        guard case .trigger(let t)? = m.actions["retrain"] else {
            Issue.record("retrain")
            return
        }
        #expect(t.target == .webhook(url: "https://hooks.example.com/retrain/{{monitor}}"))
        #expect(t.credential == .token(source: .file("/var/run/secrets/pipeline/token")) && t.signingSecrets.count == 1)
        #expect(t.http.timeout == 12 && t.policy.maxAttempts == 3)
        guard case .trigger(let aml)? = m.actions["aml"], case .trigger(let k8s)? = m.actions["k8s"] else {
            Issue.record("aml, k8s")
            return
        }
        #expect(
            aml.credential == .azureWorkloadIdentity(scope: "https://management.azure.com/.default"), "Azure targets use workload identity by default"
        )
        #expect(k8s.credential == .kubernetesServiceAccount(), "a Kubernetes Job is created with the pod's service account")
        guard case .shadowEval(let s)? = m.actions["shadow"] else {
            Issue.record("shadow")
            return
        }
        #expect(s.challenger == "v4" && s.classThreshold == 0.5 && s.thresholds.minPairs == 1000 && s.onReject == ["retrain"])
        #expect(
            try Self.monitor("retrain: {preset: webhook, url: \"${HOOK:-https://a}/x\"}", environment: ["HOOK": "https://b"]).actions["retrain"]
                .map { if case .trigger(let t) = $0 { t.target == .webhook(url: "https://b/x") } else { false } } == true)
    }

    @Test func everyActionProblemIsNamedWithItsLine() {
        let p = Self.problems(
            """
            retrain: {preset: webhok, url: "https://x"}
            w: {preset: webhook, url: "ftp://x/{{monitr}}", auth: {type: token}, secrets: [nope]}
            g: {preset: github_workflow_dispatch, repository: acme, workflow: r.yml, colour: red}
            s: {preset: shadow_eval, on_promote: [missing]}
            s2: {preset: shadow_eval, output: amount}
            """, policy: "[retrain, undefined]")
        let expected = [
            "monitors.yaml:6:23: policy action 'undefined' is not defined under `actions:`",
            "action 'retrain': unknown preset 'webhok'", "action 'w': unknown template variable {{monitr}} in `url`",
            "action 'w': `url` must start with http:// or https://", "action 'w': auth type token needs `env`",
            "action 'w': a Standard Webhooks secret must be whsec_", "`repository` must be owner/name",
            "unknown key `colour` in github_workflow_dispatch action 'g'", "`output` 'amount' is not an output feature",
            "action 's' fires 'missing', which is not defined"
        ]
        for e in expected { #expect(p.contains { $0.contains(e) }, "\(e) in \(p)") }
        #expect(p.allSatisfy { $0.hasPrefix("monitors.yaml:") })
    }

    @Test func presetKeysOfIssue15LoadWithTheirYAMLTypes() throws {
        let m = try Self.monitor(
            """
            retrain: {preset: github_workflow_dispatch, repository: acme/m, workflow: r.yml, inputs: {epochs: 10}}
            gh: {preset: github_workflow_dispatch, repository: acme/m, workflow: r.yml, send_action_id: true, return_run_details: false}
            batch: {preset: azureml_batch_endpoint, endpoint: "https://ep.westeurope.inference.ml.azure.com/jobs", deployment: blue,
                    experiment_name: "drift-{{monitor}}", inputs: {w: {JobInputType: UriFolder, Uri: "azureml://x/"}}, outputs: {score: {JobOutputType: UriFile, Uri: "azureml://y"}}}
            kfp: {preset: kubeflow_run, host: "https://kfp", pipeline_id: p, experiment_id: e, namespace: team-a,
                  parameters: {epochs: 10, tag: "10", lr: 0.5, full: true, since: "{{window_start}}"}}
            """)
        func target(_ name: String) -> TriggerTarget? { if case .trigger(let t)? = m.actions[name] { t.target } else { nil } }
        #expect(
            target("retrain") == .githubWorkflowDispatch(repository: "acme/m", workflow: "r.yml", inputs: [("epochs", "10")]),
            "defaults: no action_id input, run details asked for")
        #expect(target("gh") == .githubWorkflowDispatch(repository: "acme/m", workflow: "r.yml", sendActionID: true, returnRunDetails: false))
        #expect(
            target("batch")
                == .azureMLBatchEndpoint(
                    endpoint: "https://ep.westeurope.inference.ml.azure.com/jobs",
                    inputs: .object([("w", .object([("JobInputType", .string("UriFolder")), ("Uri", .string("azureml://x/"))]))]),
                    outputs: .object([("score", .object([("JobOutputType", .string("UriFile")), ("Uri", .string("azureml://y"))]))]),
                    deployment: "blue", experimentName: "drift-{{monitor}}"))
        #expect(
            target("kfp")
                == .kubeflowRun(
                    host: "https://kfp", pipelineID: "p", pipelineVersionID: nil, experimentID: "e",
                    parameters: .object([
                        ("epochs", .number(10)), ("tag", .string("10")), ("lr", .number(0.5)), ("full", .bool(true)),
                        ("since", .string("{{window_start}}"))
                    ]), namespace: "team-a"))
    }

    @Test func issue15KeysAreChecked() {
        let p = Self.problems(
            """
            retrain: {preset: github_workflow_dispatch, repository: acme/m, workflow: r.yml, send_action_id: "yes"}
            batch: {preset: azureml_batch_endpoint, endpoint: "https://ep/jobs", outputs: [a], experiment_name: "{{nope}}"}
            kfp: {preset: kubeflow_run, host: "https://kfp", pipeline_id: p, namespace: team-a, parameters: [epochs]}
            k8s: {preset: kubernetes_job, job: {spec: {template: {metadata: {labels: {a: {b: c}}}}}}}
            b2: {preset: azureml_batch_endpoint, endpoint: "https://ep/jobs", deployment: "blue\\r\\nX-Evil: 1"}
            k2: {preset: kubeflow_run, host: "https://kfp", pipeline_id: p, experiment_id: e, namespace: "Team A"}
            """)
        let expected = [
            "action 'retrain': `send_action_id` must be true or false", "action 'batch': `outputs` must be a mapping",
            "action 'batch': unknown template variable {{nope}} in `experiment_name`",
            "action 'kfp': a multi-user Kubeflow (`namespace`) needs `experiment_id`", "action 'kfp': `parameters` must be a mapping",
            "action 'k8s': `job.spec.template.metadata.labels.a` must be a string, not a list or mapping",
            "action 'b2': `deployment` must be an Azure ML deployment name", "action 'k2': `namespace` must be a Kubernetes namespace"
        ]
        for e in expected { #expect(p.contains { $0.contains(e) }, "\(e) in \(p)") }
    }

    @Test func aMonitorWithoutAPolicyFiresNothing() throws {
        let yaml = """
            monitors:
              - {name: m, model: fraud, features: [{name: amount, kind: numeric}], reference: {file: ref.csv}}
            """
        let m = try MonitorsFile.parse(yaml, file: "monitors.yaml")[0]
        #expect(m.policy.actions.isEmpty && m.actions.isEmpty)
    }

    @Test func kubernetesLabelValuesThatCannotBeLabelsAreNamed() {
        let p = Self.problems(
            """
            retrain:
              preset: kubernetes_job
              job:
                metadata: {labels: {action: "{{action_id}}", run: "{{run_id}}", team: "ml ops", ok: v1.2_x}}
                spec: {template: {metadata: {labels: {features: "{{drifted_features}}"}}, spec: {containers: [{name: t, image: i}]}}}
            """)
        #expect(p.contains { $0.contains("`job.metadata.labels.action` uses {{action_id}}, which cannot be a Kubernetes label value") }, "\(p)")
        #expect(p.contains { $0.contains("`job.spec.template.metadata.labels.features` uses {{drifted_features}}") }, "\(p)")
        #expect(p.contains { $0.contains("`job.metadata.labels.team` is not a valid Kubernetes label value") }, "\(p)")
        #expect(p.count == 3, "{{run_id}} and v1.2_x are fine: \(p)")
    }
}
