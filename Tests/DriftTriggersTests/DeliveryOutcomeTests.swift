import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

@Suite("What counts as delivered per target, GitHub rate limits and redirects, service-account CA scoping")
struct DeliveryOutcomeTests {
    static let context = TriggerContext(
        actionID: "fraud-scorer:2026-11-25T17:00:00Z:retrain", action: "retrain", monitor: "fraud-scorer", model: "fraud",
        windowStart: "2026-11-25T17:00:00Z", windowEnd: "2026-11-25T18:00:00Z",
        driftedFeatures: ["amount", "score"], runID: 41, reportPath: "")
    /// A whole second, so `x-ratelimit-reset` (epoch seconds) is exact.
    static let now = Date(timeIntervalSince1970: Double(Int(Date().timeIntervalSince1970)))

    func attempt(_ target: TriggerTarget, credential: Credential = .none, environment: [String: String] = [:]) async throws -> DeliveryAttempt {
        let action = TriggerAction(
            name: "retrain", target: target, credential: credential, policy: DeliveryPolicy(maxAttempts: 5, baseSeconds: 2, capSeconds: 60))
        let sender = TriggerSender(environment: environment)
        return try await onBlockingPool { sender.attempt(action, Self.context, attempt: 1, now: Self.now, random: 0.5) }
    }

    func server(_ respond: @escaping @Sendable (RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply) async throws -> (
        RecordingHTTPServer, String
    ) {
        let s = RecordingHTTPServer()
        try await s.start(respond)
        return (s, "http://127.0.0.1:\(s.port)")
    }

    @Test func azureDevOpsSignInPageIsNotDelivered() async throws {
        let page = "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head></html>"
        let (s, base) = try await server { _ in .init(status: 203, headers: [("Content-Type", "text/html; charset=utf-8")], body: page) }
        let pat: Credential = .basic(username: "", password: .literal("expired-pat"))
        let a = try await attempt(.azureDevOpsPipeline(organization: "acme", project: "ml", pipelineID: 12, baseURL: base), credential: pat)
        guard case .dead(let reason) = a.outcome else {
            Issue.record("203 + sign-in page must be dead, got \(a.outcome)")
            return
        }
        #expect(reason.hasPrefix("Azure DevOps answered 203 with a sign-in page: the credentials are missing or invalid; set auth"), "\(reason)")
        #expect(a.externalRunID == nil && a.status == 203)
        await s.stop()

        #expect(
            TriggerTarget.azureDevOpsPipeline(organization: "acme", project: "ml", pipelineID: 12).credentialProblem(.none)?
                .hasPrefix("azure_devops_pipeline needs credentials") == true)
        #expect(TriggerTarget.azureDevOpsPipeline(organization: "acme", project: "ml", pipelineID: 12).credentialProblem(pat) == nil)
        #expect(TriggerTarget.webhook(url: "https://h/").credentialProblem(.none) == nil)
    }

    @Test func documentedStatusesAndJSONBodiesOnly() async throws {
        let (s, base) = try await server { r in
            switch r.path {
            case "/apis/v2beta1/runs":
                .init(status: 200, headers: [("Content-Type", "text/html")], body: "<html><body>Sign in with Dex</body></html>")
            case "/kfp2/apis/v2beta1/runs": .init(status: 204)
            case "/ok/apis/batch/v1/namespaces/ml/jobs":
                .init(status: 201, headers: [("Content-Type", "application/json")], body: #"{"metadata":{"name":"drift-x"}}"#)
            default: .init(status: 200, headers: [("Content-Type", "text/plain")], body: "OK")
            }
        }
        let html = try await attempt(.kubeflowRun(host: base, pipelineID: "p-1", pipelineVersionID: nil, experimentID: nil))
        guard case .dead(let r1) = html.outcome else {
            Issue.record("200 + HTML from KFP must be dead, got \(html.outcome)")
            return
        }
        #expect(r1.contains("HTTP 200 with a body that is not JSON (text/html), an HTML page: the Kubeflow Pipelines API answers with JSON"), "\(r1)")

        let empty = try await attempt(.kubeflowRun(host: base + "/kfp2", pipelineID: "p-1", pipelineVersionID: nil, experimentID: nil))
        guard case .dead(let r2) = empty.outcome else {
            Issue.record("204 is not KFP's success, got \(empty.outcome)")
            return
        }
        #expect(r2.hasPrefix("HTTP 204: not a status the Kubeflow Pipelines API reports success with (expected 200)"), "\(r2)")

        let job: JSONTemplate = .object([("spec", .object([]))])
        let text = try await attempt(.kubernetesJob(apiServer: base, namespace: "ml", job: job))
        guard case .dead(let r3) = text.outcome else {
            Issue.record("200 + text from the API server must be dead, got \(text.outcome)")
            return
        }
        #expect(r3.contains("not JSON (text/plain)"), "\(r3)")

        let created = try await attempt(.kubernetesJob(apiServer: base + "/ok", namespace: "ml", job: job))
        #expect(created.outcome == .delivered(note: "HTTP 201") && created.externalRunID == "drift-x")

        let hook = try await attempt(.webhook(url: base + "/hook"))
        #expect(hook.outcome == .delivered(note: "HTTP 200"), "a webhook: any 2xx, any body")
        await s.stop()
    }

    @Test func gitHubRateLimitsWaitOtherRefusalsAreDead() async throws {
        let reset = Int(Self.now.timeIntervalSince1970) + 2
        let (s, base) = try await server { r in
            if r.path.contains("/primary/") {
                return .init(
                    status: 403, headers: [("x-ratelimit-limit", "5000"), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "\(reset)")],
                    body: #"{"message":"API rate limit exceeded for user ID 1."}"#)
            }
            if r.path.contains("/secondary/") { return .init(status: 429, headers: [("retry-after", "30")], body: #"{"message":"slow down"}"#) }
            if r.path.contains("/worded/") { return .init(status: 403, body: #"{"message":"You have exceeded a secondary rate limit."}"#) }
            return .init(status: 403, body: #"{"message":"Resource not accessible by integration"}"#)
        }
        func gh(_ repo: String) -> TriggerTarget { .githubWorkflowDispatch(repository: "\(repo)/fraud-model", workflow: "retrain.yml", apiURL: base) }
        let primary = try await attempt(gh("primary"))
        #expect(
            primary.outcome
                == .retry(afterSeconds: 2, reason: "HTTP 403: rate limit exhausted (x-ratelimit-remaining 0) until x-ratelimit-reset \(reset)"),
            "waits until the reset, not dead")
        let secondary = try await attempt(gh("secondary"))
        #expect(secondary.outcome == .retry(afterSeconds: 30, reason: "HTTP 429: rate limited, retry-after 30"))
        let worded = try await attempt(gh("worded"))
        #expect(worded.outcome == .retry(afterSeconds: 60, reason: "HTTP 403: secondary rate limit"), "no headers: at least a minute")
        let refused = try await attempt(gh("acme"))
        #expect(refused.outcome == .dead(reason: "HTTP 403: the target refused the request; resending cannot help"))
        #expect(s.requests.count == 4)
        await s.stop()

        // pure: capped at an hour; the last attempt gives up; other targets do not read GitHub's headers
        let far = DeliveryPolicy.rateLimitWait(
            status: 429, header: { ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"][$0] }, body: Data(), now: Self.now)
        #expect(far?.seconds == DeliveryPolicy.rateLimitCapSeconds)
        // hostile resets beyond Int's range are waited on (capped) and named, never a trap
        for hostile in ["1e300", "-1e300", "9223372036854775808", "-9223372036854775809"] {
            let w = DeliveryPolicy.rateLimitWait(
                status: 403, header: { ["x-ratelimit-remaining": "0", "x-ratelimit-reset": hostile][$0] }, body: Data(), now: Self.now)
            #expect(w != nil && w!.seconds >= 0 && w!.seconds <= DeliveryPolicy.rateLimitCapSeconds, "\(hostile)")
        }
        #expect(DeliveryPolicy(maxAttempts: 3).afterRateLimit(seconds: 5, reason: "r", attempt: 3) == .dead(reason: "r; gave up after 3 attempts"))
        let limited = HTTPResponse(
            status: 403, headers: [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "\(reset)")], body: Data(), seconds: 0)
        #expect(
            TriggerTarget.webhook(url: "https://h/").outcome(of: limited, policy: DeliveryPolicy(), attempt: 1, now: Self.now, random: 0)
                == .dead(reason: "HTTP 403: the target refused the request; resending cannot help"))
    }

    @Test func renamedRepositoryRedirectIsFollowedWithTheSameRequest() async throws {
        let (s, base) = try await server { r in
            r.path.hasPrefix("/repos/acme/old-name/")
                ? .init(
                    status: 301, headers: [("Location", "/repositories/42/actions/workflows/retrain.yml/dispatches")],
                    body: #"{"message":"Moved Permanently"}"#)
                : .init(status: 204)
        }
        let a = try await attempt(
            .githubWorkflowDispatch(repository: "acme/old-name", workflow: "retrain.yml", apiURL: base),
            credential: .token(source: .literal("ghp_x")))
        #expect(a.url == "\(base)/repositories/42/actions/workflows/retrain.yml/dispatches", "the final URL is recorded")
        #expect(a.redirectedFrom == "\(base)/repos/acme/old-name/actions/workflows/retrain.yml/dispatches")
        guard case .delivered(let note) = a.outcome else {
            Issue.record("followed, then 204: delivered; got \(a.outcome)")
            return
        }
        #expect(note.hasPrefix("HTTP 204 from \(base)/repositories/42/"), "\(note)")
        let reqs = s.requests
        #expect(reqs.map(\.method) == ["POST", "POST"], "POST kept on 301")
        #expect(reqs.count == 2 && reqs[1].body == reqs[0].body && !reqs[1].body.isEmpty)
        #expect(reqs.count == 2 && reqs[1].headers["authorization"] == "Bearer ghp_x", "same host: the credential goes along")
        await s.stop()
    }

    @Test func redirectsToAnotherHostNeverCarryCredentials() async throws {
        let elsewhere = RecordingHTTPServer()
        try await elsewhere.start { _ in .init(status: 204) }
        let other = "http://127.0.0.1:\(elsewhere.port)"
        let (s, base) = try await server { _ in .init(status: 307, headers: [("Location", "\(other)/collect")]) }

        // a preset: not followed at all, dead with where it pointed
        let a = try await attempt(
            .githubWorkflowDispatch(repository: "acme/fraud-model", workflow: "retrain.yml", apiURL: base),
            credential: .token(source: .literal("ghp_secret")))
        guard case .dead(let reason) = a.outcome else {
            Issue.record("a redirect to another host is not followed; got \(a.outcome)")
            return
        }
        #expect(
            reason.hasPrefix("HTTP 307: redirected to \(other)/collect, not followed (only redirects to the same scheme, host and port"), "\(reason)")
        #expect(elsewhere.requests.isEmpty)

        // the client, told another origin is fine: followed, every credential header dropped
        var options = HTTPClient.Options()
        options.maxRedirects = 2
        options.redirectOrigins = [other]
        options.sensitiveHeaders.insert("x-api-key")
        let r = try await HTTPClient(options: options).send(
            HTTPRequest(
                method: "POST", url: base + "/hook",
                headers: [("Authorization", "Bearer secret"), ("X-Api-Key", "k"), ("Cookie", "c=1"), ("X-Trace", "t")], body: Data("{}".utf8)))
        #expect(r.status == 204 && r.url == "\(other)/collect" && r.redirects == 1)
        let got = elsewhere.requests
        #expect(got.count == 1)
        if let g = got.first {
            #expect(g.method == "POST" && g.body == Data("{}".utf8) && g.headers["x-trace"] == "t")
            #expect(g.headers["authorization"] == nil && g.headers["x-api-key"] == nil && g.headers["cookie"] == nil)
        }
        // maxRedirects 0 (the default): the 3xx is the answer
        let plain = try await HTTPClient().send(HTTPRequest(url: base + "/x"))
        #expect(plain.status == 307 && plain.redirects == 0 && elsewhere.requests.count == 1)
        await s.stop()
        await elsewhere.stop()
    }

    @Test func serviceAccountCAOnlyForTheAPIServer() throws {
        let env = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        for url in [
            "https://kubernetes.default.svc/apis/batch/v1", "https://kubernetes.default.svc.cluster.local:443/x",
            "https://KUBERNETES.default/x", "https://10.96.0.1:443/apis", "https://kubernetes/x"
        ] {
            #expect(KubernetesServiceAccount.isAPIServer(url, environment: env), "\(url)")
        }
        for url in [
            "https://argo-server.argo.svc:2746/api/v1/workflows/ml/submit", "https://10.96.0.2/x", "https://kubernetes-default-svc.example.com/x",
            "https://api.github.com/x", "not a url"
        ] {
            #expect(!KubernetesServiceAccount.isAPIServer(url, environment: env), "\(url)")
        }
        #expect(!KubernetesServiceAccount.isAPIServer("https://10.96.0.1/x", environment: [:]))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drift-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = dir.appendingPathComponent("token").path
        let ca = dir.appendingPathComponent("ca.crt").path
        try Data("sa-token".utf8).write(to: URL(fileURLWithPath: token))
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: ca))
        let sa = Credential.kubernetesServiceAccount(tokenFile: token)
        let api = try sa.apply(client: HTTPClient(), environment: env, for: "https://10.96.0.1:443/apis/batch/v1/namespaces/ml/jobs", caFile: ca)
        #expect(api.caBundle == ca && api.headers.first?.1 == "Bearer sa-token")
        let argo = try sa.apply(
            client: HTTPClient(), environment: env, for: "https://argo-server.argo.svc:2746/api/v1/workflows/ml/submit", caFile: ca)
        #expect(argo.caBundle == nil, "argo-server: the system trust store or the action's ca_bundle")
        #expect(argo.headers.first?.1 == "Bearer sa-token", "the token still authenticates to argo-server (--auth-mode=client)")
    }
}
