import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// Kubeflow Pipelines multi-user credentials as they arrive at a local ml-pipeline: the projected
/// service-account token (re-read on every use, `KF_PIPELINES_SA_TOKEN_PATH` honoured) and the user-id header.
@Suite("Credentials: Kubeflow Pipelines multi-user")
struct KubeflowAuthTests {
    static let context = TriggerContext(
        actionID: "fraud-scorer:2026-11-25T17:00:00Z:retrain", action: "retrain", monitor: "fraud-scorer", model: "fraud",
        windowStart: "2026-11-25T17:00:00Z", windowEnd: "2026-11-25T18:00:00Z",
        driftedFeatures: ["amount"], runID: 41, reportPath: "/reports/r.html")

    func send(_ credential: Credential, environment: [String: String]) async throws -> [RecordingHTTPServer.Recorded] {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 200, body: #"{"run_id":"kfp-1"}"#) }
        let action = TriggerAction(
            name: "retrain",
            target: .kubeflowRun(
                host: "http://127.0.0.1:\(server.port)", pipelineID: "p", pipelineVersionID: nil,
                experimentID: "e", namespace: "team-a"), credential: credential)
        let sender = TriggerSender(environment: environment)
        let attempt = try await onBlockingPool { sender.attempt(action, Self.context, attempt: 1) }
        #expect(attempt.outcome == .delivered(note: "HTTP 200"), "\(attempt.error ?? "")")
        await server.stop()
        return server.requests
    }

    @Test func theProjectedTokenIsSentAndReReadWhereTheSDKLooksForIt() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kfp-token-\(UUID().uuidString)")
        try "sa-token-1\n".write(to: file, atomically: true, encoding: .utf8)
        let env = [KubeflowPipelines.tokenPathVariable: file.path]
        #expect(try await send(.kubeflowServiceAccount(), environment: env).first?.headers["authorization"] == "Bearer sa-token-1")
        try "sa-token-2".write(to: file, atomically: true, encoding: .utf8)
        #expect(
            try await send(.kubeflowServiceAccount(tokenFile: file.path), environment: [:]).first?.headers["authorization"] == "Bearer sa-token-2")
        #expect(KubeflowPipelines.tokenPath(nil, environment: [:]) == "/var/run/secrets/kubeflow/pipelines/token")
        #expect(KubeflowPipelines.tokenPath("/t", environment: env) == "/t", "token_file wins over the variable")
        do {
            _ = try Credential.kubeflowServiceAccount(tokenFile: "/nonexistent/token").apply(client: HTTPClient(), environment: [:])
            Issue.record("expected a missing token to be named")
        } catch let e as CredentialError {
            #expect(e.description.contains("/nonexistent/token") && e.description.contains("audience pipelines.kubeflow.org"))
        }
    }

    @Test func theUserIDHeaderIsSentWithItsPrefixAndMaskedAsACredential() async throws {
        let plain = try await send(.kubeflowUserID(user: "alice@example.com"), environment: [:])
        #expect(plain.first?.headers["kubeflow-userid"] == "alice@example.com")
        let custom = try await send(
            .kubeflowUserID(user: "alice@example.com", header: "x-goog-authenticated-user-email", prefix: "accounts.google.com:"),
            environment: [:])
        #expect(custom.first?.headers["x-goog-authenticated-user-email"] == "accounts.google.com:alice@example.com")
        let action = TriggerAction(
            name: "r", target: .kubeflowRun(host: "http://kfp", pipelineID: "p", pipelineVersionID: nil, experimentID: "e", namespace: "team-a"),
            credential: .kubeflowUserID(user: "alice@example.com"))
        let (_, client) = try TriggerSender(environment: [:]).prepare(action, Self.context)
        #expect(client.options.sensitiveHeaders.contains("kubeflow-userid"), "trigger test masks it and redirects elsewhere drop it")
        #expect(throws: CredentialError.self) { try Credential.kubeflowUserID(user: "alice\r\nX-Evil: 1").apply(client: HTTPClient()) }
        #expect(!Credential.kubeflowUserID(user: "a").exchangesToken && !Credential.kubeflowServiceAccount().exchangesToken)
    }
}
