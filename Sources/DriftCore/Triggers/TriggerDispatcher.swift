import DriftCommon
import DriftStore
import DriftTriggers
import Foundation
import Logging
import Tracing

/// Delivers the actions in `trigger_outbox`, exactly once in effect.
///
/// A dispatcher claims ONE due row at a time with `FOR UPDATE SKIP LOCKED` (state `pending` and due, or `sending`
/// whose claim expired — its dispatcher died or stalled), marking it `sending` for `claimSeconds` and counting the
/// attempt. It builds the request's context (and writes the report for `{{report_path}}`), then — right before
/// sending — extends the claim to what this attempt can take (`TriggerAction.attemptSeconds`: requests ×
/// (connect + total timeout) + margin) with an UPDATE fenced on id, owner, attempt, state `sending` and a claim
/// that has not lapsed; it sends only when that UPDATE returned the row, so a row whose claim lapsed is never sent
/// by its old owner. The answer is recorded at once, fenced on owner and attempt, moving the row to `delivered`,
/// back to `pending` with the next attempt time, or to `dead`.
///
/// What remains: a dispatcher that crashes or stalls past its claim between the target accepting and the record
/// leaves the row `sending`; once the claim expires another dispatcher resends it with the same action id
/// (`Idempotency-Key`, `webhook-id`, resource name) — 409 from a create-with-name target, a look-up that finds the
/// run, or a receiver that dedupes makes that one run; GitHub and Azure DevOps cannot dedupe (README, *Delivery*).
///
/// `shadow_eval` rows are not sent anywhere: the dispatcher enqueues a `shadow_eval` task (unique key from the
/// action id) and marks the row delivered in the same transaction.
public struct TriggerDispatcher: Sendable {
    public struct Options: Sendable {
        /// Who claims, recorded in `claimed_by`: host, pid and a random number, unique per dispatcher instance.
        public var owner = QueueConsumer.defaultOwner()
        /// The shortest claim, in seconds: what a row is held for while its request is prepared (and its report
        /// written), and the floor of every send's claim, which is otherwise derived from the action's timeouts.
        public var claimSeconds: Double = 30
        /// Where to write each fired run's HTML report (`{{report_path}}`); nil: no report, the variable is empty.
        public var reportDirectory: String?
        /// Test hook (debug builds only; compiled out of release binaries): kill the process (SIGKILL) after this
        /// action's request was answered, before recording it.
        #if DEBUG
            public var crashAfterSend: String? = ProcessInfo.processInfo.environment["DRIFT_TEST_CRASH_AFTER_SEND"]
        #else
            public var crashAfterSend: String? = nil
        #endif
        public init() {}
    }

    /// What one pass did.
    public struct Counters: Sendable, Equatable {
        public var delivered = 0
        public var retried = 0
        public var dead = 0
        /// Status checks of followed runs, and how many of those runs ended (succeeded, failed, timed out).
        public var runsChecked = 0
        public var runsEnded = 0
        public init() {}
        public var attempts: Int { delivered + retried + dead }
    }

    public let client: PostgresClient
    public let monitors: [MonitorConfig]
    public let options: Options
    public let sender: TriggerSender
    public let logger: Logger
    /// The dispatcher's own thread for its sends (it delivers one row at a time): a send never waits in a queue behind
    /// other blocking work (run checks, pushes, token exchanges of other callers), so the claim renewed just before it
    /// covers it.
    let sending = BlockingPool(threads: 1)

    public init(
        client: PostgresClient, monitors: [MonitorConfig], options: Options = Options(), sender: TriggerSender = TriggerSender(),
        logger: Logger = Logger(label: "drift-worker")
    ) {
        self.client = client
        self.monitors = monitors
        self.options = options
        self.sender = sender
        self.logger = logger
    }

    struct Claimed: Sendable {
        var id: Int
        var actionID: String
        var monitor: String
        var action: String
        var preset: String
        var payload: String
        var attempt: Int
    }

    /// Claims and delivers what is due now, one row at a time, until nothing is due. A row whose claim lapsed
    /// before its send is left to the next pass (or another dispatcher), not claimed again in this one.
    @discardableResult
    public func dispatchDue() async throws -> Counters {
        var total = Counters()
        var lapsed: [Int] = []
        while let row = try await claim(excluding: lapsed) {
            do {
                switch try await tracedDeliver(row) {
                case .delivered: total.delivered += 1
                case .retry: total.retried += 1
                case .dead: total.dead += 1
                case .lapsed: lapsed.append(row.id)
                }
            } catch {
                // one row that cannot be recorded does not stop the others (nor the run checks); its claim lapses
                logger.error(
                    "a trigger attempt could not be recorded; the row is left to its claim's expiry",
                    metadata: meta(row, ["error": "\(SafeText.clean("\(error)", maxBytes: 500))"]))
                lapsed.append(row.id)
            }
        }
        let followed = try await followDue()
        total.runsChecked += followed.checked
        total.runsEnded += followed.ended
        return total
    }

    /// Dispatches until nothing is pending within `wait` seconds (retries due sooner are waited for), then returns.
    public func runUntilIdle(wait: Double) async throws -> Counters {
        var total = Counters()
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let c = try await dispatchDue()
            total.delivered += c.delivered
            total.retried += c.retried
            total.dead += c.dead
            total.runsChecked += c.runsChecked
            total.runsEnded += c.runsEnded
            // seconds by the database's clock, so a skewed local clock cannot make this spin or stop early
            guard let next = try await secondsUntilNextAttempt() else { return total }
            let remaining = deadline.timeIntervalSinceNow
            // due now but nothing was claimed: another dispatcher holds it; stop unless there is time to wait
            if next > remaining || (remaining <= 0 && c.attempts == 0) { return total }
            try await Task.sleep(for: .milliseconds(Int64(min(max(next, 0.05), 5) * 1000)))
        }
    }

    /// Seconds until the next pending row (or expired claim) is due; negative when already due, nil when none.
    public func secondsUntilNextAttempt() async throws -> Double? {
        try await client.withConnection { c in
            try c.query(
                """
                SELECT extract(epoch FROM min(t) - now())::float8 AS s FROM (
                    SELECT min(next_attempt_at) AS t FROM trigger_outbox WHERE state = \(OutboxState.pending.sql)
                    UNION ALL SELECT min(claim_expires_at) FROM trigger_outbox WHERE state = \(OutboxState.sending.sql)
                    UNION ALL SELECT min(GREATEST(run_next_check_at, COALESCE(claim_expires_at, run_next_check_at))) FROM trigger_outbox WHERE run_state = \(RunState.running.sql)) n
                """, name: "dispatch.next"
            ).first.flatMap { try $0.optionalDouble("s") }
        }
    }

    /// Claims the oldest due row (not one of `excluding`) for `claimSeconds`, counting the attempt.
    func claim(excluding: [Int] = []) async throws -> Claimed? {
        let owner = options.owner
        let seconds = options.claimSeconds
        let skip = "{" + excluding.map(String.init).joined(separator: ",") + "}"
        return try await client.withConnection { c in
            try c.query(
                """
                UPDATE trigger_outbox o
                   SET state = \(OutboxState.sending.sql), claimed_by = $1, claim_expires_at = now() + make_interval(secs => $2), attempts = o.attempts + 1
                  FROM (SELECT id FROM trigger_outbox
                         WHERE ((state = \(OutboxState.pending.sql) AND next_attempt_at <= now()) OR (state = \(OutboxState.sending.sql) AND claim_expires_at < now()))
                           AND id <> ALL($3::bigint[])
                         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) due
                 WHERE o.id = due.id
                RETURNING o.id, o.action_id, o.monitor, o.action, o.preset, o.payload::text AS payload, o.attempts
                """, [owner, seconds, skip], name: "dispatch.claim"
            ).first.map { r in
                Claimed(
                    id: try r.int("id"), actionID: try r.string("action_id"), monitor: try r.string("monitor"), action: try r.string("action"),
                    preset: try r.string("preset"), payload: try r.string("payload"), attempt: try r.int("attempts"))
            }
        }
    }

    /// Extends this dispatcher's claim on the row to `seconds` from now — only if it still holds it: same owner,
    /// same attempt, still `sending`, claim not lapsed. False: the row must not be sent (another dispatcher may
    /// have it, or will take it).
    func renew(_ row: Claimed, seconds: Double) async throws -> Bool {
        let owner = options.owner
        return try await client.withConnection { c in
            try !c.query(
                """
                UPDATE trigger_outbox SET claim_expires_at = now() + make_interval(secs => $4)
                 WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = \(OutboxState.sending.sql) AND claim_expires_at > now()
                RETURNING id
                """, [row.id, owner, row.attempt, seconds], name: "dispatch.renew"
            ).isEmpty
        }
    }

    enum Result: String { case delivered, retry, dead, lapsed }

    /// `deliver` in a span `drift.trigger.delivery` (kind client): `drift.action.id`, `drift.action.name`,
    /// `drift.monitor`, `drift.trigger.attempt`, then `http.response.status_code` (when the target answered) and
    /// `drift.trigger.result` (delivered, retry, dead or lapsed). A root span: the outbox row was written by a
    /// check that ended earlier, so a delivery is its own trace (the action id links it to the check's run).
    func tracedDeliver(_ row: Claimed) async throws -> Result {
        try await withSpan("drift.trigger.delivery", context: .topLevel, ofKind: .client) { span in
            span.attributes["drift.action.id"] = row.actionID
            span.attributes["drift.action.name"] = row.action
            span.attributes["drift.monitor"] = row.monitor
            span.attributes["drift.trigger.attempt"] = row.attempt
            let result = try await deliver(row, span: span)
            span.attributes["drift.trigger.result"] = result.rawValue
            return result
        }
    }

    func deliver(_ row: Claimed, span: (any Span)? = nil) async throws -> Result {
        guard let monitor = monitors.first(where: { $0.name == row.monitor }), let action = monitor.actions[row.action] else {
            return try await giveUp(row, "monitor '\(row.monitor)' no longer defines action '\(row.action)' in its configuration")
        }
        let context = try await self.context(row, monitor: monitor)
        switch action {
        case .shadowEval(let config): return try await enqueueShadowEvaluation(row, monitor: monitor, config: config, context: context)
        case .trigger(let trigger):
            let seconds = max(options.claimSeconds, trigger.attemptSeconds(context, attempt: row.attempt))
            guard try await renew(row, seconds: seconds) else {
                logger.warning(
                    "trigger claim lapsed before sending; not sent (it is claimed again, by this or another dispatcher; if preparing the request or writing its report takes longer than --claim-seconds, raise it)",
                    metadata: meta(row, ["claim_seconds": .stringConvertible(options.claimSeconds)]))
                return .lapsed
            }
            let sender = self.sender
            let renewed = ContinuousClock.now
            // The claim covers the attempt's own timeouts plus a margin. Should the send start later than the margin
            // allows (the process starved of CPU), it could still be sending when the claim lapses and another
            // dispatcher sends again: it does not send, and the row is claimed again after its claim expires.
            let margin = Duration.milliseconds(Int64(TriggerAction.claimMarginSeconds * 800))
            let sent: DeliveryAttempt? = try await sending.run {
                guard ContinuousClock.now - renewed < margin else { return nil }
                return sender.attempt(trigger, context, attempt: row.attempt)
            }
            guard let attempt = sent else {
                logger.warning(
                    "trigger attempt waited for a thread longer than its claim allows; not sent (it is claimed again after the claim expires)",
                    metadata: meta(row, [:]))
                return .lapsed
            }
            if let status = attempt.status { span?.attributes["http.response.status_code"] = status }
            if let crash = options.crashAfterSend, crash == row.action || crash == "1" {
                logger.critical("test hook: killed after sending, before recording", metadata: meta(row, [:]))
                kill(getpid(), SIGKILL)
            }
            // recorded at once: nothing slow between the target's answer and the record (the residual window)
            let result: Result
            let state: OutboxState
            let after: Double
            switch attempt.outcome {
            case .delivered: (result, state, after) = (.delivered, .delivered, 0)
            case .retry(let seconds, _): (result, state, after) = (.retry, .pending, seconds)
            case .dead: (result, state, after) = (.dead, .dead, 0)
            }
            var follow: Follow?
            if case .delivered = attempt.outcome, trigger.follow.enabled {
                if !trigger.target.canBePolled {
                    // a receiver's callback ends it; the only check is the deadline
                    follow = Follow(url: nil, firstCheck: trigger.follow.deadline, deadline: trigger.follow.deadline)
                } else if let id = attempt.externalRunID, trigger.target.statusRequest(runID: id) != nil {
                    follow = Follow(
                        url: attempt.runURL ?? trigger.target.runURL(runID: id), firstCheck: min(trigger.follow.interval, trigger.follow.deadline),
                        deadline: trigger.follow.deadline)
                } else {
                    logger.notice(
                        "trigger delivered, but its run is not followed: the target's answer named no run it can be asked about",
                        metadata: meta(
                            row,
                            ["preset": "\(trigger.target.preset)", "external_run_id": "\(SafeText.clean(attempt.externalRunID ?? "", maxBytes: 200))"]
                        ))
                }
            }
            try await record(
                row, state: state, after: after, status: attempt.status, runID: attempt.externalRunID, history: Self.history(attempt), follow: follow)
            WorkerMetrics.recordDelivery(action: row.action, result: attempt.outcomeName, seconds: attempt.seconds)
            var m = meta(
                row,
                [
                    "preset": "\(trigger.target.preset)", "method": "\(attempt.method)", "url": "\(attempt.url)",
                    "status": attempt.status.map { .stringConvertible($0) } ?? LogSetup.null, "seconds": .stringConvertible(attempt.seconds)
                ])
            if let id = attempt.externalRunID { m["external_run_id"] = "\(id)" }
            switch attempt.outcome {
            case .delivered(let note): logger.info("trigger delivered", metadata: m.merging(["note": "\(note)"]) { $1 })
            case .retry(let seconds, let reason):
                logger.warning(
                    "trigger attempt failed; will retry",
                    metadata: m.merging(["reason": "\(reason)", "retry_in_seconds": .stringConvertible(seconds)]) { $1 })
            case .dead(let reason): logger.error("trigger dead", metadata: m.merging(["reason": "\(reason)"]) { $1 })
            }
            return result
        }
    }

    /// The template variables of a row: its payload, plus the report path when reports are written.
    func context(_ row: Claimed, monitor: MonitorConfig) async throws -> TriggerContext {
        let json = JSONTemplate.parse(Data(row.payload.utf8)) ?? .object([])
        func text(_ k: String) -> String { json.value(at: k)?.scalarText ?? "" }
        var features: [String] = []
        if case .array(let items)? = json.value(at: "drifted_features") { features = items.compactMap(\.scalarText) }
        var extra: [String: String] = [:]
        for k in Reader.shadowVariables + Reader.followVariables { if let v = json.value(at: k)?.scalarText { extra[k] = v } }
        // a performance trigger's: the trigger and the figures out of their band (absent for drift-triggered actions)
        if let v = json.value(at: "trigger")?.scalarText { extra["trigger"] = v }
        if case .array(let reasons)? = json.value(at: "performance_reasons") {
            extra["performance_reasons"] = reasons.compactMap(\.scalarText).joined(separator: "; ")
        }
        var context = TriggerContext(
            actionID: row.actionID, action: row.action, monitor: row.monitor, model: text("model").isEmpty ? monitor.model : text("model"),
            windowStart: text("window_start"), windowEnd: text("window_end"), driftedFeatures: features,
            runID: json.value(at: "run_id")?.scalarText.flatMap { Int($0) }, extra: extra)
        if let dir = options.reportDirectory, let start = PGTime.parse(context.windowStart) ?? ISO8601DateFormatter().date(from: context.windowStart)
        {
            let (folder, path) = Self.reportPath(directory: dir, monitor: monitor.name, windowStart: start)
            do {
                let report = try await client.withConnection { c in try DriftReport.stored(c, monitor: monitor, windowStart: start, since: nil) }
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(HTMLReport.render(report).utf8).write(to: URL(fileURLWithPath: path))
                context.reportPath = path
            } catch {
                logger.warning("could not write the drift report for a trigger", metadata: meta(row, ["path": "\(path)", "error": "\(error)"]))
            }
        }
        return context
    }

    /// Where the report of `monitor`'s window starting at `windowStart` goes: `<directory>/<monitor>/<start>.html`,
    /// the monitor name as one path component — every byte outside `A-Z a-z 0-9 - _ .` percent-encoded (so `/`
    /// and `%` are), and a name of only dots encoded whole — so no monitor name can leave `directory`.
    public static func reportPath(directory: String, monitor: String, windowStart: Date) -> (folder: String, file: String) {
        let folder = "\(directory)/\(pathComponent(monitor))"
        return (folder, "\(folder)/\(PGTimeText.iso(windowStart)).html")
    }

    /// `name` as a single, safe file-name component (see `reportPath`).
    static func pathComponent(_ name: String) -> String {
        func encode(_ b: UInt8) -> String { String(format: "%%%02X", b) }
        let safe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".utf8)
        let bytes = Array(name.utf8)
        if bytes.allSatisfy({ $0 == UInt8(ascii: ".") }) { return bytes.isEmpty ? "%00" : bytes.map(encode).joined() }
        return bytes.map { safe.contains($0) ? String(UnicodeScalar($0)) : encode($0) }.joined()
    }

    func enqueueShadowEvaluation(_ row: Claimed, monitor: MonitorConfig, config: ShadowEvalConfig, context: TriggerContext) async throws -> Result {
        guard let end = PGTime.parse(context.windowEnd) ?? ISO8601DateFormatter().date(from: context.windowEnd) else {
            return try await giveUp(row, "the outbox row has no window_end to evaluate up to")
        }
        let period = config.period?.seconds ?? monitor.schedule.length.seconds
        let args = ShadowEvalTasks.Args(
            monitor: monitor.name, action: row.action, challenger: config.challenger,
            from: end.addingTimeInterval(-period), to: end, actionID: row.actionID)
        let json = String(decoding: try DriftTasks.encoder.encode(args), as: UTF8.self)
        let owner = options.owner
        let taskID: Int64?
        do {
            taskID = try await client.transaction { c in
                let id = try TaskQueue(client: self.client).enqueue(
                    .init(
                        kind: ShadowEvalTasks.kind, uniqueKey: "\(ShadowEvalTasks.kind):\(row.actionID)",
                        args: json, maxAttempts: 5), on: c)
                let entry = self.historyEntry(
                    row, outcome: "delivered",
                    note: "enqueued the shadow evaluation of \(PGTimeText.iso(args.from)) – \(PGTimeText.iso(end))"
                        + (id.map { " as task \($0)" } ?? " (already enqueued)"))
                // fenced like every record; a lost claim rolls the enqueue back (the new owner enqueues, deduped by key)
                guard try Self.update(c, row, owner: owner, state: .delivered, after: 0, status: nil, runID: id.map { "task:\($0)" }, history: entry)
                else {
                    throw ClaimLost()
                }
                return id
            }
        } catch is ClaimLost {
            logger.warning(
                "trigger claim was lost before the shadow evaluation was recorded (it expired and another dispatcher took the row)",
                metadata: meta(row, [:]))
            return .lapsed
        }
        WorkerMetrics.recordDelivery(action: row.action, result: "delivered", seconds: 0)
        logger.info("shadow evaluation enqueued", metadata: meta(row, ["task.id": "\(taskID.map(String.init) ?? "existing")"]))
        return .delivered
    }

    /// A row that cannot be delivered at all: dead at once, with the reason recorded, logged and counted.
    func giveUp(_ row: Claimed, _ reason: String) async throws -> Result {
        try await record(row, state: .dead, after: 0, status: nil, runID: nil, history: historyEntry(row, outcome: "dead", note: reason))
        logger.error("trigger dead", metadata: meta(row, ["reason": "\(reason)"]))
        WorkerMetrics.recordDelivery(action: row.action, result: "dead", seconds: 0)
        return .dead
    }

    /// How a delivered row starts being followed: its run's URL, seconds to the first check and to the deadline.
    struct Follow: Sendable {
        var url: String?
        var firstCheck: Double
        var deadline: Double
    }

    func record(_ row: Claimed, state: OutboxState, after: Double, status: Int?, runID: String?, history: String, follow: Follow? = nil) async throws
    {
        let owner = options.owner
        let updated = try await client.withConnection { c in
            try Self.update(c, row, owner: owner, state: state, after: after, status: status, runID: runID, history: history, follow: follow)
        }
        if !updated {
            logger.warning(
                "trigger claim was lost before the attempt was recorded (it expired and another dispatcher took the row)", metadata: meta(row, [:]))
        }
    }

    @discardableResult
    static func update(
        _ c: PGConnection, _ row: Claimed, owner: String, state: OutboxState, after: Double, status: Int?, runID: String?, history: String,
        follow: Follow? = nil
    ) throws -> Bool {
        try !c.query(
            """
            UPDATE trigger_outbox
               SET state = $3, next_attempt_at = now() + make_interval(secs => $4), last_status = COALESCE($5, last_status),
                   external_run_id = COALESCE($6, external_run_id), history = history || jsonb_build_array($7::jsonb),
                   delivered_at = CASE WHEN $3 = \(OutboxState.delivered.sql) THEN now() END, claimed_by = NULL, claim_expires_at = NULL,
                   run_state = CASE WHEN $9 THEN \(RunState.running.sql) END, run_url = $10, run_polls = 0,
                   run_next_check_at = CASE WHEN $9 THEN now() + make_interval(secs => $11) END,
                   run_deadline = CASE WHEN $9 THEN now() + make_interval(secs => $12) END
             WHERE id = $1 AND claimed_by = $2 AND attempts = $8 AND state = \(OutboxState.sending.sql)
            RETURNING id
            """,
            [
                row.id, owner, state.rawValue, after, status, runID, history, row.attempt, follow != nil, follow?.url,
                follow?.firstCheck ?? 0, follow?.deadline ?? 0
            ], name: "dispatch.record"
        ).isEmpty
    }

    struct ClaimLost: Error {}

    func historyEntry(_ row: Claimed, outcome: String, note: String) -> String {
        JSONValue.object([
            ("attempt", .int(row.attempt)), ("at", .string(PGTimeText.iso(Date()))), ("outcome", .string(outcome)), ("note", .string(note))
        ]).rendered()
    }

    /// One attempt as a history entry: `{attempt, at, method, url, status, seconds, error, response, external_run_id, outcome, note}`.
    static func history(_ a: DeliveryAttempt) -> String {
        let note: String
        switch a.outcome {
        case .delivered(let n): note = n
        case .retry(let s, let reason): note = "\(reason); next attempt in \(String(format: "%.1f", s)) s"
        case .dead(let reason): note = reason
        }
        return JSONValue.object([
            ("attempt", .int(a.attempt)), ("at", .string(PGTimeText.iso(a.at))), ("method", .string(a.method)), ("url", .string(a.url)),
            ("status", a.status.map { .int($0) } ?? .null), ("seconds", .number(a.seconds)),
            ("error", a.error.map { .string(SafeText.clean($0, maxBytes: 2048)) } ?? .null),
            ("response", .string(a.responseExcerpt)),
            ("external_run_id", a.externalRunID.map { .string(SafeText.clean($0, maxBytes: 256)) } ?? .null),
            ("outcome", .string(a.outcomeName)), ("found_existing", .bool(a.foundExisting)),
            ("note", .string(SafeText.clean(note, maxBytes: 4096, keepNewlines: true)))
        ]).rendered()
    }

    func meta(_ row: Claimed, _ more: Logger.Metadata) -> Logger.Metadata {
        ["action_id": "\(row.actionID)", "action": "\(row.action)", "monitor": "\(row.monitor)", "attempt": .stringConvertible(row.attempt)].merging(
            more
        ) { $1 }
    }
}
