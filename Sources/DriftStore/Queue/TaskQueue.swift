import Foundation

/// The durable task queue on PostgreSQL (after River): at-least-once delivery with leases, retries
/// with exponential backoff and full jitter, discard after `max_attempts` with the errors kept, a
/// rescuer for expired leases, unique keys for dedupe, and NOTIFY on enqueue. Every statement that
/// changes a running task checks that the caller still owns its lease (owner and attempt).
/// `now` parameters pin the clock for tests; by default the database's clock is used.
public struct TaskQueue: Sendable {
    public let client: PostgresClient
    public var policy: RetryPolicy

    public init(client: PostgresClient, policy: RetryPolicy = RetryPolicy()) {
        self.client = client
        self.policy = policy
    }

    /// The NOTIFY channel of this schema's queue.
    public var channel: String { "dt_" + client.settings.schema }

    private static func columns(_ t: String = "tasks") -> String {
        [
            "id", "kind", "unique_key", "args::text AS args", "state", "priority", "attempt", "max_attempts", "scheduled_at",
            "lease_owner", "lease_expires_at", "errors::text AS errors"
        ].map { "\(t).\($0)" }.joined(separator: ", ")
    }

    // MARK: enqueue

    public struct NewTask: Sendable {
        public var kind: String
        public var uniqueKey: String?
        public var args: String
        public var priority: Int
        public var runAt: Date?
        public var maxAttempts: Int

        public init(kind: String, uniqueKey: String? = nil, args: String = "{}", priority: Int = 1, runAt: Date? = nil, maxAttempts: Int = 5) {
            self.kind = kind
            self.uniqueKey = uniqueKey
            self.args = args
            self.priority = priority
            self.runAt = runAt
            self.maxAttempts = maxAttempts
        }
    }

    /// Inserts a task inside the caller's transaction and notifies consumers (delivered at commit).
    /// Returns the new id, or nil when a pending or completed task already has the unique key.
    public func enqueue(_ t: NewTask, on c: PGConnection) throws -> Int64? {
        let rows = try c.query(
            """
            INSERT INTO tasks (kind, unique_key, args, priority, max_attempts, scheduled_at, state)
            VALUES ($1, $2, $3::jsonb, $4, $5, coalesce($6::timestamptz, now()),
                    CASE WHEN $6::timestamptz > now() THEN 'scheduled' ELSE 'available' END)
            ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state NOT IN ('cancelled', 'discarded') DO NOTHING
            RETURNING id
            """, [t.kind, t.uniqueKey, t.args, t.priority, t.maxAttempts, t.runAt], name: "queue.enqueue")
        guard let first = rows.first else { return nil }
        try c.query("SELECT pg_notify($1, $2)", [channel, t.kind], name: "queue.notify")
        return Int64(try first.int("id"))
    }

    public func enqueue(_ t: NewTask) async throws -> Int64? {
        try await client.transaction { c in try enqueue(t, on: c) }
    }

    /// Many tasks in one transaction; returns how many were new.
    public func enqueue(_ tasks: [NewTask]) async throws -> Int {
        try await client.transaction { c in try tasks.reduce(0) { n, t in n + (try enqueue(t, on: c) == nil ? 0 : 1) } }
    }

    // MARK: fetch and lease

    /// Locks up to `limit` due tasks (skipping rows other consumers hold), marks them running for
    /// `owner` with a lease of `lease` seconds, in one statement.
    public func fetch(owner: String, limit: Int, lease: Double, kinds: [String]? = nil, now: Date? = nil) async throws -> [QueueTask] {
        try await client.withConnection { c in
            try c.query(
                """
                WITH due AS (
                    SELECT id FROM tasks
                    WHERE state IN ('available', 'scheduled', 'retryable')
                      AND scheduled_at <= coalesce($4::timestamptz, now())
                      AND ($5::text[] IS NULL OR kind = ANY ($5::text[]))
                    ORDER BY priority, scheduled_at, id
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE tasks t
                SET state = 'running', attempt = t.attempt + 1,
                    attempted_at = coalesce($4::timestamptz, now()), lease_owner = $1,
                    lease_expires_at = coalesce($4::timestamptz, now()) + make_interval(secs => $3)
                FROM due WHERE t.id = due.id
                RETURNING \(Self.columns("t"))
                """, [owner, limit, lease, now, kinds], name: "queue.fetch"
            ).map(Self.decode)
        }
    }

    /// Extends the lease; nil when the task is no longer this owner's running attempt.
    public func heartbeat(_ task: QueueTask, owner: String, lease: Double, now: Date? = nil) async throws -> Date? {
        try await client.withConnection { c in
            try c.query(
                """
                UPDATE tasks SET lease_expires_at = coalesce($4::timestamptz, now()) + make_interval(secs => $3)
                WHERE id = $1 AND state = 'running' AND lease_owner = $2 AND attempt = $5
                RETURNING lease_expires_at
                """, [task.id, owner, lease, now, task.attempt], name: "queue.heartbeat"
            ).first.map { try $0.date("lease_expires_at") }
        }
    }

    /// Marks the task completed if `owner` still holds this attempt (inside the caller's transaction,
    /// so that the task's effects and its completion commit together). Returns false otherwise.
    public func complete(_ task: QueueTask, owner: String, on c: PGConnection, now: Date? = nil) throws -> Bool {
        try c.query(
            """
            UPDATE tasks SET state = 'completed', finalized_at = coalesce($3::timestamptz, now()),
                             lease_owner = NULL, lease_expires_at = NULL
            WHERE id = $1 AND state = 'running' AND lease_owner = $2 AND attempt = $4
            RETURNING id
            """, [task.id, owner, now, task.attempt], name: "queue.complete"
        ).count == 1
    }

    public func complete(_ task: QueueTask, owner: String, now: Date? = nil) async throws -> Bool {
        try await client.withConnection { c in try complete(task, owner: owner, on: c, now: now) }
    }

    public enum FailureResult: Sendable, Equatable {
        case willRetry(at: Date)
        case discarded
        /// The task was no longer this owner's running attempt; nothing was recorded.
        case notOwner
    }

    /// Records a failed attempt: retry after the policy's backoff, or discard after max attempts (or at once with `discard`).
    public func fail(
        _ task: QueueTask, owner: String, error: String, discard: Bool = false, random: Double = Double.random(in: 0..<1),
        now: Date? = nil
    ) async throws -> FailureResult {
        let outcome = discard ? .discard : policy.afterFailure(attempt: task.attempt, maxAttempts: task.maxAttempts, random: random)
        let delay: Double?
        switch outcome {
        case .retry(let after): delay = after
        case .discard: delay = nil
        }
        let rows = try await client.withConnection { c in
            try c.query(
                """
                UPDATE tasks SET
                    state = CASE WHEN $3::float8 IS NULL THEN 'discarded' ELSE 'retryable' END,
                    scheduled_at = CASE WHEN $3::float8 IS NULL THEN scheduled_at
                                        ELSE coalesce($5::timestamptz, now()) + make_interval(secs => $3::float8) END,
                    finalized_at = CASE WHEN $3::float8 IS NULL THEN coalesce($5::timestamptz, now()) END,
                    errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'error', $4::text,
                                                                            'at', coalesce($5::timestamptz, now()))),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = $1 AND state = 'running' AND lease_owner = $2 AND attempt = $6
                RETURNING state, scheduled_at
                """, [task.id, owner, delay, String(error.prefix(2000)), now, task.attempt], name: "queue.fail")
        }
        guard let r = rows.first else { return .notOwner }
        return try r.string("state") == "discarded" ? .discarded : .willRetry(at: r.date("scheduled_at"))
    }

    /// Hands a running task back untouched (graceful shutdown): the attempt does not count.
    public func release(_ task: QueueTask, owner: String) async throws -> Bool {
        try await client.withConnection { c in
            try c.query(
                """
                UPDATE tasks SET state = 'available', attempt = attempt - 1, lease_owner = NULL, lease_expires_at = NULL
                WHERE id = $1 AND state = 'running' AND lease_owner = $2 AND attempt = $3
                RETURNING id
                """, [task.id, owner, task.attempt], name: "queue.release"
            ).count == 1
        }
    }

    /// Returns tasks whose lease expired (their worker died) to the queue, or discards them when
    /// they have used their attempts. Returns how many were rescued.
    @discardableResult
    public func rescueExpired(now: Date? = nil) async throws -> Int {
        try await client.withConnection { c in
            try c.query(
                """
                UPDATE tasks SET
                    state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'retryable' END,
                    finalized_at = CASE WHEN attempt >= max_attempts THEN coalesce($1::timestamptz, now()) END,
                    scheduled_at = coalesce($1::timestamptz, now()),
                    errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', coalesce($1::timestamptz, now()),
                                      'error', 'lease of ' || lease_owner || ' expired')),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE state = 'running' AND lease_expires_at < coalesce($1::timestamptz, now())
                RETURNING id
                """, [now], name: "queue.rescue"
            ).count
        }
    }

    /// Deletes finalized tasks older than `retention` seconds. Returns how many.
    @discardableResult
    public func prune(retention: Double, now: Date? = nil) async throws -> Int {
        try await client.withConnection { c in
            try c.query(
                """
                DELETE FROM tasks WHERE finalized_at < coalesce($1::timestamptz, now()) - make_interval(secs => $2)
                RETURNING id
                """, [now, retention], name: "queue.prune"
            ).count
        }
    }

    /// Task counts by kind and state (queue depth).
    public func counts() async throws -> [String: [TaskState: Int]] {
        let rows = try await client.withConnection { c in
            try c.query("SELECT kind, state, count(*) AS n FROM tasks GROUP BY kind, state", name: "queue.counts")
        }
        var out: [String: [TaskState: Int]] = [:]
        for r in rows {
            guard let s = TaskState(rawValue: try r.string("state")) else { continue }
            out[try r.string("kind"), default: [:]][s] = try r.int("n")
        }
        return out
    }

    public func task(id: Int64) async throws -> QueueTask? {
        try await client.withConnection { c in
            try c.query("SELECT \(Self.columns()) FROM tasks WHERE id = $1", [id], name: "queue.get").first.map(Self.decode)
        }
    }

    static func decode(_ r: PGRow) throws -> QueueTask {
        guard let state = TaskState(rawValue: try r.string("state")) else {
            throw PostgresError(.decoding, "unknown task state", statement: "queue.decode")
        }
        return QueueTask(
            id: Int64(try r.int("id")), kind: try r.string("kind"), uniqueKey: try r.optionalString("unique_key"),
            args: try r.string("args"), state: state, priority: try r.int("priority"), attempt: try r.int("attempt"),
            maxAttempts: try r.int("max_attempts"), scheduledAt: try r.date("scheduled_at"),
            leaseOwner: try r.optionalString("lease_owner"), leaseExpiresAt: try r.optionalDate("lease_expires_at"),
            errors: try r.string("errors"))
    }
}
