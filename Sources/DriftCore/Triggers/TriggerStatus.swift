import DriftCommon
import DriftStore
import DriftTriggers
import Foundation

/// What became of outbox actions: delivery and, for followed runs, how the run ended. Read by
/// `drift-worker trigger status` and the stored drift report.
public enum TriggerStatus {
    public struct Row: Sendable, Equatable {
        public var actionID: String
        public var monitor: String
        public var action: String
        public var preset: String
        public var state: OutboxState
        public var attempts: Int
        /// nil when the run is not followed.
        public var runState: RunState?
        public var externalRunID: String?
        public var runURL: String?
        /// The target's last word on the run, or the last attempt's note.
        public var detail: String?
        /// The action whose run's end fired this one.
        public var parentActionID: String?
        public var createdAt: Date
        public var finishedAt: Date?

        public var json: JSONValue {
            func s(_ v: String?) -> JSONValue { v.map { .string($0) } ?? .null }
            return .object([
                ("action_id", .string(actionID)), ("monitor", .string(monitor)), ("action", .string(action)), ("preset", .string(preset)),
                ("state", .string(state.rawValue)), ("attempts", .int(attempts)), ("run_state", s(runState?.rawValue)),
                ("external_run_id", s(externalRunID)),
                ("run_url", s(runURL)), ("detail", s(detail)), ("parent_action_id", s(parentActionID)),
                ("created_at", .string(PGTimeText.iso(createdAt))), ("run_finished_at", s(finishedAt.map(PGTimeText.iso)))
            ])
        }
    }

    static let columns = """
        action_id, monitor, action, preset, state, attempts, run_state, external_run_id, run_url, parent_action_id, created_at, run_finished_at,
        COALESCE(run_detail, history->-1->>'note') AS detail
        """

    /// The newest `limit` actions (of `monitor`; or `actionID` and the actions its run's end fired, recursively), newest first.
    public static func list(_ c: PGConnection, monitor: String?, actionID: String?, limit: Int) throws -> [Row] {
        let rows: PGRows
        if let actionID {
            rows = try c.query(
                """
                WITH RECURSIVE tree AS (
                    SELECT id, action_id, 0 AS depth FROM trigger_outbox WHERE action_id = $1
                    UNION ALL SELECT o.id, o.action_id, t.depth + 1 FROM trigger_outbox o JOIN tree t ON o.parent_action_id = t.action_id WHERE t.depth < 20)
                SELECT \(columns) FROM trigger_outbox WHERE id IN (SELECT id FROM tree) ORDER BY id LIMIT $2
                """, [actionID, limit], name: "status.tree")
        } else {
            rows = try c.query(
                """
                SELECT \(columns) FROM trigger_outbox WHERE ($1::text IS NULL OR monitor = $1) ORDER BY id DESC LIMIT $2
                """, [monitor, limit], name: "status.list")
        }
        return try rows.map(row)
    }

    /// The actions a drift run fired, and those their runs' ends fired, oldest first.
    public static func forDriftRun(_ c: PGConnection, runID: Int) throws -> [Row] {
        try c.query(
            """
            WITH RECURSIVE tree AS (
                SELECT id, action_id, 0 AS depth FROM trigger_outbox WHERE run_id = $1 AND parent_action_id IS NULL
                UNION ALL SELECT o.id, o.action_id, t.depth + 1 FROM trigger_outbox o JOIN tree t ON o.parent_action_id = t.action_id WHERE t.depth < 20)
            SELECT \(columns) FROM trigger_outbox WHERE id IN (SELECT id FROM tree) ORDER BY id LIMIT 100
            """, [runID], name: "status.run"
        ).map(row)
    }

    static func row(_ r: PGRow) throws -> Row {
        Row(
            actionID: try r.string("action_id"), monitor: try r.string("monitor"), action: try r.string("action"), preset: try r.string("preset"),
            state: try OutboxState.stored(r.string("state"), column: "trigger_outbox.state"), attempts: try r.int("attempts"),
            runState: try r.optionalString("run_state").map { try RunState.stored($0, column: "trigger_outbox.run_state") },
            externalRunID: try r.optionalString("external_run_id"), runURL: try r.optionalString("run_url"), detail: try r.optionalString("detail"),
            parentActionID: try r.optionalString("parent_action_id"), createdAt: try r.date("created_at"),
            finishedAt: try r.optionalDate("run_finished_at"))
    }

    /// A fixed-width table, one action per line, then its detail and URL indented.
    public static func table(_ rows: [Row]) -> String {
        let widths = [max(9, rows.map { $0.actionID.count }.max() ?? 0), max(6, rows.map { $0.action.count }.max() ?? 0), 9, 8, 9]
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        var out =
            [
                pad("action id", widths[0]), pad("action", widths[1]), pad("state", widths[2]), pad("attempts", widths[3]), pad("run", widths[4]),
                "run id"
            ]
            .joined(separator: "  ") + "\n"
        // every field may come from a target's answer: no control characters or bidi overrides reach the terminal
        func t(_ s: String, _ max: Int = 300) -> String { SafeText.clean(s, maxBytes: max) }
        for r in rows {
            out +=
                [
                    pad(t(r.actionID), widths[0]), pad(t(r.action), widths[1]), pad(r.state.rawValue, widths[2]), pad(String(r.attempts), widths[3]),
                    pad(r.runState?.rawValue ?? "-", widths[4]), t(r.externalRunID ?? "-")
                ].joined(separator: "  ") + "\n"
            if let p = r.parentActionID { out += "    fired by the end of \(t(p))\n" }
            if let u = r.runURL { out += "    \(t(u, 2048))\n" }
            if let d = r.detail, !d.isEmpty { out += "    \(t(d))\n" }
        }
        return out
    }
}
