import DriftCommon
import Foundation

/// Reads JSON Lines: one flat JSON object per line (numbers, strings, booleans, null). Columns are
/// the union of keys in order of first appearance; a key absent from a line is a missing value.
/// Blank lines are skipped.
public enum JSONLinesReader {
    public static func read(path: String, options: TableReadOptions = TableReadOptions()) throws -> Table {
        try read(data: TabularFile.load(path), source: path, options: options)
    }

    public static func read(data: Data, source: String, options: TableReadOptions = TableReadOptions()) throws -> Table {
        // pieces cut just after a line break (a JSON text cannot hold a raw one), parsed on all cores at once
        let data = data.startIndex == 0 ? data : Data(data)
        let cores = min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let pieces = data.count < (1 << 20) ? 1 : cores * 2
        var cuts = [0]
        data.withUnsafeBytes { bytes in
            for k in 1..<max(pieces, 1) {
                var i = max(bytes.count / pieces * k, cuts.last!)
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                if i + 1 < bytes.count && i + 1 > cuts.last! { cuts.append(i + 1) }
            }
        }
        cuts.append(data.count)
        let ranges = (0..<(cuts.count - 1)).map { cuts[$0]..<cuts[$0 + 1] }
        let newlines = ParallelMap.map(ranges) { r in data[r].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } }
        var firstLines = [1]
        for n in newlines.dropLast() { firstLines.append(firstLines.last! + n) }
        let parsed = ParallelMap.map(Array(zip(ranges, firstLines))) { r, first in
            Result { try piece(data[r], firstLine: first, source: source) }
        }
        // merged in file order: columns in order of first appearance, a key absent from a piece missing there
        var names: [String] = []
        var index: [String: Int] = [:]
        var cells: [[Cell]] = []
        var lines: [Int] = []
        for result in parsed {
            let p = try result.get()
            let rowBase = lines.count
            lines.append(contentsOf: p.lines)
            for (k, name) in p.names.enumerated() {
                let c: Int
                if let existing = index[name] {
                    c = existing
                } else {
                    c = names.count
                    index[name] = c
                    names.append(name)
                    cells.append([Cell](repeating: .missing, count: rowBase))
                }
                cells[c].append(contentsOf: p.cells[k])
            }
            for c in cells.indices where cells[c].count < lines.count {
                cells[c].append(contentsOf: repeatElement(.missing, count: lines.count - cells[c].count))
            }
        }
        if lines.isEmpty { throw TableError.empty(file: source) }
        let columns = names.indices.map { c in column(cells[c], name: names[c], lines: lines, options: options) }
        return Table(source: source, columnNames: names, columns: columns, lines: lines, nonNumericPolicy: options.nonNumeric)
    }

    /// One piece's rows: its columns in order of first appearance (each line's keys in sorted order), their cells,
    /// and each row's line.
    struct Piece: Sendable {
        var names: [String] = []
        var cells: [[Cell]] = []
        var lines: [Int] = []
    }

    static func piece(_ data: Data, firstLine: Int, source: String) throws -> Piece {
        var out = Piece()
        var index: [String: Int] = [:]
        var lineNumber = firstLine - 1
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
                    c = out.names.count
                    index[key] = c
                    out.names.append(key)
                    out.cells.append([Cell](repeating: .missing, count: rowCount))
                }
                if out.cells[c].count == rowCount { out.cells[c].append(cell) }
            }
            rowCount += 1
            for c in out.cells.indices where out.cells[c].count < rowCount { out.cells[c].append(.missing) }
            out.lines.append(lineNumber)
        }
        return out
    }

    /// A column's cells stored by its type: given by `options`, else `ColumnTyping` over every present cell (JSON
    /// numbers and strings that spell numbers count as numbers).
    static func column(_ cells: [Cell], name: String, lines: [Int], options: TableReadOptions) -> TableColumn {
        if let only = options.only, !only.contains(name) { return TableColumn(storage: .skipped) }
        let type =
            options.types[name]
            ?? {
                var present = 0
                var numeric = 0
                for cell in cells {
                    switch cell {
                    case .missing: continue
                    case .number: numeric += 1
                    case .text(let s): if NumberText.parse(s) != nil { numeric += 1 }
                    }
                    present += 1
                }
                return ColumnTyping.type(present: present, numeric: numeric)
            }()
        switch type {
        case .numeric:
            var bad = NonNumericCells()
            let values = cells.enumerated().map { r, cell -> Double in
                switch cell {
                case .missing: return .nan
                case .number(let v): return v.isFinite ? v : .nan
                case .text(let s):
                    guard let v = NumberText.parse(s) else {
                        bad.record(row: r, line: lines[r], text: s)
                        return .nan
                    }
                    return v.isFinite ? v : .nan
                }
            }
            return TableColumn(storage: .numbers(values), nonNumeric: bad)
        case .text:
            var interner = ByteInterner()
            let codes = cells.map { cell -> Int32 in
                let text: String
                switch cell {
                case .missing: return -1
                case .number(let v):
                    guard let label = Table.label(v) else { return -1 }
                    text = label
                case .text(let s): text = s
                }
                var t = text
                return t.withUTF8 { interner.intern(UnsafeRawBufferPointer($0)) }
            }
            return TableColumn(storage: .labels(codes: codes, labels: interner.labels))
        }
    }
}
