import DriftCore
import DriftTriggers
import Foundation
import Testing

/// `auth:` for GitHub App installations and Kubeflow Pipelines multi-user, as monitors.yaml states them.
@Suite("monitors.yaml: github_app and Kubeflow credentials")
struct CredentialConfigTests {
    func trigger(_ yaml: String, _ name: String = "retrain") throws -> TriggerAction {
        guard case .trigger(let t)? = try ActionsConfigTests.monitor(yaml).actions[name] else { throw CredentialError("no trigger \(name)") }
        return t
    }

    @Test func aGitHubAppParsesWithItsAppIDOrClientID() throws {
        let t = try trigger(
            """
            retrain:
              preset: github_workflow_dispatch
              repository: acme/models
              workflow: retrain.yml
              api_url: https://ghe.example.com/api/v3
              auth: {type: github_app, app_id: 123456, installation_id: 7890, private_key_file: /var/run/secrets/github-app/key.pem}
            """)
        #expect(t.credential == .githubApp(appID: "123456", installationID: 7890, privateKey: .file("/var/run/secrets/github-app/key.pem")))
        let c = try trigger(
            "retrain: {preset: github_workflow_dispatch, repository: a/b, workflow: w.yml, auth: {type: github_app, app_id: Iv23liAbC.9, installation_id: 1, private_key_env: GH_KEY}}"
        )
        #expect(c.credential == .githubApp(appID: "Iv23liAbC.9", installationID: 1, privateKey: .env("GH_KEY")))
    }

    @Test func gitHubAppMistakesAreNamed() {
        let p = ActionsConfigTests.problems(
            """
            retrain: {preset: github_workflow_dispatch, repository: a/b, workflow: w.yml, auth: {type: github_app, app_id: 12, installation_id: 3}}
            two: {preset: github_workflow_dispatch, repository: a/b, workflow: w.yml, auth: {type: github_app, app_id: 12, installation_id: 3, private_key_env: K, private_key_file: /k}}
            bad: {preset: github_workflow_dispatch, repository: a/b, workflow: w.yml, auth: {type: github_app, app_id: "12; x", private_key_env: K}}
            hook: {preset: webhook, url: "https://x", auth: {type: github_app, app_id: 12, installation_id: 3, private_key_env: K}}
            """, policy: "[retrain, two, bad, hook]")
        #expect(p.contains { $0.contains("action 'retrain': github_app needs exactly one of `private_key_file`") }, "\(p)")
        #expect(p.contains { $0.contains("action 'two': github_app needs exactly one of `private_key_file`") }, "\(p)")
        #expect(p.contains { $0.contains("action 'bad': `app_id` must be the GitHub App's numeric app ID or its client ID") }, "\(p)")
        #expect(p.contains { $0.contains("action 'bad': github_app needs `installation_id`") }, "\(p)")
        #expect(p.contains { $0.contains("action 'hook': auth type github_app is for github_workflow_dispatch only") }, "\(p)")
        #expect(p.allSatisfy { $0.hasPrefix("monitors.yaml:") }, "each names its line: \(p)")
    }

    @Test func aMultiUserKubeflowRunUsesTheProjectedTokenByDefault() throws {
        let kfp = "preset: kubeflow_run, host: http://ml-pipeline.kubeflow:8888, pipeline_id: p, experiment_id: e"
        #expect(try trigger("retrain: {\(kfp), namespace: team-a}").credential == .kubeflowServiceAccount())
        #expect(try trigger("retrain: {\(kfp)}").credential == Credential.none, "single-user KFP needs no identity")
        #expect(
            try trigger("retrain: {\(kfp), namespace: team-a, auth: {type: kubeflow_service_account, token_file: /t}}").credential
                == .kubeflowServiceAccount(tokenFile: "/t"))
        #expect(
            try trigger("retrain: {\(kfp), namespace: team-a, auth: {type: kubeflow_userid, user: alice@example.com}}").credential
                == .kubeflowUserID(user: "alice@example.com"))
        #expect(
            try trigger(
                "retrain: {\(kfp), namespace: team-a, auth: {type: kubeflow_userid, user: alice@example.com, header: x-user, prefix: \"accounts.google.com:\"}}"
            ).credential
                == .kubeflowUserID(user: "alice@example.com", header: "x-user", prefix: "accounts.google.com:"))
    }

    @Test func kubeflowMistakesAreNamed() {
        let kfp = "preset: kubeflow_run, host: http://ml-pipeline.kubeflow:8888, pipeline_id: p, experiment_id: e"
        let p = ActionsConfigTests.problems(
            """
            retrain: {\(kfp), namespace: team-a, auth: {type: none}}
            crlf: {\(kfp), auth: {type: kubeflow_userid, user: "alice\\r\\nX-Evil: 1"}}
            nouser: {\(kfp), auth: {type: kubeflow_userid, header: "bad header"}}
            k8s: {preset: webhook, url: "https://x", auth: {type: kubeflow_service_account}}
            """, policy: "[retrain, crlf, nouser, k8s]")
        #expect(
            p.contains {
                $0.contains(
                    "action 'retrain': a multi-user Kubeflow Pipelines (`namespace: team-a`) refuses calls without an identity, so `auth: none` cannot work"
                )
            }, "\(p)")
        #expect(p.contains { $0.contains("action 'crlf': kubeflow_userid `user` contains a control character") }, "\(p)")
        #expect(
            p.contains { $0.contains("missing `user`") }
                && p.contains { $0.contains("action 'nouser': kubeflow_userid `header` must be an HTTP header name") }, "\(p)")
        #expect(p.contains { $0.contains("action 'k8s': auth type kubeflow_service_account is for kubeflow_run only") }, "\(p)")
    }
}
