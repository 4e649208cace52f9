/// The trigger presets of `actions:` (README, *Trigger presets*): one case per preset, its YAML name as the raw
/// value, and one `Descriptor` holding everything about it that is not the request itself — its keys, the keys its
/// `{{variables}}` are substituted in, how a resend is kept from starting a second run, whether its run can be
/// followed, its API's success statuses, its default credential. The request builders stay on `TriggerTarget`.
public enum Preset: String, Sendable, CaseIterable, CustomStringConvertible {
    case webhook
    case githubWorkflowDispatch = "github_workflow_dispatch"
    case azureDevOpsPipeline = "azure_devops_pipeline"
    case azureMLBatchEndpoint = "azureml_batch_endpoint"
    case azureMLJob = "azureml_job"
    case argoWorkflowTemplate = "argo_workflow_template"
    case kubeflowRun = "kubeflow_run"
    case kubernetesJob = "kubernetes_job"

    /// The YAML name (so `"\(preset)"` in messages and logs is what the user wrote).
    public var description: String { rawValue }

    /// The credential an action of the preset gets when `auth` is left out.
    public enum DefaultAuth: Sendable, Equatable {
        case none
        /// The pod's service-account token.
        case kubernetesServiceAccount
        /// An Entra token for the target's `azureScope`.
        case azureWorkloadIdentity
    }

    /// The statuses the target's API documents for a started run, and those of them whose body must be JSON.
    public struct SuccessStatuses: Sendable, Equatable {
        public var statuses: Set<Int>
        public var jsonBody: Set<Int>
    }

    /// Everything drift-worker knows about one preset, besides its request.
    public struct Descriptor: Sendable, Equatable {
        /// Keys an action of the preset must set (besides `preset`).
        public var requiredKeys: [String]
        /// Keys it may set; the common keys (`auth`, `timeout`, `follow`, …) are `Preset.commonKeys`.
        public var optionalKeys: [String]
        /// Keys whose values have their `{{variables}}` substituted when the request is made.
        public var templatedKeys: [String]
        /// How a resend after a crash is kept from starting a second run (README, *What each preset needs*):
        /// create-with-name — the action's name is the resource name, so a 409 means "already started"…
        public var nameIsIdempotencyKey: Bool
        /// …and/or a GET before any resend (`TriggerTarget.lookup`). Neither: only the `Idempotency-Key` /
        /// `webhook-id` headers tell the receiver it has seen the request.
        public var looksUpBeforeResend: Bool
        /// Whether the target can be asked how its run is going; otherwise (a webhook) the receiver calls back.
        public var canBePolled: Bool
        /// The API the preset talks to, for messages.
        public var apiName: String
        public var success: SuccessStatuses
        public var defaultAuth: DefaultAuth
        /// The default Entra scope for `auth: azure_workload_identity` without a `scope`.
        public var azureScope: String?

        /// Every preset-specific key, required or optional.
        public var keys: Set<String> { Set(requiredKeys + optionalKeys) }
    }

    /// Keys every trigger action may set, whatever its preset.
    public static let commonKeys: Set<String> = [
        "preset", "auth", "secrets", "hub_secret", "timeout", "connect_timeout", "ca_bundle", "client_cert", "client_key",
        "max_attempts", "backoff", "backoff_cap", "follow", "follow_interval", "follow_interval_cap", "follow_deadline",
        "on_success", "on_failure"
    ]

    /// The preset's descriptor. The success statuses come from the targets' API references: Kubernetes create 201
    /// (200 and 202 also mean created or accepted), Argo Server submit 200, Kubeflow Pipelines v2beta1 create run 200,
    /// Azure ML job PUT 200 or 201, batch endpoint invoke 200 or 202 (JSON on 200), GitHub dispatch 204 (200 with
    /// JSON when run details are returned), Azure DevOps run pipeline 200. A webhook: any 2xx, any body.
    public var descriptor: Descriptor {
        switch self {
        case .webhook:
            Descriptor(
                requiredKeys: ["url"], optionalKeys: ["method", "headers", "body", "run_id_field"], templatedKeys: ["url", "headers", "body"],
                nameIsIdempotencyKey: false, looksUpBeforeResend: false, canBePolled: false, apiName: "the webhook receiver",
                success: SuccessStatuses(statuses: Set(200..<300), jsonBody: []), defaultAuth: .none, azureScope: nil)
        case .githubWorkflowDispatch:
            Descriptor(
                requiredKeys: ["repository", "workflow"],
                optionalKeys: ["ref", "inputs", "api_url", "send_action_id", "return_run_details"], templatedKeys: ["ref", "inputs"],
                nameIsIdempotencyKey: false, looksUpBeforeResend: false, canBePolled: true, apiName: "GitHub",
                success: SuccessStatuses(statuses: [200, 204], jsonBody: [200]), defaultAuth: .none, azureScope: nil)
        case .azureDevOpsPipeline:
            Descriptor(
                requiredKeys: ["organization", "project", "pipeline_id"],
                optionalKeys: ["ref", "parameters", "base_url", "send_action_id"], templatedKeys: ["parameters"],
                nameIsIdempotencyKey: false, looksUpBeforeResend: false, canBePolled: true, apiName: "Azure DevOps",
                success: SuccessStatuses(statuses: [200], jsonBody: [200]), defaultAuth: .none,
                azureScope: "499b84ac-1321-427f-aa17-267ca6975798/.default")
        case .azureMLBatchEndpoint:
            Descriptor(
                requiredKeys: ["endpoint"], optionalKeys: ["inputs", "outputs", "deployment", "experiment_name", "management_url"],
                templatedKeys: ["inputs", "outputs", "experiment_name"], nameIsIdempotencyKey: false, looksUpBeforeResend: false, canBePolled: true,
                apiName: "the Azure ML batch endpoint", success: SuccessStatuses(statuses: [200, 202], jsonBody: [200]),
                defaultAuth: .azureWorkloadIdentity, azureScope: "https://ml.azure.com/.default")
        case .azureMLJob:
            Descriptor(
                requiredKeys: ["subscription", "resource_group", "workspace", "job"], optionalKeys: ["api_version", "management_url"],
                templatedKeys: ["job"], nameIsIdempotencyKey: true, looksUpBeforeResend: true, canBePolled: true, apiName: "Azure Resource Manager",
                success: SuccessStatuses(statuses: [200, 201], jsonBody: [200, 201]), defaultAuth: .azureWorkloadIdentity,
                azureScope: "https://management.azure.com/.default")
        case .argoWorkflowTemplate:
            Descriptor(
                requiredKeys: ["server", "namespace", "template"], optionalKeys: ["parameters"], templatedKeys: ["parameters"],
                nameIsIdempotencyKey: true, looksUpBeforeResend: false, canBePolled: true, apiName: "Argo Server",
                success: SuccessStatuses(statuses: [200], jsonBody: [200]), defaultAuth: .kubernetesServiceAccount, azureScope: nil)
        case .kubeflowRun:
            Descriptor(
                requiredKeys: ["host", "pipeline_id"], optionalKeys: ["pipeline_version_id", "experiment_id", "parameters", "namespace"],
                templatedKeys: ["parameters"], nameIsIdempotencyKey: false, looksUpBeforeResend: true, canBePolled: true,
                apiName: "the Kubeflow Pipelines API",
                success: SuccessStatuses(statuses: [200], jsonBody: [200]), defaultAuth: .none, azureScope: nil)
        case .kubernetesJob:
            Descriptor(
                requiredKeys: ["job"], optionalKeys: ["api_server", "namespace"], templatedKeys: ["job"], nameIsIdempotencyKey: true,
                looksUpBeforeResend: false,
                canBePolled: true, apiName: "the Kubernetes API server",
                success: SuccessStatuses(statuses: [200, 201, 202], jsonBody: [200, 201, 202]), defaultAuth: .kubernetesServiceAccount,
                azureScope: nil)
        }
    }
}
