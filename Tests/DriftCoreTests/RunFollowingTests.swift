import DriftServer
import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Hummingbird
import Testing

@testable import DriftCore

/// Runs followed to their end: a real outbox delivery per preset to a local server that plays the target — it
/// accepts the create and answers the status API with the target's documented states (GitHub "Get a workflow run",
/// Azure DevOps Runs - Get, Azure ML Jobs - Get through ARM, Argo GetWorkflow, KFP v2beta1 GetRun, the Kubernetes
/// Job's conditions) — first running, then succeeded or failed. The row's `run_state` must follow, and the action's
/// `on_success` / `on_failure` must be delivered exactly once (a second dispatcher pass sends nothing more). The
/// webhook's run is ended by its receiver's signed callback through the real HTTP route.
@Suite("Run following: each target's run to its end, and on_success / on_failure exactly once")
struct RunFollowingTests {
    /// A target played by a local server: the action's YAML, the create's answer, the status path and its answers.
    struct Target: Sendable, CustomStringConvertible {
        var preset: String
        var yaml: @Sendable (Int, String) -> String
        var create: @Sendable (RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply?
        var statusPath: @Sendable (String) -> String
        /// The status answer: (running, or the final state succeeded/failed).
        var status: @Sendable (String, Bool?) -> String
        var description: String { preset }
    }

    static let armJob = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/batch-job-7"

    static let targets: [Target] = [
        Target(
            preset: "github_workflow_dispatch",
            yaml: { port, token in
                "preset: github_workflow_dispatch\nrepository: acme/fraud\nworkflow: retrain.yml\napi_url: http://127.0.0.1:\(port)\nauth: {type: token, file: \(token)}"
            },
            create: { r in
                r.method == "POST" && r.path == "/repos/acme/fraud/actions/workflows/retrain.yml/dispatches"
                    ? .init(
                        status: 200,
                        body:
                            #"{"workflow_run_id":5551,"run_url":"https://api.github.com/repos/acme/fraud/actions/runs/5551","html_url":"https://github.com/acme/fraud/actions/runs/5551"}"#
                    ) : nil
            },
            statusPath: { _ in "/repos/acme/fraud/actions/runs/5551" },
            status: { _, final in
                switch final {
                case nil: #"{"id":5551,"status":"in_progress","conclusion":null,"html_url":"https://github.com/acme/fraud/actions/runs/5551"}"#
                case true?: #"{"id":5551,"status":"completed","conclusion":"success","html_url":"https://github.com/acme/fraud/actions/runs/5551"}"#
                case false?: #"{"id":5551,"status":"completed","conclusion":"failure","html_url":"https://github.com/acme/fraud/actions/runs/5551"}"#
                }
            }),
        Target(
            preset: "azure_devops_pipeline",
            yaml: { port, token in
                "preset: azure_devops_pipeline\norganization: acme\nproject: ml\npipeline_id: 12\nbase_url: http://127.0.0.1:\(port)\nauth: {type: basic, username: \"\", password_file: \(token)}"
            },
            create: { r in
                r.method == "POST" && r.path == "/acme/ml/_apis/pipelines/12/runs?api-version=7.1"
                    ? .init(
                        status: 200,
                        body:
                            #"{"id":77,"name":"20261130.1","state":"inProgress","_links":{"web":{"href":"https://dev.azure.com/acme/ml/_build/results?buildId=77"}}}"#
                    ) : nil
            },
            statusPath: { _ in "/acme/ml/_apis/pipelines/12/runs/77?api-version=7.1" },
            status: { _, final in
                switch final {
                case nil: #"{"id":77,"state":"inProgress","_links":{"web":{"href":"https://dev.azure.com/acme/ml/_build/results?buildId=77"}}}"#
                case true?:
                    #"{"id":77,"state":"completed","result":"succeeded","_links":{"web":{"href":"https://dev.azure.com/acme/ml/_build/results?buildId=77"}}}"#
                case false?:
                    #"{"id":77,"state":"completed","result":"failed","_links":{"web":{"href":"https://dev.azure.com/acme/ml/_build/results?buildId=77"}}}"#
                }
            }),
        Target(
            preset: "azureml_job",
            yaml: { port, token in
                "preset: azureml_job\nsubscription: s-1\nresource_group: rg\nworkspace: ws\nmanagement_url: http://127.0.0.1:\(port)\nauth: {type: token, file: \(token)}\njob: {jobType: Command, command: python train.py, environmentId: azureml:train:1, computeId: cpu}"
            },
            create: { r in
                guard r.method == "PUT",
                    r.path.hasPrefix("/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/drift-")
                else { return nil }
                let name = r.path.split(separator: "/").last!.split(separator: "?").first!
                return .init(
                    status: 201,
                    body:
                        #"{"name":"\#(name)","properties":{"status":"NotStarted","services":{"Studio":{"endpoint":"https://ml.azure.com/runs/\#(name)"}}}}"#
                )
            },
            statusPath: { name in
                "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/\(name)?api-version=2024-04-01"
            },
            status: { name, final in
                #"{"name":"\#(name)","properties":{"status":"\#(final == nil ? "Running" : final! ? "Completed" : "Failed")","services":{"Studio":{"endpoint":"https://ml.azure.com/runs/\#(name)"}}}}"#
            }),
        Target(
            preset: "azureml_batch_endpoint",
            // workload identity (the preset's default): the invoke gets a token for https://ml.azure.com, the status check
            // one for Resource Manager (here the local server standing in for it)
            yaml: { port, _ in
                "preset: azureml_batch_endpoint\nendpoint: http://127.0.0.1:\(port)/jobs\nmanagement_url: http://127.0.0.1:\(port)\ninputs: {window: {JobInputType: UriFolder, Uri: \"azureml://datastores/d/paths/x/\"}}"
            },
            create: { r in
                r.method == "POST" && r.path == "/jobs"
                    ? .init(status: 200, body: #"{"id":"\#(armJob)","name":"batch-job-7","properties":{"status":"Queued"}}"#) : nil
            },
            statusPath: { _ in "\(armJob)?api-version=2024-04-01" },
            status: { _, final in
                #"{"id":"\#(armJob)","name":"batch-job-7","properties":{"status":"\#(final == nil ? "Running" : final! ? "Completed" : "Failed")","services":{"Studio":{"endpoint":"https://ml.azure.com/runs/batch-job-7"}}}}"#
            }),
        Target(
            preset: "argo_workflow_template",
            yaml: { port, token in
                "preset: argo_workflow_template\nserver: http://127.0.0.1:\(port)\nnamespace: ml\ntemplate: retrain\nauth: {type: token, file: \(token)}"
            },
            create: { r in
                guard r.method == "POST", r.path == "/api/v1/workflows/ml/submit", let b = JSONTemplate.parse(r.body),
                    let name = b.value(at: "submitOptions.name")?.scalarText
                else { return nil }
                return .init(status: 200, body: #"{"metadata":{"name":"\#(name)","namespace":"ml"},"status":{}}"#)
            },
            statusPath: { name in "/api/v1/workflows/ml/\(name)" },
            status: { name, final in
                #"{"metadata":{"name":"\#(name)","namespace":"ml"},"status":{"phase":"\#(final == nil ? "Running" : final! ? "Succeeded" : "Failed")"}}"#
            }),
        Target(
            preset: "kubeflow_run",
            yaml: { port, token in "preset: kubeflow_run\nhost: http://127.0.0.1:\(port)\npipeline_id: p-1\nauth: {type: token, file: \(token)}" },
            create: { r in
                r.method == "POST" && r.path == "/apis/v2beta1/runs" ? .init(status: 200, body: #"{"run_id":"r-9","state":"PENDING"}"#) : nil
            },
            statusPath: { _ in "/apis/v2beta1/runs/r-9" },
            status: { _, final in #"{"run_id":"r-9","display_name":"x","state":"\#(final == nil ? "RUNNING" : final! ? "SUCCEEDED" : "FAILED")"}"# }),
        Target(
            preset: "kubernetes_job",
            yaml: { port, token in
                "preset: kubernetes_job\napi_server: http://127.0.0.1:\(port)\nnamespace: ml\nauth: {type: kubernetes_service_account, token_file: \(token)}\njob: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: t, image: acme/train:1}]}}}}"
            },
            create: { r in
                guard r.method == "POST", r.path == "/apis/batch/v1/namespaces/ml/jobs", let b = JSONTemplate.parse(r.body),
                    let name = b.value(at: "metadata.name")?.scalarText
                else { return nil }
                return .init(status: 201, body: #"{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"\#(name)","namespace":"ml"}}"#)
            },
            statusPath: { name in "/apis/batch/v1/namespaces/ml/jobs/\(name)" },
            status: { name, final in
                switch final {
                case nil: #"{"kind":"Job","metadata":{"name":"\#(name)"},"status":{"active":1}}"#
                case true?:
                    #"{"kind":"Job","metadata":{"name":"\#(name)"},"status":{"succeeded":1,"conditions":[{"type":"SuccessCriteriaMet","status":"True"},{"type":"Complete","status":"True"}]}}"#
                case false?:
                    #"{"kind":"Job","metadata":{"name":"\#(name)"},"status":{"failed":1,"conditions":[{"type":"FailureTarget","status":"True"},{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}}"#
                }
            })
    ]

    static let actionID = "fraud-scorer:2026-11-25T17:00:00Z:a"

    /// The sample monitor with action `a` (the followed one) and webhooks `ok` / `bad` it fires when its run ends.
    static func monitor(_ action: String, port: Int) throws -> MonitorConfig {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("sample-data/monitors.yaml"), encoding: .utf8)
        let start = text.range(of: "    actions:\n")!
        func indent(_ s: String) -> String { s.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n") }
        let yaml =
            String(text[..<start.lowerBound]).replacingOccurrences(of: "actions: [retrain, shadow_eval]", with: "actions: [a]")
            + "    actions:\n      a:\n"
            + indent(action + "\nmax_attempts: 1\nfollow_interval: 1\nfollow_interval_cap: 1\non_success: [ok]\non_failure: [bad]") + "\n"
            + "      ok:\n"
            + indent(
                "preset: webhook\nurl: http://127.0.0.1:\(port)/hooks/ok\nbody: {parent: \"{{parent_action}}\", run: \"{{parent_run_id}}\", state: \"{{parent_run_state}}\", url: \"{{parent_run_url}}\"}"
            ) + "\n"
            + "      bad:\n"
            + indent(
                "preset: webhook\nurl: http://127.0.0.1:\(port)/hooks/bad\nbody: {parent: \"{{parent_action}}\", run: \"{{parent_run_id}}\", state: \"{{parent_run_state}}\"}"
            ) + "\n"
        var m = try MonitorsFile.parse(yaml, file: "test.yaml")[0]
        // checks 0.1 s apart instead of the configuration's minimum of 1 s, so the suite stays fast
        if case .trigger(var t)? = m.actions["a"] {
            t.follow.interval = 0.1
            t.follow.intervalCap = 0.1
            m.actions["a"] = .trigger(t)
        }
        return m
    }

    static func tokenFile() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("follow-token-\(UUID().uuidString)")
        try "tok-1".write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    struct Outbox: Sendable {
        var state: String
        var runState: String?
        var runURL: String?
        var detail: String?
        var polls: Int
        var runID: String?
    }

    static func outbox(_ client: PostgresClient) async throws -> [String: Outbox] {
        try await client.withConnection { c in
            var out: [String: Outbox] = [:]
            for r in try c.query("SELECT action, state, run_state, run_url, run_detail, run_polls, external_run_id FROM trigger_outbox", name: "t") {
                out[try r.string("action")] = Outbox(
                    state: try r.string("state"), runState: try r.optionalString("run_state"), runURL: try r.optionalString("run_url"),
                    detail: try r.optionalString("run_detail"), polls: try r.int("run_polls"), runID: try r.optionalString("external_run_id"))
            }
            return out
        }
    }

    /// Entra's token endpoint for workload identity: the access token names the scope it was asked for.
    static func entra(_ r: RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply? {
        guard r.method == "POST", r.path.hasSuffix("/oauth2/v2.0/token") else { return nil }
        let form = URLComponents(string: "?" + String(decoding: r.body, as: UTF8.self))?.queryItems ?? []
        let scope = form.first { $0.name == "scope" }?.value ?? ""
        return .init(status: 200, body: #"{"token_type":"Bearer","expires_in":3600,"access_token":"tok-\#(scope)"}"#)
    }

    func follow(_ target: Target, succeeds: Bool) async throws {
        let server = RecordingHTTPServer()
        let token = try Self.tokenFile()
        // the status API answers "running" to the first check, then the final state
        try await server.start { [server] r in
            if let reply = Self.entra(r) { return reply }
            if r.method == "POST", r.path.hasPrefix("/hooks/") { return .init(status: 202, body: "{}") }
            if target.preset == "azureml_batch_endpoint" {
                let scope = r.method == "POST" ? "https://ml.azure.com/.default" : "http://127.0.0.1:\(server.port)/.default"
                guard r.headers["authorization"] == "Bearer tok-\(scope)" else {
                    return .init(status: 401, body: #"{"error":{"code":"InvalidAuthenticationToken"}}"#)
                }
            }
            if let reply = target.create(r) { return reply }
            if r.method == "POST", r.path.hasPrefix("/hooks/") { return .init(status: 202, body: "{}") }
            guard r.method == "GET" else { return .init(status: 404) }
            let name = TriggerTarget.resourceName(actionID: Self.actionID)
            guard r.path == target.statusPath(name), r.headers["authorization"] != nil else {
                return .init(status: 404, body: #"{"message":"Not Found"}"#)
            }
            let checks = server.requests.filter { $0.method == "GET" && $0.path == r.path }.count
            return .init(status: 200, body: target.status(name, checks < 2 ? nil : succeeds))
        }
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(target.yaml(server.port, token), port: server.port)
            try await TriggerDispatchTests.enqueue(client, preset: target.preset)
            var o = TriggerDispatcher.Options()
            o.crashAfterSend = nil
            let env = [
                "AZURE_CLIENT_ID": "client-1", "AZURE_TENANT_ID": "tenant-\(UUID().uuidString)",
                "AZURE_AUTHORITY_HOST": "http://127.0.0.1:\(server.port)/",
                "AZURE_FEDERATED_TOKEN_FILE": token
            ]
            let dispatcher = TriggerDispatcher(client: client, monitors: [m], options: o, sender: TriggerSender(environment: env))
            let c = try await dispatcher.runUntilIdle(wait: 10)
            let rows = try await Self.outbox(client)
            let a = try #require(rows["a"])
            let fired = succeeds ? "ok" : "bad"
            let other = succeeds ? "bad" : "ok"
            #expect(a.state == "delivered" && a.runState == (succeeds ? "succeeded" : "failed"), "\(target.preset): \(a)")
            #expect(a.polls == 2, "\(target.preset): one check saw running, the next the end: \(a.polls)")
            #expect(c.runsEnded == 1 && c.runsChecked == 2)
            #expect(a.runURL?.hasPrefix("http") == true, "\(target.preset): the run's URL is recorded: \(String(describing: a.runURL))")
            #expect(rows[fired]?.state == "delivered" && rows[other] == nil, "\(target.preset): \(rows.keys.sorted())")
            let hook = server.requests.filter { $0.path.hasPrefix("/hooks/") }
            #expect(
                !server.requests.contains { $0.method == "GET" && $0.path != target.statusPath(TriggerTarget.resourceName(actionID: Self.actionID)) })
            #expect(hook.map(\.path) == ["/hooks/\(fired)"])
            let body = try #require(hook.first.flatMap { JSONTemplate.parse($0.body) })
            #expect(body.value(at: "parent")?.scalarText == "a" && body.value(at: "state")?.scalarText == (succeeds ? "succeeded" : "failed"))
            #expect(body.value(at: "run")?.scalarText == a.runID && a.runID?.isEmpty == false)
            // exactly once: another pass (and a second dispatcher) finds nothing to check or send
            let before = server.requests.count
            let again = try await TriggerDispatcher(client: client, monitors: [m], options: o, sender: TriggerSender(environment: env)).runUntilIdle(
                wait: 0.5)
            #expect(again.attempts == 0 && again.runsChecked == 0 && server.requests.count == before)
        }
        await server.stop()
    }

    @Test(arguments: targets) func aRunThatSucceedsFiresOnSuccessOnce(_ target: Target) async throws {
        try await follow(target, succeeds: true)
    }

    @Test(arguments: targets) func aRunThatFailsFiresOnFailureOnce(_ target: Target) async throws {
        try await follow(target, succeeds: false)
    }

    @Test func aRunWithoutAFinalStateByTheDeadlineTimesOutAndFiresOnFailure() async throws {
        let server = RecordingHTTPServer()
        let token = try Self.tokenFile()
        let target = Self.targets.first { $0.preset == "kubeflow_run" }!
        // a check that fails (503) keeps the run running; then "running" until the deadline
        try await server.start { [server] r in
            if let reply = target.create(r) { return reply }
            if r.method == "POST", r.path.hasPrefix("/hooks/") { return .init(status: 202, body: "{}") }
            let checks = server.requests.filter { $0.method == "GET" }.count
            return checks == 1 ? .init(status: 503, body: "upstream busy") : .init(status: 200, body: target.status("", nil))
        }
        try await TestDatabase.withSchema { client, _ in
            var m = try Self.monitor(target.yaml(server.port, token), port: server.port)
            if case .trigger(var t)? = m.actions["a"] {
                t.follow.deadline = 1
                m.actions["a"] = .trigger(t)
            }
            try await TriggerDispatchTests.enqueue(client, preset: target.preset)
            var o = TriggerDispatcher.Options()
            o.crashAfterSend = nil
            let c = try await TriggerDispatcher(client: client, monitors: [m], options: o).runUntilIdle(wait: 10)
            let rows = try await Self.outbox(client)
            #expect(rows["a"]?.runState == "timed_out" && c.runsEnded == 1, "\(rows)")
            #expect(
                rows["a"]?.detail?.contains("no final state within follow_deadline") == true && rows["a"]?.detail?.contains("RUNNING") == true,
                "\(rows)")
            #expect(rows["bad"]?.state == "delivered" && rows["ok"] == nil)
            #expect(server.requests.filter { $0.path == "/hooks/bad" }.count == 1)
        }
        await server.stop()
    }

    /// A webhook's receiver reports through `POST /v1/runs/{action id}/status` (the route `serve` mounts), signed
    /// with the action's secret: running, then the end; the end fires once; a different end later is a conflict.
    @Test func aWebhookRunIsEndedByItsSignedCallback() async throws {
        let hooks = RecordingHTTPServer()
        try await hooks.start { _ in .init(status: 202, body: #"{"run":{"id":"ext-1"}}"#) }
        let secret = try StandardWebhooks.Secret(TriggerDispatchTests.secret)
        try await TestDatabase.withSchema { client, _ in
            let m = try Self.monitor(
                "preset: webhook\nurl: http://127.0.0.1:\(hooks.port)/hooks/a\nrun_id_field: run.id\nsecrets: [\"\(TriggerDispatchTests.secret)\"]\nfollow: true",
                port: hooks.port)
            let router = Router()
            RunCallbackRoutes(callback: RunCallback(client: client, monitors: [m]), readTimeout: 5).add(to: router)
            let api = LocalHTTPServer()
            try await api.start(router, label: "callback-test")
            func report(_ body: String, id: String = Self.actionID, sign: Bool = true) async throws -> DriftTriggers.HTTPResponse {
                let data = Data(body.utf8)
                var headers = [("Content-Type", "application/json")]
                if sign {
                    headers += StandardWebhooks.headers(
                        id: "msg-\(UUID().uuidString)", timestamp: Int(Date().timeIntervalSince1970), body: data, secrets: [secret])
                }
                let path = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
                let request = DriftTriggers.HTTPRequest(
                    method: "POST", url: "http://127.0.0.1:\(api.port)/v1/runs/\(path)/status", headers: headers, body: data)
                return try await onBlockingPool { try HTTPClient().sendBlocking(request) }
            }
            try await TriggerDispatchTests.enqueue(client, preset: "webhook")
            // before the delivery is recorded: come back later
            #expect(try await report(#"{"action_id":"\#(Self.actionID)","state":"running"}"#).status == 503)
            var o = TriggerDispatcher.Options()
            o.crashAfterSend = nil
            let dispatcher = TriggerDispatcher(client: client, monitors: [m], options: o)
            _ = try await dispatcher.runUntilIdle(wait: 0)
            #expect(try await Self.outbox(client)["a"]?.runState == "running")
            let id = Self.actionID
            #expect(try await report(#"{"action_id":"\#(id)","state":"succeeded"}"#, sign: false).status == 401)
            #expect(try await report(#"{"action_id":"\#(id)","state":"done"}"#).status == 400)
            #expect(try await report(#"{"action_id":"\#(id)","state":"succeeded","url":"javascript:alert(1)"}"#).status == 400)
            // a signed report for another run of the action, replayed here: refused (the body names its action id)
            #expect(try await report(#"{"action_id":"fraud-scorer:2026-11-25T18:00:00Z:a","state":"succeeded"}"#).status == 400)
            // an id that does not exist gets the same answer as a bad signature: nothing is learnt without the secret
            let unknown = try await report(#"{"action_id":"fraud-scorer:nope:a","state":"running"}"#, id: "fraud-scorer:nope:a")
            #expect(unknown.status == 401)
            #expect(try await report(#"{"action_id":"x","state":"running"}"#, id: "x", sign: false).status == 401)
            #expect(
                try await report(
                    #"{"action_id":"\#(id)","state":"running","url":"https://ci.example.com/runs/ext-1","detail":"training\u0000 epoch 3"}"#
                ).status == 200)
            #expect(try await Self.outbox(client)["a"]?.detail == "training  epoch 3", "a NUL cannot reach jsonb")
            #expect(try await report(#"{"action_id":"\#(id)","state":"succeeded","detail":"model v5 registered"}"#).status == 200)
            #expect(try await report(#"{"action_id":"\#(id)","state":"succeeded"}"#).status == 200)  // a resent report: no effect
            #expect(try await report(#"{"action_id":"\#(id)","state":"failed"}"#).status == 409)
            let rows = try await Self.outbox(client)
            #expect(rows["a"]?.runState == "succeeded" && rows["a"]?.runURL == "https://ci.example.com/runs/ext-1" && rows["a"]?.runID == "ext-1")
            #expect(rows["ok"]?.state == "pending" && rows["bad"] == nil)
            let c = try await dispatcher.runUntilIdle(wait: 2)
            #expect(c.delivered == 1 && hooks.requests.filter { $0.path == "/hooks/ok" }.count == 1)
            let status = try await client.withConnection { c in try TriggerStatus.list(c, monitor: nil, actionID: Self.actionID, limit: 10) }
            #expect(status.map(\.action) == ["a", "ok"] && status[1].parentActionID == Self.actionID)
            #expect(TriggerStatus.table(status).contains("succeeded"))
            await api.stop()
        }
        await hooks.stop()
    }

    /// A run id with a NUL (PostgreSQL refuses it in text and jsonb) must not make the delivery unrecordable — which
    /// would leave the row `sending` and resend it after every claim.
    @Test func aRunIDWithControlCharactersIsStoredCleanedAndSentOnce() async throws {
        let hooks = RecordingHTTPServer()
        try await hooks.start { _ in .init(status: 202, body: #"{"run":{"id":"r\u0000\u001b[2Jx"}}"#) }
        try await TestDatabase.withSchema { client, _ in
            let m = try TriggerDispatchTests.monitor(
                "preset: webhook\nurl: http://127.0.0.1:\(hooks.port)/hooks/a\nrun_id_field: run.id\nmax_attempts: 2")
            try await TriggerDispatchTests.enqueue(client, preset: "webhook")
            var o = TriggerDispatcher.Options()
            o.crashAfterSend = nil
            let c = try await TriggerDispatcher(client: client, monitors: [m], options: o).runUntilIdle(wait: 2)
            let row = try await TriggerDispatchTests.row(client)
            #expect(c.delivered == 1 && row.state == "delivered" && row.runID == "r  [2Jx" && hooks.requests.count == 1, "\(row)")
        }
        await hooks.stop()
    }
}
