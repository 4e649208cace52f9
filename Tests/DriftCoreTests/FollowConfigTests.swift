import DriftCore
import DriftTriggers
import Foundation
import Testing

/// `follow`, `follow_interval`, `follow_interval_cap`, `follow_deadline`, `on_success`, `on_failure` as
/// monitors.yaml states them, and the mistakes `validate-config` names.
@Suite("monitors.yaml: following runs")
struct FollowConfigTests {
    @Test func followingIsOnForPolledTargetsAndOptInForWebhooks() throws {
        let m = try ActionsConfigTests.monitor(
            """
            retrain:
              preset: kubernetes_job
              job: {spec: {template: {spec: {containers: [{name: t, image: i}]}}}}
              follow_interval: 15
              follow_interval_cap: 120
              follow_deadline: PT6H
              on_success: [shadow]
              on_failure: [page]
            shadow: {preset: shadow_eval, challenger: v4}
            page: {preset: webhook, url: "https://pager.example.com/x"}
            hook: {preset: webhook, url: "https://h.example.com/x", secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], follow: true}
            """, policy: "[retrain, hook]")
        guard case .trigger(let t)? = m.actions["retrain"], case .trigger(let page)? = m.actions["page"], case .trigger(let hook)? = m.actions["hook"]
        else {
            Issue.record("not triggers")
            return
        }
        #expect(t.follow.enabled && t.follow.interval == 15 && t.follow.intervalCap == 120 && t.follow.deadline == 6 * 3600)
        #expect(t.follow.onSuccess == ["shadow"] && t.follow.onFailure == ["page"])
        #expect(!page.follow.enabled, "a webhook is followed only when asked")
        #expect(hook.follow.enabled && hook.follow.deadline == 86_400 && hook.follow.interval == 30)
    }

    @Test func followMistakesAreNamed() {
        let p = ActionsConfigTests.problems(
            """
            a: {preset: argo_workflow_template, server: "https://argo", namespace: ml, template: t, on_success: [nope]}
            b: {preset: argo_workflow_template, server: "https://argo", namespace: ml, template: t, follow: false, on_failure: [a]}
            c: {preset: webhook, url: "https://h", follow: true}
            d: {preset: kubeflow_run, host: "http://kfp", pipeline_id: p, follow_interval: 0, follow_deadline: P100D}
            e: {preset: kubeflow_run, host: "http://kfp", pipeline_id: p, on_failure: [f]}
            f: {preset: kubeflow_run, host: "http://kfp", pipeline_id: p, on_success: [e]}
            g: {preset: kubeflow_run, host: "http://kfp", pipeline_id: p, follow: "yes", follow_interval: 60, follow_interval_cap: 10}
            """, policy: "[a, b, c, d, e, g]")
        #expect(p.contains { $0.contains("action 'a' fires 'nope' when its run ends, which is not defined") }, "\(p)")
        #expect(p.contains { $0.contains("action 'b': `on_success` / `on_failure` need the run followed") }, "\(p)")
        #expect(
            p.contains { $0.contains("action 'c': a webhook is followed by its receiver's signed callback") && $0.contains("needs `secrets`") },
            "\(p)")
        #expect(p.contains { $0.contains("`follow_interval` must be a number from 1.0 to 3600.0") }, "\(p)")
        #expect(p.contains { $0.contains("action 'd': `follow_deadline` must be between 1 second and 90 days") }, "\(p)")
        #expect(p.contains { $0.contains("action 'e' fires itself again") } && p.contains { $0.contains("action 'f' fires itself again") }, "\(p)")
        #expect(p.contains { $0.contains("`follow` must be true or false") }, "\(p)")
        #expect(p.contains { $0.contains("action 'g': `follow_interval_cap` must be at least `follow_interval`") }, "\(p)")
        #expect(p.allSatisfy { $0.hasPrefix("monitors.yaml:") }, "each names its line: \(p)")
    }

    @Test func onlyActionsARunsEndFiresMayUseTheParentVariables() throws {
        // fired by a run's end: fine
        _ = try ActionsConfigTests.monitor(
            """
            retrain: {preset: kubeflow_run, host: "http://kfp", pipeline_id: p, on_success: [notify]}
            notify: {preset: webhook, url: "https://h", body: {run: "{{parent_run_id}}", url: "{{parent_run_url}}", state: "{{parent_run_state}}"}}
            """)
    }
}
