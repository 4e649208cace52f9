import DriftCommon
import DriftStore
import DriftTriggers
import Foundation
import Logging

/// Following delivered runs to their end (README, *Following runs*).
///
/// A delivered row whose action follows its run gets `run_state = 'running'`, a first check time and a deadline.
/// The dispatcher claims due rows like sends — one at a time, `FOR UPDATE SKIP LOCKED`, `claimed_by` /
/// `claim_expires_at`, counting the check in `run_polls` — extends the claim to what the check can take, asks the
/// target (`TriggerSender.checkRun`) and records the answer fenced on owner and poll count:
/// - still running, or no readable answer: next check after `follow_interval · 2^polls` (capped; longer when the
///   target asked to wait), the answer or the problem kept in `run_detail`;
/// - a final state, or the deadline passed without one (`timed_out`): `run_state`, `run_finished_at`, a history
///   entry, and — in the same transaction, fenced on `run_state = 'running'` so exactly one recorder wins — the
///   `on_success` / `on_failure` actions as new outbox rows (`<action id>:on_success:<name>`, `ON CONFLICT DO NOTHING`).
///
/// A webhook's run is ended by its receiver's signed callback (`RunCallback`); its only check is the deadline.
extension TriggerDispatcher {
    public struct FollowCounters: Sendable, Equatable {
        public var checked = 0
        public var ended = 0
        public init() {}
    }

    struct FollowClaim: Sendable {
        var id: Int
        var actionID: String
        var monitor: String
        var action: String
        var runID: String?
        var polls: Int
        var expired: Bool
    }

    /// Checks the followed runs that are due now, one row at a time — at most `followBudget` rows and
    /// `followBudgetSeconds` per pass, so that slow status APIs never hold up new deliveries (the rest is due at the
    /// next pass). A check that fails (its record could not be written) is logged and skipped; its claim lapses and it
    /// is checked again later.
    @discardableResult
    public func followDue() async throws -> FollowCounters {
        var total = FollowCounters()
        var skip: [Int] = []
        let started = Date()
        while skip.count < Self.followBudget, Date().timeIntervalSince(started) < Self.followBudgetSeconds,
            let row = try await claimFollow(excluding: skip)
        {
            skip.append(row.id)
            total.checked += 1
            do {
                if try await check(row) { total.ended += 1 }
            } catch {
                logger.warning(
                    "a followed run's check could not be recorded; it is checked again when its claim lapses",
                    metadata: followMeta(row, ["error": "\(error)"]))
            }
        }
        return total
    }

    /// Most status checks in one dispatcher pass, and the most time spent on them.
    public static let followBudget = 50
    public static let followBudgetSeconds = 20.0

    func claimFollow(excluding: [Int]) async throws -> FollowClaim? {
        let owner = options.owner
        let seconds = options.claimSeconds
        let skip = "{" + excluding.map(String.init).joined(separator: ",") + "}"
        return try await client.withConnection { c in
            try c.query(
                """
                UPDATE trigger_outbox o
                   SET claimed_by = $1, claim_expires_at = now() + make_interval(secs => $2), run_polls = o.run_polls + 1
                  FROM (SELECT id FROM trigger_outbox
                         WHERE run_state = \(RunState.running.sql) AND run_next_check_at <= now()
                           AND (claim_expires_at IS NULL OR claim_expires_at < now()) AND id <> ALL($3::bigint[])
                         ORDER BY run_next_check_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) due
                 WHERE o.id = due.id
                RETURNING o.id, o.action_id, o.monitor, o.action, o.external_run_id, o.run_polls, (o.run_deadline <= now()) AS expired
                """, [owner, seconds, skip], name: "follow.claim"
            ).first.map { r in
                FollowClaim(
                    id: try r.int("id"), actionID: try r.string("action_id"), monitor: try r.string("monitor"), action: try r.string("action"),
                    runID: try r.optionalString("external_run_id"), polls: try r.int("run_polls"), expired: try r.bool("expired"))
            }
        }
    }

    /// One check of a claimed row; true when the run ended.
    func check(_ row: FollowClaim) async throws -> Bool {
        guard let monitor = monitors.first(where: { $0.name == row.monitor }), case .trigger(let action)? = monitor.actions[row.action] else {
            // the configuration no longer has it: nobody can ask; end it so it does not stay 'running' forever
            return try await finish(
                row, RunObservation(state: .timedOut, detail: "monitor '\(row.monitor)' no longer defines action '\(row.action)'"),
                onSuccess: [], onFailure: [], monitor: nil)
        }
        var check: RunCheck?
        if action.target.canBePolled, let runID = row.runID {
            let seconds = max(
                options.claimSeconds,
                action.attemptSeconds(
                    TriggerContext(
                        actionID: row.actionID, action: row.action, monitor: row.monitor,
                        model: "", windowStart: "", windowEnd: ""), attempt: 1))
            guard try await renewFollow(row, seconds: seconds) else { return false }
            let sender = self.sender
            check = try await onBlockingPool { sender.checkRun(action, runID: runID) }
        }
        if let o = check?.observation, o.state.isFinal {
            return try await finish(row, o, onSuccess: action.follow.onSuccess, onFailure: action.follow.onFailure, monitor: monitor)
        }
        if row.expired {
            let last = check?.observation?.detail ?? check?.problem
            let o = RunObservation(
                state: .timedOut,
                detail: "no final state within follow_deadline (\(Int(action.follow.deadline)) s)"
                    + (last.map { "; last: \($0)" } ?? ""), url: check?.observation?.url)
            return try await finish(row, o, onSuccess: action.follow.onSuccess, onFailure: action.follow.onFailure, monitor: monitor)
        }
        let after = max(action.follow.delay(afterPolls: row.polls), check?.retryAfter ?? 0)
        let detail = check?.observation?.detail ?? check?.problem ?? "waiting for the receiver's callback"
        let owner = options.owner
        let url = check?.observation?.url
        _ = try await client.withConnection { c in
            try c.query(
                """
                UPDATE trigger_outbox SET run_detail = $4, run_url = COALESCE($5, run_url),
                       run_next_check_at = LEAST(now() + make_interval(secs => $6), GREATEST(run_deadline, now())),
                       claimed_by = NULL, claim_expires_at = NULL
                 WHERE id = $1 AND claimed_by = $2 AND run_polls = $3 AND run_state = \(RunState.running.sql)
                """, [row.id, owner, row.polls, String(detail.prefix(1000)), url, after], name: "follow.again")
        }
        if let problem = check?.problem {
            logger.warning(
                "could not read a followed run's status; will ask again",
                metadata: followMeta(row, ["problem": "\(problem)", "url": "\(check?.url ?? "")", "next_check_seconds": .stringConvertible(after)]))
        }
        return false
    }

    func renewFollow(_ row: FollowClaim, seconds: Double) async throws -> Bool {
        let owner = options.owner
        return try await client.withConnection { c in
            try !c.query(
                """
                UPDATE trigger_outbox SET claim_expires_at = now() + make_interval(secs => $4)
                 WHERE id = $1 AND claimed_by = $2 AND run_polls = $3 AND run_state = \(RunState.running.sql) AND claim_expires_at > now()
                RETURNING id
                """, [row.id, owner, row.polls, seconds], name: "follow.renew"
            ).isEmpty
        }
    }

    /// Records a final state (fenced on this claim) and fires what it fires.
    func finish(_ row: FollowClaim, _ o: RunObservation, onSuccess: [String], onFailure: [String], monitor: MonitorConfig?) async throws -> Bool {
        let owner = options.owner
        let fired = o.state == .succeeded ? onSuccess : onFailure
        let ended = try await client.transaction { c in
            try RunEnd.record(
                c, where: "id = $1 AND claimed_by = $2 AND run_polls = $3", [row.id, owner, row.polls], observation: o,
                fired: fired, kind: o.state == .succeeded ? "on_success" : "on_failure", monitor: monitor)
        }
        guard ended else { return false }
        RunEnd.report(o, action: row.action, fired: fired, logger: logger, metadata: followMeta(row, [:]))
        return true
    }

    func followMeta(_ row: FollowClaim, _ more: Logger.Metadata) -> Logger.Metadata {
        [
            "action_id": "\(row.actionID)", "action": "\(row.action)", "monitor": "\(row.monitor)", "external_run_id": "\(row.runID ?? "")",
            "run_polls": .stringConvertible(row.polls)
        ].merging(more) { $1 }
    }
}

/// Recording the end of a followed run: shared by the status checks and the receivers' callbacks.
public enum RunEnd {
    /// Sets the final `run_state` on the row matching `predicate` (which must also still be `running`) and inserts
    /// the actions it fires — one transaction, so the follow-ups exist exactly when the end is recorded. False when
    /// no row matched (another recorder ended it first, or the claim was lost).
    static func record(
        _ c: PGConnection, where predicate: String, _ args: [(any PGEncodable)?], observation o: RunObservation, fired: [String], kind: String,
        monitor: MonitorConfig?
    ) throws -> Bool {
        let n = args.count
        let entry = JSONValue.object([
            ("at", .string(PGTimeText.iso(Date()))), ("outcome", .string("run_\(o.state.rawValue)")),
            ("note", .string(o.detail)), ("url", o.url.map { .string($0) } ?? .null)
        ]).rendered()
        guard
            let parent = try c.query(
                """
                UPDATE trigger_outbox SET run_state = $\(n + 1), run_detail = $\(n + 2), run_url = COALESCE($\(n + 3), run_url), run_finished_at = now(),
                       run_next_check_at = NULL, claimed_by = NULL, claim_expires_at = NULL, history = history || jsonb_build_array($\(n + 4)::jsonb)
                 WHERE \(predicate) AND run_state = \(RunState.running.sql) AND state = \(OutboxState.delivered.sql)
                RETURNING id, action_id
                """, args + [o.state.rawValue, String(o.detail.prefix(1000)), o.url, entry] as [(any PGEncodable)?], name: "follow.end"
            ).first
        else { return false }
        let id = try parent.int("id")
        let actionID = try parent.string("action_id")
        for name in fired {
            try c.query(
                """
                INSERT INTO trigger_outbox (action_id, monitor, run_id, action, preset, payload, parent_action_id)
                SELECT $1, monitor, run_id, $2, $3,
                       payload || jsonb_build_object('parent_action', action, 'parent_action_id', action_id, 'parent_run_id', COALESCE(external_run_id, ''),
                                                     'parent_run_state', run_state, 'parent_run_url', COALESCE(run_url, '')),
                       action_id
                  FROM trigger_outbox WHERE id = $4
                ON CONFLICT (action_id) DO NOTHING
                """, ["\(actionID):\(kind):\(name)", name, monitor?.actions[name]?.preset ?? "webhook", id], name: "follow.fire")
        }
        return true
    }

    static func report(_ o: RunObservation, action: String, fired: [String], logger: Logger, metadata: Logger.Metadata) {
        WorkerMetrics.recordRunEnd(action: action, result: o.state.rawValue)
        var m = metadata
        m["run_state"] = "\(o.state.rawValue)"
        m["detail"] = "\(o.detail)"
        if let u = o.url { m["run_url"] = "\(u)" }
        m["fired"] = .array(fired.map { .string($0) })
        if o.state == .succeeded {
            logger.info("followed run succeeded", metadata: m)
        } else {
            logger.warning("followed run ended without success", metadata: m)
        }
    }
}
