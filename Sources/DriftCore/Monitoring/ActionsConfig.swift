import DriftTriggers
import Foundation
import Yams

/// `actions:` of a monitor: each name maps to a preset and its settings (README, *Triggers*).
extension Reader {
    static let shadowKeys: Set<String> = [
        "preset", "challenger", "period", "output", "tolerance", "class_threshold", "min_pairs", "min_agreement",
        "max_output_psi", "max_latency_regression", "max_error_rate", "max_performance_drop", "on_promote", "on_reject"
    ]
    /// Variables a shadow evaluation adds for the actions it fires.
    static let shadowVariables = ["challenger", "champion", "verdict", "shadow_evaluation_id"]
    /// Variables a followed run adds for the actions its end fires (`on_success` / `on_failure`).
    static let followVariables = ["parent_action", "parent_action_id", "parent_run_id", "parent_run_state", "parent_run_url"]
    /// What a performance trigger (`policy.on`) adds: the trigger, and the figures out of their band joined by "; ".
    static let performanceVariables = ["trigger", "performance_reasons"]

    mutating func actionDefinitions(_ node: Node, features: [MonitorConfig.Feature]) -> [String: MonitorAction] {
        guard case .mapping(let m) = node else {
            issue(at: node.mark, "`actions` must map action names to their settings")
            return [:]
        }
        var out: [String: MonitorAction] = [:]
        for (k, v) in m {
            guard let name = k.string, !name.isEmpty else {
                issue(at: k.mark, "an action name must be a non-empty string")
                continue
            }
            place("/action/\(name)", k.mark)
            attemptedActions.insert(name)
            guard case .mapping = v else {
                issue(at: v.mark, "action '\(name)' must be a mapping with a `preset`")
                continue
            }
            guard let preset = string(v, "preset") else { continue }
            if preset == ShadowEvalConfig.preset {
                if let s = shadowEval(v, name: name, features: features) { out[name] = .shadowEval(s) }
            } else if let preset = Preset(rawValue: preset) {
                if let t = trigger(v, name: name, preset: preset) { out[name] = .trigger(t) }
            } else {
                issue(
                    at: v["preset"]?.mark,
                    "action '\(name)': unknown preset '\(preset)' (expected one of: \((Preset.allCases.map(\.rawValue) + [ShadowEvalConfig.preset]).joined(separator: ", ")))"
                )
            }
        }
        // a run's on_success / on_failure may fire triggers and shadow evaluations, not itself
        for (name, action) in out {
            guard case .trigger(let t) = action else { continue }
            for fired in t.follow.onSuccess + t.follow.onFailure where out[fired] == nil && !attemptedActions.contains(fired) {
                issue(
                    at: m.first { $0.key.string == name }?.value.mark,
                    "action '\(name)' fires '\(fired)' when its run ends, which is not defined under `actions:`")
            }
        }
        // …and no chain of them may come back to where it started (each would start the next forever)
        func next(_ n: String) -> [String] {
            switch out[n] {
            case .trigger(let t)?: return t.follow.onSuccess + t.follow.onFailure
            case .shadowEval(let e)?: return e.onPromote + e.onReject
            case nil: return []
            }
        }
        for start in out.keys.sorted() {
            var seen: Set<String> = []
            var frontier = next(start)
            while let n = frontier.popLast() {
                if n == start {
                    issue(
                        at: m.first { $0.key.string == start }?.value.mark,
                        "action '\(start)' fires itself again through `on_success` / `on_failure` (a chain that never ends)")
                    break
                }
                if seen.insert(n).inserted { frontier += next(n) }
            }
        }
        // shadow evaluations may only fire defined triggers (not another evaluation)
        for (name, action) in out {
            guard case .shadowEval(let s) = action else { continue }
            for fired in s.onPromote + s.onReject {
                guard let target = out[fired] else {
                    if attemptedActions.contains(fired) { continue }  // its own problem is reported where it stands
                    issue(
                        at: m.first { $0.key.string == name }?.value.mark, "action '\(name)' fires '\(fired)', which is not defined under `actions:`")
                    continue
                }
                if case .shadowEval = target {
                    issue(at: m.first { $0.key.string == name }?.value.mark, "action '\(name)' cannot fire another shadow evaluation ('\(fired)')")
                }
            }
        }
        return out
    }

    mutating func checkActionNames(_ names: [String], defined: [String: MonitorAction], at mark: Mark?, what: String) {
        // an action that is written but has problems is reported where it stands, not again here
        for n in names where defined[n] == nil && !attemptedActions.contains(n) {
            issue(
                at: mark,
                "\(what) '\(n)' is not defined under `actions:`\(defined.isEmpty ? "" : " (defined: \(defined.keys.sorted().joined(separator: ", ")))")"
            )
        }
    }

    mutating func shadowEval(_ v: Node, name: String, features: [MonitorConfig.Feature]) -> ShadowEvalConfig? {
        unknownKeys(v, allowed: Self.shadowKeys, in: "shadow_eval action '\(name)'")
        let before = issues.count
        var s = ShadowEvalConfig(
            challenger: string(v, "challenger", required: false), period: v["period"] == nil ? nil : duration(v, "period", default: nil),
            output: string(v, "output", required: false))
        let outputs = features.filter { if case .output = $0.source { return true } else { return false } }
        if let o = s.output {
            if !outputs.contains(where: { $0.name == o }) {
                issue(
                    at: v["output"]?.mark,
                    "action '\(name)': `output` '\(o)' is not an output feature of this monitor (outputs: \(outputs.map(\.name).joined(separator: ", ")))"
                )
            }
        } else if outputs.isEmpty {
            issue(at: v.mark, "action '\(name)': a shadow evaluation compares an output, and this monitor has no feature with `source: output`")
        }
        s.tolerance = double(v, "tolerance", default: s.tolerance, range: 0...1e12)
        if v["class_threshold"] != nil { s.classThreshold = double(v, "class_threshold", default: 0.5, range: -1e12...1e12) }
        s.thresholds.minPairs = int(v, "min_pairs", default: s.thresholds.minPairs, range: 1...100_000_000)
        s.thresholds.minAgreement = double(v, "min_agreement", default: s.thresholds.minAgreement, range: 0...1)
        s.thresholds.maxOutputPSI = double(v, "max_output_psi", default: s.thresholds.maxOutputPSI, range: 0...100)
        s.thresholds.maxLatencyRegression = double(v, "max_latency_regression", default: s.thresholds.maxLatencyRegression, range: 0...1000)
        s.thresholds.maxErrorRate = double(v, "max_error_rate", default: s.thresholds.maxErrorRate, range: 0...1)
        s.thresholds.maxPerformanceDrop = double(v, "max_performance_drop", default: s.thresholds.maxPerformanceDrop, range: 0...1e12)
        s.onPromote = strings(v, "on_promote", default: [])
        s.onReject = strings(v, "on_reject", default: [])
        return issues.count == before ? s : nil
    }

    /// A trigger action: the keys its preset's descriptor lists (plus `Preset.commonKeys`), its target (one parse
    /// function per preset, `TriggerTargetConfig.swift`), credentials, signing, HTTP options, retries and following.
    mutating func trigger(_ v: Node, name: String, preset: Preset) -> TriggerAction? {
        unknownKeys(v, allowed: Preset.commonKeys.union(preset.descriptor.keys), in: "\(preset) action '\(name)'")
        let before = issues.count
        let known = TriggerContext.names + Self.shadowVariables + Self.followVariables + Self.performanceVariables
        let target = self.target(ActionNode(node: v, name: name, known: known), preset: preset)
        // Kubernetes label values: at most 63 characters, alphanumeric at both ends, '-', '_', '.' inside
        // (apimachinery IsValidLabelValue). A variable whose values cannot be one is refused there; ones that may be
        // (monitor, model, action names) are checked when the request is made.
        if case .kubernetesJob? = target, let job = v["job"].map(Self.json) {
            for path in ["metadata.labels", "spec.template.metadata.labels"] {
                guard case .object(let labels)? = job.value(at: path) else { continue }
                for (key, value) in labels {
                    guard case .string(let text) = value else { continue }
                    let unfit = JSONTemplate.placeholders(in: text).filter {
                        ["action_id", "window_start", "window_end", "drifted_features", "report_path"].contains($0)
                    }
                    if let bad = unfit.first {
                        issue(
                            at: v["job"]?.mark,
                            "action '\(name)': `job.\(path).\(key)` uses {{\(bad)}}, which cannot be a Kubernetes label value (at most 63 letters, digits, '-', '_' or '.'; it has ':' or ','); put it in an annotation or an env value"
                        )
                    } else if JSONTemplate.placeholders(in: text).isEmpty, !Self.isLabelValue(text) {
                        issue(
                            at: v["job"]?.mark,
                            "action '\(name)': `job.\(path).\(key)` is not a valid Kubernetes label value (at most 63 characters: letters, digits, '-', '_', '.', beginning and ending with a letter or digit)"
                        )
                    }
                }
            }
        }
        // values the target takes only as strings must not be lists or mappings
        if let target, let job = v["job"].map(Self.json) {
            for path in job.nonStrings(target.stringFields) {
                issue(
                    at: v["job"]?.mark,
                    "action '\(name)': `job.\(path)` must be a string, not a list or mapping (the \(preset) target takes only strings there)")
            }
        }
        let credential =
            v["auth"].map { auth($0, name: name, scope: target?.azureScope) }
            ?? Self.defaultCredential(preset: preset, scope: target?.azureScope, target: target)
        var secrets: [StandardWebhooks.Secret] = []
        for s in strings(v, "secrets", default: []) {
            do { secrets.append(try StandardWebhooks.Secret(s)) } catch { issue(at: v["secrets"]?.mark, "action '\(name)': \(error)") }
        }
        var http = HTTPClient.Options()
        http.timeout = double(v, "timeout", default: 30, range: 0.1...3600)
        http.connectTimeout = double(v, "connect_timeout", default: 5, range: 0.1...600)
        http.caBundle = string(v, "ca_bundle", required: false)
        http.clientCertificate = string(v, "client_cert", required: false)
        http.clientKey = string(v, "client_key", required: false)
        let policy = DeliveryPolicy(
            maxAttempts: int(v, "max_attempts", default: 8, range: 1...100),
            baseSeconds: double(v, "backoff", default: 2, range: 0...3600),
            capSeconds: double(v, "backoff_cap", default: 600, range: 0...86_400))
        if let target, let credential, let problem = target.credentialProblem(credential) {
            issue(at: v["auth"]?.mark ?? v.mark, "action '\(name)': \(problem)")
        }
        let follow = followSettings(v, name: name, target: target, signed: !secrets.isEmpty, credential: credential)
        guard issues.count == before, let target, let credential else { return nil }
        return TriggerAction(
            name: name, target: target, credential: credential, signingSecrets: secrets,
            hubSecret: string(v, "hub_secret", required: false), http: http, policy: policy, follow: follow)
    }

    /// `follow`, `follow_interval`, `follow_interval_cap`, `follow_deadline`, `on_success`, `on_failure`.
    mutating func followSettings(_ v: Node, name: String, target: TriggerTarget?, signed: Bool, credential: Credential?) -> FollowSettings {
        let polled = target?.canBePolled ?? true
        // a batch job's status is read from Azure Resource Manager: only workload identity can get a token for it
        var byDefault = polled
        if case .azureMLBatchEndpoint? = target, let credential {
            if case .azureWorkloadIdentity = credential {
            } else {
                byDefault = false
                if v["follow"]?.bool == true {
                    issue(
                        at: v["follow"]?.mark,
                        "action '\(name)': an Azure ML batch job is followed through Azure Resource Manager, which needs auth azure_workload_identity (a token for the endpoint is refused there)"
                    )
                }
            }
        }
        var f = FollowSettings(enabled: flag(v, "follow", default: byDefault))
        f.interval = double(v, "follow_interval", default: 30, range: 1...3600)
        f.intervalCap = double(v, "follow_interval_cap", default: 600, range: 1...86_400)
        if f.intervalCap < f.interval {
            issue(at: v["follow_interval_cap"]?.mark, "action '\(name)': `follow_interval_cap` must be at least `follow_interval`")
        }
        if let d = duration(v, "follow_deadline", default: "P1D") {
            if d.seconds < 1 || d.seconds > 90 * 86_400 {
                issue(at: v["follow_deadline"]?.mark, "action '\(name)': `follow_deadline` must be between 1 second and 90 days")
            }
            f.deadline = d.seconds
        }
        f.onSuccess = strings(v, "on_success", default: [])
        f.onFailure = strings(v, "on_failure", default: [])
        if !f.enabled, !(f.onSuccess + f.onFailure).isEmpty {
            issue(at: v["follow"]?.mark ?? v.mark, "action '\(name)': `on_success` / `on_failure` need the run followed (`follow: true`)")
        }
        if f.enabled, !polled, !signed {
            issue(
                at: v["follow"]?.mark ?? v.mark,
                "action '\(name)': a webhook is followed by its receiver's signed callback (POST /v1/runs/{action id}/status), so `follow: true` needs `secrets` to verify it"
            )
        }
        return f
    }

    /// `key` of `v` as a plain YAML boolean, `value` when absent; `context` prefixes the problem (e.g. "action 'a': ").
    mutating func flag(_ v: Node, _ key: String, default value: Bool, context: String = "") -> Bool {
        guard let n = v[key] else { return value }
        guard case .scalar(let s) = n, s.style == .plain, let b = n.bool else {
            issue(at: n.mark, "\(context)`\(key)` must be true or false")
            return value
        }
        return b
    }

    /// Kubernetes `IsValidLabelValue`: empty, or ≤ 63 characters of `[A-Za-z0-9_.-]` beginning and ending alphanumeric.
    static func isLabelValue(_ s: String) -> Bool {
        guard let first = s.first, let last = s.last else { return true }
        func alnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        return s.count <= 63 && alnum(first) && alnum(last) && s.allSatisfy { alnum($0) || "-_.".contains($0) }
    }

    /// The credential when `auth` is left out: the pod's identity where the target always needs one — including a
    /// multi-user Kubeflow (`target` has a `namespace`), which refuses unauthenticated calls.
    static func defaultCredential(preset: Preset, scope: String?, target: TriggerTarget? = nil) -> Credential? {
        if case .kubeflowRun(_, _, _, _, _, _?)? = target { return .kubeflowServiceAccount() }
        switch preset.descriptor.defaultAuth {
        case .kubernetesServiceAccount: return .kubernetesServiceAccount()
        case .azureWorkloadIdentity: return (scope ?? preset.descriptor.azureScope).map { .azureWorkloadIdentity(scope: $0) }
        case .none: return Credential.none
        }
    }

    mutating func auth(_ n: Node, name: String, scope: String?) -> Credential? {
        guard case .mapping = n else {
            issue(at: n.mark, "action '\(name)': `auth` must be a mapping with a `type`")
            return nil
        }
        unknownKeys(
            n,
            allowed: [
                "type", "env", "file", "header", "scheme", "username", "password_env", "password_file", "token_file", "scope",
                "app_id", "installation_id", "private_key_file", "private_key_env", "user", "prefix"
            ], in: "auth of action '\(name)'")
        let type = string(n, "type") ?? ""
        func source(_ envKey: String, _ fileKey: String) -> SecretSource? {
            if let e = string(n, envKey, required: false) { return .env(e) }
            if let f = string(n, fileKey, required: false) { return .file(f) }
            issue(
                at: n.mark,
                "action '\(name)': auth type \(type) needs `\(envKey)` (an environment variable) or `\(fileKey)` (a file re-read on every use)")
            return nil
        }
        switch type {
        case "none": return Credential.none
        case "token", "bearer":
            return source("env", "file").map {
                .token(
                    source: $0, header: string(n, "header", required: false) ?? "Authorization",
                    scheme: n["scheme"]?.string ?? "Bearer")
            }
        case "basic":
            return source("password_env", "password_file").map { .basic(username: n["username"]?.string ?? "", password: $0) }
        case "kubernetes_service_account":
            return .kubernetesServiceAccount(tokenFile: string(n, "token_file", required: false) ?? KubernetesServiceAccount.tokenFile)
        case "azure_workload_identity":
            guard let s = string(n, "scope", required: false) ?? scope else {
                issue(
                    at: n.mark,
                    "action '\(name)': azure_workload_identity needs a `scope` for this preset (e.g. https://management.azure.com/.default)")
                return nil
            }
            return .azureWorkloadIdentity(scope: s)
        case "github_app":
            let before = issues.count
            // iss of the app's JWT: the numeric app ID or the client ID (Iv1.…, Iv23…); it goes into JSON unescaped-safe
            let app = string(n, "app_id")
            if let a = app,
                !((1...15).contains(a.count) && a.allSatisfy({ $0.isASCII && $0.isNumber }) && a.first != "0")
                    && !(a.hasPrefix("Iv") && (3...100).contains(a.count)
                        && a.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }))
            {
                issue(
                    at: n["app_id"]?.mark,
                    "action '\(name)': `app_id` must be the GitHub App's numeric app ID or its client ID (Iv…), from the app's settings page")
            }
            if n["installation_id"] == nil {
                issue(
                    at: n.mark,
                    "action '\(name)': github_app needs `installation_id` (the number at the end of the installation's settings URL, or GET /repos/OWNER/NAME/installation)"
                )
            }
            let installation = int(n, "installation_id", default: 0, range: 1...Int(Int64.max))
            let keyFile = string(n, "private_key_file", required: false)
            let keyEnv = string(n, "private_key_env", required: false)
            if (keyFile == nil) == (keyEnv == nil) {
                issue(
                    at: n.mark,
                    "action '\(name)': github_app needs exactly one of `private_key_file` (the app's .pem, re-read on every token exchange) or `private_key_env` (a variable holding the PEM)"
                )
            }
            guard issues.count == before, let app, let key = keyEnv.map(SecretSource.env) ?? keyFile.map(SecretSource.file) else { return nil }
            return .githubApp(appID: app, installationID: installation, privateKey: key)
        case "kubeflow_service_account":
            return .kubeflowServiceAccount(tokenFile: string(n, "token_file", required: false))
        case "kubeflow_userid":
            let before = issues.count
            let user = string(n, "user")
            let header = string(n, "header", required: false) ?? "kubeflow-userid"
            let prefix = n["prefix"]?.string ?? ""
            if let u = user, let p = KubeflowPipelines.headerValueProblem(u) {
                issue(at: n["user"]?.mark, "action '\(name)': kubeflow_userid `user` \(p)")
            }
            if let p = KubeflowPipelines.headerValueProblem(prefix) {
                issue(at: n["prefix"]?.mark, "action '\(name)': kubeflow_userid `prefix` \(p)")
            }
            if !KubeflowPipelines.isHeaderName(header) {
                issue(at: n["header"]?.mark, "action '\(name)': kubeflow_userid `header` must be an HTTP header name (letters, digits, '-', …)")
            }
            guard issues.count == before, let user else { return nil }
            return .kubeflowUserID(user: user, header: header, prefix: prefix)
        default:
            issue(
                at: n["type"]?.mark ?? n.mark,
                "action '\(name)': auth `type` must be none, token, basic, kubernetes_service_account, azure_workload_identity, "
                    + "github_app, kubeflow_service_account or kubeflow_userid")
            return nil
        }
    }

    /// A YAML node as a JSON template: plain scalars typed as YAML 1.2 core (null, booleans, numbers), quoted ones strings.
    static func json(_ n: Node) -> JSONTemplate {
        switch n {
        case .mapping(let m): return .object(m.map { ($0.key.string ?? "", json($0.value)) })
        case .sequence(let s): return .array(s.map(json))
        case .scalar(let s):
            guard s.style == .plain else { return .string(s.string) }
            if ["null", "~", ""].contains(s.string) { return .null }
            if let b = n.bool, ["true", "false", "True", "False", "TRUE", "FALSE"].contains(s.string) { return .bool(b) }
            if let i = n.int { return .number(Double(i)) }
            if let d = n.float, s.string.first.map({ $0.isNumber || $0 == "-" || $0 == "." }) == true { return .number(d) }
            return .string(s.string)
        case .alias: return .null
        }
    }
}
