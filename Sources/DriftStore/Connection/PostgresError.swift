import Foundation

/// A failure talking to PostgreSQL. `description` is one sentence a user can act on; it names the
/// statement (never its parameter values) and never contains a password.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection settings themselves are malformed (bad URL, unknown option, bad port).
        case invalidSettings
        /// The server could not be reached (refused, no such host, timeout).
        case unreachable
        /// The server refused the credentials.
        case authentication
        /// The connection broke (server restart, network); the operation may be retried on a new one.
        case connectionLost
        /// The server rejected a statement (see `sqlState`).
        case server
        /// The configured schema does not exist or is not migrated.
        case schemaMissing
        /// A result could not be decoded into the expected Swift type.
        case decoding
        /// A migration could not be applied.
        case migration
        /// The `PostgresClient` was shut down; no further calls are accepted.
        case clientShutDown
    }

    public var kind: Kind
    public var message: String
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    /// The name of the statement that failed (e.g. `queue.fetch`), never its SQL parameters.
    public var statement: String?

    public init(_ kind: Kind, _ message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil, statement: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.statement = statement
    }

    /// Whether retrying on a fresh connection may succeed.
    public var isTransient: Bool {
        switch kind {
        case .connectionLost, .unreachable: return true
        case .server:
            // 40001 serialization failure, 40P01 deadlock, 57P01..03 admin shutdown / crash / cannot connect now
            return ["40001", "40P01", "57P01", "57P02", "57P03", "08000", "08003", "08006"].contains(sqlState ?? "")
        default: return false
        }
    }

    public var description: String {
        var s: String
        switch kind {
        case .invalidSettings: s = "PostgreSQL connection settings are invalid: \(message)"
        case .unreachable: s = "cannot reach PostgreSQL: \(message)"
        case .authentication: s = "PostgreSQL refused the credentials: \(message)"
        case .connectionLost: s = "the PostgreSQL connection was lost: \(message)"
        case .schemaMissing: s = message
        case .decoding: s = "unexpected result from PostgreSQL: \(message)"
        case .migration: s = "migration failed: \(message)"
        case .clientShutDown: s = "the PostgreSQL client was shut down: \(message)"
        case .server: s = "PostgreSQL error\(sqlState.map { " \($0)" } ?? ""): \(message)"
        }
        if let statement { s += " (statement \(statement))" }
        if let detail, !detail.isEmpty { s += " — \(detail)" }
        if let hint, !hint.isEmpty { s += " Hint: \(hint)" }
        if !s.hasSuffix(".") && !s.hasSuffix("?") { s += "." }
        return s
    }

    /// Classifies libpq's connection failure text (libpq reports them only as text).
    static func connectFailure(_ raw: String) -> PostgresError {
        // libpq's text spans lines ("…failed: Connection refused\n\tIs the server running…"): one line here.
        let oneLine = raw.split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        let text = ConnectionSettings.redact(oneLine)
        let lower = text.lowercased()
        if lower.contains("password authentication failed") || lower.contains("no password supplied")
            || lower.contains("authentication failed") || lower.contains("role") && lower.contains("does not exist")
        {
            return PostgresError(.authentication, text)
        }
        if lower.contains("invalid connection option") || lower.contains("invalid integer value")
            || lower.contains("invalid uri") || lower.contains("missing \"=\"") || lower.contains("unterminated quoted string")
            || lower.contains("invalid percent-encoded") || lower.contains("invalid sslmode") || lower.contains("invalid port")
        {
            return PostgresError(.invalidSettings, text)
        }
        return PostgresError(.unreachable, text)
    }
}
