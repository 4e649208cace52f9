import DriftTriggers
import Foundation
import Testing

/// Reading each target's run status as its API documents it, and the follow schedule — pure, no I/O.
@Suite("Run status: each target's states, the check schedule, the status requests")
struct RunStatusTests {
    static func answer(_ body: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [], body: Data(body.utf8), seconds: 0)
    }

    static let github = TriggerTarget.githubWorkflowDispatch(repository: "acme/fraud", workflow: "retrain.yml")
    static let devops = TriggerTarget.azureDevOpsPipeline(organization: "acme", project: "ml ops", pipelineID: 12)
    static let azureJob = TriggerTarget.azureMLJob(subscription: "s", resourceGroup: "rg", workspace: "ws", job: .object([]))
    static let batch = TriggerTarget.azureMLBatchEndpoint(endpoint: "https://ep.westeurope.inference.ml.azure.com/jobs", inputs: .object([]))
    static let argo = TriggerTarget.argoWorkflowTemplate(server: "https://argo:2746", namespace: "ml", template: "retrain")
    static let kfp = TriggerTarget.kubeflowRun(host: "http://ml-pipeline.kubeflow:8888", pipelineID: "p", pipelineVersionID: nil, experimentID: nil)
    static let job = TriggerTarget.kubernetesJob(apiServer: "https://kubernetes.default.svc", namespace: "ml", job: .object([]))

    func state(_ t: TriggerTarget, _ body: String) -> RunState? { t.interpretStatus(Self.answer(body))?.state }

    @Test func githubRunsEndWithTheirConclusion() {
        #expect(state(Self.github, #"{"status":"queued","conclusion":null}"#) == .running)
        #expect(state(Self.github, #"{"status":"in_progress"}"#) == .running)
        #expect(state(Self.github, #"{"status":"waiting"}"#) == .running)
        #expect(state(Self.github, #"{"status":"completed","conclusion":"success"}"#) == .succeeded)
        for c in ["failure", "cancelled", "timed_out", "startup_failure", "action_required", "skipped", "stale"] {
            #expect(state(Self.github, #"{"status":"completed","conclusion":"\#(c)"}"#) == .failed, "\(c)")
        }
        let o = Self.github.interpretStatus(
            Self.answer(#"{"status":"completed","conclusion":"failure","html_url":"https://github.com/acme/fraud/actions/runs/9"}"#))
        #expect(o == RunObservation(state: .failed, detail: "completed/failure", url: "https://github.com/acme/fraud/actions/runs/9"))
        #expect(Self.github.statusRequest(runID: "9")?.url == "https://api.github.com/repos/acme/fraud/actions/runs/9")
        #expect(Self.github.statusRequest(runID: "../../orgs") == nil, "a run id is a number")
    }

    @Test func azureDevOpsRunsEndWithTheirResult() {
        #expect(state(Self.devops, #"{"state":"inProgress"}"#) == .running)
        #expect(state(Self.devops, #"{"state":"canceling"}"#) == .running)
        #expect(state(Self.devops, #"{"state":"completed","result":"succeeded"}"#) == .succeeded)
        #expect(state(Self.devops, #"{"state":"completed","result":"failed"}"#) == .failed)
        #expect(state(Self.devops, #"{"state":"completed","result":"canceled"}"#) == .failed)
        #expect(Self.devops.statusRequest(runID: "77")?.url == "https://dev.azure.com/acme/ml%20ops/_apis/pipelines/12/runs/77?api-version=7.1")
    }

    @Test func azureMLJobsEndCompletedFailedOrCanceled() {
        for s in ["NotStarted", "Starting", "Provisioning", "Preparing", "Queued", "Running", "Finalizing", "CancelRequested", "Paused", "Unknown"] {
            #expect(state(Self.azureJob, #"{"properties":{"status":"\#(s)"}}"#) == .running, "\(s)")
        }
        #expect(state(Self.azureJob, #"{"properties":{"status":"Completed"}}"#) == .succeeded)
        for s in ["Failed", "Canceled", "NotResponding"] { #expect(state(Self.azureJob, #"{"properties":{"status":"\#(s)"}}"#) == .failed) }
        #expect(
            Self.azureJob.statusRequest(runID: "drift-x")?.url
                == "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/drift-x?api-version=2024-04-01"
        )
    }

    @Test func aBatchJobIsReadThroughResourceManagerByItsId() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/batch-1"
        #expect(Self.batch.statusRequest(runID: id)?.url == "https://management.azure.com\(id)?api-version=2024-04-01")
        #expect(Self.batch.statusScope == "https://management.azure.com/.default")
        // only an ARM job id addresses it: a bare name, or anything that could change the host or the path, is not followed
        for bad in [
            "batch-1", "/subscriptions/s/jobs/../../x", "/subscriptions/s@evil.com/jobs/x", "/subscriptions/s/jobs/x?y=1",
            "//evil.com/subscriptions/jobs/x"
        ] {
            #expect(Self.batch.statusRequest(runID: bad) == nil, "\(bad)")
        }
        let invoke = Self.answer(#"{"id":"\#(id)","name":"batch-1","properties":{"status":"Queued"}}"#)
        #expect(Self.batch.externalRunID(invoke) == id)
    }

    @Test func argoPhasesAndKubeflowStates() {
        #expect(state(Self.argo, #"{"metadata":{"name":"w"},"status":{}}"#) == .running)
        #expect(state(Self.argo, #"{"metadata":{"name":"w"},"status":{"phase":"Pending"}}"#) == .running)
        #expect(state(Self.argo, #"{"metadata":{"name":"w"},"status":{"phase":"Succeeded"}}"#) == .succeeded)
        #expect(state(Self.argo, #"{"metadata":{"name":"w"},"status":{"phase":"Error","message":"OOMKilled"}}"#) == .failed)
        #expect(
            Self.argo.interpretStatus(Self.answer(#"{"metadata":{"name":"w"},"status":{"phase":"Failed","message":"exit 1"}}"#))?.detail
                == "Failed: exit 1")
        #expect(Self.argo.runURL(runID: "w") == "https://argo:2746/workflows/ml/w")
        for s in ["RUNTIME_STATE_UNSPECIFIED", "PENDING", "RUNNING", "CANCELING", "PAUSED"] {
            #expect(state(Self.kfp, #"{"run_id":"r","state":"\#(s)"}"#) == .running)
        }
        #expect(state(Self.kfp, #"{"run_id":"r","state":"SUCCEEDED"}"#) == .succeeded)
        #expect(state(Self.kfp, #"{"run_id":"r","state":"SKIPPED"}"#) == .succeeded)
        #expect(state(Self.kfp, #"{"run_id":"r","state":"FAILED","error":{"message":"boom"}}"#) == .failed)
        #expect(state(Self.kfp, #"{"run_id":"r","state":"CANCELED"}"#) == .failed)
        #expect(state(Self.kfp, #"{"run_id":"r"}"#) == .running, "proto3 JSON omits an unspecified state")
    }

    @Test func aKubernetesJobIsFinishedOnlyByCompleteOrFailed() {
        #expect(state(Self.job, #"{"metadata":{"name":"j"},"status":{"active":1}}"#) == .running)
        // SuccessCriteriaMet / FailureTarget come first; pods may still be terminating
        #expect(state(Self.job, #"{"metadata":{"name":"j"},"status":{"conditions":[{"type":"FailureTarget","status":"True"}]}}"#) == .running)
        #expect(state(Self.job, #"{"metadata":{"name":"j"},"status":{"conditions":[{"type":"SuccessCriteriaMet","status":"True"}]}}"#) == .running)
        #expect(state(Self.job, #"{"metadata":{"name":"j"},"status":{"conditions":[{"type":"Complete","status":"True"}]}}"#) == .succeeded)
        #expect(
            state(Self.job, #"{"metadata":{"name":"j"},"status":{"conditions":[{"type":"Failed","status":"True","reason":"DeadlineExceeded"}]}}"#)
                == .failed)
        #expect(state(Self.job, #"{"metadata":{"name":"j"},"status":{"conditions":[{"type":"Complete","status":"False"}]}}"#) == .running)
    }

    @Test func anAnswerThatIsNotAStatusIsNotReadAsOne() {
        for t in [Self.github, Self.devops, Self.azureJob, Self.argo, Self.kfp, Self.job] {
            #expect(t.interpretStatus(Self.answer("<html>sign in</html>")) == nil)
            #expect(t.interpretStatus(Self.answer(#"{"message":"Not Found"}"#, status: 404)) == nil)
            #expect(t.interpretStatus(Self.answer("[]")) == nil)
            #expect(t.interpretStatus(Self.answer(#"{"unrelated":true}"#)) == nil, "\(t.preset)")
        }
        var cut = Self.answer(#"{"status":"completed","conclusion":"success"}"#)
        cut.truncated = true
        #expect(Self.github.interpretStatus(cut) == nil)
    }

    @Test func checksBackOffToTheCapAndTheEndPicksTheActions() {
        var f = FollowSettings(enabled: true)
        f.interval = 30
        f.intervalCap = 600
        #expect([0, 1, 2, 3, 4, 5, 1000].map { f.delay(afterPolls: $0) } == [30, 60, 120, 240, 480, 600, 600])
        f.onSuccess = ["shadow"]
        f.onFailure = ["page"]
        #expect(
            f.fired(by: .succeeded) == ["shadow"] && f.fired(by: .failed) == ["page"] && f.fired(by: .timedOut) == ["page"]
                && f.fired(by: .running).isEmpty)
        #expect(TriggerAction(name: "w", target: .webhook(url: "https://h")).follow.enabled == false)
        #expect(TriggerAction(name: "k", target: Self.job).follow.enabled)
    }

    @Test func runIDsFromAnswersMustHaveTheTargetsFormBeforeTheyAddressAnything() {
        #expect(Self.github.isValidRunID("22000001") && !Self.github.isValidRunID("١٢") && !Self.github.isValidRunID("1/../../orgs"))
        #expect(Self.devops.isValidRunID("77") && !Self.devops.isValidRunID("77?x=1"))
        #expect(
            Self.azureJob.isValidRunID("drift-fraud_1") && !Self.azureJob.isValidRunID("x?api-version=1#")
                && Self.azureJob.statusRequest(runID: "a/../b") == nil)
        #expect(Self.argo.isValidRunID("drift-fraud-a-0123") && !Self.argo.isValidRunID("../secrets") && !Self.argo.isValidRunID("Upper"))
        #expect(Self.job.statusRequest(runID: "x/../../../api/v1/secrets") == nil && Self.job.runURL(runID: "a b") == nil)
        #expect(Self.kfp.isValidRunID("5f0c3c1e-8f2a-4a4e-9c59-1f0e0c6a7b11") && !Self.kfp.isValidRunID("r/../../pipelines"))
        #expect(!Self.batch.isValidRunID("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x/jobs/y"))
    }

    @Test func whatTargetsSayIsCleanedBeforeItIsStoredOrShown() {
        // jsonb refuses U+0000; a terminal acts on ESC and bidi overrides
        let o = Self.kfp.interpretStatus(Self.answer(#"{"run_id":"r","state":"FAILED","error":{"message":"boom\u0000\u001b]52;c;x\u0007\u202e"}}"#))
        #expect(
            o?.state == .failed && o?.detail.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x202e } == true, "\(String(describing: o))")
        let long = RunObservation(state: .failed, detail: String(repeating: "é", count: 5000))
        #expect(long.detail.utf8.count <= RunObservation.maxDetailBytes + 3)
        #expect(
            Self.github.interpretStatus(Self.answer(#"{"status":"completed","conclusion":"success","html_url":"https://x\u001b]8;;"}"#))?.url == nil)
        #expect(SafeText.url("javascript:alert(1)") == nil && SafeText.url("https://ok.example/x?y=1") == "https://ok.example/x?y=1")
        #expect(TriggerSender.excerpt(Data("a\u{0}b\nc".utf8)) == "a b\nc")
    }
}
