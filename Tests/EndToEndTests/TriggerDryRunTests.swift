import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// `trigger test` starts nothing: for every preset the real binary runs the target's dry run or read-only checks
/// against a server on 127.0.0.1 that records every request, and the server sees no create.
@Suite("drift-worker trigger test: dry runs start nothing", .serialized)
struct TriggerDryRunTests {
    static let workflowFile = """
        name: retrain
        on:
          workflow_dispatch:
            inputs:
              since:
                type: string
                required: true
              action_id:
                type: string
          push: {}
        jobs: {}
        """

    /// What the local target answers: the dry-run and read-only paths succeed, a create is answered as the real
    /// API would (so a `--really` run is delivered), and anything else is a 404.
    static func reply(_ r: RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply {
        let body = JSONTemplate.parse(r.body)
        switch (r.method, r.path) {
        case ("POST", let p) where p.hasPrefix("/apis/batch/v1/namespaces/ml/jobs"):
            return .init(status: 201, body: #"{"kind":"Job","metadata":{"name":"x"}}"#)
        case ("POST", "/api/v1/workflows/ml/submit"):
            return .init(status: 200, body: #"{"metadata":{"name":"x"}}"#)
        case ("POST", "/api/v1/workflows/ml"):
            // CreateWorkflow (WorkflowCreateRequest): a workflow referencing the template, in server dry-run mode
            guard body?.value(at: "workflow.spec.workflowTemplateRef.name") != nil else {
                return .init(status: 400, body: #"{"message":"no workflow"}"#)
            }
            return .init(status: 200, body: #"{"metadata":{"name":"x"}}"#)
        case ("POST", let p) where p.hasPrefix("/acme/ml%20ops/_apis/pipelines/12/runs"):
            return body?.value(at: "previewRun") == .bool(true)
                ? .init(status: 200, body: #"{"finalYaml":"trigger: none\nsteps:\n- script: train\n"}"#) : .init(status: 200, body: #"{"id":7}"#)
        case ("GET", "/repos/acme/fraud-model/actions/workflows/retrain.yml"):
            return .init(status: 200, body: #"{"id":1,"path":".github/workflows/retrain.yml","state":"active"}"#)
        case ("GET", let p) where p.hasPrefix("/repos/acme/fraud-model/contents/.github/workflows/retrain.yml"):
            return .init(status: 200, body: workflowFile)
        case ("GET", "/apis/v2beta1/pipelines/p-1"), ("GET", "/apis/v2beta1/pipelines/p-1/versions/v-2"), ("GET", "/apis/v2beta1/experiments/e-3"):
            return .init(status: 200, body: "{}")
        case ("GET", let p) where p.hasPrefix("/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws?"):
            return .init(status: 200, body: #"{"name":"ws"}"#)
        case ("GET", let p) where p.hasPrefix("/score"):
            return .init(status: 405, body: "")
        default:
            return .init(status: 404, body: #"{"message":"not here"}"#)
        }
    }

    /// True for a request that would start work at the real target.
    static func isCreate(_ r: RecordingHTTPServer.Recorded) -> Bool {
        guard r.method != "GET" else { return false }
        let body = JSONTemplate.parse(r.body)
        if r.path.hasPrefix("/apis/batch/v1/") { return !r.path.contains("dryRun=All") }
        // argo-server before PR #13183 (2024) ignored serverDryRun on /submit: a submit always counts as a create
        if r.path.hasSuffix("/submit") { return true }
        if r.path.hasPrefix("/api/v1/workflows/") { return body?.value(at: "serverDryRun") != .bool(true) }
        if r.path.contains("/_apis/pipelines/") { return body?.value(at: "previewRun") != .bool(true) }
        return true  // dispatches, KFP runs, Azure ML PUTs, batch jobs
    }

    /// Each preset's settings against `base`, and what its dry run must say.
    static func presets(_ base: String) -> [(name: String, yaml: String, verified: [String])] {
        let auth = "auth: {type: token, env: TT_TOKEN}"
        return [
            (
                "kubernetes_job",
                """
                preset: kubernetes_job
                api_server: \(base)
                namespace: ml
                \(auth)
                job: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: t, image: "acme/train:1", env: [{name: DRIFT_RUN_ID, value: "{{run_id}}"}]}]}}}}
                """, ["Kubernetes admitted the Job (dry run, nothing created)", "dryRun=All"]
            ),
            (
                "argo_workflow_template",
                """
                preset: argo_workflow_template
                server: \(base)
                namespace: ml
                template: retrain
                \(auth)
                parameters: {since: "{{window_start}}"}
                """, ["server dry run, nothing created"]
            ),
            (
                "azure_devops_pipeline",
                """
                preset: azure_devops_pipeline
                organization: acme
                project: ml ops
                pipeline_id: 12
                base_url: \(base)
                \(auth)
                parameters: {since: "{{window_start}}"}
                """, ["Azure DevOps previewed the run", "nothing queued"]
            ),
            (
                "github_workflow_dispatch",
                """
                preset: github_workflow_dispatch
                repository: acme/fraud-model
                workflow: retrain.yml
                api_url: \(base)
                \(auth)
                inputs: {since: "{{window_start}}"}
                """,
                ["GitHub: workflow .github/workflows/retrain.yml exists and is active", "GitHub: workflow_dispatch declared; inputs declared: since"]
            ),
            (
                "kubeflow_run",
                """
                preset: kubeflow_run
                host: \(base)
                pipeline_id: p-1
                pipeline_version_id: v-2
                experiment_id: e-3
                \(auth)
                parameters: {epochs: 10}
                """,
                [
                    "Kubeflow: the pipeline p-1 exists", "Kubeflow: the pipeline version v-2 exists", "Kubeflow: the experiment e-3 exists",
                    "result: 3 of 3 checks passed"
                ]
            ),
            (
                "azureml_job",
                """
                preset: azureml_job
                subscription: sub-1
                resource_group: rg
                workspace: ws
                management_url: \(base)
                \(auth)
                job: {jobType: Command, command: "python train.py --since {{window_start}}", environmentId: env, computeId: cpu}
                """, ["Azure ML: the workspace is readable", "api-version=2024-04-01"]
            ),
            (
                "azureml_batch_endpoint",
                """
                preset: azureml_batch_endpoint
                endpoint: \(base)/score
                \(auth)
                inputs: {window: {JobInputType: UriFolder, Uri: "azureml://datastores/d/paths/{{window_start}}/"}}
                """, ["Azure ML batch endpoint: the endpoint answered HTTP 405"]
            )
        ]
    }

    /// A monitors file with one monitor whose only action `a` has these settings.
    static func config(_ action: String, in s: Scratch) -> String {
        s.write(
            "monitors.yaml",
            """
            monitors:
              - name: fraud-scorer
                model: fraud
                features:
                  - {name: amount, kind: numeric}
                  - {name: score, kind: numeric, source: output}
                reference: {file: \(repoRoot.appendingPathComponent("sample-data/fraud/reference.csv").path)}
                policy: {actions: [a]}
                actions:
                  a:
            \(action.split(separator: "\n").map { "          " + $0 }.joined(separator: "\n"))
            """)
    }

    static func test(_ config: String, _ extra: [String] = []) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await onBlockingPool {
            try CLI.run(
                ["trigger", "test", "--monitor", "fraud-scorer", "--action", "a", "--config", config] + extra,
                environment: ["TT_TOKEN": "tt-secret-token"])
        }
    }

    @Test(arguments: 0..<7) func eachPresetsDryRunStartsNothingAndSaysWhatItVerified(_ index: Int) async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.reply)
        let s = try Scratch()
        let preset = Self.presets("http://127.0.0.1:\(server.port)")[index]
        let r = try await Self.test(Self.config(preset.yaml, in: s))
        await server.stop()
        #expect(r.status == 0, "\(preset.name): \(r.stdout)\(r.stderr)")
        for line in preset.verified { #expect(r.stdout.contains(line), "\(preset.name) must say '\(line)': \(r.stdout)") }
        #expect(r.stdout.contains("nothing was started") && r.stdout.contains("--really sends it"), "\(r.stdout)")
        let requests = server.requests
        #expect(!requests.isEmpty, "\(preset.name) checked something")
        #expect(!requests.contains(where: Self.isCreate), "\(preset.name) created nothing: \(requests.map { "\($0.method) \($0.path)" })")
        #expect(requests.allSatisfy { $0.headers["authorization"] == "Bearer tt-secret-token" }, "every check carries the credential")
        #expect(!r.stdout.contains("tt-secret-token"), "the secret is never shown")
        // the request a real delivery would send is printed first, rendered with an integer run id
        #expect(r.stdout.contains("X-Drift-Test: true") && r.stdout.contains("Idempotency-Key: test:fraud-scorer:"))
    }

    @Test func theRenderedRequestCarriesAnIntegerRunID() async throws {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 202, body: "{}") }
        let s = try Scratch()
        let r = try await Self.test(
            Self.config("preset: webhook\nurl: http://127.0.0.1:\(server.port)/hook\nbody: {run: \"{{run_id}}\", note: \"run {{run_id}}\"}", in: s))
        await server.stop()
        #expect(r.status == 0 && r.stdout.contains("result: delivered"), "\(r.stdout)\(r.stderr)")
        let sent = try #require(server.requests.first)
        #expect(
            JSONTemplate.parse(sent.body)?.value(at: "run") == .number(Double(41))
                && JSONTemplate.parse(sent.body)?.value(at: "note") == .string("run 41"))
        #expect(server.requests.count == 1 && sent.headers["x-drift-test"] == "true", "a webhook has no dry run: the marked request is sent")
    }

    @Test func anUndeclaredGitHubInputFailsTheTestAndIsNamed() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.reply)
        let s = try Scratch()
        let r = try await Self.test(
            Self.config(
                """
                preset: github_workflow_dispatch
                repository: acme/fraud-model
                workflow: retrain.yml
                api_url: http://127.0.0.1:\(server.port)
                auth: {type: token, env: TT_TOKEN}
                inputs: {since: "{{window_start}}", epochs: "3"}
                """, in: s))
        await server.stop()
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(
            r.stdout.contains("FAILED: GitHub: inputs not declared under workflow_dispatch.inputs: epochs")
                && r.stdout.contains("result: 1 of 2 checks passed"), "\(r.stdout)")
        #expect(!server.requests.contains(where: Self.isCreate))
    }

    @Test func reallySendsTheCreate() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.reply)
        let s = try Scratch()
        let r = try await Self.test(Self.config(Self.presets("http://127.0.0.1:\(server.port)")[0].yaml, in: s), ["--really"])
        await server.stop()
        #expect(r.status == 0 && r.stdout.contains("< HTTP 201") && r.stdout.contains("result: delivered"), "\(r.stdout)\(r.stderr)")
        #expect(server.requests.map { "\($0.method) \($0.path)" } == ["POST /apis/batch/v1/namespaces/ml/jobs"], "the real create, no dry run")
    }

    @Test func workflowInputsAreReadFromTheDispatchBlock() {
        #expect(DryRunStep.declaredInputs(Self.workflowFile) == ["since", "action_id"])
        #expect(DryRunStep.declaredInputs("on:\n  workflow_dispatch:\n  push:\n    branches: [main]\n") == [])
        #expect(
            DryRunStep.declaredInputs(
                "on:\n  workflow_dispatch:\n    inputs:\n      \"a b\":\n        type: string\n      # c:\n      d: {type: number}\njobs:\n  x: {}\n")
                == ["a b", "d"])
    }
}
