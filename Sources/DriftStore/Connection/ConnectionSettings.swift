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
    /// `statement_timeout` of every session, in seconds (0: none): no statement of ours runs longer (the biggest
    /// are COPY batches; migrations lift it while they run).
    public var statementTimeout: Double = 300
    /// `idle_in_transaction_session_timeout`, in seconds: a session that holds a transaction open without work
    /// (a stalled process) is ended by the server and its locks released.
    public var idleInTransactionTimeout: Double = 60
    /// `application_name` unless the connection string sets one (seen in `pg_stat_activity`).
    public var applicationName = "drift-worker"

    public static let defaultSchema = "drift"

    public init(conninfo: String, schema: String = defaultSchema, poolSize: Int = 4) {
        self.conninfo = conninfo
        self.schema = schema
        self.poolSize = poolSize
    }

    /// From the environment: `DATABASE_URL`, else libpq's own variables; `DRIFT_SCHEMA` for the schema.
    public static func fromEnvironment(
        _ env: [String: String] = ProcessInfo.processInfo.environment,
        schema: String? = nil, poolSize: Int = 4
    ) -> ConnectionSettings {
        ConnectionSettings(
            conninfo: env["DATABASE_URL"] ?? "", schema: schema ?? env["DRIFT_SCHEMA"] ?? defaultSchema,
            poolSize: poolSize)
    }

    /// A schema name is an identifier we quote ourselves: letters, digits and underscores only, and not `pg_…`.
    public static func validate(schema: String) throws {
        let ok =
            !schema.isEmpty && schema.count <= 60
            && schema.unicodeScalars.allSatisfy {
                ($0.value >= 0x61 && $0.value <= 0x7A) || ($0.value >= 0x30 && $0.value <= 0x39) || $0 == "_"
            } && !(schema.first!.isNumber)
        if !ok {
            throw PostgresError(
                .invalidSettings, "schema name '\(schema)' must be 1–60 lowercase letters, digits or underscores, not starting with a digit")
        }
        if schema.hasPrefix("pg_") {
            throw PostgresError(
                .invalidSettings, "schema name '\(schema)' starts with pg_, which PostgreSQL reserves for system schemas; choose another")
        }
    }

    /// The schema as a quoted SQL identifier.
    public var quotedSchema: String { "\"\(schema)\"" }

    /// Removes passwords from text that may contain a connection string (URIs and key=value form), also when the
    /// URI is malformed: everything between the user name's `:` and the last `@` of the URI is hidden (an unencoded
    /// `@`, `/` or `:` in the password included), and a key=value `password` hides its whole value (quoted with
    /// `\'` escapes, or unquoted with `\ ` escapes).
    public static func redact(_ text: String) -> String {
        var s = text
        // postgresql://user:secret@host → postgresql://user:***@host; greedy to the URI's last '@'
        if let re = try? NSRegularExpression(pattern: #"(postgres(?:ql)?://[^:/@\s]*:)\S*@"#, options: [.caseInsensitive]) {
            s = re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "$1***@")
        }
        // libpq quotes a URI token it cannot decode whole ("invalid percent-encoded token: \"…\""): it may be a password
        if let re = try? NSRegularExpression(pattern: #"(invalid percent-encoded token: )"[^"]*"?"#) {
            s = re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "$1\"***\"")
        }
        if let re = try? NSRegularExpression(pattern: #"(password\s*=\s*)('(?:\\.|[^'\\])*'?|(?:\\.|\S)+)"#, options: [.caseInsensitive]) {
            s = re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "$1***")
        }
        return s
    }

    /// The settings checked before any connection: the schema name and, for a `postgresql://` URI, a shape libpq
    /// reads the way it is meant. libpq splits a URI at its first `@` or `/`, so an unencoded `@` or `/` in a password
    /// (or a password written without a user) would reach its error messages as a host or a port; such a URI is
    /// refused here, naming `setting` and never showing the URI.
    public func validate(setting: String = "DATABASE_URL") throws {
        try Self.validate(schema: schema)
        try Self.validate(conninfo: conninfo, setting: setting)
    }

    public static func validate(conninfo: String, setting: String = "DATABASE_URL") throws {
        let lower = conninfo.lowercased()
        guard let prefix = ["postgresql://", "postgres://"].first(where: { lower.hasPrefix($0) }) else { return }
        func refuse(_ why: String) -> PostgresError { PostgresError(.invalidSettings, "\(setting) is not a usable postgresql:// URI: \(why)") }
        if !conninfo.hasPrefix(prefix) { throw refuse("write the scheme in lowercase (\(prefix)); libpq reads anything else as key=value settings") }
        if conninfo.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            throw refuse("it contains a space or a control character; percent-encode it (a space is %20)")
        }
        let rest = Substring(conninfo.dropFirst(prefix.count))
        let badUserInfo = refuse(
            "the user or password holds an unencoded '@' or '/'; percent-encode them in the password (@ is %40, / is %2F, : is %3A)")
        // as libpq reads it: user info up to the first '@' when no '/' comes before it, then hosts up to '/' or '?'
        let firstStop = rest.firstIndex { $0 == "@" || $0 == "/" }
        var hosts = rest
        // libpq decodes every part (user, password, hosts, database, parameters such as ?password=) and quotes a bad
        // escape whole in its error: any '%' must start a percent-encoded byte
        var i = rest.startIndex
        while let pct = rest[i...].firstIndex(of: "%") {
            let hex = rest[rest.index(after: pct)...].prefix(2)
            guard hex.count == 2, hex.allSatisfy(\.isHexDigit), hex != "00" else {
                throw refuse(
                    "it holds a '%' that does not start a percent-encoded byte (in the user, password, host, database or a ?parameter); write % itself as %25"
                )
            }
            i = rest.index(pct, offsetBy: 3)
        }
        if let at = firstStop, rest[at] == "@" {
            hosts = rest[rest.index(after: at)...]
        }
        let path = hosts[(hosts.firstIndex { $0 == "/" || $0 == "?" } ?? hosts.endIndex)...]
        hosts = hosts[..<path.startIndex]
        // a second '@' in the hosts, or one in the database name, is a password's unencoded '@' or '/'
        if hosts.contains("@") || path.prefix(while: { $0 != "?" }).contains("@") { throw badUserInfo }
        for host in hosts.split(separator: ",") {
            // [v6]:port or name:port; the port must be digits (a password without a user would land here)
            let afterBracket = host.lastIndex(of: "]").map { host[host.index(after: $0)...] } ?? host
            guard let colon = afterBracket.lastIndex(of: ":") else { continue }
            let port = afterBracket[afterBracket.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber) else {
                throw refuse(
                    "a port after a host's ':' must be a number; a password goes after the user name: postgresql://user:password@host:5432/db")
            }
        }
    }
}
