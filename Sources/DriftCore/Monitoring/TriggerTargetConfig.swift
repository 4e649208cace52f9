import DriftTriggers
import Foundation
import Yams

/// One trigger action's mapping while it is read: its node and name, and the template variables it may use.
struct ActionNode {
    var node: Node
    var name: String
    /// `TriggerContext.names` plus what shadow evaluations and followed runs add.
    var known: [String]

    subscript(_ key: String) -> Node? { node[key] }
}

/// The preset-specific part of a trigger action: one parse function per `Preset`, each reading the keys its
/// descriptor lists and reporting every problem with the action's name and the key.
extension Reader {
    mutating func target(_ a: ActionNode, preset: Preset) -> TriggerTarget? {
        switch preset {
        case .webhook: webhookTarget(a)
        case .githubWorkflowDispatch: githubTarget(a)
        case .azureDevOpsPipeline: azureDevOpsTarget(a)
        case .azureMLBatchEndpoint: azureMLBatchTarget(a)
        case .azureMLJob: azureMLJobTarget(a)
        case .argoWorkflowTemplate: argoTarget(a)
        case .kubeflowRun: kubeflowTarget(a)
        case .kubernetesJob: kubernetesJobTarget(a)
        }
    }

    mutating func webhookTarget(_ a: ActionNode) -> TriggerTarget? {
        let url = required(a, "url")
        if let u = url, !(u.hasPrefix("http://") || u.hasPrefix("https://")) {
            issue(at: a["url"]?.mark, "action '\(a.name)': `url` must start with http:// or https://")
        }
        let method = (string(a.node, "method", required: false) ?? "POST").uppercased()
        if !["POST", "PUT", "PATCH", "GET"].contains(method) {
            issue(at: a["method"]?.mark, "action '\(a.name)': `method` must be POST, PUT, PATCH or GET")
        }
        let headers = pairs(a, "headers")
        let body = template(a, "body")
        let runIDField = string(a.node, "run_id_field", required: false)
        guard let url else { return nil }
        return .webhook(url: url, method: method, headers: headers, body: body, runIDField: runIDField)
    }

    mutating func githubTarget(_ a: ActionNode) -> TriggerTarget? {
        let repository = required(a, "repository")
        let workflow = required(a, "workflow")
        if let r = repository, r.split(separator: "/").count != 2 {
            issue(at: a["repository"]?.mark, "action '\(a.name)': `repository` must be owner/name")
        }
        let ref = string(a.node, "ref", required: false) ?? "main"
        let inputs = pairs(a, "inputs")
        let api = string(a.node, "api_url", required: false) ?? "https://api.github.com"
        let sendActionID = flag(a, "send_action_id", default: false)
        let returnRunDetails = flag(a, "return_run_details", default: true)
        guard let repository, let workflow else { return nil }
        return .githubWorkflowDispatch(
            repository: repository, workflow: workflow, ref: ref, inputs: inputs, apiURL: api, sendActionID: sendActionID,
            returnRunDetails: returnRunDetails)
    }

    mutating func azureDevOpsTarget(_ a: ActionNode) -> TriggerTarget? {
        let organization = required(a, "organization")
        let project = required(a, "project")
        let id = int(a.node, "pipeline_id", default: 0, range: 1...Int.max)
        if a["pipeline_id"] == nil { issue(at: a.node.mark, "action '\(a.name)': missing `pipeline_id`") }
        let ref = string(a.node, "ref", required: false) ?? "refs/heads/main"
        let parameters = pairs(a, "parameters")
        let base = string(a.node, "base_url", required: false) ?? "https://dev.azure.com"
        let sendActionID = flag(a, "send_action_id", default: false)
        guard let organization, let project else { return nil }
        return .azureDevOpsPipeline(
            organization: organization, project: project, pipelineID: id, ref: ref, parameters: parameters, baseURL: base,
            sendActionID: sendActionID)
    }

    mutating func azureMLBatchTarget(_ a: ActionNode) -> TriggerTarget? {
        let endpoint = required(a, "endpoint")
        let inputs = mapping(a, "inputs")
        let outputs = mapping(a, "outputs")
        let deployment = string(a.node, "deployment", required: false)
        let experiment = string(a.node, "experiment_name", required: false)
        checkVariables(a, experiment, "experiment_name")
        // it becomes a header value: Azure ML deployment names are 3–32 characters, a letter first, then letters, digits
        // and '-', not ending in '-' (^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$)
        if let d = deployment, !Self.isAzureMLDeploymentName(d) {
            issue(
                at: a["deployment"]?.mark,
                "action '\(a.name)': `deployment` must be an Azure ML deployment name (3 to 32 characters: a letter, then letters, digits and '-', not ending in '-')"
            )
        }
        let management = string(a.node, "management_url", required: false) ?? "https://management.azure.com"
        guard let endpoint else { return nil }
        return .azureMLBatchEndpoint(
            endpoint: endpoint, inputs: inputs ?? .object([]), outputs: outputs, deployment: deployment, experimentName: experiment,
            managementURL: management)
    }

    static func isAzureMLDeploymentName(_ d: String) -> Bool {
        guard let first = d.first, first.isASCII, first.isLetter else { return false }
        return (3...32).contains(d.count) && d.last != "-" && d.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    mutating func azureMLJobTarget(_ a: ActionNode) -> TriggerTarget? {
        let subscription = required(a, "subscription")
        let resourceGroup = required(a, "resource_group")
        let workspace = required(a, "workspace")
        let job = template(a, "job")
        if job == nil {
            issue(at: a.node.mark, "action '\(a.name)': missing `job` (the job's properties: jobType, command, environmentId, computeId, …)")
        }
        let version = string(a.node, "api_version", required: false) ?? "2024-04-01"
        let management = string(a.node, "management_url", required: false) ?? "https://management.azure.com"
        guard let subscription, let resourceGroup, let workspace, let job else { return nil }
        return .azureMLJob(
            subscription: subscription, resourceGroup: resourceGroup, workspace: workspace, job: job, apiVersion: version, managementURL: management)
    }

    mutating func argoTarget(_ a: ActionNode) -> TriggerTarget? {
        let server = required(a, "server")
        let namespace = required(a, "namespace")
        let template = required(a, "template")
        let parameters = pairs(a, "parameters")
        guard let server, let namespace, let template else { return nil }
        return .argoWorkflowTemplate(server: server, namespace: namespace, template: template, parameters: parameters)
    }

    mutating func kubeflowTarget(_ a: ActionNode) -> TriggerTarget? {
        let host = required(a, "host")
        let pipeline = required(a, "pipeline_id")
        let experiment = string(a.node, "experiment_id", required: false)
        let namespace = string(a.node, "namespace", required: false)
        if let ns = namespace, !(ns.count <= 63 && ns.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })) {
            issue(
                at: a["namespace"]?.mark,
                "action '\(a.name)': `namespace` must be a Kubernetes namespace (lowercase letters, digits and '-', at most 63)")
        }
        if namespace != nil, experiment == nil {
            issue(
                at: a["namespace"]?.mark,
                "action '\(a.name)': a multi-user Kubeflow (`namespace`) needs `experiment_id` — the run's namespace is its experiment's")
        }
        let version = string(a.node, "pipeline_version_id", required: false)
        let parameters = mapping(a, "parameters") ?? .object([])
        guard let host, let pipeline else { return nil }
        return .kubeflowRun(
            host: host, pipelineID: pipeline, pipelineVersionID: version, experimentID: experiment, parameters: parameters, namespace: namespace)
    }

    mutating func kubernetesJobTarget(_ a: ActionNode) -> TriggerTarget? {
        let job = template(a, "job")
        switch job {
        case nil: issue(at: a.node.mark, "action '\(a.name)': missing `job` (a Job manifest; metadata.name is set from the action id)")
        case .object?: break
        case _?: issue(at: a["job"]?.mark, "action '\(a.name)': `job` must be a Job manifest (a mapping)")
        }
        let namespace = string(a.node, "namespace", required: false) ?? KubernetesServiceAccount.namespace ?? "default"
        let api = string(a.node, "api_server", required: false) ?? KubernetesServiceAccount.apiServer()
        guard let job else { return nil }
        return .kubernetesJob(apiServer: api, namespace: namespace, job: job)
    }

    // MARK: - The values of an action's keys

    /// Records which variables the action uses, and where: `ConfigValidator` checks them against what fires the action.
    mutating func used(_ a: ActionNode, _ variables: [String], _ key: String, _ mark: Mark?) {
        guard !scope.isEmpty else { return }
        templateUses["\(scope)/\(a.name)", default: []] += variables.map { .init(variable: $0, key: key, mark: mark) }
    }

    mutating func unknownVariable(_ a: ActionNode, _ variable: String, _ key: String, _ mark: Mark?) {
        issue(
            at: mark,
            "action '\(a.name)': unknown template variable {{\(variable)}} in `\(key)` (known: \(a.known.map { "{{\($0)}}" }.joined(separator: ", ")))"
        )
    }

    mutating func checkVariables(_ a: ActionNode, _ text: String?, _ key: String) {
        guard let text else { return }
        let variables = JSONTemplate.placeholders(in: text)
        used(a, variables, key, a[key]?.mark)
        for n in variables where !a.known.contains(n) { unknownVariable(a, n, key, a[key]?.mark) }
    }

    mutating func template(_ a: ActionNode, _ key: String) -> JSONTemplate? {
        guard let n = a[key] else { return nil }
        let t = Self.json(n)
        used(a, t.variables, key, n.mark)
        for variable in t.variables where !a.known.contains(variable) { unknownVariable(a, variable, key, n.mark) }
        return t
    }

    mutating func pairs(_ a: ActionNode, _ key: String) -> [(String, String)] {
        guard let n = a[key] else { return [] }
        guard case .mapping(let m) = n else {
            issue(at: n.mark, "`\(key)` must be a mapping of names to values")
            return []
        }
        let out = m.map { ($0.key.string ?? "", $0.value.string ?? "") }
        for (_, value) in out { checkVariables(a, value, key) }
        return out
    }

    mutating func flag(_ a: ActionNode, _ key: String, default value: Bool) -> Bool {
        flag(a.node, key, default: value, context: "action '\(a.name)': ")
    }

    mutating func mapping(_ a: ActionNode, _ key: String) -> JSONTemplate? {
        guard let t = template(a, key) else { return nil }
        guard case .object = t else {
            issue(at: a[key]?.mark, "action '\(a.name)': `\(key)` must be a mapping of names to values")
            return nil
        }
        return t
    }

    mutating func required(_ a: ActionNode, _ key: String) -> String? {
        let s = string(a.node, key)
        checkVariables(a, s, key)
        return s
    }
}
