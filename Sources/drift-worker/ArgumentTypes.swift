import ArgumentParser
import DriftCore
import DriftStore
import Foundation

/// A command-line value whose parser says what is wrong with a bad one.
///
/// `ExpressibleByArgument.init?(argument:)` can only fail, so ArgumentParser would print a bare "invalid value".
/// Options of these types are therefore declared with `transform: T.parse`: the thrown error's `description` is
/// printed after ArgumentParser's "The value 'x' is invalid for '--flag <v>': " and the command exits 2.
protocol CheckedArgument: ExpressibleByArgument, Sendable {
    /// The value, or an error whose `description` is one sentence the user can act on.
    @Sendable static func parse(_ argument: String) throws -> Self
}

extension CheckedArgument {
    init?(argument: String) {
        guard let value = try? Self.parse(argument) else { return nil }
        self = value
    }
}

/// The sentence a `CheckedArgument` parser throws.
struct ArgumentProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--lookback P1D`: a fixed-length ISO 8601 duration; `P1M` is refused with "uses years or months…".
extension ISODuration: CheckedArgument {
    public init?(argument: String) {
        guard let value = try? ISODuration(parsing: argument) else { return nil }
        self = value
    }
    static func parse(_ argument: String) throws -> ISODuration { try ISODuration(parsing: argument) }
    public var defaultValueDescription: String { text }
}

/// An instant given on the command line (`--from`, `--to`, `--now`, `--window`): ISO 8601 date and time with a
/// zone, `2026-11-24T00:00:00Z` or `2026-11-24T01:00:00+01:00`, without fractional seconds
/// (`ISO8601DateFormatter`'s internet date-time, as these options have always read).
struct Timestamp: CheckedArgument, CustomStringConvertible {
    let date: Date
    let text: String

    var description: String { text }

    static func parse(_ argument: String) throws -> Timestamp {
        let iso = ISO8601DateFormatter()
        if let date = iso.date(from: argument) { return Timestamp(date: date, text: argument) }
        // the two slips people make, named precisely
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        if argument.count == 10, dateOnly.date(from: argument) != nil {
            throw ArgumentProblem("'\(argument)' is a date without a time; write \(argument)T00:00:00Z for midnight UTC")
        }
        if iso.date(from: argument + "Z") != nil {
            throw ArgumentProblem("'\(argument)' has no time zone; add Z for UTC (\(argument)Z) or an offset such as +01:00")
        }
        throw ArgumentProblem("'\(argument)' is not an ISO 8601 time such as 2026-11-24T00:00:00Z (UTC) or 2026-11-24T01:00:00+01:00")
    }
}

/// `--schema`: the PostgreSQL schema holding drift-worker's tables, checked as `ConnectionSettings.validate(schema:)`
/// does (1–60 lowercase letters, digits or underscores, not starting with a digit, not `pg_…`).
struct SchemaName: CheckedArgument, CustomStringConvertible {
    let name: String

    var description: String { name }

    static func parse(_ argument: String) throws -> SchemaName {
        do { try ConnectionSettings.validate(schema: argument) } catch let e as PostgresError { throw ArgumentProblem(e.message) }
        return SchemaName(name: argument)
    }
}

/// `report --last`: how far back to look, as 24h, 7d, 90m, 3600s, 2w or an ISO 8601 duration (PT24H).
struct RecentSpan: CheckedArgument, CustomStringConvertible {
    let seconds: Double
    let text: String

    var description: String { text }

    /// Longer than any retention makes sense for; also keeps `now - seconds` a representable date.
    static let maxSeconds = 100.0 * 365 * 86_400

    static func parse(_ argument: String) throws -> RecentSpan {
        let seconds: Double
        if argument.first == "P" || argument.first == "p" {
            seconds = try ISODuration(parsing: argument).seconds
        } else {
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
            guard let unit = argument.last.flatMap({ units[$0] }), let n = Double(argument.dropLast()), n.isFinite else {
                throw ArgumentProblem("'\(argument)' is not a duration such as 24h, 7d, 90m or PT24H")
            }
            seconds = n * unit
        }
        guard seconds > 0, seconds <= maxSeconds else {
            throw ArgumentProblem("'\(argument)' must be longer than zero and at most 100 years")
        }
        return RecentSpan(seconds: seconds, text: argument)
    }
}
