import DriftTriggers

/// A status stored as text in a column: the enum's raw values are the only place the strings live. Reading text no
/// case has (a newer drift-worker wrote it, or a hand edit) is an error that names the column and the value.
public protocol StoredStatus: RawRepresentable, CaseIterable, Sendable where RawValue == String {}

extension StoredStatus {
    /// The case stored as `text` in `column`, or `UnknownStoredStatus`.
    public static func stored(_ text: String, column: String) throws -> Self {
        guard let value = Self(rawValue: text) else {
            throw UnknownStoredStatus(column: column, value: text, known: allCases.map(\.rawValue))
        }
        return value
    }

    /// The raw value as a quoted SQL literal, for a query's fixed predicate (a partial index only serves a query
    /// whose WHERE names the same literal).
    public var sql: String { "'\(rawValue)'" }
}

/// A status column holds text this drift-worker does not know.
public struct UnknownStoredStatus: Error, CustomStringConvertible, Equatable {
    public var column: String
    public var value: String
    public var known: [String]

    public var description: String {
        "\(column) holds '\(value.prefix(40))', which this drift-worker does not know (expected one of: \(known.joined(separator: ", "))); "
            + "was the row written by a newer version? Upgrade drift-worker"
    }
}

/// `trigger_outbox.state`: pending → sending → delivered, back to pending (a retry), or dead.
public enum OutboxState: String, StoredStatus {
    /// Waiting for its next attempt (`next_attempt_at`).
    case pending
    /// Claimed by a dispatcher (`claimed_by`, until `claim_expires_at`).
    case sending
    case delivered
    /// Given up: the last attempt's note says why.
    case dead
}

/// `trigger_outbox.run_state` (NULL: the run is not followed).
extension RunState: StoredStatus {}

/// `drift_runs.status` as drift-worker writes it.
extension DriftCheck.Status: StoredStatus {
    public static var allCases: [DriftCheck.Status] { [.completed, .insufficientData] }
}
