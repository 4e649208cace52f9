import Foundation

/// Applies `Migrations.all` to a schema, each migration once, in order, even when many replicas
/// start together: a session advisory lock keyed on the schema serialises migrators, and the
/// `schema_migrations` table records what is applied (with a checksum of its SQL).
public struct Migrator: Sendable {
    public let schema: String

    public init(schema: String) { self.schema = schema }

    public struct Outcome: Sendable, Equatable {
        public var applied: [Int]
        public var alreadyApplied: [Int]
    }

    /// The SQL of one migration for this schema.
    public func sql(for m: Migrations.Migration) -> String {
        m.sql.replacingOccurrences(of: "{{schema}}", with: "\"\(schema)\"")
    }

    /// Everything `migrate` would run, in order (for `--dry-run`).
    public func plan() -> String {
        var out = "CREATE SCHEMA IF NOT EXISTS \"\(schema)\";\n"
        for m in Migrations.all {
            out += "\n-- migration \(m.version): \(m.name)\n" + sql(for: m) + "\n"
        }
        return out
    }

    /// The advisory-lock key for this schema (stable across processes).
    var lockKey: Int64 { StableHash.lockKey("drift-worker-migrate:\(schema)") }

    public func migrate(_ conn: PGConnection) throws -> Outcome {
        try ConnectionSettings.validate(schema: schema)
        // a migration may build an index on a large table, and waiting for another replica's migration is normal:
        // no statement timeout while migrating (the session's own is restored after)
        let previous = try conn.query(
            "SELECT current_setting('statement_timeout') AS v, set_config('statement_timeout', '0', false)",
            name: "migrate.no_timeout")[0].string("v")
        defer { _ = try? conn.query("SELECT set_config('statement_timeout', $1, false)", [previous], name: "migrate.restore_timeout") }
        try conn.query("SELECT pg_advisory_lock($1)", [lockKey], name: "migrate.lock")
        defer { _ = try? conn.query("SELECT pg_advisory_unlock($1)", [lockKey], name: "migrate.unlock") }
        try conn.run(
            """
            CREATE SCHEMA IF NOT EXISTS "\(schema)";
            CREATE TABLE IF NOT EXISTS "\(schema)".schema_migrations (
                version    int PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """, name: "migrate.bootstrap")
        let rows = try conn.query("SELECT version, checksum FROM \"\(schema)\".schema_migrations", name: "migrate.applied")
        var applied: [Int: String] = [:]
        for r in rows { applied[try r.int("version")] = try r.string("checksum") }
        var outcome = Outcome(applied: [], alreadyApplied: [])
        for m in Migrations.all {
            let sum = Self.checksum(m.sql)
            if let existing = applied[m.version] {
                if existing != sum {
                    throw PostgresError(
                        .migration,
                        "migration \(m.version) (\(m.name)) was applied with different SQL (checksum \(existing), this build has \(sum)); a released migration must never change"
                    )
                }
                outcome.alreadyApplied.append(m.version)
                continue
            }
            do {
                try conn.transaction { c in
                    try c.run(sql(for: m), name: "migrate.\(m.version)")
                    try c.query(
                        "INSERT INTO \"\(schema)\".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        [m.version, m.name, sum], name: "migrate.record")
                }
            } catch let e as PostgresError {
                throw PostgresError(
                    .migration, "migration \(m.version) (\(m.name)): \(e.message)", sqlState: e.sqlState, detail: e.detail, hint: e.hint,
                    statement: e.statement)
            }
            outcome.applied.append(m.version)
        }
        return outcome
    }

    /// Whether every migration of this build is applied (for readiness checks).
    public func isCurrent(_ conn: PGConnection) throws -> Bool {
        let rows = try conn.query(
            """
            SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tablename = 'schema_migrations'
            """, [schema], name: "migrate.exists")
        guard try rows[0].int("n") == 1 else { return false }
        let v = try conn.query("SELECT coalesce(max(version), 0) AS v FROM \"\(schema)\".schema_migrations", name: "migrate.version")
        return try v[0].int("v") >= (Migrations.all.last?.version ?? 0)
    }

    static func checksum(_ s: String) -> String { StableHash.hex(s) }
}
