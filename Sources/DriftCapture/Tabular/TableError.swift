/// Why a tabular file could not be read. Every case names the file and, where there is one,
/// the line and the column, in a sentence a user can act on.
public enum TableError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case empty(file: String)
    case noRows(file: String)
    case raggedRow(file: String, line: Int, fields: Int, expected: Int)
    case unterminatedQuote(file: String, line: Int)
    case malformedQuote(file: String, line: Int)
    case duplicateColumn(file: String, column: String)
    case invalidJSON(file: String, line: Int, reason: String)
    case nestedValue(file: String, line: Int, column: String)
    case notANumber(file: String, line: Int, column: String, value: String)
    case unknownFormat(file: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read the file (\(reason))."
        case let .empty(file):
            return "\(file): the file is empty; expected a header row (CSV) or JSON objects (JSON Lines)."
        case let .noRows(file):
            return "\(file): the file has a header but no data rows."
        case let .raggedRow(file, line, fields, expected):
            return "\(file):\(line): the row has \(fields) fields but the header has \(expected)."
        case let .unterminatedQuote(file, line):
            return "\(file):\(line): a quoted field starts here and is never closed."
        case let .malformedQuote(file, line):
            return "\(file):\(line): a quote appears inside an unquoted field or after a closing quote; quote the whole field and double inner quotes (RFC 4180)."
        case let .duplicateColumn(file, column):
            return "\(file): the header names column '\(column)' twice."
        case let .invalidJSON(file, line, reason):
            return "\(file):\(line): not a JSON object (\(reason)); expected one flat JSON object per line."
        case let .nestedValue(file, line, column):
            return "\(file):\(line): field '\(column)' holds an object or array; expected a flat object of numbers, strings, booleans or null."
        case let .notANumber(file, line, column, value):
            return "\(file):\(line): column '\(column)' is numeric but holds '\(value.prefix(40))'; expected a number, an empty cell, NaN or Inf."
        case let .unknownFormat(file):
            return "\(file): cannot tell the format from the extension; use .csv, .jsonl/.ndjson, or pass --input-format csv|jsonl."
        }
    }
}
