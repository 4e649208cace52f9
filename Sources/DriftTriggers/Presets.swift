import Crypto
import Foundation

/// Where an action goes and the request it sends there. Each preset builds one documented request (README,
/// *Trigger presets*); where the target names resources, the action's stable id becomes the resource name, so a
/// resend after a crash never starts a second run: create-with-name (409 = already started) for Kubernetes Jobs
/// and Argo workflows, a look-up before any resend (`lookup`) for Azure ML jobs and Kubeflow runs.
public enum TriggerTarget: Sendable, Equatable {
    /// Any URL; `body` defaults to every template variable as a JSON object. `runIDField`: a dotted path into the
    /// response naming the external run id.
    case webhook(url: String, method: String = "POST", headers: [(String, String)] = [], body: JSONTemplate? = nil, runIDField: String? = nil)
    /// GitHub Actions `workflow_dispatch` (POST /repos/{repository}/actions/workflows/{workflow}/dispatches).
    /// `sendActionID`: add the input `action_id` (the workflow must declare it — GitHub answers 422 "Unexpected
    /// inputs provided" to an undeclared input). `returnRunDetails`: ask for the run id (200 with `workflow_run_id`
    /// instead of 204); off for GitHub Enterprise Server versions that refuse the parameter.
    case githubWorkflowDispatch(
        repository: String, workflow: String, ref: String = "main", inputs: [(String, String)] = [],
        apiURL: String = "https://api.github.com", sendActionID: Bool = false, returnRunDetails: Bool = true)
    /// Azure DevOps: run a pipeline (POST {organization}/{project}/_apis/pipelines/{pipelineID}/runs).
    /// `action_id` is added to `templateParameters` only with `sendActionID` (a YAML pipeline refuses a parameter
    /// it does not declare: "Unexpected parameter").
    case azureDevOpsPipeline(
        organization: String, project: String, pipelineID: Int, ref: String = "refs/heads/main",
        parameters: [(String, String)] = [], baseURL: String = "https://dev.azure.com", sendActionID: Bool = false)
    /// Azure ML batch endpoint: POST to the scoring URI (which ends in `/jobs`; added when missing) with
    /// `InputData`, optional `OutputData` and experiment name; `deployment` → header `azureml-model-deployment`.
    /// `managementURL`: where the job's status is read (Azure Resource Manager; another cloud's, e.g. Azure Government).
    case azureMLBatchEndpoint(
        endpoint: String, inputs: JSONTemplate, outputs: JSONTemplate? = nil, deployment: String? = nil,
        experimentName: String? = nil, managementURL: String = "https://management.azure.com")
    /// Azure ML job by ARM PUT, the job named after the action: PUT …/workspaces/{workspace}/jobs/{name}.
    case azureMLJob(
        subscription: String, resourceGroup: String, workspace: String, job: JSONTemplate,
        apiVersion: String = "2024-04-01", managementURL: String = "https://management.azure.com")
    /// Argo Workflows: submit a WorkflowTemplate with `submitOptions.name` = the action's name.
    case argoWorkflowTemplate(server: String, namespace: String, template: String, parameters: [(String, String)] = [])
    /// Kubeflow Pipelines v2: create a run whose display name is the action's name. `parameters` (a mapping) keep
    /// their JSON types — KFP checks them against the pipeline's declared types. `namespace`: a multi-user
    /// deployment's profile namespace — the run's namespace comes from its experiment (so `experimentID` is
    /// required with it), and the look-up lists runs in it.
    case kubeflowRun(
        host: String, pipelineID: String, pipelineVersionID: String?, experimentID: String?, parameters: JSONTemplate = .object([]),
        namespace: String? = nil)
    /// A Kubernetes Job from a template, `metadata.name` = the action's name.
    case kubernetesJob(apiServer: String, namespace: String, job: JSONTemplate)

    /// Field by field; the ordered name/value pairs (headers, inputs, parameters) compare in order.
    public static func == (a: TriggerTarget, b: TriggerTarget) -> Bool {
        func same(_ x: [(String, String)], _ y: [(String, String)]) -> Bool { x.elementsEqual(y) { $0 == $1 } }
        switch (a, b) {
        case (.webhook(let u1, let m1, let h1, let b1, let r1), .webhook(let u2, let m2, let h2, let b2, let r2)):
            return u1 == u2 && m1 == m2 && same(h1, h2) && b1 == b2 && r1 == r2
        case (
            .githubWorkflowDispatch(let r1, let w1, let f1, let i1, let a1, let s1, let d1),
            .githubWorkflowDispatch(let r2, let w2, let f2, let i2, let a2, let s2, let d2)
        ):
            return r1 == r2 && w1 == w2 && f1 == f2 && same(i1, i2) && a1 == a2 && s1 == s2 && d1 == d2
        case (
            .azureDevOpsPipeline(let o1, let p1, let i1, let r1, let q1, let b1, let s1),
            .azureDevOpsPipeline(let o2, let p2, let i2, let r2, let q2, let b2, let s2)
        ):
            return o1 == o2 && p1 == p2 && i1 == i2 && r1 == r2 && same(q1, q2) && b1 == b2 && s1 == s2
        case (
            .azureMLBatchEndpoint(let e1, let i1, let o1, let d1, let x1, let m1),
            .azureMLBatchEndpoint(let e2, let i2, let o2, let d2, let x2, let m2)
        ):
            return e1 == e2 && i1 == i2 && o1 == o2 && d1 == d2 && x1 == x2 && m1 == m2
        case (.azureMLJob(let s1, let r1, let w1, let j1, let v1, let m1), .azureMLJob(let s2, let r2, let w2, let j2, let v2, let m2)):
            return s1 == s2 && r1 == r2 && w1 == w2 && j1 == j2 && v1 == v2 && m1 == m2
        case (.argoWorkflowTemplate(let s1, let n1, let t1, let p1), .argoWorkflowTemplate(let s2, let n2, let t2, let p2)):
            return s1 == s2 && n1 == n2 && t1 == t2 && same(p1, p2)
        case (.kubeflowRun(let h1, let p1, let v1, let e1, let q1, let n1), .kubeflowRun(let h2, let p2, let v2, let e2, let q2, let n2)):
            return h1 == h2 && p1 == p2 && v1 == v2 && e1 == e2 && q1 == q2 && n1 == n2
        case (.kubernetesJob(let a1, let n1, let j1), .kubernetesJob(let a2, let n2, let j2)):
            return a1 == a2 && n1 == n2 && j1 == j2
        default:
            return false
        }
    }

    public var preset: Preset {
        switch self {
        case .webhook: .webhook
        case .githubWorkflowDispatch: .githubWorkflowDispatch
        case .azureDevOpsPipeline: .azureDevOpsPipeline
        case .azureMLBatchEndpoint: .azureMLBatchEndpoint
        case .azureMLJob: .azureMLJob
        case .argoWorkflowTemplate: .argoWorkflowTemplate
        case .kubeflowRun: .kubeflowRun
        case .kubernetesJob: .kubernetesJob
        }
    }

    /// Whether the target takes the action's name as the resource name — a 409 then means "already started".
    public var nameIsIdempotencyKey: Bool { preset.descriptor.nameIsIdempotencyKey }

    /// The default Entra scope for Azure targets (for `auth: azure_workload_identity` without a scope).
    public var azureScope: String? { preset.descriptor.azureScope }

    /// A DNS-1123 label (≤ 63 characters, lowercase letters, digits, '-') derived from the action id: a readable
    /// prefix of monitor and action, then 12 hex digits of SHA-256 of the whole id — the same id gives the same name.
    public static func resourceName(actionID: String) -> String {
        let hash = SHA256.hash(data: Data(actionID.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        let parts = actionID.split(separator: ":")
        let readable = ([parts.first, parts.last].compactMap { $0 }.joined(separator: "-")).lowercased()
        var slug = String(readable.map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "-" })
        while slug.contains("--") { slug = slug.replacingOccurrences(of: "--", with: "-") }
        slug = String(slug.trimmingCharacters(in: CharacterSet(charactersIn: "-")).prefix(63 - 6 - 13))
        return "drift-" + (slug.isEmpty ? "" : slug + "-") + hash
    }

    /// Where the preset's template (`job` of kubernetes_job and azureml_job, `body` of a webhook, `parameters` of
    /// kubeflow_run, `inputs`/`outputs` of azureml_batch_endpoint) must hold strings because the target's schema
    /// says so; everywhere else a template keeps its JSON types. GitHub `inputs`, Azure DevOps
    /// `templateParameters` and Argo `parameters` are string mappings by construction.
    public var stringFields: StringFields {
        switch self {
        // core/v1 EnvVar.value, Container.args/command, ObjectMeta labels/annotations, PodSpec.nodeSelector: strings
        case .kubernetesJob: Self.kubernetesStrings
        // LiteralJobInput.value, environmentVariables, tags, properties: strings in the ARM job schema
        case .azureMLJob: StringFields(["environmentVariables.*", "tags.*", "properties.*", "**.inputs.*.value", "**.environmentVariables.*"])
        default: .none
        }
    }

    static let kubernetesStrings = StringFields([
        "**.env.*.value", "**.args.*", "**.command.*", "**.labels.*", "**.annotations.*", "**.nodeSelector.*"
    ])

    /// The request that starts the run.
    public func request(_ context: TriggerContext) throws -> HTTPRequest {
        let name = Self.resourceName(actionID: context.actionID)
        let json = [("Content-Type", "application/json"), ("Accept", "application/json")]
        func params(_ list: [(String, String)]) throws -> [(String, String)] {
            try list.map { ($0.0, try JSONTemplate.substitute($0.1, context)) }
        }
        switch self {
        case .webhook(let url, let method, let headers, let body, _):
            let rendered = try (body ?? context.defaultBody).rendered(context, strings: stringFields)
            return HTTPRequest(
                method: method, url: try JSONTemplate.substituteURL(url, context),
                headers: json.filter { h in !headers.contains { $0.0.lowercased() == h.0.lowercased() } } + (try params(headers)),
                body: method.uppercased() == "GET" ? nil : rendered.data)
        case .githubWorkflowDispatch(let repository, let workflow, let ref, let inputs, let api, let sendActionID, let returnRunDetails):
            // GitHub inputs are strings; action_id (opt-in: the workflow must declare it) lets a concurrency group tell runs apart
            var ins: [(String, JSONTemplate)] = try params(inputs).map { ($0.0, .string($0.1)) }
            if sendActionID, !ins.contains(where: { $0.0 == "action_id" }) { ins.append(("action_id", .string(context.actionID))) }
            var pairs: [(String, JSONTemplate)] = [("ref", .string(try JSONTemplate.substitute(ref, context))), ("inputs", .object(ins))]
            if returnRunDetails { pairs.append(("return_run_details", .bool(true))) }
            let body = JSONTemplate.object(pairs)
            return HTTPRequest(
                method: "POST", url: "\(Self.trim(api))/repos/\(repository)/actions/workflows/\(workflow)/dispatches",
                headers: [
                    ("Content-Type", "application/json"), ("Accept", "application/vnd.github+json"),
                    ("X-GitHub-Api-Version", "2022-11-28")
                ], body: body.data)
        case .azureDevOpsPipeline(let org, let project, let id, let ref, let parameters, let base, let sendActionID):
            var ps = try params(parameters)
            if sendActionID, !ps.contains(where: { $0.0 == "action_id" }) { ps.append(("action_id", context.actionID)) }
            let body = JSONTemplate.object([
                ("resources", .object([("repositories", .object([("self", .object([("refName", .string(ref))]))]))])),
                ("templateParameters", .object(ps.map { ($0.0, .string($0.1)) }))
            ])
            return HTTPRequest(
                method: "POST", url: "\(Self.trim(base))/\(Self.path(org))/\(Self.path(project))/_apis/pipelines/\(id)/runs?api-version=7.1",
                headers: json, body: body.data)
        case .azureMLBatchEndpoint(let endpoint, let inputs, let outputs, let deployment, let experiment, _):
            var properties: [(String, JSONTemplate)] = [("InputData", try inputs.rendered(context))]
            if let outputs { properties.append(("OutputData", try outputs.rendered(context))) }
            if let experiment {
                properties.append(("properties", .object([("experimentName", .string(try JSONTemplate.substitute(experiment, context)))])))
            }
            let body = JSONTemplate.object([("properties", .object(properties))])
            // the scoring URI already ends in /jobs; an endpoint base URI without it still works
            let url = Self.trim(endpoint).hasSuffix("/jobs") ? Self.trim(endpoint) : "\(Self.trim(endpoint))/jobs"
            return HTTPRequest(
                method: "POST", url: url, headers: json + (deployment.map { [("azureml-model-deployment", $0)] } ?? []), body: body.data)
        case .azureMLJob(_, _, _, let job, _, _):
            var properties = try job.rendered(context, strings: stringFields)
            if case .object(var pairs) = properties {
                // the job's display name and tags say where it came from
                if !pairs.contains(where: { $0.0 == "displayName" }) { pairs.append(("displayName", .string(name))) }
                let tags: JSONTemplate = .object([
                    ("drift-worker/action-id", .string(context.actionID)), ("drift-worker/monitor", .string(context.monitor))
                ])
                if let i = pairs.firstIndex(where: { $0.0 == "tags" }), case .object(let given) = pairs[i].1, case .object(let ours) = tags {
                    pairs[i].1 = .object(given + ours.filter { o in !given.contains { $0.0 == o.0 } })
                } else {
                    pairs.append(("tags", tags))
                }
                properties = .object(pairs)
            }
            return HTTPRequest(method: "PUT", url: resourceURL(name)!, headers: json, body: JSONTemplate.object([("properties", properties)]).data)
        case .argoWorkflowTemplate(let server, let namespace, let template, let parameters):
            let body = JSONTemplate.object([
                ("namespace", .string(namespace)), ("resourceKind", .string("WorkflowTemplate")), ("resourceName", .string(template)),
                (
                    "submitOptions",
                    .object([
                        ("name", .string(name)),
                        ("parameters", .array(try params(parameters).map { .string("\($0.0)=\($0.1)") })),
                        ("labels", .string("drift-worker/action=\(name)"))
                    ])
                )
            ])
            return HTTPRequest(method: "POST", url: "\(Self.trim(server))/api/v1/workflows/\(namespace)/submit", headers: json, body: body.data)
        case .kubeflowRun(let host, let pipeline, let version, let experiment, let parameters, _):
            var reference: [(String, JSONTemplate)] = [("pipeline_id", .string(pipeline))]
            if let version { reference.append(("pipeline_version_id", .string(version))) }
            var pairs: [(String, JSONTemplate)] = [
                ("display_name", .string(name)),
                ("description", .string("drift-worker action \(context.actionID)")),
                ("pipeline_version_reference", .object(reference)),
                ("runtime_config", .object([("parameters", try parameters.rendered(context, placeholdersAsText: true))]))
            ]
            if let experiment { pairs.append(("experiment_id", .string(experiment))) }
            return HTTPRequest(method: "POST", url: "\(Self.trim(host))/apis/v2beta1/runs", headers: json, body: JSONTemplate.object(pairs).data)
        case .kubernetesJob(let api, let namespace, let job):
            var manifest = try job.rendered(context, strings: stringFields)
            guard case .object(var pairs) = manifest else { throw PresetError("the kubernetes_job template must be a Job object") }
            var metadata: [(String, JSONTemplate)] = []
            if let i = pairs.firstIndex(where: { $0.0 == "metadata" }), case .object(let m) = pairs[i].1 {
                metadata = m
                pairs.remove(at: i)
            }
            metadata.removeAll { ["name", "generateName", "namespace"].contains($0.0) }
            metadata.insert(("name", .string(name)), at: 0)
            metadata.insert(("namespace", .string(namespace)), at: 1)
            func merge(_ key: String, _ extra: [(String, JSONTemplate)]) {
                if let i = metadata.firstIndex(where: { $0.0 == key }), case .object(let m) = metadata[i].1 {
                    metadata[i].1 = .object(m + extra.filter { e in !m.contains { $0.0 == e.0 } })
                } else {
                    metadata.append((key, .object(extra)))
                }
            }
            merge("labels", [("app.kubernetes.io/managed-by", .string("drift-worker"))])
            merge("annotations", [("drift-worker/action-id", .string(context.actionID)), ("drift-worker/monitor", .string(context.monitor))])
            let head: [(String, JSONTemplate)] = [("apiVersion", .string("batch/v1")), ("kind", .string("Job")), ("metadata", .object(metadata))]
            pairs.removeAll { ["apiVersion", "kind"].contains($0.0) }
            manifest = .object(head + pairs)
            return HTTPRequest(
                method: "POST", url: "\(Self.trim(api))/apis/batch/v1/namespaces/\(namespace)/jobs", headers: json, body: manifest.data)
        }
    }

    /// The URL of the resource the action creates, for targets that name it.
    func resourceURL(_ name: String) -> String? {
        switch self {
        case .azureMLJob(let sub, let rg, let ws, _, let version, let management):
            return
                "\(Self.trim(management))/subscriptions/\(sub)/resourceGroups/\(rg)/providers/Microsoft.MachineLearningServices/workspaces/\(ws)/jobs/\(name)?api-version=\(version)"
        case .argoWorkflowTemplate(let server, let namespace, _, _): return "\(Self.trim(server))/api/v1/workflows/\(namespace)/\(name)"
        case .kubernetesJob(let api, let namespace, _): return "\(Self.trim(api))/apis/batch/v1/namespaces/\(namespace)/jobs/\(name)"
        default: return nil
        }
    }

    /// Asks whether an earlier attempt already started the run: the named Azure ML job (its PUT is create-or-update,
    /// so the GET only spares a resend's error) or a Kubeflow run with the action's display name (the API names runs
    /// itself). Nil for Kubernetes Jobs and Argo workflows — their create answers 409 AlreadyExists, no look-up
    /// needed — and for targets that cannot be asked, which rely on the `Idempotency-Key` / `webhook-id` headers.
    public func lookup(_ context: TriggerContext) -> HTTPRequest? {
        let name = Self.resourceName(actionID: context.actionID)
        if case .azureMLJob = self, let url = resourceURL(name) {
            return HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")])
        }
        if case .kubeflowRun(let host, _, _, let experiment, _, let namespace) = self {
            let filter = #"{"predicates":[{"key":"display_name","operation":"EQUALS","string_value":"\#(name)"}]}"#
            var url = "\(Self.trim(host))/apis/v2beta1/runs?filter=\(AzureWorkloadIdentity.formEncode(filter))"
            // multi-user KFP refuses a list without the namespace (and single-user one with it)
            if let namespace { url += "&namespace=\(AzureWorkloadIdentity.formEncode(namespace))" }
            if let experiment { url += "&experiment_id=\(AzureWorkloadIdentity.formEncode(experiment))" }
            return HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")])
        }
        return nil
    }

    /// What a lookup answer means: `.found(runID)` (already started), `.absent` (send), nil (ask again later).
    public enum LookupResult: Sendable, Equatable { case found(runID: String?), absent }

    public func interpretLookup(_ response: HTTPResponse) -> LookupResult? {
        if case .kubeflowRun = self {
            // only a well-formed list answer may say "absent" (proto3 JSON omits an empty `runs`): anything else asks again
            guard response.status == 200, let json = JSONTemplate.parse(response.body), case .object = json else { return nil }
            switch json.value(at: "runs") {
            case nil, .null?: return .absent
            case .array(let items)?: return items.isEmpty ? .absent : .found(runID: items[0].value(at: "run_id")?.scalarText)
            default: return nil
            }
        }
        if response.status == 404 { return .absent }
        guard (200..<300).contains(response.status) else { return nil }
        return .found(runID: externalRunID(response))
    }

    /// The id of the run the target started, read from its answer (per preset: GitHub `workflow_run_id` when
    /// present — a 204 has none —, Azure DevOps `id`, Azure ML `name`, Argo and Kubernetes `metadata.name`,
    /// Kubeflow `run_id`, a webhook's `runIDField`).
    public func externalRunID(_ response: HTTPResponse) -> String? {
        guard let json = JSONTemplate.parse(response.body) else { return nil }
        // a batch job is followed through Azure Resource Manager: its ARM id (`/subscriptions/…/jobs/<name>`) addresses it
        if case .azureMLBatchEndpoint = self, let id = json.value(at: "id")?.scalarText, id.hasPrefix("/subscriptions/") { return id }
        let path: String?
        switch self {
        case .webhook(_, _, _, _, let field): path = field
        case .githubWorkflowDispatch: path = "workflow_run_id"
        case .azureDevOpsPipeline: path = "id"
        case .azureMLBatchEndpoint, .azureMLJob: path = "name"
        case .argoWorkflowTemplate, .kubernetesJob: path = "metadata.name"
        case .kubeflowRun: path = "run_id"
        }
        return path.flatMap { json.value(at: $0)?.scalarText }
    }

    static func trim(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
    static func path(_ segment: String) -> String { segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? segment }
}

public struct PresetError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
