import Foundation

/// Where a started run stands, as the outbox row's `run_state` records it.
public enum RunState: String, Sendable, Equatable, CaseIterable {
    case running, succeeded, failed
    /// The per-action deadline (`follow_deadline`) passed before the target reported a final state.
    case timedOut = "timed_out"

    public var isFinal: Bool { self != .running }
}

/// What one status check read from the target.
public struct RunObservation: Sendable, Equatable {
    public var state: RunState
    /// The target's own words for it (`completed/failure`, `Failed`, `SUCCEEDED`, `Complete`…).
    public var detail: String
    /// Where a person sees the run, when the answer names it.
    public var url: String?

    /// Limits of what is kept: `detail` is cleaned of control characters and cut at `maxDetailBytes` bytes of UTF-8
    /// (`SafeText.clean`); `url` is kept only if `SafeText.url` accepts it.
    public static let maxDetailBytes = 1000

    public init(state: RunState, detail: String, url: String? = nil) {
        self.state = state
        self.detail = SafeText.clean(detail, maxBytes: Self.maxDetailBytes)
        self.url = url.flatMap(SafeText.url)
    }
}

/// How an action's run is followed after delivery (`follow`, `follow_interval`, `follow_interval_cap`,
/// `follow_deadline`, `on_success`, `on_failure` in monitors.yaml).
public struct FollowSettings: Sendable, Equatable {
    /// Follow at all. Polled presets default to true; a webhook to false, and `true` there means "wait for the
    /// receiver's signed callback" (`POST /v1/runs/{action id}/status`).
    public var enabled: Bool
    /// Seconds from delivery to the first check; each further check waits twice as long, up to `intervalCap`.
    public var interval: Double = 30
    public var intervalCap: Double = 600
    /// Seconds from delivery after which a run still not final is `timed_out`.
    public var deadline: Double = 86_400
    /// Actions fired (into the outbox, once) when the run succeeded / failed or timed out.
    public var onSuccess: [String] = []
    public var onFailure: [String] = []

    public init(enabled: Bool) { self.enabled = enabled }

    /// Seconds until the check after `polls` checks so far: `interval · 2^polls`, capped.
    public func delay(afterPolls polls: Int) -> Double {
        min(intervalCap, interval * pow(2, Double(min(max(polls, 0), 30))))
    }

    /// The actions a final state fires.
    public func fired(by state: RunState) -> [String] {
        switch state {
        case .succeeded: onSuccess
        case .failed, .timedOut: onFailure
        case .running: []
        }
    }
}

extension TriggerTarget {
    /// Whether the target can be asked how its run is going (every preset but the webhook, which calls back).
    public var canBePolled: Bool { preset.descriptor.canBePolled }

    /// The request that asks how run `runID` is going; nil when this target cannot be asked (a webhook) or the
    /// run id cannot address it (an Azure ML batch job id that is not an ARM resource id).
    /// - GitHub: `GET {api}/repos/{repo}/actions/runs/{id}` ("Get a workflow run").
    /// - Azure DevOps: `GET {base}/{org}/{project}/_apis/pipelines/{pipeline}/runs/{id}?api-version=7.1` (Runs - Get).
    /// - Azure ML job: `GET` the job's ARM URL (Jobs - Get).
    /// - Azure ML batch endpoint: `GET https://management.azure.com{job id}?api-version=2024-04-01` — the invoke answer's
    ///   `id` is the job's ARM resource id (`/subscriptions/…/workspaces/…/jobs/<name>`); `management_url` for another cloud.
    /// - Argo: `GET {server}/api/v1/workflows/{namespace}/{name}` (WorkflowService GetWorkflow).
    /// - Kubeflow: `GET {host}/apis/v2beta1/runs/{run_id}` (RunService GetRun).
    /// - Kubernetes: `GET {api}/apis/batch/v1/namespaces/{namespace}/jobs/{name}`.
    public func statusRequest(runID: String) -> HTTPRequest? {
        let accept = [("Accept", "application/json")]
        guard isValidRunID(runID) else { return nil }
        let id = runID
        switch self {
        case .webhook: return nil
        case .githubWorkflowDispatch(let repository, _, _, _, let api, _, _):
            return HTTPRequest(
                method: "GET", url: "\(Self.trim(api))/repos/\(repository)/actions/runs/\(runID)",
                headers: [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")])
        case .azureDevOpsPipeline(let org, let project, let pipeline, _, _, let base, _):
            return HTTPRequest(
                method: "GET",
                url: "\(Self.trim(base))/\(Self.path(org))/\(Self.path(project))/_apis/pipelines/\(pipeline)/runs/\(id)?api-version=7.1",
                headers: accept)
        case .azureMLJob:
            return resourceURL(runID).map { HTTPRequest(method: "GET", url: $0, headers: accept) }
        case .azureMLBatchEndpoint(_, _, _, _, _, let management):
            return HTTPRequest(method: "GET", url: "\(Self.trim(management))\(runID)?api-version=2024-04-01", headers: accept)
        case .argoWorkflowTemplate(let server, let namespace, _, _):
            return HTTPRequest(method: "GET", url: "\(Self.trim(server))/api/v1/workflows/\(namespace)/\(id)", headers: accept)
        case .kubeflowRun(let host, _, _, _, _, _):
            return HTTPRequest(method: "GET", url: "\(Self.trim(host))/apis/v2beta1/runs/\(id)", headers: accept)
        case .kubernetesJob(let api, let namespace, _):
            return HTTPRequest(method: "GET", url: "\(Self.trim(api))/apis/batch/v1/namespaces/\(namespace)/jobs/\(id)", headers: accept)
        }
    }

    /// The Entra scope the status check needs when it differs from the delivery's: a batch job is read from Azure
    /// Resource Manager, the invoke went to the endpoint (`https://ml.azure.com`).
    public var statusScope: String? {
        if case .azureMLBatchEndpoint(_, _, _, _, _, let management) = self { return "\(Self.trim(management))/.default" }
        return nil
    }

    /// Whether `runID` — read from the target's answer, so not trusted — has the form the target gives its runs, so
    /// that it can only name a run in the status URL (no `/`, `..`, `?`, `#`, no other host): GitHub and Azure DevOps
    /// run ids are ASCII digits; an Azure ML job name `[A-Za-z0-9_-]{1,255}`; an Azure ML batch job exactly
    /// `/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/<ws>/jobs/<name>`;
    /// Argo workflows and Kubernetes Jobs DNS-1123 subdomains (≤ 253, `[a-z0-9.-]`); Kubeflow run ids
    /// `[A-Za-z0-9-]{1,64}` (UUIDs).
    public func isValidRunID(_ runID: String) -> Bool {
        func chars(_ s: Substring, _ extra: String, max: Int, lowercaseOnly: Bool = false) -> Bool {
            !s.isEmpty && s.utf8.count <= max
                && s.allSatisfy { c in
                    c.isASCII && ((lowercaseOnly ? c.isLowercase : c.isLetter) || c.isNumber || extra.contains(c))
                }
        }
        let whole = Substring(runID)
        switch self {
        case .webhook: return false
        case .githubWorkflowDispatch, .azureDevOpsPipeline: return chars(whole, "", max: 20) && whole.allSatisfy { ("0"..."9").contains($0) }
        case .azureMLJob: return chars(whole, "_-", max: 255)
        case .azureMLBatchEndpoint:
            let p = runID.split(separator: "/", omittingEmptySubsequences: false)
            // "", subscriptions, s, resourceGroups, rg, providers, Microsoft.MachineLearningServices, workspaces, ws, jobs, name
            guard p.count == 11, p[0].isEmpty, p[1].lowercased() == "subscriptions", p[3].lowercased() == "resourcegroups",
                p[5].lowercased() == "providers",
                p[6].lowercased() == "microsoft.machinelearningservices", p[7].lowercased() == "workspaces", p[9].lowercased() == "jobs"
            else { return false }
            return chars(p[2], "-", max: 64) && chars(p[4], "-_.()", max: 90) && !p[4].hasSuffix(".") && chars(p[8], "-_", max: 64)
                && chars(p[10], "_-", max: 255)
        case .argoWorkflowTemplate, .kubernetesJob:
            return chars(whole, "-.", max: 253, lowercaseOnly: true) && !runID.hasPrefix(".") && !runID.hasPrefix("-") && !runID.contains("..")
        case .kubeflowRun: return chars(whole, "-", max: 64)
        }
    }

    /// Where a person sees run `runID` before any status answer named it (Argo's UI, the Kubeflow UI, GitHub, the Job's API URL).
    public func runURL(runID: String) -> String? {
        guard isValidRunID(runID) else { return nil }
        switch self {
        case .argoWorkflowTemplate(let server, let namespace, _, _): return "\(Self.trim(server))/workflows/\(namespace)/\(Self.path(runID))"
        case .kubeflowRun(let host, _, _, _, _, _): return "\(Self.trim(host))/#/runs/details/\(Self.path(runID))"
        // the Job's API URL (`kubectl get job <name> -n <namespace>` shows the same)
        case .kubernetesJob(let api, let namespace, _): return "\(Self.trim(api))/apis/batch/v1/namespaces/\(namespace)/jobs/\(Self.path(runID))"
        case .githubWorkflowDispatch(let repository, _, _, _, let api, _, _) where Self.trim(api) == "https://api.github.com":
            return "https://github.com/\(repository)/actions/runs/\(Self.path(runID))"
        default: return nil
        }
    }

    /// The run URL named in a delivery's answer (GitHub `html_url`, Azure DevOps `_links.web.href`, Azure ML's Studio link).
    public func runURL(fromDelivery response: HTTPResponse) -> String? {
        guard let json = JSONTemplate.parse(response.body) else { return nil }
        return runURL(from: json)
    }

    func runURL(from json: JSONTemplate) -> String? {
        let paths: [String]
        switch self {
        case .githubWorkflowDispatch: paths = ["html_url"]
        case .azureDevOpsPipeline: paths = ["_links.web.href"]
        case .azureMLJob, .azureMLBatchEndpoint: paths = ["properties.services.Studio.endpoint", "properties.interactionEndpoints.Studio.endpoint"]
        default: paths = []
        }
        for p in paths { if let u = json.value(at: p)?.scalarText.flatMap(SafeText.url) { return u } }
        return nil
    }

    /// What a status answer says, per the target's documented states; nil when the answer is not a readable
    /// status (not 200, not JSON, the field missing) — the run stays `running` and is asked again.
    public func interpretStatus(_ response: HTTPResponse) -> RunObservation? {
        guard response.status == 200, !response.truncated, let json = JSONTemplate.parse(response.body), case .object = json else { return nil }
        let url = runURL(from: json)
        func text(_ path: String) -> String? { json.value(at: path)?.scalarText }
        switch self {
        case .webhook: return nil
        case .githubWorkflowDispatch:
            // status: queued, in_progress, waiting, requested, pending, completed; conclusion once completed
            guard let status = text("status") else { return nil }
            guard status == "completed" else { return RunObservation(state: .running, detail: status, url: url) }
            let conclusion = text("conclusion") ?? ""
            return RunObservation(
                state: ["success", "neutral"].contains(conclusion) ? .succeeded : .failed, detail: "completed/\(conclusion)", url: url)
        case .azureDevOpsPipeline:
            // RunState: unknown, inProgress, canceling, completed; RunResult: unknown, succeeded, failed, canceled
            guard let state = text("state") else { return nil }
            guard state == "completed" else { return RunObservation(state: .running, detail: state, url: url) }
            let result = text("result") ?? ""
            return RunObservation(state: result == "succeeded" ? .succeeded : .failed, detail: "completed/\(result)", url: url)
        case .azureMLJob, .azureMLBatchEndpoint:
            // JobStatus: NotStarted, Starting, Provisioning, Preparing, Queued, Running, Finalizing, CancelRequested,
            // Completed, Failed, Canceled, NotResponding, Paused, Unknown
            guard let status = text("properties.status") else { return nil }
            switch status {
            case "Completed": return RunObservation(state: .succeeded, detail: status, url: url)
            case "Failed", "Canceled", "NotResponding": return RunObservation(state: .failed, detail: status, url: url)
            default: return RunObservation(state: .running, detail: status, url: url)
            }
        case .argoWorkflowTemplate:
            // WorkflowPhase: "" (not yet), Pending, Running, Succeeded, Failed, Error
            let phase = text("status.phase") ?? ""
            guard text("metadata.name") != nil else { return nil }
            switch phase {
            case "Succeeded": return RunObservation(state: .succeeded, detail: phase, url: url)
            case "Failed", "Error": return RunObservation(state: .failed, detail: phase + (text("status.message").map { ": \($0)" } ?? ""), url: url)
            default: return RunObservation(state: .running, detail: phase.isEmpty ? "Pending" : phase, url: url)
            }
        case .kubeflowRun:
            // V2beta1RuntimeState: RUNTIME_STATE_UNSPECIFIED, PENDING, RUNNING, SUCCEEDED, SKIPPED, FAILED, CANCELING, CANCELED, PAUSED
            guard text("run_id") != nil else { return nil }
            let state = text("state") ?? "RUNTIME_STATE_UNSPECIFIED"
            switch state {
            case "SUCCEEDED", "SKIPPED": return RunObservation(state: .succeeded, detail: state, url: url)
            case "FAILED", "CANCELED":
                return RunObservation(state: .failed, detail: state + (text("error.message").map { ": \($0)" } ?? ""), url: url)
            default: return RunObservation(state: .running, detail: state, url: url)
            }
        case .kubernetesJob:
            // JobCondition: a Job is finished when it has a Complete or Failed condition with status True
            // (SuccessCriteriaMet / FailureTarget come first and are not final yet: pods may still be terminating)
            guard text("metadata.name") != nil else { return nil }
            if case .array(let conditions)? = json.value(at: "status.conditions") {
                for c in conditions where c.value(at: "status")?.scalarText == "True" {
                    switch c.value(at: "type")?.scalarText {
                    case "Complete": return RunObservation(state: .succeeded, detail: "Complete", url: url)
                    case "Failed":
                        return RunObservation(
                            state: .failed, detail: "Failed" + (c.value(at: "reason")?.scalarText.map { ": \($0)" } ?? ""), url: url)
                    default: continue
                    }
                }
            }
            let active = json.value(at: "status.active")?.scalarText ?? "0"
            return RunObservation(state: .running, detail: "active \(active)", url: url)
        }
    }
}

/// One status check: what was asked, what came back, and what it means.
public struct RunCheck: Sendable {
    public var method: String
    public var url: String
    public var status: Int?
    /// Nil when the answer could not be read as a status: the run stays `running`.
    public var observation: RunObservation?
    /// Why no observation (network error, HTTP status, unreadable answer), for `run_detail` and the log.
    public var problem: String?
    /// Seconds the target asked us to wait before asking again (`Retry-After`, GitHub's rate-limit headers).
    public var retryAfter: Double?
}

extension TriggerSender {
    /// Asks the target how run `runID` of `action` is going — with the action's credentials, CA and timeouts (for an
    /// Azure ML batch job, a token for Azure Resource Manager from the same identity). Blocking; call off the pool.
    public func checkRun(_ action: TriggerAction, runID: String, now: Date = Date()) -> RunCheck {
        guard var request = action.target.statusRequest(runID: runID) else {
            return RunCheck(
                method: "", url: "", status: nil, observation: nil, problem: "the \(action.target.preset) target cannot be asked about run '\(runID)'"
            )
        }
        var check = RunCheck(method: request.method, url: HTTPClient.redact(request.url), status: nil, observation: nil, problem: nil)
        do {
            var credential = action.credential
            if let scope = action.target.statusScope, case .azureWorkloadIdentity = credential { credential = .azureWorkloadIdentity(scope: scope) }
            let (auth, options) = try authenticated(action, credential: credential, url: request.url)
            request.headers += auth + [("User-Agent", userAgent)]
            let response = try HTTPClient(options: options).sendBlocking(request)
            check.status = response.status
            if let o = action.target.interpretStatus(response) {
                check.observation = o
            } else {
                let excerpt = SafeText.clean(String(decoding: response.body.prefix(200), as: UTF8.self), maxBytes: 400)
                check.problem = "HTTP \(response.status) from the status check" + (excerpt.isEmpty ? "" : ": \(excerpt)")
                if action.target.hasGitHubRateLimits,
                    let wait = DeliveryPolicy.rateLimitWait(status: response.status, header: response.header, body: response.body, now: now)
                {
                    check.retryAfter = wait.seconds
                } else if let h = response.header("retry-after") {
                    check.retryAfter = DeliveryPolicy.retryAfterSeconds(h, now: now).map { min(max($0, 0), DeliveryPolicy.rateLimitCapSeconds) }
                }
            }
        } catch let e as HTTPClientError {
            check.problem = SafeText.clean(e.message, maxBytes: 400)
        } catch {
            check.problem = SafeText.clean("\(error)", maxBytes: 400)
        }
        return check
    }
}
