import DriftStore
import Foundation

/// How long a failing monitor waits before its next probe: `base · 2^(failures − 1)` seconds, at most `cap`
/// (defaults 60 s doubling to one hour: 1, 2, 4, 8, 16, 32 minutes, then hourly). A plain function.
public enum MonitorBackoff {
    public static func seconds(afterFailures failures: Int, base: Double = 60, cap: Double = 3_600) -> Double {
        guard failures > 0 else { return 0 }
        // 2^k overflows nothing as a Double; the cap bounds it long before precision matters
        return min(cap, base * pow(2, Double(min(failures - 1, 62))))
    }
}

/// The `monitor_failures` table: monitors whose checks keep failing (a drift_check task used its last attempt).
///
/// While a monitor is failing the scheduler enqueues nothing for it until `retry_at`; then one probe task (one
/// attempt). A failed probe doubles the wait (`MonitorBackoff`); a successful check deletes the row. Marking a
/// monitor failing cancels its other waiting drift_check tasks (cancelled tasks do not block their unique keys,
/// so those windows are enqueued again once the monitor recovers): a broken monitor costs one attempt and a few
/// log lines per backoff step, not a storm.
public enum MonitorFailures {
    public struct State: Sendable, Equatable {
        public var monitor: String
        public var failures: Int
        public var lastError: String
        public var failingSince: Date
        public var retryAt: Date
        /// Whether `retry_at` has passed by the database's clock.
        public var due: Bool
    }

    /// Every failing monitor.
    public static func all(_ c: PGConnection) throws -> [State] {
        try c.query(
            """
            SELECT monitor, failures, last_error, failing_since, retry_at, retry_at <= now() AS due
            FROM monitor_failures ORDER BY monitor
            """, name: "failures.all"
        ).map { r in
            State(
                monitor: try r.string("monitor"), failures: try r.int("failures"), lastError: try r.string("last_error"),
                failingSince: try r.date("failing_since"), retryAt: try r.date("retry_at"), due: try r.bool("due"))
        }
    }

    /// Records a failed task of `monitor` and cancels its other waiting drift_check tasks, in one transaction.
    /// One backoff step counts once: a failure while the monitor is already paused (tasks that were running or
    /// fetched when it was marked, on other workers) updates the last error but neither counts nor extends the
    /// wait; the first failure and each failed probe (after `retry_at`) count. Returns the new state.
    @discardableResult
    public static func recordFailure(monitor: String, error: String, on c: PGConnection) throws -> State {
        try c.transaction { c in
            let previous = try c.query(
                "SELECT failures, retry_at > now() AS paused FROM monitor_failures WHERE monitor = $1 FOR UPDATE",
                [monitor], name: "failures.previous"
            ).first
            let paused = try previous?.bool("paused") ?? false
            let count = try previous?.int("failures") ?? 0
            let failures = paused || count == Int(Int32.max) ? count : count + 1
            let wait = MonitorBackoff.seconds(afterFailures: failures)
            let r = try c.query(
                """
                INSERT INTO monitor_failures (monitor, failures, last_error, retry_at)
                VALUES ($1, $2, $3, now() + make_interval(secs => $4))
                ON CONFLICT (monitor) DO UPDATE SET failures = EXCLUDED.failures, last_error = EXCLUDED.last_error,
                    retry_at = CASE WHEN $5 THEN monitor_failures.retry_at ELSE EXCLUDED.retry_at END, updated_at = now()
                RETURNING monitor, failures, last_error, failing_since, retry_at, retry_at <= now() AS due
                """, [monitor, failures, String(error.prefix(2_000)), wait, paused], name: "failures.record")[0]
            try c.query(
                """
                UPDATE tasks SET state = 'cancelled', finalized_at = now(),
                    errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', now(),
                                      'error', 'cancelled: the monitor is failing; its windows are enqueued again once it recovers'))
                WHERE kind = $1 AND args->>'monitor' = $2 AND state IN ('available', 'scheduled', 'retryable')
                """, [DriftTasks.kind, monitor], name: "failures.cancel")
            return State(
                monitor: try r.string("monitor"), failures: try r.int("failures"), lastError: try r.string("last_error"),
                failingSince: try r.date("failing_since"), retryAt: try r.date("retry_at"), due: try r.bool("due"))
        }
    }

    /// Clears the failing state after a successful check. Returns whether the monitor was failing.
    @discardableResult
    public static func clear(monitor: String, on c: PGConnection) throws -> Bool {
        !(try c.query("DELETE FROM monitor_failures WHERE monitor = $1 RETURNING failures", [monitor], name: "failures.clear").isEmpty)
    }
}
