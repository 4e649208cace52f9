import Foundation

/// One configured action of a monitor (`actions:` in monitors.yaml): where it goes, how it authenticates and
/// signs, and how hard it tries.
public struct TriggerAction: Sendable, Equatable {
    public var name: String
    public var target: TriggerTarget
    public var credential: Credential
    /// Standard Webhooks secrets (`whsec_…`); several during a rotation. Empty: no `webhook-signature`.
    public var signingSecrets: [StandardWebhooks.Secret]
    /// A secret for GitHub-style `X-Hub-Signature-256`, when the receiver expects it.
    public var hubSecret: String?
    public var http: HTTPClient.Options
    public var policy: DeliveryPolicy
    /// How the run it starts is followed to its end, and what fires then.
    public var follow: FollowSettings

    public init(
        name: String, target: TriggerTarget, credential: Credential = .none, signingSecrets: [StandardWebhooks.Secret] = [],
        hubSecret: String? = nil, http: HTTPClient.Options = HTTPClient.Options(), policy: DeliveryPolicy = DeliveryPolicy(),
        follow: FollowSettings? = nil
    ) {
        self.follow = follow ?? FollowSettings(enabled: target.canBePolled)
        self.name = name
        self.target = target
        self.credential = credential
        self.signingSecrets = signingSecrets
        self.hubSecret = hubSecret
        self.http = http
        self.policy = policy
    }

    public static func == (a: TriggerAction, b: TriggerAction) -> Bool {
        a.name == b.name && a.target == b.target && a.credential == b.credential && a.signingSecrets == b.signingSecrets
            && a.hubSecret == b.hubSecret && a.policy == b.policy && a.follow == b.follow && a.http.timeout == b.http.timeout
            && a.http.connectTimeout == b.http.connectTimeout && a.http.caBundle == b.http.caBundle
    }
}

extension HTTPClient.Options: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        a.connectTimeout == b.connectTimeout && a.timeout == b.timeout && a.caBundle == b.caBundle && a.clientCertificate == b.clientCertificate
            && a.clientKey == b.clientKey && a.maxBodyBytes == b.maxBodyBytes && a.maxRedirects == b.maxRedirects
            && a.redirectOrigins == b.redirectOrigins && a.sensitiveHeaders == b.sensitiveHeaders
    }
}

/// What one delivery attempt did, as recorded in the outbox history.
public struct DeliveryAttempt: Sendable, Equatable {
    public var attempt: Int
    public var at: Date
    public var method: String
    /// The URL that answered, without credentials or query: where followed redirects led (see `redirectedFrom`).
    public var url: String
    public var status: Int?
    public var seconds: Double
    /// The error when no HTTP answer came.
    public var error: String?
    /// At most 2 KB of the response body.
    public var responseExcerpt: String
    public var externalRunID: String?
    public var outcome: DeliveryPolicy.Outcome
    /// True when a lookup found the run an earlier attempt started (nothing was sent).
    public var foundExisting: Bool
    /// The URL the request was sent to (redacted) when redirects were followed to `url`; nil otherwise.
    public var redirectedFrom: String? = nil
    /// Where a person sees the started run, when the answer names it (GitHub `html_url`, Azure DevOps, Azure ML Studio).
    public var runURL: String? = nil
    /// Set when the request had to be repeated in another form within the attempt (GitHub without `return_run_details`).
    public var fallback: String? = nil

    public var outcomeName: String {
        switch outcome {
        case .delivered: "delivered"
        case .retry: "retry"
        case .dead: "dead"
        }
    }
}

/// Sends one attempt of an action: for a resend to a target that can be asked, first a lookup of the run an
/// earlier attempt may have started; then the preset's request with the credential's headers, `Idempotency-Key`
/// and `webhook-id` = the action id, a fresh `webhook-timestamp`, the signatures and a User-Agent; then the
/// delivery policy's decision. Blocking (libcurl); call it off the cooperative pool.
public struct TriggerSender: Sendable {
    public var userAgent: String
    public var environment: [String: String]

    public init(userAgent: String = "drift-worker", environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.userAgent = userAgent
        self.environment = environment
    }

    /// The request as it will be sent (credentials included), for `attempt`.
    public func prepare(_ action: TriggerAction, _ context: TriggerContext, now: Date = Date()) throws -> (HTTPRequest, HTTPClient) {
        var request = try action.target.request(context)
        let (auth, options) = try authenticated(action, credential: action.credential, url: request.url)
        let body = request.body ?? Data()
        var headers = request.headers + auth
        headers.append(("User-Agent", userAgent))
        headers.append(("Idempotency-Key", context.actionID))
        if context.test { headers.append(("X-Drift-Test", "true")) }
        if action.signingSecrets.isEmpty {
            headers.append(("webhook-id", context.actionID))
            headers.append(("webhook-timestamp", String(Int(now.timeIntervalSince1970))))
        } else {
            headers += StandardWebhooks.headers(
                id: context.actionID, timestamp: Int(now.timeIntervalSince1970), body: body, secrets: action.signingSecrets)
        }
        if let hub = action.hubSecret { headers.append(("X-Hub-Signature-256", HubSignature.header(body: body, secret: hub))) }
        request.headers = headers
        return (request, HTTPClient(options: options))
    }

    /// The credential's headers for a request of `action` to `url`, and the client options to send it with: the
    /// action's timeouts and TLS settings, the preset's redirect limit, the CA that verifies the server (the
    /// service-account CA for the Kubernetes API server only) and the credential's headers marked sensitive. Shared
    /// by deliveries and status checks, which may use another `credential` (a batch job's status: another scope).
    func authenticated(_ action: TriggerAction, credential: Credential, url: String) throws -> (
        headers: [(String, String)], options: HTTPClient.Options
    ) {
        var options = action.http
        options.maxRedirects = action.target.maxRedirects
        let (auth, scopedCA) = try credential.apply(client: HTTPClient(options: options), environment: environment, for: url)
        var ca = scopedCA
        // a kubernetes_job always talks to a Kubernetes API server, whatever its name (a private EKS/AKS endpoint, an
        // internal DNS name): the service-account CA applies there; other presets get it only for the in-cluster name
        if ca == nil, case .kubernetesJob = action.target, case .kubernetesServiceAccount = credential,
            FileManager.default.fileExists(atPath: KubernetesServiceAccount.caFile)
        {
            ca = KubernetesServiceAccount.caFile
        }
        if options.caBundle == nil, let ca { options.caBundle = ca }
        options.sensitiveHeaders.formUnion(auth.map { $0.0.lowercased() })
        return (auth, options)
    }

    /// One attempt. `attempt` is 1-based; from the second on, targets that can be asked are asked first.
    public func attempt(
        _ action: TriggerAction, _ context: TriggerContext, attempt: Int, now: Date = Date(),
        random: Double = Double.random(in: 0..<1)
    ) -> DeliveryAttempt {
        var record = DeliveryAttempt(
            attempt: attempt, at: now, method: "", url: "", status: nil, seconds: 0, error: nil, responseExcerpt: "",
            externalRunID: nil, outcome: .dead(reason: ""), foundExisting: false)
        let request: HTTPRequest
        let client: HTTPClient
        do { (request, client) = try prepare(action, context, now: now) } catch {
            // a missing secret or a template problem: the operator must fix something; counted as an attempt
            record.error = "\(error)"
            record.outcome = action.policy.again("cannot build the request: \(error)", retryAfter: nil, attempt: attempt, now: now, random: random)
            return record
        }
        record.method = request.method.uppercased()
        record.url = HTTPClient.redact(request.url)
        if attempt > 1, var lookup = action.target.lookup(context) {
            // the credential travels with the look-up, whatever header carries it (Authorization, kubeflow-userid, a cookie…)
            let carried = client.options.sensitiveHeaders.union(["authorization", "user-agent"])
            lookup.headers += request.headers.filter { carried.contains($0.0.lowercased()) }
            let answer = try? client.sendBlocking(lookup)
            switch answer.flatMap({ action.target.interpretLookup($0) }) {
            case .found(let runID)?:
                record.status = answer?.status
                record.seconds = answer?.seconds ?? 0
                record.externalRunID = runID.map(Self.cleanRunID) ?? TriggerTarget.resourceName(actionID: context.actionID)
                record.responseExcerpt = Self.excerpt(answer?.body ?? Data())
                record.foundExisting = true
                record.outcome = .delivered(
                    note: "an earlier attempt already started it (found by \(lookup.method) \(HTTPClient.redact(lookup.url)))")
                return record
            case .absent?:
                break  // nothing was started: send
            case nil where action.target.nameIsIdempotencyKey:
                break  // the create is keyed by the action's name (a second one cannot start a second run): send
            case nil:
                // the look-up failed or its answer cannot be read: sending now could start a second run, so wait and ask again
                record.status = answer?.status
                record.seconds = answer?.seconds ?? 0
                record.responseExcerpt = Self.excerpt(answer?.body ?? Data())
                let what = answer.map { "answered HTTP \($0.status)" } ?? "did not answer"
                record.error = "the look-up \(lookup.method) \(HTTPClient.redact(lookup.url)) \(what)"
                record.outcome = action.policy.again(
                    "could not tell whether an earlier attempt already started the run (the look-up \(what)); "
                        + "not sending again until it can be asked, so that no second run starts",
                    retryAfter: nil, attempt: attempt, now: now, random: random)
                return record
            }
        }
        do {
            var response = try client.sendBlocking(request)
            // GitHub Enterprise Server without return_run_details (before it shipped there) refuses the key with 422
            // '"return_run_details" is not a permitted key.': the dispatch was not made — make it without the key
            if case .githubWorkflowDispatch(let repo, let workflow, let ref, let inputs, let api, let sendActionID, true) = action.target,
                response.status == 422,
                String(decoding: response.body.prefix(4096), as: UTF8.self).contains(#""return_run_details\" is not a permitted key"#)
            {
                var plain = action
                plain.target = .githubWorkflowDispatch(
                    repository: repo, workflow: workflow, ref: ref, inputs: inputs, apiURL: api,
                    sendActionID: sendActionID, returnRunDetails: false)
                let (again, againClient) = try prepare(plain, context, now: now)
                response = try againClient.sendBlocking(again)
                record.fallback =
                    "GitHub refused return_run_details (a GitHub Enterprise Server without it); dispatched without it, so the run id is unknown "
                    + "and the run is not followed — set return_run_details: false on this action"
            }
            record.status = response.status
            record.seconds = response.seconds
            record.responseExcerpt = Self.excerpt(response.body)
            record.outcome = action.target.outcome(of: response, policy: action.policy, attempt: attempt, now: now, random: random)
            if response.redirects > 0 {
                record.redirectedFrom = record.url
                record.url = HTTPClient.redact(response.url)
                if case .delivered(let note) = record.outcome {
                    record.outcome = .delivered(
                        note:
                            "\(note) from \(record.url), after \(response.redirects) redirect(s) from \(record.redirectedFrom!) (update the action's URL)"
                    )
                }
            }
            if case .delivered(let note) = record.outcome {
                record.externalRunID = action.target.externalRunID(response).map(Self.cleanRunID)
                record.runURL = action.target.runURL(fromDelivery: response)
                if let f = record.fallback { record.outcome = .delivered(note: "\(note); \(f)") }
            }
            if response.status == 409, action.target.nameIsIdempotencyKey {
                record.externalRunID = TriggerTarget.resourceName(actionID: context.actionID)
            }
        } catch let e as HTTPClientError {
            record.error = e.message
            record.outcome = action.policy.decide(
                status: nil, error: e, retryAfter: nil, attempt: attempt,
                nameIsIdempotencyKey: action.target.nameIsIdempotencyKey, now: now, random: random)
        } catch {
            record.error = "\(error)"
            record.outcome = action.policy.again("\(error)", retryAfter: nil, attempt: attempt, now: now, random: random)
        }
        return record
    }

    /// A run id read from a target's answer, as stored: control characters (NUL: `jsonb` and `text` refuse it)
    /// become spaces, at most 256 bytes. A run id that needed cleaning matches no status URL (`isValidRunID`).
    static func cleanRunID(_ id: String) -> String { SafeText.clean(id, maxBytes: 256) }

    /// The first 2 KB of a body as text (cut at a character boundary).
    /// Control characters (NUL included: `jsonb` refuses it) become spaces, newlines kept (`SafeText.clean`).
    public static func excerpt(_ body: Data) -> String {
        let text = SafeText.clean(String(decoding: body.prefix(2048), as: UTF8.self), maxBytes: 4096, keepNewlines: true)
        return body.count > 2048 ? text + "…" : text
    }
}

extension TriggerAction {
    /// Seconds added to every claim on top of the request timeouts: the database round trips around the send
    /// (the renewal before it, the record after it) and thread scheduling.
    public static let claimMarginSeconds = 5.0

    /// The HTTP requests one attempt may make, each bounded by `http.connectTimeout` + `http.timeout`: the send;
    /// before it, on a resend to a target that can be asked, the lookup; and, for Azure workload identity or a
    /// GitHub App, the token exchange (made with the same timeouts; counted even when a cached token makes it unnecessary).
    public func requestsPerAttempt(_ context: TriggerContext, attempt: Int) -> Int {
        // the send and each redirect hop it may follow (every hop has the full timeout)
        var n = 1 + target.maxRedirects
        if attempt > 1, target.lookup(context) != nil { n += 1 }
        // GitHub: the dispatch again without return_run_details when the server refuses the key
        if case .githubWorkflowDispatch(_, _, _, _, _, _, true) = target { n += 1 + target.maxRedirects }
        if credential.exchangesToken { n += 1 }
        return n
    }

    /// The longest one attempt can take, and so how long a dispatcher must hold the row it sends:
    /// requests × (connect timeout + total timeout) + `claimMarginSeconds`. libcurl's total timeout already
    /// includes the connect phase, so this errs long.
    public func attemptSeconds(_ context: TriggerContext, attempt: Int) -> Double {
        Double(requestsPerAttempt(context, attempt: attempt)) * (http.connectTimeout + http.timeout) + Self.claimMarginSeconds
    }
}
