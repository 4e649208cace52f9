import Foundation

/// One request `drift-worker trigger test` makes instead of starting a run, and what its answer proves.
public struct DryRunStep: Sendable {
    /// What the answer is read as.
    public enum Check: Sendable, Equatable {
        /// Kubernetes `POST …/jobs?dryRun=All`: validated and admitted, not persisted.
        case kubernetesAdmitted
        /// Argo `submit` with `submitOptions.serverDryRun: true`: the workflow is built and validated, not created.
        case argoServerDryRun
        /// Azure DevOps run with `previewRun: true`: the final YAML, no run queued.
        case azureDevOpsPreview
        /// GitHub `GET …/actions/workflows/{workflow}`: the workflow exists and the token can read it.
        case githubWorkflow
        /// GitHub `GET …/contents/{path}?ref=…` (raw): the file declares `workflow_dispatch` and these inputs.
        case githubInputs([String])
        /// Kubeflow `GET` of a pipeline, pipeline version or experiment (`what` names which).
        case kubeflowResource(String)
        /// Azure ML `GET` of the workspace: the credential reaches it (the job PUT is not sent).
        case azureMLWorkspace
        /// Azure ML batch endpoint `GET` of the scoring URI: the endpoint exists and takes the token.
        case azureMLBatchEndpoint
        /// The real request, marked `X-Drift-Test: true` (webhooks, and every target with `--really`).
        case sent
    }

    public var request: HTTPRequest
    public var check: Check

    public init(request: HTTPRequest, check: Check) {
        self.request = request
        self.check = check
    }

    /// The URL as printed: without user/password; a query is kept only when every parameter is one of the
    /// harmless ones dry runs add (`dryRun`, `api-version`, `ref`), else shown as `?…`.
    public var shownURL: String {
        guard var c = URLComponents(string: request.url) else { return "(an invalid URL)" }
        let safe: Set<String> = ["dryRun", "api-version", "ref"]
        if let items = c.queryItems, items.allSatisfy({ safe.contains($0.name) }) {
            c.user = nil
            c.password = nil
            return c.string ?? "(an invalid URL)"
        }
        return HTTPClient.redact(request.url)
    }

    /// The verdict on an answer: whether the check passed and one line saying what was verified (or why not).
    public func verdict(_ response: HTTPResponse) -> (ok: Bool, text: String) {
        let status = response.status
        let json = JSONTemplate.parse(response.body)
        if status == 203 {
            return (false, "HTTP 203 (a sign-in page, not an API answer): the credentials are missing or wrong")
        }
        if status == 401 || status == 403 {
            return (false, "HTTP \(status): the credential was refused (\(Self.reason(json, response)))")
        }
        let good = (200..<300).contains(status)
        switch check {
        case .kubernetesAdmitted:
            return good
                ? (true, "Kubernetes admitted the Job (dry run, nothing created)")
                : (false, "Kubernetes refused the Job: HTTP \(status) \(Self.reason(json, response))")
        case .argoServerDryRun:
            return good
                ? (true, "Argo validated the submission of the WorkflowTemplate (server dry run, nothing created)")
                : (false, "Argo refused the submission: HTTP \(status) \(Self.reason(json, response))")
        case .azureDevOpsPreview:
            guard good else { return (false, "Azure DevOps refused the preview run: HTTP \(status) \(Self.reason(json, response))") }
            guard let yaml = json?.value(at: "finalYaml")?.scalarText else {
                return (false, "Azure DevOps answered HTTP \(status) without `finalYaml`: not a preview of this pipeline (is it a YAML pipeline?)")
            }
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).count
            return (true, "Azure DevOps previewed the run with these parameters (final YAML: \(lines) lines; nothing queued)")
        case .githubWorkflow:
            guard good, let path = json?.value(at: "path")?.scalarText else {
                return (
                    false,
                    status == 404
                        ? "GitHub: no such workflow, or the token cannot see the repository (HTTP 404)"
                        : "GitHub: HTTP \(status) \(Self.reason(json, response))"
                )
            }
            let state = json?.value(at: "state")?.scalarText ?? "unknown"
            guard state == "active" else { return (false, "GitHub: workflow \(path) exists but is \(state); a dispatch would be refused") }
            return (
                true, "GitHub: workflow \(path) exists and is active; the token can read it (dispatch itself needs `actions: write`, not checked)"
            )
        case .githubInputs(let inputs):
            guard good else { return (false, "GitHub: cannot read the workflow file: HTTP \(status) \(Self.reason(json, response))") }
            let text = String(decoding: response.body.prefix(1 << 20), as: UTF8.self)
            guard text.contains("workflow_dispatch") else {
                return (false, "GitHub: the workflow file does not declare `workflow_dispatch`; a dispatch gets 422")
            }
            let declared = Self.declaredInputs(text)
            let missing = inputs.filter { !declared.contains($0) }
            if !missing.isEmpty {
                return (
                    false,
                    "GitHub: inputs not declared under workflow_dispatch.inputs: \(missing.joined(separator: ", ")) (a dispatch gets 422 \"Unexpected inputs provided\")"
                )
            }
            return (true, "GitHub: workflow_dispatch declared; inputs declared: \(inputs.isEmpty ? "(none sent)" : inputs.joined(separator: ", "))")
        case .kubeflowResource(let what):
            return good
                ? (true, "Kubeflow: the \(what) exists and is readable (no run created)")
                : (false, "Kubeflow: cannot read the \(what): HTTP \(status) \(Self.reason(json, response))")
        case .azureMLWorkspace:
            return good
                ? (true, "Azure ML: the workspace is readable with this credential (the job PUT was not sent)")
                : (false, "Azure ML: cannot read the workspace: HTTP \(status) \(Self.reason(json, response))")
        case .azureMLBatchEndpoint:
            // the scoring URI takes POST; any answer but 401/403/404 shows it exists and took the token
            return status == 404
                ? (false, "Azure ML batch endpoint: HTTP 404, no endpoint at this URI")
                : status >= 500
                    ? (false, "Azure ML batch endpoint: HTTP \(status) \(Self.reason(json, response))")
                    : (true, "Azure ML batch endpoint: the endpoint answered HTTP \(status) and took the token (no job created)")
        case .sent:
            return good
                ? (true, "the target accepted the marked test request (HTTP \(status))")
                : (false, "the target answered HTTP \(status) \(Self.reason(json, response))")
        }
    }

    /// The target's error message when its answer has one (`message`, `error.message`), else the first 200 bytes.
    static func reason(_ json: JSONTemplate?, _ response: HTTPResponse) -> String {
        if let m = json?.value(at: "message")?.scalarText ?? json?.value(at: "error.message")?.scalarText { return m }
        return String(decoding: response.body.prefix(200), as: UTF8.self)
    }

    /// The input names under `on: workflow_dispatch: inputs:` of a workflow file: the keys one level below the
    /// `inputs:` line that follows `workflow_dispatch:`. A line scan, not a YAML parser; flow-style inputs
    /// (`inputs: {a: …}`) are not recognised and show as undeclared.
    public static func declaredInputs(_ text: String) -> Set<String> {
        func indent(_ s: Substring) -> Int { s.prefix { $0 == " " }.count }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard let dispatch = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("workflow_dispatch:") }) else { return [] }
        let dispatchIndent = indent(lines[dispatch])
        var i = dispatch + 1
        while i < lines.count {
            let l = lines[i]
            let t = l.trimmingCharacters(in: .whitespaces)
            if !t.isEmpty, !t.hasPrefix("#"), indent(l) <= dispatchIndent { return [] }
            if t == "inputs:" { break }
            i += 1
        }
        guard i < lines.count else { return [] }
        let inputsIndent = indent(lines[i])
        var names: Set<String> = []
        var childIndent: Int?
        for l in lines[(i + 1)...] {
            let t = l.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            let n = indent(l)
            if n <= inputsIndent { break }
            if childIndent == nil { childIndent = n }
            guard n == childIndent, let colon = t.firstIndex(of: ":") else { continue }
            names.insert(String(t[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")))
        }
        return names
    }
}

extension TriggerTarget {
    /// The requests that check an action without starting anything, built from `request` — the request a real
    /// delivery sends, as `TriggerSender.prepare` returns it (credentials included; GETs keep its headers and drop
    /// its body):
    /// - `kubernetes_job`: the same POST with `?dryRun=All` (the API server validates and admits, persists nothing);
    /// - `argo_workflow_template`: the same submit with `submitOptions.serverDryRun: true`;
    /// - `azure_devops_pipeline`: the same run with `previewRun: true` (returns the final YAML, queues nothing);
    /// - `github_workflow_dispatch`: GET the workflow, then its file at `ref`, to check it declares the inputs sent
    ///   (GitHub has no dry run; nothing is dispatched);
    /// - `kubeflow_run`: GET the pipeline, the pipeline version and the experiment named (no run created);
    /// - `azureml_job`: GET the workspace (no PUT);
    /// - `azureml_batch_endpoint`: GET the scoring URI (no job);
    /// - `webhook`: the request itself — a webhook has no dry run; it is marked `X-Drift-Test: true` and receivers
    ///   must honour that.
    public func dryRun(_ request: HTTPRequest) throws -> [DryRunStep] {
        func get(_ url: String, accept: String? = nil) -> HTTPRequest {
            var headers = request.headers.filter { $0.0.lowercased() != "content-type" }
            if let accept { headers = headers.filter { $0.0.lowercased() != "accept" } + [("Accept", accept)] }
            return HTTPRequest(method: "GET", url: url, headers: headers)
        }
        func body() throws -> [(String, JSONTemplate)] {
            guard let b = request.body, case .object(let pairs)? = JSONTemplate.parse(b) else {
                throw PresetError("the \(preset) request has no JSON object body to turn into a dry run")
            }
            return pairs
        }
        func replacing(_ url: String, suffix: String, with new: String) throws -> String {
            let (base, query) = Self.splitQuery(url)
            guard base.hasSuffix(suffix) else { throw PresetError("the \(preset) request URL \(HTTPClient.redact(url)) does not end in \(suffix)") }
            return String(base.dropLast(suffix.count)) + new + (query.map { "?" + $0 } ?? "")
        }
        switch self {
        case .webhook:
            return [DryRunStep(request: request, check: .sent)]
        case .kubernetesJob:
            var r = request
            r.url += (r.url.contains("?") ? "&" : "?") + "dryRun=All"
            return [DryRunStep(request: r, check: .kubernetesAdmitted)]
        case .argoWorkflowTemplate:
            // Not the submit endpoint: before argo-workflows PR #13183 (2024) SubmitWorkflow ignored serverDryRun and
            // always created the workflow. CreateWorkflow has honoured `serverDryRun` since v2.5, so the dry run creates
            // the same workflow (a workflowTemplateRef with the same name and parameters) through it, in dry-run mode.
            let pairs = try body()
            guard case .object(let options)? = pairs.first(where: { $0.0 == "submitOptions" })?.1,
                let template = pairs.first(where: { $0.0 == "resourceName" })?.1.scalarText
            else {
                throw PresetError("the argo_workflow_template request has no submitOptions or resourceName")
            }
            let namespace = pairs.first { $0.0 == "namespace" }?.1.scalarText ?? ""
            var parameters: [JSONTemplate] = []
            if case .array(let items)? = options.first(where: { $0.0 == "parameters" })?.1 {
                for item in items {
                    guard let text = item.scalarText, let eq = text.firstIndex(of: "=") else { continue }
                    parameters.append(.object([("name", .string(String(text[..<eq]))), ("value", .string(String(text[text.index(after: eq)...])))]))
                }
            }
            var metadata: [(String, JSONTemplate)] = []
            if let name = options.first(where: { $0.0 == "name" })?.1.scalarText { metadata.append(("name", .string(name))) }
            let workflow = JSONTemplate.object([
                ("metadata", .object(metadata)),
                (
                    "spec",
                    .object([
                        ("workflowTemplateRef", .object([("name", .string(template))])),
                        ("arguments", .object([("parameters", .array(parameters))]))
                    ])
                )
            ])
            var r = request
            r.url = try replacing(request.url, suffix: "/submit", with: "")
            r.body = JSONTemplate.object([("namespace", .string(namespace)), ("serverDryRun", .bool(true)), ("workflow", workflow)]).data
            return [DryRunStep(request: r, check: .argoServerDryRun)]
        case .azureDevOpsPipeline:
            var pairs = try body()
            pairs.removeAll { $0.0 == "previewRun" }
            pairs.append(("previewRun", .bool(true)))
            var r = request
            r.body = JSONTemplate.object(pairs).data
            return [DryRunStep(request: r, check: .azureDevOpsPreview)]
        case .githubWorkflowDispatch:
            let pairs = try body()
            let workflowURL = try replacing(request.url, suffix: "/dispatches", with: "")
            let ref = pairs.first { $0.0 == "ref" }?.1.scalarText ?? "main"
            var inputs: [String] = []
            if case .object(let ins)? = pairs.first(where: { $0.0 == "inputs" })?.1 { inputs = ins.map(\.0) }
            // …/repos/{owner}/{repo}/actions/workflows/{workflow} → …/repos/{owner}/{repo}
            guard let range = workflowURL.range(of: "/actions/workflows/", options: .backwards) else {
                throw PresetError("the github_workflow_dispatch request URL has no /actions/workflows/")
            }
            let repoURL = String(workflowURL[..<range.lowerBound])
            let workflow = String(workflowURL[range.upperBound...])
            // the workflow as a file name (retrain.yml) gives its path; an id is looked up by the first step only
            var steps = [DryRunStep(request: get(workflowURL), check: .githubWorkflow)]
            if workflow.hasSuffix(".yml") || workflow.hasSuffix(".yaml") {
                let encodedRef =
                    ref.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))) ?? ref
                steps.append(
                    DryRunStep(
                        request: get(
                            "\(repoURL)/contents/.github/workflows/\(workflow)?ref=\(encodedRef)", accept: "application/vnd.github.raw+json"),
                        check: .githubInputs(inputs)))
            }
            return steps
        case .kubeflowRun:
            let pairs = try body()
            let host = try replacing(request.url, suffix: "/apis/v2beta1/runs", with: "")
            let reference = pairs.first { $0.0 == "pipeline_version_reference" }?.1
            var steps: [DryRunStep] = []
            if let pipeline = reference?.value(at: "pipeline_id")?.scalarText {
                steps.append(
                    DryRunStep(
                        request: get("\(host)/apis/v2beta1/pipelines/\(Self.path(pipeline))"), check: .kubeflowResource("pipeline \(pipeline)")))
                if let version = reference?.value(at: "pipeline_version_id")?.scalarText {
                    steps.append(
                        DryRunStep(
                            request: get("\(host)/apis/v2beta1/pipelines/\(Self.path(pipeline))/versions/\(Self.path(version))"),
                            check: .kubeflowResource("pipeline version \(version)")))
                }
            }
            if let experiment = pairs.first(where: { $0.0 == "experiment_id" })?.1.scalarText {
                steps.append(
                    DryRunStep(
                        request: get("\(host)/apis/v2beta1/experiments/\(Self.path(experiment))"),
                        check: .kubeflowResource("experiment \(experiment)")))
            }
            guard !steps.isEmpty else { throw PresetError("the kubeflow_run request names no pipeline") }
            return steps
        case .azureMLJob:
            // PUT …/workspaces/{ws}/jobs/{name}?api-version=… → GET …/workspaces/{ws}?api-version=…
            let (base, query) = Self.splitQuery(request.url)
            guard let range = base.range(of: "/jobs/", options: .backwards) else { throw PresetError("the azureml_job request URL has no /jobs/") }
            return [DryRunStep(request: get(String(base[..<range.lowerBound]) + (query.map { "?" + $0 } ?? "")), check: .azureMLWorkspace)]
        case .azureMLBatchEndpoint:
            return [DryRunStep(request: get(request.url), check: .azureMLBatchEndpoint)]
        }
    }

    static func splitQuery(_ url: String) -> (String, String?) {
        guard let q = url.firstIndex(of: "?") else { return (url, nil) }
        return (String(url[..<q]), String(url[url.index(after: q)...]))
    }
}
