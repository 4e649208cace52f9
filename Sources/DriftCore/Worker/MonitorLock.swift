import DriftStore
import Foundation

/// The per-monitor ordering lock: a session-level PostgreSQL advisory lock that every writer of a monitor's runs
/// (`serve`/`run-once` tasks and `backfill`) holds while it checks that monitor's windows, so that one monitor's
/// windows are checked one at a time, in order, and the policy state a check reads is still current when it writes.
///
/// The key is `StableHash.lockKey("drift-check:<schema>:<monitor>")`: two schemas (two deployments sharing a database)
/// never contend. The lock is acquired with a timeout (`lock_timeout` around `pg_advisory_lock`: the server wakes the
/// waiter as soon as the holder releases) and released on every path; a connection that breaks releases it with its
/// session.
public enum MonitorLock {
    /// Another session held the lock for longer than the timeout.
    public struct Timeout: Error, Sendable, Equatable, CustomStringConvertible {
        public var monitor: String
        public var schema: String
        public var seconds: Double

        public init(monitor: String, schema: String, seconds: Double) {
            self.monitor = monitor
            self.schema = schema
            self.seconds = seconds
        }

        public var description: String {
            "another worker has held monitor \(monitor)'s lock (schema \(schema)) for more than \(Self.format(seconds)) s; "
                + "a long check, a catch-up or a backfill of this monitor is running elsewhere. This attempt gave up and will be "
                + "retried; if it keeps happening, look for a stuck process in pg_stat_activity (application_name drift-worker)."
        }

        static func format(_ s: Double) -> String { s == s.rounded() ? String(Int(s)) : String(format: "%.1f", s) }
    }

    /// The advisory-lock key of `monitor` in `schema`.
    public static func key(monitor: String, schema: String) -> Int64 { StableHash.lockKey("drift-check:\(schema):\(monitor)") }

    /// Runs `body` holding `monitor`'s lock, waiting at most `timeout` seconds (at least 1 ms) for it. `c` must not be
    /// inside a transaction. Throws `Timeout` when the lock stays taken; rethrows what `body` throws, after unlocking.
    public static func withLock<T>(
        monitor: String, schema: String, timeout: Double = 60, on c: PGConnection,
        _ body: () throws -> T
    ) throws -> T {
        let key = key(monitor: monitor, schema: schema)
        let milliseconds = max(1, Int((timeout * 1000).rounded(.up)))
        // lock_timeout for this one statement, and no statement_timeout (the session's would otherwise cut a longer
        // wait short with another error): set them, take the lock, put the session's values back on every path
        let previous = try c.query(
            "SELECT current_setting('lock_timeout') AS l, current_setting('statement_timeout') AS s",
            name: "monitor_lock.setting")[0]
        let (lockSetting, statementSetting) = (try previous.string("l"), try previous.string("s"))
        try c.query(
            "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', '0', false)", ["\(milliseconds)ms"],
            name: "monitor_lock.timeout")
        do {
            defer {
                _ = try? c.query(
                    "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
                    [lockSetting, statementSetting], name: "monitor_lock.restore")
            }
            try c.query("SELECT pg_advisory_lock($1)", [key], name: "monitor_lock.lock")
        } catch let e as PostgresError where e.sqlState == "55P03" {  // lock_not_available
            throw Timeout(monitor: monitor, schema: schema, seconds: timeout)
        }
        defer { _ = try? c.query("SELECT pg_advisory_unlock($1)", [key], name: "monitor_lock.unlock") }
        return try body()
    }
}
