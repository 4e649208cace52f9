import DriftTestSupport
import Foundation
import Testing

@testable import DriftTriggers

/// Every preset sends its documented request (README, *Trigger presets*) — checked as it arrives at a real
/// server on 127.0.0.1: method, path, headers and body.
@Suite("Trigger presets send their documented requests")
struct PresetTests {
    static let context = TriggerContext(
        actionID: "fraud-scorer:2026-11-25T17:00:00Z:retrain", action: "retrain", monitor: "fraud-scorer", model: "fraud",
        windowStart: "2026-11-25T17:00:00Z", windowEnd: "2026-11-25T18:00:00Z",
        driftedFeatures: ["amount", "score"], runID: 41, reportPath: "/reports/fraud-scorer/2026-11-25T17:00:00Z.html")
    static let name = TriggerTarget.resourceName(actionID: context.actionID)

    /// Sends one attempt of `target` to a recording server and returns what arrived.
    func arrival(
        _ make: (String) -> TriggerTarget, credential: Credential = .none, secrets: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> (RecordingHTTPServer.Recorded, DeliveryAttempt) {
        let server = RecordingHTTPServer()
        try await server.start { r in
            .init(status: 200, body: #"{"id": 7, "name": "job-1", "run_id": "kfp-9", "metadata": {"name": "wf-1"}, "workflow_run_id": 123}"#)
        }
        let action = TriggerAction(
            name: "retrain", target: make("http://127.0.0.1:\(server.port)"), credential: credential,
            signingSecrets: try secrets.map(StandardWebhooks.Secret.init))
        let sender = TriggerSender(environment: environment)
        let attempt = try await onBlockingPool { sender.attempt(action, Self.context, attempt: 1) }
        await server.stop()
        let r = try #require(server.requests.first)
        #expect(r.headers["idempotency-key"] == Self.context.actionID)
        #expect(r.headers["webhook-id"] == Self.context.actionID)
        #expect(r.headers["user-agent"] == "drift-worker")
        return (r, attempt)
    }

    func json(_ data: Data) -> String { JSONTemplate.parse(data).map(Self.canonical) ?? "not JSON" }

    /// JSON with sorted keys, for comparing documents whatever their key order.
    static func canonical(_ t: JSONTemplate) -> String {
        switch t {
        case .object(let pairs): return "{" + pairs.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\(canonical($0.1))" }.joined(separator: ",") + "}"
        case .array(let items): return "[" + items.map(canonical).joined(separator: ",") + "]"
        default: return t.serialized()
        }
    }

    func expectJSON(_ data: Data, _ expected: String) {
        #expect(json(data) == JSONTemplate.parse(Data(expected.utf8)).map(Self.canonical))
    }

    @Test func webhookSendsTheContextSignedWithEveryRotationSecret() async throws {
        let secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24="]
        let (r, attempt) = try await arrival({ .webhook(url: "\($0)/hooks/{{monitor}}", runIDField: "run_id") }, secrets: secrets)
        #expect(r.method == "POST" && r.path == "/hooks/fraud-scorer")
        #expect(r.headers["content-type"] == "application/json")
        expectJSON(
            r.body,
            """
            {"action_id":"fraud-scorer:2026-11-25T17:00:00Z:retrain","action":"retrain","monitor":"fraud-scorer","model":"fraud",
             "window_start":"2026-11-25T17:00:00Z","window_end":"2026-11-25T18:00:00Z","drifted_features":["amount","score"],"run_id":41,
             "report_path":"/reports/fraud-scorer/2026-11-25T17:00:00Z.html"}
            """)
        let signatures = try #require(r.headers["webhook-signature"]).split(separator: " ")
        #expect(signatures.count == 2)
        let ts = try #require(Int(r.headers["webhook-timestamp"] ?? ""))
        for s in secrets {
            #expect(
                StandardWebhooks.verify(
                    id: r.headers["webhook-id"]!, timestamp: ts, signatureHeader: r.headers["webhook-signature"]!,
                    body: r.body, secrets: [try StandardWebhooks.Secret(s)]))
        }
        #expect(attempt.externalRunID == "kfp-9" && attempt.outcome == .delivered(note: "HTTP 200"))
    }

    @Test func webhookTemplatesRenderValuesAndText() throws {
        let body = JSONTemplate.object([
            ("features", .string("{{drifted_features}}")), ("text", .string("drift in {{drifted_features}} of {{model}}")),
            ("run", .string("{{run_id}}")), ("fixed", .number(3))
        ])
        #expect(
            try body.rendered(Self.context).serialized()
                == #"{"features":["amount","score"],"text":"drift in amount,score of fraud","run":41,"fixed":3}"#)
        #expect(throws: JSONTemplate.UnknownVariable(name: "monitr")) { try JSONTemplate.substitute("{{monitr}}", Self.context) }
    }

    @Test func githubWorkflowDispatch() async throws {
        let (r, attempt) = try await arrival(
            {
                .githubWorkflowDispatch(
                    repository: "acme/fraud-model", workflow: "retrain.yml", ref: "main",
                    inputs: [("window_start", "{{window_start}}"), ("features", "{{drifted_features}}")], apiURL: $0)
            },
            credential: .token(source: .env("GH_TOKEN")), environment: ["GH_TOKEN": "ghp_secret"])
        #expect(r.method == "POST" && r.path == "/repos/acme/fraud-model/actions/workflows/retrain.yml/dispatches")
        #expect(r.headers["accept"] == "application/vnd.github+json" && r.headers["x-github-api-version"] == "2022-11-28")
        #expect(r.headers["authorization"] == "Bearer ghp_secret")
        expectJSON(r.body, #"{"ref":"main","inputs":{"window_start":"2026-11-25T17:00:00Z","features":"amount,score"},"return_run_details":true}"#)
        #expect(attempt.externalRunID == "123")
    }

    @Test func githubSendsActionIDOnlyWhenAskedAndCanSkipRunDetails() async throws {
        let (r, _) = try await arrival({
            .githubWorkflowDispatch(
                repository: "acme/fraud-model", workflow: "retrain.yml", inputs: [], apiURL: $0,
                sendActionID: true, returnRunDetails: false)
        })
        expectJSON(r.body, #"{"ref":"main","inputs":{"action_id":"fraud-scorer:2026-11-25T17:00:00Z:retrain"}}"#)
    }

    @Test func azureDevOpsPipeline() async throws {
        let (r, attempt) = try await arrival(
            { .azureDevOpsPipeline(organization: "acme", project: "ml ops", pipelineID: 12, parameters: [("monitor", "{{monitor}}")], baseURL: $0) },
            credential: .basic(username: "", password: .env("ADO_PAT")), environment: ["ADO_PAT": "pat123"])
        #expect(r.method == "POST" && r.path == "/acme/ml%20ops/_apis/pipelines/12/runs?api-version=7.1")
        #expect(r.headers["authorization"] == "Basic " + Data(":pat123".utf8).base64EncodedString())
        expectJSON(r.body, #"{"resources":{"repositories":{"self":{"refName":"refs/heads/main"}}},"templateParameters":{"monitor":"fraud-scorer"}}"#)
        #expect(attempt.externalRunID == "7")
        // opted in: the pipeline declares an `action_id` parameter
        let (opted, _) = try await arrival(
            { .azureDevOpsPipeline(organization: "acme", project: "ml", pipelineID: 12, baseURL: $0, sendActionID: true) },
            credential: .basic(username: "", password: .env("ADO_PAT")), environment: ["ADO_PAT": "pat123"])
        expectJSON(
            opted.body,
            #"{"resources":{"repositories":{"self":{"refName":"refs/heads/main"}}},"templateParameters":{"action_id":"fraud-scorer:2026-11-25T17:00:00Z:retrain"}}"#
        )
    }

    @Test func azureMLBatchEndpoint() async throws {
        let inputs = JSONTemplate.object([
            (
                "window",
                .object([
                    ("JobInputType", .string("UriFolder")),
                    ("Uri", .string("azureml://datastores/capture/paths/fraud/{{window_start}}/"))
                ])
            )
        ])
        let (r, attempt) = try await arrival(
            { .azureMLBatchEndpoint(endpoint: "\($0)/retrain-ep", inputs: inputs) },
            credential: .token(source: .env("T")), environment: ["T": "entra"])
        #expect(r.method == "POST" && r.path == "/retrain-ep/jobs", "an endpoint base URI gets /jobs")
        #expect(r.headers["azureml-model-deployment"] == nil)
        expectJSON(
            r.body,
            #"{"properties":{"InputData":{"window":{"JobInputType":"UriFolder","Uri":"azureml://datastores/capture/paths/fraud/2026-11-25T17:00:00Z/"}}}}"#
        )
        #expect(attempt.externalRunID == "job-1")
        // the scoring URI as shown by Azure ML (ending in /jobs) is used as given, with deployment, outputs and experiment
        let outputs = JSONTemplate.object([
            ("score", .object([("JobOutputType", .string("UriFolder")), ("Uri", .string("azureml://datastores/out/paths/{{monitor}}/"))]))
        ])
        let (r2, _) = try await arrival({
            .azureMLBatchEndpoint(
                endpoint: "\($0)/jobs", inputs: inputs, outputs: outputs, deployment: "blue",
                experimentName: "drift-{{monitor}}")
        })
        #expect(r2.path == "/jobs" && r2.headers["azureml-model-deployment"] == "blue")
        expectJSON(
            r2.body,
            """
            {"properties":{"InputData":{"window":{"JobInputType":"UriFolder","Uri":"azureml://datastores/capture/paths/fraud/2026-11-25T17:00:00Z/"}},
             "OutputData":{"score":{"JobOutputType":"UriFolder","Uri":"azureml://datastores/out/paths/fraud-scorer/"}},
             "properties":{"experimentName":"drift-fraud-scorer"}}}
            """)
    }

    @Test func azureMLJobIsAnARMPutNamedAfterTheAction() async throws {
        let job = JSONTemplate.object([
            ("jobType", .string("Command")), ("command", .string("python train.py --since {{window_start}}")),
            ("environmentId", .string("azureml:train-env:3")), ("computeId", .string("gpu-cluster"))
        ])
        let (r, _) = try await arrival({ .azureMLJob(subscription: "sub-1", resourceGroup: "rg", workspace: "ws", job: job, managementURL: $0) })
        #expect(r.method == "PUT")
        #expect(
            r.path
                == "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/\(Self.name)?api-version=2024-04-01"
        )
        expectJSON(
            r.body,
            """
            {"properties":{"jobType":"Command","command":"python train.py --since 2026-11-25T17:00:00Z","environmentId":"azureml:train-env:3",
             "computeId":"gpu-cluster","displayName":"\(Self.name)","tags":{"drift-worker/action-id":"fraud-scorer:2026-11-25T17:00:00Z:retrain","drift-worker/monitor":"fraud-scorer"}}}
            """)
    }

    @Test func argoWorkflowTemplate() async throws {
        let (r, attempt) = try await arrival({
            .argoWorkflowTemplate(server: $0, namespace: "ml", template: "retrain-fraud", parameters: [("since", "{{window_start}}")])
        })
        #expect(r.method == "POST" && r.path == "/api/v1/workflows/ml/submit")
        expectJSON(
            r.body,
            """
            {"namespace":"ml","resourceKind":"WorkflowTemplate","resourceName":"retrain-fraud",
             "submitOptions":{"name":"\(Self.name)","parameters":["since=2026-11-25T17:00:00Z"],"labels":"drift-worker/action=\(Self.name)"}}
            """)
        #expect(attempt.externalRunID == "wf-1")
    }

    @Test func kubeflowRun() async throws {
        let parameters = JSONTemplate.object([
            ("since", .string("{{window_start}}")), ("epochs", .number(10)), ("tag", .string("10")),
            ("features", .string("{{drifted_features}}")), ("drift_run", .string("{{run_id}}")), ("full", .bool(true))
        ])
        let (r, attempt) = try await arrival({
            .kubeflowRun(host: $0, pipelineID: "p-1", pipelineVersionID: "v-2", experimentID: "e-3", parameters: parameters)
        })
        #expect(r.method == "POST" && r.path == "/apis/v2beta1/runs")
        expectJSON(
            r.body,
            """
            {"display_name":"\(Self.name)","description":"drift-worker action fraud-scorer:2026-11-25T17:00:00Z:retrain",
             "pipeline_version_reference":{"pipeline_id":"p-1","pipeline_version_id":"v-2"},
             "runtime_config":{"parameters":{"since":"2026-11-25T17:00:00Z","epochs":10,"tag":"10","features":"amount,score","drift_run":"41","full":true}},
             "experiment_id":"e-3"}
            """)
        #expect(attempt.externalRunID == "kfp-9")
    }

    @Test func kubernetesJobFromATemplate() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "k8s-sa-token\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let job = JSONTemplate.object([
            (
                "metadata",
                .object([("generateName", .string("ignored-")), ("labels", .object([("team", .string("fraud")), ("run", .string("{{run_id}}"))]))])
            ),
            (
                "spec",
                .object([
                    ("backoffLimit", .number(0)),
                    (
                        "template",
                        .object([
                            (
                                "spec",
                                .object([
                                    ("restartPolicy", .string("Never")),
                                    (
                                        "containers",
                                        .array([
                                            .object([
                                                ("name", .string("train")), ("image", .string("acme/train:1")),
                                                ("args", .array([.string("--since"), .string("{{window_start}}"), .string("{{drifted_features}}")])),
                                                (
                                                    "env",
                                                    .array([
                                                        .object([("name", .string("DRIFT_RUN_ID")), ("value", .string("{{run_id}}"))]),
                                                        .object([("name", .string("EPOCHS")), ("value", .number(10))])
                                                    ])
                                                )
                                            ])
                                        ])
                                    )
                                ])
                            )
                        ])
                    )
                ])
            )
        ])
        let (r, attempt) = try await arrival(
            { .kubernetesJob(apiServer: $0, namespace: "ml", job: job) },
            credential: .kubernetesServiceAccount(tokenFile: dir.appendingPathComponent("token").path))
        #expect(r.method == "POST" && r.path == "/apis/batch/v1/namespaces/ml/jobs")
        #expect(r.headers["authorization"] == "Bearer k8s-sa-token")
        expectJSON(
            r.body,
            """
            {"apiVersion":"batch/v1","kind":"Job",
             "metadata":{"name":"\(Self.name)","namespace":"ml","labels":{"team":"fraud","run":"41","app.kubernetes.io/managed-by":"drift-worker"},
                         "annotations":{"drift-worker/action-id":"fraud-scorer:2026-11-25T17:00:00Z:retrain","drift-worker/monitor":"fraud-scorer"}},
             "spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"train","image":"acme/train:1","args":["--since","2026-11-25T17:00:00Z","amount,score"],
                "env":[{"name":"DRIFT_RUN_ID","value":"41"},{"name":"EPOCHS","value":"10"}]}]}}}}
            """)
        #expect(attempt.externalRunID == "wf-1")
    }

    @Test func stringFieldsRenderTextWhereTheSchemaSaysString() throws {
        let fields = StringFields(["**.env.*.value", "**.args.*", "metadata.labels.*"])
        #expect(fields.contains(["spec", "template", "spec", "initContainers", "0", "env", "3", "value"]))
        #expect(fields.contains(["env", "0", "value"]), "** matches zero segments")
        #expect(!fields.contains(["spec", "env", "0", "name", "value"]) && !fields.contains(["metadata", "annotations", "a"]))
        let t = JSONTemplate.object([
            (
                "env",
                .array([
                    .object([("value", .string("{{drifted_features}}"))]), .object([("value", .bool(true))]),
                    .object([("value", .null)])
                ])
            ),
            ("args", .array([.string("{{run_id}}"), .number(0.5)])), ("body", .string("{{run_id}}"))
        ])
        #expect(
            try t.rendered(Self.context, strings: fields).serialized()
                == #"{"env":[{"value":"amount,score"},{"value":"true"},{"value":null}],"args":["41","0.5"],"body":41}"#)
        var unknown = Self.context
        unknown.runID = nil
        #expect(
            try t.rendered(unknown, strings: fields).value(at: "args.0") == .string(""), "an unknown run id is the empty string in a string field")
        let bad = JSONTemplate.object([("env", .array([.object([("value", .array([.string("a")]))])])), ("args", .array([.object([])]))])
        #expect(bad.nonStrings(fields) == ["env.0.value", "args.0"])
    }

    @Test func kubeflowLookupOnlySaysAbsentForAWellFormedAnswer() {
        let t = TriggerTarget.kubeflowRun(host: "http://kfp", pipelineID: "p", pipelineVersionID: nil, experimentID: "e", namespace: "team-a")
        let url = t.lookup(Self.context)!.url
        #expect(url.contains("&experiment_id=e") && url.contains("&namespace=team-a"))
        func answer(_ status: Int, _ body: String) -> TriggerTarget.LookupResult? {
            t.interpretLookup(HTTPResponse(status: status, headers: [], body: Data(body.utf8), seconds: 0))
        }
        #expect(answer(200, "{}") == .absent && answer(200, #"{"runs":[]}"#) == .absent)
        #expect(answer(200, #"{"runs":[{"run_id":"r-1"}]}"#) == .found(runID: "r-1"))
        #expect(answer(200, "<html>sign in</html>") == nil && answer(200, "") == nil && answer(200, #"{"runs":"x"}"#) == nil)
        #expect(answer(400, #"{"error":"Invalid ListRuns request. No namespace provided in multi-user mode."}"#) == nil)
    }

    @Test func resourceNamesAreStableDNSLabels() {
        let ids = [
            "fraud-scorer:2026-11-25T17:00:00Z:retrain",
            "A Very_Long Monitor Name With Spaces And Ünïcode that goes on and on:2026-11-25T17:00:00Z:retrain_pipeline",
            "m:2026-11-25T17:00:00Z:x", ":::"
        ]
        for id in ids {
            let n = TriggerTarget.resourceName(actionID: id)
            #expect(n == TriggerTarget.resourceName(actionID: id))
            #expect(n.count <= 63 && n.first!.isLetter && (n.last!.isLetter || n.last!.isNumber))
            #expect(n.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }, "\(n)")
        }
        #expect(Set(ids.map(TriggerTarget.resourceName)).count == ids.count)
        #expect(TriggerTarget.resourceName(actionID: ids[0]).hasPrefix("drift-fraud-scorer-retrain-"))
    }
}
