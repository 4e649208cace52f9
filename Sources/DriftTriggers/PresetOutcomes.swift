import Foundation

/// What each target's answer means: the statuses its API documents for success, whether that answer must carry
/// JSON, GitHub's rate limits and redirects, and the credentials a preset cannot work without (README, *Triggers*,
/// "What counts as delivered").
extension TriggerTarget {
    public typealias SuccessStatuses = Preset.SuccessStatuses

    /// The statuses the preset's API documents for a started run (`Preset.descriptor`).
    public var success: SuccessStatuses { preset.descriptor.success }

    /// The API the preset talks to, for messages.
    public var apiName: String { preset.descriptor.apiName }

    /// Redirects followed per request: GitHub's REST API redirects (a renamed repository answers 301) and its
    /// docs say to repeat the request to `Location` — 3 hops, same origin only. Other targets' APIs do not
    /// redirect; there a 3xx is a wrong URL (dead, naming where it pointed).
    public var maxRedirects: Int {
        if case .githubWorkflowDispatch = self { return 3 }
        return 0
    }

    /// Whether 403/429 answers carry GitHub's rate-limit headers (`DeliveryPolicy.rateLimitWait`).
    public var hasGitHubRateLimits: Bool {
        if case .githubWorkflowDispatch = self { return true }
        return false
    }

    /// Why `credential` cannot work for this target, or nil. Azure DevOps answers a request without valid
    /// credentials with 203 and a sign-in page, never a 401, so `auth: none` (or none given) is refused when the
    /// configuration is read; so is `auth: none` for a multi-user Kubeflow (`namespace`), and a credential made for
    /// another preset's API. Call it from the action parser after the credential is known.
    public func credentialProblem(_ credential: Credential) -> String? {
        if case .azureDevOpsPipeline = self, credential == .none {
            return "azure_devops_pipeline needs credentials (Azure DevOps answers a request without them with 203 and a sign-in page): "
                + "set `auth: {type: basic, username: \"\", password_env: AZURE_DEVOPS_PAT}` (a personal access token with Build: Read & execute) "
                + "or `auth: {type: azure_workload_identity}`"
        }
        // credentials that speak one API's protocol
        switch credential {
        case .githubApp where preset != .githubWorkflowDispatch:
            return "auth type github_app is for github_workflow_dispatch only (it authenticates to the GitHub API)"
        case .kubeflowServiceAccount where preset != .kubeflowRun, .kubeflowUserID where preset != .kubeflowRun:
            return "auth type \(credential.kind) is for kubeflow_run only (it authenticates to the Kubeflow Pipelines API)"
        default: break
        }
        if case .kubeflowRun(_, _, _, _, _, let namespace?) = self, credential == .none {
            return
                "a multi-user Kubeflow Pipelines (`namespace: \(namespace)`) refuses calls without an identity, so `auth: none` cannot work: leave `auth` out "
                + "(kubeflow_service_account, a projected token with audience pipelines.kubeflow.org) or set `auth: {type: kubeflow_userid, user: …}`"
        }
        return nil
    }

    /// The outcome of an answer, per target: GitHub rate limits wait (a retry, not dead); a 3xx that was not
    /// followed is dead (naming where it points); a 2xx counts as delivered only with one of `success.statuses`
    /// and, where `success.jsonBody` says, a body that parses as JSON (unless it was cut at the body cap) —
    /// anything else in 2xx is dead at once: the request reached a sign-in page or a proxy, not the API, and
    /// only the operator can fix the URL or the credentials. Everything else: `policy.decide`.
    public func outcome(of response: HTTPResponse, policy: DeliveryPolicy, attempt: Int, now: Date = Date(), random: Double) -> DeliveryPolicy.Outcome
    {
        let status = response.status
        if hasGitHubRateLimits,
            let wait = DeliveryPolicy.rateLimitWait(status: status, header: response.header, body: response.body, now: now)
        {
            return policy.afterRateLimit(seconds: wait.seconds, reason: wait.reason, attempt: attempt)
        }
        if (300..<400).contains(status) {
            let location = response.header("location").map { HTTPClient.redact($0) } ?? "(no Location)"
            let why =
                maxRedirects == 0
                ? "\(apiName) is not expected to redirect"
                : response.redirects >= maxRedirects
                    ? "more than \(maxRedirects) redirects"
                    : "only redirects to the same scheme, host and port are followed, so credentials never go elsewhere"
            return .dead(reason: "HTTP \(status): redirected to \(location), not followed (\(why)); set the action's URL to where it should go")
        }
        guard (200..<300).contains(status) else {
            return policy.decide(
                status: status, error: nil, retryAfter: response.header("retry-after"), attempt: attempt,
                nameIsIdempotencyKey: nameIsIdempotencyKey, now: now, random: random)
        }
        let page = Self.looksLikeHTML(response)
        if case .azureDevOpsPipeline = self, status == 203 || page {
            return .dead(
                reason: "Azure DevOps answered \(status) with a sign-in page: the credentials are missing or invalid; "
                    + "set auth {type: basic, username: \"\", password_env: …} with a personal access token allowed Build: Read & execute, "
                    + "or azure_workload_identity; resending cannot help")
        }
        let expected = success.statuses.sorted().map(String.init).joined(separator: ", ")
        guard success.statuses.contains(status) else {
            return .dead(
                reason: "HTTP \(status): not a status \(apiName) reports success with (expected \(expected)); "
                    + "something else answered (a proxy?) — check the URL and auth; resending cannot help")
        }
        if success.jsonBody.contains(status), !response.truncated, JSONTemplate.parse(response.body) == nil {
            let kind = response.header("content-type").map { " (\($0))" } ?? ""
            return .dead(
                reason: "HTTP \(status) with a body that is not JSON\(kind)\(page ? ", an HTML page" : ""): "
                    + "\(apiName) answers with JSON, so the request did not reach it (a sign-in page or a proxy in front of it?) — "
                    + "check the URL and auth; resending cannot help")
        }
        return .delivered(note: "HTTP \(status)")
    }

    static func looksLikeHTML(_ response: HTTPResponse) -> Bool {
        if response.header("content-type")?.lowercased().contains("text/html") == true { return true }
        let start = String(decoding: response.body.prefix(64), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return start.hasPrefix("<!doctype html") || start.hasPrefix("<html")
    }
}
