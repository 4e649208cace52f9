import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

@testable import DriftCore

/// Real outbox deliveries (a seeded `trigger_outbox` row, the dispatcher, PostgreSQL) to local servers that check
/// each request the way the real API does: the Kubernetes API server's typed decoding, GitHub's declared
/// `workflow_dispatch` inputs and `return_run_details`, Kubeflow Pipelines' parameter types and multi-user rules,
/// the Azure ML batch scoring URI and its deployment header. The YAML goes through `MonitorsFile`, so the YAML
/// scalar types reach the request as a user writes them.
@Suite("Presets: real deliveries to servers that validate like the targets")
struct PresetDeliveryTests {
    static let actionID = "fraud-scorer:2026-11-25T17:00:00Z:a"

    func dispatcher(_ client: PostgresClient, _ m: MonitorConfig) -> TriggerDispatcher {
        var o = TriggerDispatcher.Options()
        o.crashAfterSend = nil
        return TriggerDispatcher(client: client, monitors: [m], options: o)
    }

    static func json(_ data: Data) -> JSONTemplate? { JSONTemplate.parse(data) }

    /// JSON text with object keys sorted, to compare documents whatever their key order (`nil` for nil).
    static func canonical(_ t: JSONTemplate?) -> String? {
        switch t {
        case nil: return nil
        case .object(let pairs)?: return "{" + pairs.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\(canonical($0.1)!)" }.joined(separator: ",") + "}"
        case .array(let items)?: return "[" + items.map { canonical($0)! }.joined(separator: ",") + "]"
        case let t?: return t.serialized()
        }
    }

    static func canonical(_ text: String) -> String? { canonical(JSONTemplate.parse(Data(text.utf8))) }

    /// POSTs `body` to a server answering with `respond`: what a validator says to a request.
    static func send(
        _ body: String, path: String, headers: [(String, String)] = [],
        to respond: @escaping @Sendable (RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply
    ) async throws -> HTTPResponse {
        let server = RecordingHTTPServer()
        try await server.start(respond)
        let request = HTTPRequest(
            method: "POST", url: "http://127.0.0.1:\(server.port)\(path)", headers: [("Content-Type", "application/json")] + headers,
            body: Data(body.utf8))
        let response = try await onBlockingPool { try HTTPClient().sendBlocking(request) }
        await server.stop()
        return response
    }

    // MARK: Kubernetes

    /// The API server decodes a Job into typed Go structs: a number where core/v1 says string is a 400 Status.
    static func kubernetesAPIServer(_ r: RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply {
        func status(_ message: String) -> RecordingHTTPServer.Reply {
            .init(
                status: 400, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"\#(message)","reason":"BadRequest","code":400}"#
            )
        }
        guard r.method == "POST", r.path == "/apis/batch/v1/namespaces/ml/jobs", let job = json(r.body) else { return .init(status: 404) }
        func strings(_ node: JSONTemplate?, _ field: String) -> String? {
            switch node {
            case nil, .null?: return nil
            case .object(let pairs)?:
                for (_, v) in pairs { if case .string = v {} else { return field } }
                return nil
            default: return field
            }
        }
        func list(_ node: JSONTemplate?, _ field: String) -> String? {
            guard let node, case .array(let items) = node else { return nil }
            return items.allSatisfy { if case .string = $0 { true } else { false } } ? nil : field
        }
        var bad = [
            strings(job.value(at: "metadata.labels"), "ObjectMeta.metadata.labels"),
            strings(job.value(at: "metadata.annotations"), "ObjectMeta.metadata.annotations"),
            strings(job.value(at: "spec.template.metadata.labels"), "ObjectMeta.spec.template.metadata.labels")
        ]
        if case .array(let containers)? = job.value(at: "spec.template.spec.containers") {
            for c in containers {
                bad.append(list(c.value(at: "args"), "Container.spec.template.spec.containers.args"))
                bad.append(list(c.value(at: "command"), "Container.spec.template.spec.containers.command"))
                if case .array(let env)? = c.value(at: "env") {
                    for e in env {
                        if let v = e.value(at: "value"), v != .null, v.serialized().first != "\"" {
                            bad.append("EnvVar.spec.template.spec.containers.env.value")
                        }
                    }
                }
            }
        }
        if let field = bad.compactMap({ $0 }).first {
            return status(
                #"Job in version \"v1\" cannot be handled as a Job: json: cannot unmarshal number into Go struct field \#(field) of type string"#)
        }
        let name = job.value(at: "metadata.name")?.scalarText ?? ""
        return .init(status: 201, body: #"{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"\#(name)","namespace":"ml"}}"#)
    }

    @Test func aKubernetesJobWithPlaceholdersInEnvArgsAndLabelsIsAccepted() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.kubernetesAPIServer)
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString)")
        try "sa-token".write(to: token, atomically: true, encoding: .utf8)
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(
                """
                preset: kubernetes_job
                api_server: http://127.0.0.1:\(server.port)
                namespace: ml
                auth: {type: kubernetes_service_account, token_file: \(token.path)}
                max_attempts: 1
                job:
                  metadata: {labels: {drift-run: "{{run_id}}", tier: 2}}
                  spec:
                    backoffLimit: 0
                    template:
                      spec:
                        restartPolicy: Never
                        containers:
                          - name: train
                            image: acme/train:1
                            args: ["--features", "{{drifted_features}}", "--run", "{{run_id}}", --epochs, 10]
                            env:
                              - {name: DRIFT_RUN_ID, value: "{{run_id}}"}
                              - {name: DRIFTED, value: "{{drifted_features}}"}
                              - {name: EPOCHS, value: 10}
                              - {name: FULL, value: true}
                """)
            try await TriggerDispatchTests.enqueue(client, preset: "kubernetes_job")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 5)
            #expect(c.delivered == 1 && c.dead == 0)
            let row = try await TriggerDispatchTests.row(client)
            #expect(row.state == "delivered" && row.lastStatus == 201 && row.runID == TriggerTarget.resourceName(actionID: Self.actionID))
            let body = try #require(server.requests.first.flatMap { Self.json($0.body) })
            #expect(body.value(at: "spec.template.spec.containers.0.args")?.serialized() == #"["--features","amount","--run","1","--epochs","10"]"#)
            #expect(
                Self.canonical(body.value(at: "spec.template.spec.containers.0.env"))
                    == Self.canonical(
                        #"[{"name":"DRIFT_RUN_ID","value":"1"},{"name":"DRIFTED","value":"amount"},{"name":"EPOCHS","value":"10"},{"name":"FULL","value":"true"}]"#
                    ))
            #expect(body.value(at: "metadata.labels.drift-run") == .string("1") && body.value(at: "metadata.labels.tier") == .string("2"))
            #expect(body.value(at: "spec.backoffLimit") == .number(0), "fields the schema types as numbers keep their type")
        }
        await server.stop()
    }

    @Test func theValidatingServerRefusesWhatTheOldRenderingSent() async throws {
        // the request issue 15 recorded: "value":4 and an array inside args → 400 from the API server
        let old =
            #"{"metadata":{"name":"x"},"spec":{"template":{"spec":{"containers":[{"name":"t","env":[{"name":"DRIFT_RUN_ID","value":4}],"args":["--f",["amount","score"]]}]}}}}"#
        let reply = try await Self.send(old, path: "/apis/batch/v1/namespaces/ml/jobs", to: Self.kubernetesAPIServer)
        #expect(reply.status == 400 && reply.text.contains("of type string"))
    }

    @Test func aJobTemplateWithAListWhereKubernetesTakesAStringIsAConfigError() {
        let p = ActionsConfigTests.problems(
            """
            retrain: {preset: kubernetes_job, namespace: ml, job: {spec: {template: {spec: {containers: [{name: t, env: [{name: A, value: [1, 2]}]}]}}}}}
            """)
        #expect(p.contains { $0.contains("`job.spec.template.spec.containers.0.env.0.value` must be a string, not a list or mapping") }, "\(p)")
    }

    // MARK: GitHub

    /// `workflow_dispatch` with declared inputs: an undeclared input is 422 "Unexpected inputs provided"; with
    /// `return_run_details: true` a 200 with the run, else 204 — an older GitHub Enterprise Server (`runDetails`
    /// false) ignores the parameter and answers 204.
    /// `knowsRunDetails: false`: a GitHub Enterprise Server before `return_run_details` (3.19: the request schema
    /// refuses unknown keys — benc-uk/workflow-dispatch#86).
    static func github(declared: Set<String>, runDetails: Bool = true, knowsRunDetails: Bool = true)
        -> @Sendable (RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply
    {
        { r in
            guard r.method == "POST", r.path == "/repos/acme/fraud-model/actions/workflows/retrain.yml/dispatches", let body = json(r.body),
                case .string? = body.value(at: "ref")
            else { return .init(status: 404, body: #"{"message":"Not Found"}"#) }
            if !knowsRunDetails, body.value(at: "return_run_details") != nil {
                return .init(
                    status: 422,
                    body:
                        #"{"message":"Invalid request.\n\n\"return_run_details\" is not a permitted key.","documentation_url":"https://docs.github.com/enterprise-server@3.19/rest/actions/workflows#create-a-workflow-dispatch-event","status":"422"}"#
                )
            }
            var inputs: [(String, JSONTemplate)] = []
            if case .object(let pairs)? = body.value(at: "inputs") { inputs = pairs }
            let unexpected = inputs.map(\.0).filter { !declared.contains($0) }
            if !unexpected.isEmpty {
                return .init(
                    status: 422,
                    body: #"{"message":"Unexpected inputs provided: [\#(unexpected.map { #"\"\#($0)\""# }.joined(separator: ", "))]","status":"422"}"#
                )
            }
            if inputs.contains(where: { if case .string = $0.1 { false } else { true } }) {
                return .init(status: 422, body: #"{"message":"Invalid value for input"}"#)
            }
            if runDetails, body.value(at: "return_run_details") == .bool(true) {
                return .init(
                    status: 200,
                    body:
                        #"{"workflow_run_id":22000001,"run_url":"https://api.github.com/repos/acme/fraud-model/actions/runs/22000001","html_url":"https://github.com/acme/fraud-model/actions/runs/22000001"}"#
                )
            }
            return .init(status: 204)
        }
    }

    static let githubAction =
        "preset: github_workflow_dispatch\nrepository: acme/fraud-model\nworkflow: retrain.yml\nmax_attempts: 1\n"
        + "inputs: {since: \"{{window_start}}\", features: \"{{drifted_features}}\", epochs: 10}\n"

    @Test func aGitHubDispatchSendsOnlyDeclaredInputsAndRecordsTheRun() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.github(declared: ["since", "features", "epochs"]))
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(Self.githubAction + "api_url: http://127.0.0.1:\(server.port)")
            try await TriggerDispatchTests.enqueue(client, preset: "github_workflow_dispatch")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 5)
            #expect(c.delivered == 1)
            let row = try await TriggerDispatchTests.row(client)
            #expect(row.state == "delivered" && row.lastStatus == 200 && row.runID == "22000001")
            let body = try #require(server.requests.first.flatMap { Self.json($0.body) })
            #expect(
                Self.canonical(body.value(at: "inputs")) == Self.canonical(#"{"since":"2026-11-25T17:00:00Z","features":"amount","epochs":"10"}"#))
        }
        await server.stop()
    }

    @Test func aGitHubEnterpriseServerThatRefusesReturnRunDetailsGetsTheDispatchWithoutIt() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.github(declared: ["since", "features", "epochs"], runDetails: false, knowsRunDetails: false))
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(Self.githubAction + "api_url: http://127.0.0.1:\(server.port)")
            try await TriggerDispatchTests.enqueue(client, preset: "github_workflow_dispatch")
            #expect(try await dispatcher(client, m).runUntilIdle(wait: 5).delivered == 1)
            let row = try await TriggerDispatchTests.row(client)
            #expect(row.state == "delivered" && row.lastStatus == 204 && row.runID == nil && row.attempts == 1)
            let sent = server.requests.map { Self.json($0.body)?.value(at: "return_run_details") }
            #expect(sent == [.bool(true), nil], "refused with the key, dispatched once without it")
            #expect(row.history.last?.value(at: "note")?.scalarText?.contains("set return_run_details: false") == true, "\(row.history)")
            let follow = try await client.withConnection { c in
                try c.query("SELECT run_state FROM trigger_outbox", name: "t")[0].optionalString("run_state")
            }
            #expect(follow == nil, "no run id: not followed")
        }
        await server.stop()
    }

    @Test func anOlderGitHubAnswering204IsDeliveredWithoutARunID() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.github(declared: ["since", "features", "epochs", "action_id"], runDetails: false))
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(Self.githubAction + "send_action_id: true\napi_url: http://127.0.0.1:\(server.port)")
            try await TriggerDispatchTests.enqueue(client, preset: "github_workflow_dispatch")
            #expect(try await dispatcher(client, m).runUntilIdle(wait: 5).delivered == 1)
            let row = try await TriggerDispatchTests.row(client)
            #expect(row.state == "delivered" && row.lastStatus == 204 && row.runID == nil)
            #expect(
                server.requests.first.flatMap { Self.json($0.body)?.value(at: "inputs.action_id") } == .string(Self.actionID),
                "send_action_id: the workflow declares action_id and receives it")
        }
        await server.stop()
    }

    @Test func theGitHubServerRefusesAnUndeclaredActionID() async throws {
        // what every dispatch sent before: action_id injected into a workflow that does not declare it
        let old = #"{"ref":"main","inputs":{"since":"x","action_id":"m:t:a"}}"#
        let reply = try await Self.send(
            old, path: "/repos/acme/fraud-model/actions/workflows/retrain.yml/dispatches", to: Self.github(declared: ["since"]))
        #expect(reply.status == 422 && Self.json(reply.body)?.value(at: "message") == .string(#"Unexpected inputs provided: ["action_id"]"#))
    }

    // MARK: Kubeflow Pipelines

    /// A multi-user KFP API server (v2beta1) with one pipeline whose inputs are typed: CreateRun needs
    /// `experiment_id`, ListRuns needs `namespace`; a parameter of the wrong type is refused as the driver would; a
    /// call without the `kubeflow-userid` identity is 401.
    final class KubeflowServer: @unchecked Sendable {
        let lock = NSLock()
        var runs: [String] = []
        var loseNextAnswer = true
        static let types = [
            "epochs": "NUMBER_INTEGER", "lr": "NUMBER_DOUBLE", "since": "STRING", "tag": "STRING", "features": "STRING", "full": "BOOLEAN"
        ]

        func reply(_ r: RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply {
            func invalid(_ m: String) -> RecordingHTTPServer.Reply { .init(status: 400, body: #"{"error":"\#(m)","code":3,"message":"\#(m)"}"#) }
            // multi-user KFP authenticates every call by the identity header the mesh (or our kubeflow_userid) sets
            guard r.headers["kubeflow-userid"] == "alice@example.com" else {
                let m = "Request header error: there is no user identity header."
                return .init(status: 401, body: #"{"error":"\#(m)","code":16,"message":"\#(m)"}"#)
            }
            if r.method == "GET", r.path.hasPrefix("/apis/v2beta1/runs?") {
                let query = URLComponents(string: r.path)?.queryItems ?? []
                guard query.first(where: { $0.name == "namespace" })?.value == "team-a" else {
                    return invalid("Invalid ListRuns request. No namespace provided in multi-user mode.")
                }
                let found = lock.withLock { runs }
                return .init(status: 200, body: found.isEmpty ? "{}" : #"{"runs":[{"run_id":"\#(found[0])","display_name":"x"}],"total_size":1}"#)
            }
            guard r.method == "POST", r.path == "/apis/v2beta1/runs", let run = json(r.body) else { return .init(status: 404) }
            guard run.value(at: "experiment_id")?.scalarText == "e-3" else {
                return invalid("Validate create run request failed.: Run experiment ID is empty.")
            }
            guard case .object(let parameters)? = run.value(at: "runtime_config.parameters") else { return invalid("missing parameters") }
            for (name, value) in parameters {
                guard let type = Self.types[name] else { return invalid("parameter \(name) is not declared by the pipeline") }
                let ok: Bool
                switch (type, value) {
                case ("NUMBER_INTEGER", .number(let d)): ok = d == d.rounded()
                case ("NUMBER_DOUBLE", .number): ok = true
                case ("STRING", .string), ("LIST", .array), ("BOOLEAN", .bool): ok = true
                default: ok = false
                }
                if !ok {
                    return invalid(
                        "input parameter \(name) requires type \(type) but got \(value.serialized().replacingOccurrences(of: "\"", with: "'"))")
                }
            }
            let id = "kfp-\(UUID().uuidString.prefix(8).lowercased())"
            let lose = lock.withLock {
                runs.append(id)
                defer { loseNextAnswer = false }
                return loseNextAnswer
            }
            return lose ? .init(status: 503, body: "upstream connect error") : .init(status: 200, body: #"{"run_id":"\#(id)","state":"PENDING"}"#)
        }
    }

    @Test func aMultiUserKubeflowRunHasTypedParametersAndItsResendFindsTheRunInsteadOfADuplicate() async throws {
        let kfp = KubeflowServer()
        let server = RecordingHTTPServer()
        try await server.start { kfp.reply($0) }
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(
                """
                preset: kubeflow_run
                host: http://127.0.0.1:\(server.port)
                pipeline_id: p-1
                experiment_id: e-3
                namespace: team-a
                auth: {type: kubeflow_userid, user: alice@example.com}
                backoff: 0.01
                parameters: {epochs: 10, lr: 0.01, since: "{{window_start}}", tag: "10", features: "{{drifted_features}}", full: true}
                """)
            try await TriggerDispatchTests.enqueue(client, preset: "kubeflow_run")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 5)
            #expect(c.delivered == 1 && c.retried == 1 && c.dead == 0)
            let row = try await TriggerDispatchTests.row(client)
            let created = kfp.lock.withLock { kfp.runs }
            #expect(created.count == 1, "one run, although the first answer was lost")
            #expect(row.state == "delivered" && row.runID == created.first)
            #expect(server.requests.map(\.method) == ["POST", "GET"], "the resend looked the run up in the namespace and sent nothing")
            let body = try #require(server.requests.first.flatMap { Self.json($0.body) })
            #expect(
                Self.canonical(body.value(at: "runtime_config.parameters"))
                    == Self.canonical(#"{"epochs":10,"lr":0.01,"since":"2026-11-25T17:00:00Z","tag":"10","features":"amount","full":true}"#),
                "literals keep their YAML type; placeholders render as text (pipeline inputs fed from the drift context are str)")
        }
        await server.stop()
    }

    @Test func theKubeflowServerRefusesStringParametersForNumbers() async throws {
        // what every run sent before: all parameters as strings
        let old = #"{"display_name":"x","experiment_id":"e-3","runtime_config":{"parameters":{"epochs":"10"}}}"#
        let kfp = KubeflowServer()
        let reply = try await Self.send(old, path: "/apis/v2beta1/runs", headers: [("kubeflow-userid", "alice@example.com")]) { kfp.reply($0) }
        #expect(reply.status == 400 && reply.text.contains("input parameter epochs requires type NUMBER_INTEGER"))
    }

    @Test func aMultiUserKubeflowActionNeedsItsExperiment() {
        let p = ActionsConfigTests.problems("retrain: {preset: kubeflow_run, host: \"https://kfp\", pipeline_id: p, namespace: team-a}")
        #expect(p.contains { $0.contains("a multi-user Kubeflow (`namespace`) needs `experiment_id`") }, "\(p)")
    }

    // MARK: Azure ML batch endpoint

    /// The scoring URI ends in /jobs (anything else is 404, as `…/jobs/jobs` is); `azureml-model-deployment`
    /// must name a deployment; `InputData` is required, `OutputData` entries need JobOutputType and Uri.
    static func batchEndpoint(_ r: RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply {
        guard r.method == "POST", r.path == "/jobs" else { return .init(status: 404, body: #"{"error":{"code":"NotFound"}}"#) }
        if let d = r.headers["azureml-model-deployment"], d != "blue" {
            return .init(status: 400, body: #"{"error":{"code":"UserError","message":"Deployment \#(d) not found"}}"#)
        }
        guard let body = json(r.body), case .object? = body.value(at: "properties.InputData") else {
            return .init(status: 400, body: #"{"error":{"code":"UserError","message":"InputData is required"}}"#)
        }
        if case .object(let outputs)? = body.value(at: "properties.OutputData") {
            for (_, o) in outputs where o.value(at: "JobOutputType")?.scalarText == nil || o.value(at: "Uri")?.scalarText == nil {
                return .init(status: 400, body: #"{"error":{"code":"UserError","message":"OutputData needs JobOutputType and Uri"}}"#)
            }
        }
        return .init(status: 200, body: #"{"id":"/subscriptions/s/…/jobs/batchjob-7","name":"batchjob-7","properties":{"status":"NotStarted"}}"#)
    }

    @Test func aBatchEndpointIsInvokedAtItsScoringURIWithTheDeployment() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.batchEndpoint)
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(
                """
                preset: azureml_batch_endpoint
                endpoint: http://127.0.0.1:\(server.port)/jobs
                deployment: blue
                experiment_name: drift-retrain
                auth: {type: none}
                max_attempts: 1
                inputs: {window: {JobInputType: UriFolder, Uri: "azureml://datastores/capture/paths/{{monitor}}/{{window_start}}/"}}
                outputs: {score: {JobOutputType: UriFolder, Uri: "azureml://datastores/out/paths/{{monitor}}/"}}
                """)
            try await TriggerDispatchTests.enqueue(client, preset: "azureml_batch_endpoint")
            #expect(try await dispatcher(client, m).runUntilIdle(wait: 5).delivered == 1)
            let row = try await TriggerDispatchTests.row(client)
            // the job's ARM id is the run id: its status is read from Resource Manager (`RunFollowingTests`)
            #expect(row.state == "delivered" && row.lastStatus == 200 && row.runID == "/subscriptions/s/…/jobs/batchjob-7")
            let r = try #require(server.requests.first)
            #expect(r.path == "/jobs" && r.headers["azureml-model-deployment"] == "blue")
            #expect(Self.json(r.body)?.value(at: "properties.properties.experimentName") == .string("drift-retrain"))
            #expect(Self.json(r.body)?.value(at: "properties.OutputData.score.Uri") == .string("azureml://datastores/out/paths/fraud-scorer/"))
        }
        await server.stop()
    }

    // MARK: Azure DevOps

    /// Azure DevOps Pipelines - Run Pipeline (api-version 7.1): no or bad credentials get 203 and the HTML sign-in
    /// page; `templateParameters` must be strings the YAML pipeline declares ("Unexpected parameter"); the answer is
    /// the Run.
    static func azureDevOps(declared: Set<String>) -> @Sendable (RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply {
        { r in
            guard r.headers["authorization"] == "Basic " + Data(":pat-1".utf8).base64EncodedString() else {
                return .init(
                    status: 203, headers: [("Content-Type", "text/html; charset=utf-8")],
                    body: "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head></html>")
            }
            guard r.method == "POST", r.path == "/acme/ml%20ops/_apis/pipelines/12/runs?api-version=7.1", let body = json(r.body) else {
                return .init(status: 404, body: #"{"message":"The controller for path was not found","typeKey":"HttpException"}"#)
            }
            func fail(_ m: String) -> RecordingHTTPServer.Reply {
                .init(
                    status: 400,
                    body:
                        #"{"$id":"1","innerException":null,"message":"\#(m)","typeName":"Microsoft.Azure.Pipelines.WebApi.PipelineValidationException, Microsoft.Azure.Pipelines.WebApi","typeKey":"PipelineValidationException","errorCode":0}"#
                )
            }
            guard case .string? = body.value(at: "resources.repositories.self.refName") else { return fail("refName is required") }
            if case .object(let params)? = body.value(at: "templateParameters") {
                for (k, v) in params {
                    guard declared.contains(k) else { return fail("Unexpected parameter '\(k)'") }
                    guard case .string = v else { return fail("Error converting value for parameter '\(k)'") }
                }
            }
            return .init(
                status: 200,
                body:
                    #"{"id":77,"name":"20261130.1","state":"inProgress","_links":{"web":{"href":"https://dev.azure.com/acme/ml%20ops/_build/results?buildId=77"}}}"#
            )
        }
    }

    @Test func anAzureDevOpsRunSendsDeclaredStringParametersWithItsCredentials() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.azureDevOps(declared: ["since", "epochs"]))
        let pat = FileManager.default.temporaryDirectory.appendingPathComponent("pat-\(UUID().uuidString)")
        try "pat-1".write(to: pat, atomically: true, encoding: .utf8)
        let action = """
            preset: azure_devops_pipeline
            organization: acme
            project: ml ops
            pipeline_id: 12
            base_url: http://127.0.0.1:\(server.port)
            auth: {type: basic, username: "", password_file: \(pat.path)}

            """
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(action + "max_attempts: 1\nfollow: false\nparameters: {since: \"{{window_start}}\", epochs: 10}")
            try await TriggerDispatchTests.enqueue(client, preset: "azure_devops_pipeline")
            #expect(try await dispatcher(client, m).runUntilIdle(wait: 5).delivered == 1)
            let row = try await TriggerDispatchTests.row(client)
            #expect(row.state == "delivered" && row.lastStatus == 200 && row.runID == "77")
            #expect(
                Self.canonical(server.requests.first.flatMap { Self.json($0.body)?.value(at: "templateParameters") })
                    == Self.canonical(#"{"since":"2026-11-25T17:00:00Z","epochs":"10"}"#))
        }
        // the same action with a wrong token: Azure DevOps' 203 sign-in page is dead at once, not delivered
        try "wrong".write(to: pat, atomically: true, encoding: .utf8)
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(action + "parameters: {since: \"{{window_start}}\"}")
            try await TriggerDispatchTests.enqueue(client, preset: "azure_devops_pipeline")
            let c = try await dispatcher(client, m).runUntilIdle(wait: 5)
            let row = try await TriggerDispatchTests.row(client)
            #expect(c.dead == 1 && row.state == "dead" && row.lastStatus == 203)
            #expect(row.history.last?.value(at: "note")?.scalarText?.contains("sign-in page") == true, "\(row.history)")
        }
        await server.stop()
    }

    @Test func theAzureDevOpsServerRefusesAnUndeclaredParameter() async throws {
        let old = #"{"resources":{"repositories":{"self":{"refName":"refs/heads/main"}}},"templateParameters":{"since":"x","action_id":"m:t:a"}}"#
        let reply = try await Self.send(
            old, path: "/acme/ml%20ops/_apis/pipelines/12/runs?api-version=7.1",
            headers: [("Authorization", "Basic " + Data(":pat-1".utf8).base64EncodedString())], to: Self.azureDevOps(declared: ["since"]))
        #expect(reply.status == 400 && reply.text.contains("Unexpected parameter 'action_id'"))
    }

    // MARK: Azure ML job

    /// ARM Jobs - Create Or Update (2024-04-01): the job's name in the path is an ARM resource name; `jobType` is
    /// required; `environmentVariables`, `tags`, `properties` and a literal input's `value` are typed string in the
    /// schema — a number there is a 400 the way ARM's JSON converter refuses it.
    static func azureMLJobs(_ r: RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply {
        func fail(_ m: String) -> RecordingHTTPServer.Reply { .init(status: 400, body: #"{"error":{"code":"UserError","message":"\#(m)"}}"#) }
        let prefix = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/"
        guard r.method == "PUT", r.path.hasPrefix(prefix), r.path.hasSuffix("?api-version=2024-04-01"), let body = json(r.body) else {
            return .init(status: 404, body: #"{"error":{"code":"ResourceNotFound"}}"#)
        }
        let name = String(r.path.dropFirst(prefix.count).prefix { $0 != "?" })
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }), (1...255).contains(name.count) else {
            return fail("invalid job name")
        }
        guard case .string? = body.value(at: "properties.jobType") else { return fail("properties.jobType is required") }
        for path in ["properties.environmentVariables", "properties.tags", "properties.properties"] {
            if case .object(let pairs)? = body.value(at: path) {
                for (k, v) in pairs { guard case .string = v else { return fail("Could not convert value of \(path).\(k) to String") } }
            }
        }
        if case .object(let inputs)? = body.value(at: "properties.inputs") {
            for (k, v) in inputs where v.value(at: "jobInputType")?.scalarText == "literal" {
                guard case .string? = v.value(at: "value") else { return fail("Could not convert value of properties.inputs.\(k).value to String") }
            }
        }
        return .init(
            status: 201,
            body:
                #"{"id":"\#(r.path.prefix { $0 != "?" })","name":"\#(name)","properties":{"jobType":"Command","status":"NotStarted","services":{"Studio":{"endpoint":"https://ml.azure.com/runs/\#(name)"}}}}"#
        )
    }

    @Test func anAzureMLJobIsAcceptedWithStringsWhereTheSchemaSaysString() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.azureMLJobs)
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("arm-\(UUID().uuidString)")
        try "arm-token".write(to: token, atomically: true, encoding: .utf8)
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(
                """
                preset: azureml_job
                subscription: sub-1
                resource_group: rg
                workspace: ws
                management_url: http://127.0.0.1:\(server.port)
                auth: {type: token, file: \(token.path)}
                max_attempts: 1
                follow: false
                job:
                  jobType: Command
                  command: python train.py --since ${{inputs.since}}
                  environmentId: azureml:train:3
                  computeId: cpu-cluster
                  environmentVariables: {DRIFT_RUN_ID: "{{run_id}}", EPOCHS: 10}
                  inputs: {since: {jobInputType: literal, value: "{{window_start}}"}, epochs: {jobInputType: literal, value: 10}}
                """)
            try await TriggerDispatchTests.enqueue(client, preset: "azureml_job")
            #expect(try await dispatcher(client, m).runUntilIdle(wait: 5).delivered == 1)
            let row = try await TriggerDispatchTests.row(client)
            #expect(row.state == "delivered" && row.lastStatus == 201 && row.runID == TriggerTarget.resourceName(actionID: Self.actionID))
            let body = try #require(server.requests.first.flatMap { Self.json($0.body) })
            #expect(
                body.value(at: "properties.environmentVariables.DRIFT_RUN_ID") == .string("1")
                    && body.value(at: "properties.inputs.epochs.value") == .string("10"))
            // Azure ML's own expression syntax is not a placeholder: the job evaluates it
            #expect(body.value(at: "properties.command") == .string("python train.py --since ${{inputs.since}}"))
        }
        await server.stop()
    }

    // MARK: Argo

    /// argo-server WorkflowService.SubmitWorkflow: `resourceKind` WorkflowTemplate (or ClusterWorkflowTemplate,
    /// CronWorkflow), `resourceName` the template, `submitOptions.parameters` a list of `name=value` strings naming
    /// the template's declared parameters, `submitOptions.name` a DNS-1123 name (≤ 63 for a workflow's pods' labels),
    /// `labels` a comma-separated `k=v` string; a name that exists is 409 AlreadyExists.
    static func argoServer(declared: Set<String>) -> @Sendable (RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply {
        final class Created: @unchecked Sendable {
            let lock = NSLock()
            var names: Set<String> = []
        }
        let created = Created()
        return { r in
            func fail(_ m: String) -> RecordingHTTPServer.Reply { .init(status: 400, body: #"{"code":3,"message":"\#(m)"}"#) }
            guard r.headers["authorization"] == "Bearer sa-token" else {
                return .init(status: 401, body: #"{"code":16,"message":"token not valid"}"#)
            }
            guard r.method == "POST", r.path == "/api/v1/workflows/ml/submit", let body = json(r.body) else {
                return .init(status: 404, body: #"{"code":5,"message":"Not Found"}"#)
            }
            guard body.value(at: "resourceKind")?.scalarText == "WorkflowTemplate", body.value(at: "resourceName")?.scalarText == "retrain-fraud"
            else {
                return .init(status: 404, body: #"{"code":5,"message":"workflowtemplates.argoproj.io not found"}"#)
            }
            guard let name = body.value(at: "submitOptions.name")?.scalarText, name.count <= 63,
                name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
            else { return fail("invalid workflow name") }
            if case .array(let ps)? = body.value(at: "submitOptions.parameters") {
                for p in ps {
                    guard case .string(let kv) = p, let eq = kv.firstIndex(of: "=") else { return fail("parameter must be name=value") }
                    guard declared.contains(String(kv[..<eq])) else { return fail("spec.arguments.\(kv[..<eq]) is not a parameter of the template") }
                }
            } else if body.value(at: "submitOptions.parameters") != nil {
                return fail("submitOptions.parameters must be a list")
            }
            if let labels = body.value(at: "submitOptions.labels"), case .string = labels {
            } else if body.value(at: "submitOptions.labels") != nil {
                return fail("labels must be a string")
            }
            let isNew = created.lock.withLock { created.names.insert(name).inserted }
            guard isNew else { return .init(status: 409, body: #"{"code":6,"message":"workflows.argoproj.io \"\#(name)\" already exists"}"#) }
            return .init(status: 200, body: #"{"metadata":{"name":"\#(name)","namespace":"ml"},"spec":{},"status":{}}"#)
        }
    }

    @Test func anArgoSubmitNamesTheWorkflowAndAResendIsTheSameWorkflow() async throws {
        let server = RecordingHTTPServer()
        try await server.start(Self.argoServer(declared: ["since", "features"]))
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString)")
        try "sa-token".write(to: token, atomically: true, encoding: .utf8)
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(
                """
                preset: argo_workflow_template
                server: http://127.0.0.1:\(server.port)
                namespace: ml
                template: retrain-fraud
                auth: {type: kubernetes_service_account, token_file: \(token.path)}
                follow: false
                parameters: {since: "{{window_start}}", features: "{{drifted_features}}"}
                """)
            try await TriggerDispatchTests.enqueue(client, preset: "argo_workflow_template")
            #expect(try await dispatcher(client, m).runUntilIdle(wait: 5).delivered == 1)
            let name = TriggerTarget.resourceName(actionID: Self.actionID)
            var row = try await TriggerDispatchTests.row(client)
            #expect(row.state == "delivered" && row.lastStatus == 200 && row.runID == name)
            #expect(
                server.requests.first.flatMap { Self.json($0.body)?.value(at: "submitOptions.parameters") }
                    == .array([.string("since=2026-11-25T17:00:00Z"), .string("features=amount")]))
            // a dispatcher that died before recording resends: argo-server answers 409, and that is the same workflow
            try await client.withConnection { c in _ = try c.query("UPDATE trigger_outbox SET state = 'pending', next_attempt_at = now()", name: "t")
            }
            #expect(try await dispatcher(client, m).runUntilIdle(wait: 5).delivered == 1)
            row = try await TriggerDispatchTests.row(client)
            #expect(row.state == "delivered" && row.lastStatus == 409 && row.runID == name && server.requests.count == 2)
        }
        await server.stop()
    }
}
