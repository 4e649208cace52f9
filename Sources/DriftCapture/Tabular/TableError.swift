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
    /// A numeric column (by the reference, the configuration, a flag or the first block's cells) holds cells that
    /// are not numbers: how many, out of how many rows, and the first few with their lines.
    case nonNumericCells(file: String, column: String, count: Int, rows: Int, examples: [NonNumericCells.Example])
    /// A record longer than the reader's limit (a missing closing quote usually).
    case recordTooLong(file: String, line: Int, limit: Int)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read the file (\(reason))."
        case .empty(let file):
            return "\(file): the file is empty; expected a header row (CSV) or JSON objects (JSON Lines)."
        case .noRows(let file):
            return "\(file): the file has a header but no data rows."
        case .raggedRow(let file, let line, let fields, let expected):
            return "\(file):\(line): the row has \(fields) fields but the header has \(expected)."
        case .unterminatedQuote(let file, let line):
            return "\(file):\(line): a quoted field starts here and is never closed."
        case .malformedQuote(let file, let line):
            return
                "\(file):\(line): a quote appears inside an unquoted field or after a closing quote; quote the whole field and double inner quotes (RFC 4180)."
        case .duplicateColumn(let file, let column):
            return "\(file): the header names column '\(column)' twice."
        case .invalidJSON(let file, let line, let reason):
            return "\(file):\(line): not a JSON object (\(reason)); expected one flat JSON object per line."
        case .nestedValue(let file, let line, let column):
            return "\(file):\(line): field '\(column)' holds an object or array; expected a flat object of numbers, strings, booleans or null."
        case .notANumber(let file, let line, let column, let value):
            return "\(file):\(line): column '\(column)' is numeric but holds '\(value.prefix(40))'; expected a number, an empty cell, NaN or Inf."
        case .nonNumericCells(let file, let column, let count, let rows, let examples):
            let shown = examples.map { $0.line > 0 ? "line \($0.line) '\($0.text.prefix(40))'" : "'\($0.text.prefix(40))'" }.joined(separator: ", ")
            let cells = count == 1 ? "1 cell is not a number" : "\(count) of its \(rows) cells are not numbers"
            return
                "\(file): column '\(column)' is numeric but \(cells) (\(shown)\(count > examples.count ? ", …" : "")); fix them, pass --non-numeric missing to count them as missing values, or --categorical \(column) if the column holds labels."
        case .recordTooLong(let file, let line, let limit):
            return
                "\(file):\(line): a record starting here is longer than \(limit) bytes; a quoted field is probably never closed, or a quote stands inside an unquoted field (RFC 4180: quote the whole field and double the quotes inside it)."
        case .unknownFormat(let file):
            return "\(file): cannot tell the format from the extension; use .csv, .jsonl/.ndjson, or pass --input-format csv|jsonl."
        }
    }
}
