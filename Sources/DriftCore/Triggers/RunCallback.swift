import DriftStore
import DriftTriggers
import Foundation
import Logging

/// A receiver's report on the run a webhook started: `POST /v1/runs/{action id}/status` on `serve`'s HTTP port
/// (README, *Following runs*).
///
/// The body is `{"action_id": "<the id in the path>", "state": "running" | "succeeded" | "failed", "url": "https://…",
/// "detail": "…"}` (`url` and `detail` optional), at most `maxBodyBytes`, signed with Standard Webhooks (`webhook-id`,
/// `webhook-timestamp` within 5 minutes, `webhook-signature`) by one of the action's `secrets` — the same secrets its
/// deliveries are signed with. Only webhook actions with `follow: true` accept callbacks; the signature is checked
/// before the database is asked anything, and every unsigned or unknown callback gets the same 401. A final state is recorded once (and fires the
/// action's `on_success` / `on_failure`); the same final state again is answered 200 without effect, a different
/// one 409; `running` updates the URL and detail.
public struct RunCallback: Sendable {
    public static let maxBodyBytes = 65_536
    public static let maxURLBytes = 2048
    public static let maxDetailBytes = 1000

    /// The answer: an HTTP status and a one-sentence message (JSON `{"message": …}` on the wire).
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var message: String
        /// Seconds the caller should wait before sending again (503 only).
        public var retryAfter: Int?
        public init(_ status: Int, _ message: String, retryAfter: Int? = nil) {
            self.status = status
            self.message = message
            self.retryAfter = retryAfter
        }
    }

    /// What a callback body says.
    public struct Report: Sendable, Equatable {
        public var state: RunState
        public var url: String?
        public var detail: String
    }

    public let client: PostgresClient
    public let monitors: [MonitorConfig]
    public let logger: Logger

    /// Every distinct secret of the actions that take callbacks: what an unauthenticated request is checked against.
    let callbackSecrets: [StandardWebhooks.Secret]

    public init(client: PostgresClient, monitors: [MonitorConfig], logger: Logger = Logger(label: "drift-worker")) {
        self.client = client
        self.monitors = monitors
        self.logger = logger
        var secrets: [StandardWebhooks.Secret] = []
        for m in monitors {
            for case .trigger(let t) in m.actions.values where Self.takesCallbacks(t) {
                for s in t.signingSecrets where !secrets.contains(s) { secrets.append(s) }
            }
        }
        callbackSecrets = secrets
    }

    static func takesCallbacks(_ a: TriggerAction) -> Bool { a.follow.enabled && !a.target.canBePolled && !a.signingSecrets.isEmpty }

    /// Decodes a callback body for `actionID`; the error names the field. The body must name the action it reports
    /// on (`action_id`), so that a signed report cannot be replayed against another run of the same action.
    public static func parse(_ body: Data, actionID: String) -> Result<Report, CallbackError> {
        guard body.count <= maxBodyBytes else { return .failure(.init("the body is larger than \(maxBodyBytes) bytes")) }
        guard let json = JSONTemplate.parse(body), case .object = json else { return .failure(.init("the body must be a JSON object")) }
        guard case .string(let named)? = json.value(at: "action_id"), named == actionID else {
            return .failure(
                .init("`action_id` must be in the body and equal the action id in the path (the signature covers the body, not the path)"))
        }
        guard case .string(let s)? = json.value(at: "state") else {
            return .failure(.init("`state` is missing or not a string (running, succeeded or failed)"))
        }
        guard let state = RunState(rawValue: s), state != .timedOut else {
            return .failure(.init("`state` must be running, succeeded or failed (got \(s.prefix(40).debugDescription))"))
        }
        var url: String?
        switch json.value(at: "url") {
        case nil, .null?: break
        case .string(let u)?:
            guard u.utf8.count <= maxURLBytes, let safe = SafeText.url(u) else {
                return .failure(.init("`url` must be an http(s) URL of at most \(maxURLBytes) bytes, ASCII without spaces or control characters"))
            }
            url = safe
        default: return .failure(.init("`url` must be a string"))
        }
        var detail = ""
        switch json.value(at: "detail") {
        case nil, .null?: break
        case .string(let d)?: detail = SafeText.clean(d, maxBytes: maxDetailBytes)
        default: return .failure(.init("`detail` must be a string"))
        }
        return .success(Report(state: state, url: url, detail: detail.isEmpty ? "reported \(state.rawValue) by the receiver" : detail))
    }

    /// Handles one callback for `actionID` with the request's Standard Webhooks headers.
    /// The one answer to a callback that is not signed by an action that takes callbacks — whether or not the id
    /// exists, so that an unauthenticated caller learns nothing about which actions exist.
    static let refused = Answer(
        401,
        "the webhook-signature does not verify with the secrets of an action that takes callbacks (follow: true), or webhook-timestamp is more than 5 minutes off"
    )

    public func handle(actionID: String, body: Data, webhookID: String?, timestamp: String?, signature: String?, now: Date = Date()) async -> Answer {
        guard actionID.utf8.count <= 1024, let id = webhookID, !id.isEmpty, id.utf8.count <= 1024, let ts = timestamp.flatMap({ Int($0) }),
            let sig = signature, sig.utf8.count <= 8192
        else { return Self.refused }
        func verifies(_ secrets: [StandardWebhooks.Secret]) -> Bool {
            StandardWebhooks.verify(id: id, timestamp: ts, signatureHeader: sig, body: body, secrets: secrets, now: now)
        }
        // authenticated before the database is asked anything: a secret of an action that takes callbacks signed this body
        guard !callbackSecrets.isEmpty, verifies(callbackSecrets) else { return Self.refused }
        let row: (monitor: String, action: String, state: OutboxState, runState: RunState?, attempts: Int)?
        do {
            row = try await client.withConnection { c in
                try c.query(
                    "SELECT monitor, action, state, run_state, attempts FROM trigger_outbox WHERE action_id = $1", [actionID], name: "callback.row"
                ).first.map {
                    (
                        try $0.string("monitor"), try $0.string("action"), try OutboxState.stored($0.string("state"), column: "trigger_outbox.state"),
                        try $0.optionalString("run_state").map { try RunState.stored($0, column: "trigger_outbox.run_state") },
                        try $0.int("attempts")
                    )
                }
            }
        } catch {
            logger.warning("run callback: database unavailable", metadata: ["error": "\(error)"])
            return Answer(503, "the database is unavailable; send the callback again", retryAfter: 5)
        }
        // signed by this row's own action (another action's secret proves nothing about this run)
        guard let row, let monitor = monitors.first(where: { $0.name == row.monitor }), case .trigger(let action)? = monitor.actions[row.action],
            Self.takesCallbacks(action), verifies(action.signingSecrets)
        else { return Self.refused }
        let report: Report
        switch Self.parse(body, actionID: actionID) {
        case .success(let r): report = r
        case .failure(let e): return Answer(400, e.description)
        }
        if row.state == .sending || (row.state == .pending && row.attempts == 0) {
            // the receiver answered before the dispatcher recorded the delivery
            return Answer(503, "the delivery of this action is not recorded yet; send the callback again", retryAfter: 5)
        }
        if row.state == .pending {
            return Answer(409, "the delivery of this action failed and is being retried; report on the run the retry starts")
        }
        guard row.state == .delivered, let current = row.runState else {
            return Answer(409, "this action's run is not followed (state \(row.state.rawValue))")
        }
        do {
            if report.state == .running {
                let updated = try await client.withConnection { c in
                    try !c.query(
                        """
                        UPDATE trigger_outbox SET run_detail = $2, run_url = COALESCE($3, run_url) WHERE action_id = $1 AND run_state = \(RunState.running.sql) RETURNING id
                        """, [actionID, report.detail, report.url], name: "callback.running"
                    ).isEmpty
                }
                return updated ? Answer(200, "recorded: running") : Answer(409, "the run already ended (\(current.rawValue))")
            }
            let o = RunObservation(state: report.state, detail: report.detail, url: report.url)
            let fired = action.follow.fired(by: report.state)
            let ended = try await client.transaction { c in
                try RunEnd.record(
                    c, where: "action_id = $1", [actionID], observation: o, fired: fired,
                    kind: report.state == .succeeded ? "on_success" : "on_failure", monitor: monitor)
            }
            if ended {
                RunEnd.report(
                    o, action: row.action, fired: fired, logger: logger,
                    metadata: ["action_id": "\(actionID)", "action": "\(row.action)", "monitor": "\(row.monitor)", "source": "callback"])
                return Answer(200, "recorded: \(report.state.rawValue)")
            }
            let now = try await client.withConnection { c in
                try c.query("SELECT run_state FROM trigger_outbox WHERE action_id = $1", [actionID], name: "callback.state").first?.optionalString(
                    "run_state")
            }
            return now == report.state.rawValue
                ? Answer(200, "already recorded: \(report.state.rawValue)") : Answer(409, "the run already ended (\(now ?? "unknown"))")
        } catch {
            logger.warning("run callback: could not record", metadata: ["error": "\(error)", "action_id": "\(actionID)"])
            return Answer(503, "the database is unavailable; send the callback again", retryAfter: 5)
        }
    }
}

public struct CallbackError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ d: String) { description = d }
}
