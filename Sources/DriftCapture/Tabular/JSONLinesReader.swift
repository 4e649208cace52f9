import DriftCommon
import Foundation

/// Reads JSON Lines: one flat JSON object per line (numbers, strings, booleans, null). Columns are
/// the union of keys in order of first appearance; a key absent from a line is a missing value.
/// Blank lines are skipped.
public enum JSONLinesReader {
    public static func read(path: String) throws -> Table {
        try read(data: TabularFile.load(path), source: path)
    }

    public static func read(data: Data, source: String) throws -> Table {
        var names: [String] = []
        var index: [String: Int] = [:]
        var cells: [[Cell]] = []
        var lines: [Int] = []
        var lineNumber = 0
        var rowCount = 0
        for rawLine in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = rawLine.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let pairs: [(String, Cell)]
            do {
                guard let members = try JSONValue.parse(Data(trimmed), path: "line").object else {
                    throw TableError.invalidJSON(file: source, line: lineNumber, reason: "each line must be a JSON object")
                }
                pairs = try members.sorted { $0.key < $1.key }.map { key, value -> (String, Cell) in
                    switch value {
                    case .null: return (key, .missing)
                    case .bool(let b): return (key, .text(b ? "true" : "false"))
                    case .int(let i): return (key, .number(Double(i)))
                    case .double(let d): return (key, .number(d))
                    case .string(let s): return (key, .text(s))
                    case .array, .object: throw TableError.nestedValue(file: source, line: lineNumber, column: key)
                    }
                }
            } catch let e as CaptureDecodeError {
                throw TableError.invalidJSON(file: source, line: lineNumber, reason: e.problem)
            }
            for (key, cell) in pairs {
                let c: Int
                if let existing = index[key] {
                    c = existing
                } else {
                    c = names.count
                    index[key] = c
                    names.append(key)
                    cells.append([Cell](repeating: .missing, count: rowCount))
                }
                if cells[c].count == rowCount { cells[c].append(cell) }
            }
            rowCount += 1
            for c in cells.indices where cells[c].count < rowCount { cells[c].append(.missing) }
            lines.append(lineNumber)
        }
        if lines.isEmpty { throw TableError.empty(file: source) }
        return Table(source: source, columnNames: names, cells: cells, lines: lines)
    }
}
