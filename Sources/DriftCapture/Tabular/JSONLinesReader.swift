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
        let decoder = JSONDecoder()
        var lineNumber = 0
        var rowCount = 0
        for rawLine in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = rawLine.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let object: FlatJSONObject
            do {
                object = try decoder.decode(FlatJSONObject.self, from: Data(trimmed))
            } catch let error as NestedValueError {
                throw TableError.nestedValue(file: source, line: lineNumber, column: error.key)
            } catch {
                throw TableError.invalidJSON(file: source, line: lineNumber, reason: Self.reason(error))
            }
            for (key, cell) in object.pairs {
                let c: Int
                if let existing = index[key] { c = existing } else {
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

    static func reason(_ error: Error) -> String {
        if let e = error as? DecodingError {
            switch e {
            case .dataCorrupted(let ctx): return ctx.underlyingError.map { "\($0)" }.map { String($0.prefix(120)) } ?? ctx.debugDescription
            case .typeMismatch(_, let ctx): return ctx.debugDescription
            default: return "\(e)".prefix(120).description
            }
        }
        return "\(error)".prefix(120).description
    }
}

struct NestedValueError: Error { var key: String }

/// A flat JSON object (key order is not kept).
struct FlatJSONObject: Decodable {
    var pairs: [(String, Cell)] = []

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if try container.decodeNil(forKey: key) { pairs.append((key.stringValue, .missing)); continue }
            if let b = try? container.decode(Bool.self, forKey: key) { pairs.append((key.stringValue, .text(b ? "true" : "false"))); continue }
            if let d = try? container.decode(Double.self, forKey: key) { pairs.append((key.stringValue, .number(d))); continue }
            if let s = try? container.decode(String.self, forKey: key) { pairs.append((key.stringValue, .text(s))); continue }
            throw NestedValueError(key: key.stringValue)
        }
    }
}
