import DriftCore
import DriftTriggers
import Foundation
import Testing

/// `Preset` is the one table of what each preset takes: the parser accepts exactly its descriptor's keys, requires
/// its required keys, and names the preset's keys when one is unknown.
@Suite("Preset descriptors")
struct PresetDescriptorTests {
    /// A valid YAML value for every key of every preset (plus what the preset needs besides: Azure DevOps credentials).
    static let values: [Preset: (keys: [(String, String)], extra: String)] = [
        .webhook: (
            [
                ("url", "\"https://hooks.example.com/{{monitor}}\""), ("method", "PUT"), ("headers", "{X-Model: \"{{model}}\"}"),
                ("body", "{m: \"{{monitor}}\"}"),
                ("run_id_field", "run.id")
            ], ""
        ),
        .githubWorkflowDispatch: (
            [
                ("repository", "acme/models"), ("workflow", "retrain.yml"), ("ref", "main"), ("inputs", "{monitor: \"{{monitor}}\"}"),
                ("api_url", "https://ghe.example.com/api/v3"), ("send_action_id", "true"), ("return_run_details", "false")
            ], ""
        ),
        .azureDevOpsPipeline: (
            [
                ("organization", "acme"), ("project", "ml"), ("pipeline_id", "12"), ("ref", "refs/heads/main"),
                ("parameters", "{monitor: \"{{monitor}}\"}"),
                ("base_url", "https://dev.azure.com"), ("send_action_id", "true")
            ], ", auth: {type: basic, username: \"\", password_env: PAT}"
        ),
        .azureMLBatchEndpoint: (
            [
                ("endpoint", "https://e.westeurope.inference.ml.azure.com/jobs"),
                ("inputs", "{data: {jobInputType: uri_folder, uri: \"azureml://x\"}}"),
                ("outputs", "{out: {jobOutputType: uri_folder, uri: \"azureml://y\"}}"), ("deployment", "blue"),
                ("experiment_name", "\"drift-{{monitor}}\""),
                ("management_url", "https://management.azure.com")
            ], ""
        ),
        .azureMLJob: (
            [
                ("subscription", "sub"), ("resource_group", "rg"), ("workspace", "ws"), ("job", "{jobType: Command, command: \"python train.py\"}"),
                ("api_version", "2024-04-01"), ("management_url", "https://management.azure.com")
            ], ""
        ),
        .argoWorkflowTemplate: (
            [("server", "https://argo-server.argo:2746"), ("namespace", "ml"), ("template", "retrain"), ("parameters", "{monitor: \"{{monitor}}\"}")],
            ""
        ),
        .kubeflowRun: (
            [
                ("host", "https://kfp.example.com"), ("pipeline_id", "p-1"), ("pipeline_version_id", "v-1"), ("experiment_id", "e-1"),
                ("parameters", "{lr: 0.1}"), ("namespace", "team-a")
            ], ""
        ),
        .kubernetesJob: (
            [("job", "{spec: {template: {spec: {restartPolicy: Never}}}}"), ("api_server", "https://kubernetes.default.svc"), ("namespace", "ml")], ""
        )
    ]

    static func action(_ preset: Preset, keys: [(String, String)], extra: String = "") -> String {
        "a: {preset: \(preset.rawValue)" + keys.map { ", \($0.0): \($0.1)" }.joined() + extra + "}"
    }

    @Test func theYAMLNamesAreTheRawValues() {
        #expect(
            Preset.allCases.map(\.rawValue) == [
                "webhook", "github_workflow_dispatch", "azure_devops_pipeline", "azureml_batch_endpoint", "azureml_job",
                "argo_workflow_template", "kubeflow_run", "kubernetes_job"
            ])
        for p in Preset.allCases {
            #expect("\(p)" == p.rawValue, "messages and logs show the YAML name")
            #expect(p.descriptor.requiredKeys.allSatisfy { !p.descriptor.optionalKeys.contains($0) }, "\(p)")
            #expect(p.descriptor.keys.isDisjoint(with: Preset.commonKeys), "\(p): a preset key shadows a common one")
            #expect(Set(p.descriptor.templatedKeys).isSubset(of: p.descriptor.keys), "\(p)")
        }
    }

    @Test(arguments: Preset.allCases) func everyKeyOfTheDescriptorIsAccepted(_ preset: Preset) throws {
        let (keys, extra) = try #require(Self.values[preset])
        #expect(Set(keys.map(\.0)) == preset.descriptor.keys, "the test sets every key the descriptor lists")
        let m = try ActionsConfigTests.monitor(Self.action(preset, keys: keys, extra: extra), policy: "[a]")
        guard case .trigger(let t)? = m.actions["a"] else {
            Issue.record("\(preset) did not load")
            return
        }
        #expect(t.target.preset == preset)
        #expect(t.target.nameIsIdempotencyKey == preset.descriptor.nameIsIdempotencyKey)
        #expect(t.target.canBePolled == preset.descriptor.canBePolled)
        #expect(t.target == t.target)
    }

    @Test(arguments: Preset.allCases) func everyRequiredKeyIsRequiredByName(_ preset: Preset) throws {
        let (keys, extra) = try #require(Self.values[preset])
        for key in preset.descriptor.requiredKeys {
            let p = ActionsConfigTests.problems(Self.action(preset, keys: keys.filter { $0.0 != key }, extra: extra), policy: "[a]")
            #expect(p.contains { $0.contains("`\(key)`") }, "\(preset) without \(key): \(p)")
        }
    }

    @Test(arguments: Preset.allCases) func anUnknownKeyIsNamedWithThePresetsKeys(_ preset: Preset) throws {
        let (keys, extra) = try #require(Self.values[preset])
        let p = ActionsConfigTests.problems(Self.action(preset, keys: keys + [("colour", "red")], extra: extra), policy: "[a]")
        let issue = try #require(p.first { $0.contains("unknown key `colour` in \(preset.rawValue) action 'a'") }, "\(p)")
        for key in preset.descriptor.keys.union(Preset.commonKeys) { #expect(issue.contains(key), "\(key) listed in \(issue)") }
        #expect(p.count == 1, "\(p)")
    }

    @Test func targetsCompareByValue() {
        let a = TriggerTarget.webhook(url: "https://x", headers: [("A", "1"), ("B", "2")])
        #expect(a == .webhook(url: "https://x", headers: [("A", "1"), ("B", "2")]))
        #expect(a != .webhook(url: "https://x", headers: [("A", "1"), ("B", "3")]))
        #expect(a != .webhook(url: "https://x", headers: [("B", "2"), ("A", "1")]), "headers are sent in order")
        #expect(a != .webhook(url: "https://x", method: "PUT", headers: [("A", "1"), ("B", "2")]))
        let g = TriggerTarget.githubWorkflowDispatch(repository: "a/b", workflow: "w.yml", inputs: [("m", "{{monitor}}")])
        #expect(g == .githubWorkflowDispatch(repository: "a/b", workflow: "w.yml", inputs: [("m", "{{monitor}}")]))
        #expect(g != .githubWorkflowDispatch(repository: "a/b", workflow: "w.yml", inputs: [("m", "{{monitor}}")], returnRunDetails: false))
        #expect(
            TriggerTarget.argoWorkflowTemplate(server: "s", namespace: "n", template: "t", parameters: [("a", "b")])
                != .argoWorkflowTemplate(server: "s", namespace: "n", template: "t", parameters: []))
        #expect(a != g)
    }
}
