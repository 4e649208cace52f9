import Foundation

/// How a trigger authenticates. Secrets are read when a request is built — files on every use, because
/// projected tokens rotate — and never appear in logs, errors or `trigger test` output.
public enum Credential: Sendable, Equatable {
    case none
    /// `<header>: <scheme> <token>` (default `Authorization: Bearer …`) with the token from an environment
    /// variable or a file.
    case token(source: SecretSource, header: String = "Authorization", scheme: String = "Bearer")
    /// HTTP basic (`Authorization: Basic base64(user:password)`), e.g. an Azure DevOps personal access token
    /// with an empty user name.
    case basic(username: String, password: SecretSource)
    /// The pod's Kubernetes service-account token (`/var/run/secrets/kubernetes.io/serviceaccount/token`) as a
    /// bearer token; its CA (`…/ca.crt`) verifies the Kubernetes API server only (`KubernetesServiceAccount.isAPIServer`):
    /// any other host (an argo-server) is verified with the system's trust store or the action's `ca_bundle`.
    case kubernetesServiceAccount(tokenFile: String = KubernetesServiceAccount.tokenFile)
    /// Azure workload identity: the federated token file exchanged for an Entra access token for `scope`.
    case azureWorkloadIdentity(scope: String)
    /// A GitHub App installation: a JWT signed with the app's private key (`privateKey`, PEM) is exchanged for an
    /// installation token (`GitHubAppInstallations`), sent as `Authorization: Bearer ghs_…`. `appID`: the numeric
    /// app ID or the client ID (`Iv…`). The API root comes from the request URL (before `/repos/`).
    case githubApp(appID: String, installationID: Int, privateKey: SecretSource)
    /// Kubeflow Pipelines in multi-user mode: a projected service-account token with audience
    /// `pipelines.kubeflow.org`, re-read on every use, as `Authorization: Bearer …`. Nil `tokenFile`:
    /// `$KF_PIPELINES_SA_TOKEN_PATH` when set (as the KFP SDK reads it), else `KubeflowPipelines.tokenFile`.
    case kubeflowServiceAccount(tokenFile: String? = nil)
    /// `<header>: <prefix><user>` — the identity header ml-pipeline trusts when called directly inside the mesh
    /// (KFP's `KUBEFLOW_USERID_HEADER`, default `kubeflow-userid`, and `KUBEFLOW_USERID_PREFIX`).
    case kubeflowUserID(user: String, header: String = "kubeflow-userid", prefix: String = "")

    /// A name for people (never the secret).
    public var kind: String {
        switch self {
        case .none: "none"
        case .token: "token"
        case .basic: "basic"
        case .kubernetesServiceAccount: "kubernetes_service_account"
        case .azureWorkloadIdentity: "azure_workload_identity"
        case .githubApp: "github_app"
        case .kubeflowServiceAccount: "kubeflow_service_account"
        case .kubeflowUserID: "kubeflow_userid"
        }
    }

    /// Whether getting the header takes an HTTP exchange of its own (Azure workload identity, GitHub App): one more
    /// request an attempt may make, even when a cached token spares it.
    public var exchangesToken: Bool {
        switch self {
        case .azureWorkloadIdentity, .githubApp: true
        default: false
        }
    }
}

/// Kubeflow Pipelines' multi-user authentication (README, *Triggers*, Credentials).
public enum KubeflowPipelines {
    /// Where the KFP SDK looks for the projected token (`ServiceAccountTokenVolumeCredentials`).
    public static let tokenFile = "/var/run/secrets/kubeflow/pipelines/token"
    /// The variable that moves it, as the SDK reads it.
    public static let tokenPathVariable = "KF_PIPELINES_SA_TOKEN_PATH"

    /// The token file to read: `configured`, else `$KF_PIPELINES_SA_TOKEN_PATH`, else `tokenFile`.
    public static func tokenPath(_ configured: String?, environment: [String: String]) -> String {
        configured ?? environment[tokenPathVariable].flatMap { $0.isEmpty ? nil : $0 } ?? tokenFile
    }

    /// Why `value` cannot go into a header (a user or a prefix), or nil: at most 512 characters, no control
    /// characters (CR/LF would split the request).
    public static func headerValueProblem(_ value: String) -> String? {
        if value.count > 512 { return "is longer than 512 characters" }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{7F}" }) {
            return "contains a control character (CR, LF, tab, …)"
        }
        return nil
    }

    /// Whether `name` is an HTTP header name (RFC 9110 token).
    public static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128
            && name.unicodeScalars.allSatisfy { c in
                c.isASCII && (CharacterSet.alphanumerics.contains(c) || "!#$%&'*+-.^_`|~".unicodeScalars.contains(c))
            }
    }
}

/// Where a secret comes from.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    case env(String)
    case file(String)
    /// A value written in the configuration (already substituted from `${VAR}`).
    case literal(String)

    public var description: String {
        switch self {
        case .env(let n): "environment variable \(n)"
        case .file(let p): "file \(p)"
        case .literal: "the configured value"
        }
    }

    /// The secret, trimmed of surrounding whitespace.
    public func read(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        switch self {
        case .env(let name):
            guard let v = environment[name], !v.isEmpty else { throw CredentialError("environment variable \(name) is not set or empty") }
            return v.trimmingCharacters(in: .whitespacesAndNewlines)
        case .file(let path):
            guard let d = FileManager.default.contents(atPath: path) else { throw CredentialError("cannot read the secret file \(path)") }
            let v = String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !v.isEmpty else { throw CredentialError("the secret file \(path) is empty") }
            return v
        case .literal(let v): return v
        }
    }
}

/// A credential could not be obtained. The message names where it was looked for, never its value.
public struct CredentialError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The standard paths of a pod's service account.
public enum KubernetesServiceAccount {
    public static let directory = "/var/run/secrets/kubernetes.io/serviceaccount"
    public static let tokenFile = directory + "/token"
    public static let caFile = directory + "/ca.crt"
    public static let namespaceFile = directory + "/namespace"

    /// The in-cluster API server: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, else kubernetes.default.svc.
    public static func apiServer(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            let h = host.contains(":") ? "[\(host)]" : host
            return "https://\(h):\(environment["KUBERNETES_SERVICE_PORT"] ?? "443")"
        }
        return "https://kubernetes.default.svc"
    }

    /// Whether `url` goes to the in-cluster Kubernetes API server — the only host the service-account CA
    /// (`ca.crt`) is for: `kubernetes`, `kubernetes.default`, `kubernetes.default.svc`, `kubernetes.default.svc.<cluster
    /// domain>`, or `$KUBERNETES_SERVICE_HOST` (any port). Every other host keeps the system's trust store.
    public static func isAPIServer(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard var host = URLComponents(string: url)?.host?.lowercased(), !host.isEmpty else { return false }
        host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if ["kubernetes", "kubernetes.default", "kubernetes.default.svc"].contains(host) || host.hasPrefix("kubernetes.default.svc.") { return true }
        let service = (environment["KUBERNETES_SERVICE_HOST"] ?? "").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
        return !service.isEmpty && host == service
    }

    /// The pod's namespace, from the service-account mount.
    public static var namespace: String? {
        FileManager.default.contents(atPath: namespaceFile).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

/// Azure workload identity (AKS): the pod gets `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_AUTHORITY_HOST` and
/// `AZURE_FEDERATED_TOKEN_FILE`; the token in that file is a client assertion, exchanged at
/// `{authority}{tenant}/oauth2/v2.0/token` (`grant_type=client_credentials`, `client_assertion_type=
/// urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) for an access token of `scope`. Tokens are cached
/// per scope until five minutes before they expire (half their lifetime when that is under ten minutes); the assertion file
/// is re-read on every exchange, since the kubelet rotates it. Concurrent callers with no fresh token share one
/// exchange (`TokenCache`).
public final class AzureWorkloadIdentity: Sendable {
    public struct Settings: Sendable, Equatable {
        public var clientID: String
        public var tenantID: String
        public var authorityHost: String
        public var tokenFile: String

        public init(clientID: String, tenantID: String, authorityHost: String = "https://login.microsoftonline.com/", tokenFile: String) {
            self.clientID = clientID
            self.tenantID = tenantID
            self.authorityHost = authorityHost
            self.tokenFile = tokenFile
        }

        /// From the environment the workload-identity webhook injects; an error names what is missing.
        public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
            let missing = ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"].filter { (env[$0] ?? "").isEmpty }
            guard missing.isEmpty else {
                throw CredentialError(
                    "Azure workload identity needs \(missing.joined(separator: ", ")) (set by the AKS workload identity webhook when the pod's service account is annotated with azure.workload.identity/client-id and the pod is labelled azure.workload.identity/use=true)"
                )
            }
            return Settings(
                clientID: env["AZURE_CLIENT_ID"]!, tenantID: env["AZURE_TENANT_ID"]!,
                authorityHost: env["AZURE_AUTHORITY_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://login.microsoftonline.com/",
                tokenFile: env["AZURE_FEDERATED_TOKEN_FILE"]!)
        }

        public var tokenURL: String {
            (authorityHost.hasSuffix("/") ? authorityHost : authorityHost + "/") + "\(tenantID)/oauth2/v2.0/token"
        }
    }

    /// One cache for the process.
    public static let shared = AzureWorkloadIdentity()

    private let cache = TokenCache()
    /// How many exchanges succeeded (for tests and logs).
    public var exchanges: Int { cache.exchanges }

    public init() {}

    /// An access token for `scope`, from the cache or a new exchange.
    public func token(scope: String, settings: Settings, client: HTTPClient, now: Date = Date()) throws -> String {
        try cache.token("\(settings.tenantID)|\(settings.clientID)|\(scope)", now: now) {
            try exchange(scope: scope, settings: settings, client: client, now: now)
        }
    }

    /// One exchange at the settings' token URL: a new access token and when to exchange again.
    private func exchange(scope: String, settings: Settings, client: HTTPClient, now: Date) throws -> TokenCache.Fresh {
        let assertion = try SecretSource.file(settings.tokenFile).read()
        let form = [
            ("grant_type", "client_credentials"), ("client_id", settings.clientID), ("scope", scope),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), ("client_assertion", assertion)
        ]
        let body = form.map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        let response: HTTPResponse
        do {
            response = try client.sendBlocking(
                HTTPRequest(
                    method: "POST", url: settings.tokenURL,
                    headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                    body: Data(body.utf8)))
        } catch let e as HTTPClientError {
            throw CredentialError("the Azure token exchange at \(HTTPClient.redact(settings.tokenURL)) failed: \(e.message)")
        }
        let json = JSONTemplate.parse(response.body)
        guard response.status == 200, let token = json?.value(at: "access_token")?.scalarText, !token.isEmpty else {
            let reason = [json?.value(at: "error")?.scalarText, json?.value(at: "error_description")?.scalarText.map { String($0.prefix(300)) }]
                .compactMap { $0 }.joined(separator: ": ")
            throw CredentialError(
                "the Azure token exchange at \(HTTPClient.redact(settings.tokenURL)) answered HTTP \(response.status)\(reason.isEmpty ? "" : ": \(reason)")"
            )
        }
        let lifetime = json?.value(at: "expires_in")?.scalarText.flatMap(Double.init) ?? 3600
        return TokenCache.Fresh(token: token, refreshAt: now.addingTimeInterval(lifetime > 600 ? lifetime - 300 : lifetime / 2))
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

extension Credential {
    /// The headers this credential adds, reading secrets now, and a CA bundle to verify the server with: the
    /// service account's `ca.crt`, only when `url` is the Kubernetes API server (`KubernetesServiceAccount.isAPIServer`;
    /// nil `url`: no CA).
    public func apply(
        client: HTTPClient, environment: [String: String] = ProcessInfo.processInfo.environment,
        azure: AzureWorkloadIdentity = .shared, github: GitHubAppInstallations = .shared, for url: String? = nil,
        caFile: String = KubernetesServiceAccount.caFile
    ) throws -> (headers: [(String, String)], caBundle: String?) {
        switch self {
        case .none: return ([], nil)
        case .token(let source, let header, let scheme):
            let t = try source.read(environment: environment)
            return ([(header, scheme.isEmpty ? t : "\(scheme) \(t)")], nil)
        case .basic(let user, let password):
            let p = try password.read(environment: environment)
            return ([("Authorization", "Basic " + Data("\(user):\(p)".utf8).base64EncodedString())], nil)
        case .kubernetesServiceAccount(let file):
            let t = try SecretSource.file(file).read()
            let scoped = url.map { KubernetesServiceAccount.isAPIServer($0, environment: environment) } ?? false
            return ([("Authorization", "Bearer \(t)")], scoped && FileManager.default.fileExists(atPath: caFile) ? caFile : nil)
        case .azureWorkloadIdentity(let scope):
            let settings = try AzureWorkloadIdentity.Settings.fromEnvironment(environment)
            return ([("Authorization", "Bearer " + (try azure.token(scope: scope, settings: settings, client: client)))], nil)
        case .githubApp(let appID, let installationID, let key):
            guard let url, let api = GitHubAppInstallations.apiURL(ofRequest: url) else {
                throw CredentialError(
                    "a github_app credential needs a GitHub API request URL (…/repos/OWNER/NAME/…) to find the API it exchanges its token at")
            }
            let t = try github.token(
                apiURL: api, appID: appID, installationID: installationID, privateKey: key, client: client, environment: environment)
            return ([("Authorization", "Bearer \(t)")], nil)
        case .kubeflowServiceAccount(let configured):
            let path = KubeflowPipelines.tokenPath(configured, environment: environment)
            do { return ([("Authorization", "Bearer \(try SecretSource.file(path).read())")], nil) } catch let e as CredentialError {
                throw CredentialError(
                    "\(e.description): kubeflow_service_account reads a projected service-account token with audience "
                        + "pipelines.kubeflow.org (a serviceAccountToken volume mounted at /var/run/secrets/kubeflow/pipelines, or set token_file)")
            }
        case .kubeflowUserID(let user, let header, let prefix):
            guard KubeflowPipelines.isHeaderName(header), KubeflowPipelines.headerValueProblem(prefix + user) == nil, !user.isEmpty else {
                throw CredentialError("the kubeflow_userid header or user is not valid in an HTTP header")
            }
            return ([(header, prefix + user)], nil)
        }
    }
}
