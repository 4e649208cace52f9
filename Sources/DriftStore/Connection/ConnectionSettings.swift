import Foundation

/// Where and how to connect, the libpq way: `DATABASE_URL` (a `postgresql://` URI or a
/// `key=value` string) when set, otherwise an empty conninfo so that libpq itself applies `PGHOST`,
/// `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGPASSFILE`, `PGSSLMODE`, `PGSERVICE` and the rest.
/// Everything lives in one schema (default `drift`).
public struct ConnectionSettings: Sendable, Equatable {
    public var conninfo: String
    public var schema: String
    /// Connections in the pool.
    public var poolSize: Int

    public static let defaultSchema = "drift"

    public init(conninfo: String, schema: String = defaultSchema, poolSize: Int = 4) {
        self.conninfo = conninfo
        self.schema = schema
        self.poolSize = poolSize
    }

    /// From the environment: `DATABASE_URL`, else libpq's own variables; `DRIFT_SCHEMA` for the schema.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       schema: String? = nil, poolSize: Int = 4) -> ConnectionSettings {
        ConnectionSettings(conninfo: env["DATABASE_URL"] ?? "", schema: schema ?? env["DRIFT_SCHEMA"] ?? defaultSchema,
                           poolSize: poolSize)
    }

    /// A schema name is an identifier we quote ourselves: letters, digits and underscores only, and not `pg_…`.
    public static func validate(schema: String) throws {
        let ok = !schema.isEmpty && schema.count <= 60 && schema.unicodeScalars.allSatisfy {
            ($0.value >= 0x61 && $0.value <= 0x7A) || ($0.value >= 0x30 && $0.value <= 0x39) || $0 == "_"
        } && !(schema.first!.isNumber)
        if !ok {
            throw PostgresError(.invalidSettings, "schema name '\(schema)' must be 1–60 lowercase letters, digits or underscores, not starting with a digit")
        }
        if schema.hasPrefix("pg_") {
            throw PostgresError(.invalidSettings, "schema name '\(schema)' starts with pg_, which PostgreSQL reserves for system schemas; choose another")
        }
    }

    /// The schema as a quoted SQL identifier.
    public var quotedSchema: String { "\"\(schema)\"" }

    /// Removes passwords from text that may contain a connection string (URIs and key=value form).
    public static func redact(_ text: String) -> String {
        var s = text
        // postgresql://user:secret@host → postgresql://user:***@host
        if let re = try? NSRegularExpression(pattern: "(postgres(?:ql)?://[^:/@\\s]*:)[^@\\s]*@") {
            s = re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "$1***@")
        }
        if let re = try? NSRegularExpression(pattern: "(password\\s*=\\s*)('[^']*'|\\S+)", options: [.caseInsensitive]) {
            s = re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "$1***")
        }
        return s
    }
}
