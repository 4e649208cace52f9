import DriftCommon

/// One cell of a tabular file, as the reader kept it.
public enum Cell: Sendable, Equatable {
    /// An empty CSV field, a JSON null, or a key absent from a JSON line.
    case missing
    case number(Double)
    case text(String)
}

/// How a column's cells are read: as numbers (a `[Double]`, NaN for missing) or as labels (interned text).
public enum ColumnType: String, Sendable, Equatable {
    case numeric
    case text
}

/// What a numeric column's cells that are not numbers become.
public enum NonNumericPolicy: String, Sendable, Equatable {
    /// Reading the column's values is an error naming the first offending cells (the default).
    case error
    /// They count as missing values (the user asked for it: `--non-numeric missing`).
    case missing
}

/// The cells of a numeric column that are not numbers: every row, and the first few with their text for messages.
public struct NonNumericCells: Sendable, Equatable {
    public struct Example: Sendable, Equatable {
        /// The line, 0 when unknown (a cell counted while streaming).
        public var line: Int
        public var text: String
        public init(line: Int, text: String) {
            self.line = line
            self.text = text
        }
    }
    /// Rows (0-based, in file order) whose cell is not a number; they read as NaN.
    public var rows: [Int] = []
    /// The first `NonNumericCells.exampleLimit` of them with their line and text.
    public var examples: [Example] = []
    public static let exampleLimit = 5
    public var count: Int { rows.count }

    public init() {}

    mutating func record(row: Int, line: Int, text: @autoclosure () -> String) {
        rows.append(row)
        if examples.count < Self.exampleLimit { examples.append(Example(line: line, text: text())) }
    }
}

/// One column of a table: numbers, or labels (each distinct text stored once), or not read at all.
public struct TableColumn: Sendable {
    public enum Storage: Sendable {
        /// Numbers, NaN for a missing cell, a NaN/±Inf spelling, or a non-numeric cell (listed in `nonNumeric`).
        case numbers([Double])
        /// `codes[r]` indexes `labels`; −1 is a missing cell.
        case labels(codes: [Int32], labels: [String])
        /// The reader was asked to skip the column: every cell reads as missing.
        case skipped
    }
    public var storage: Storage
    public var nonNumeric = NonNumericCells()

    public init(storage: Storage, nonNumeric: NonNumericCells = NonNumericCells()) {
        self.storage = storage
        self.nonNumeric = nonNumeric
    }

    public var type: ColumnType? {
        switch storage {
        case .numbers: return .numeric
        case .labels: return .text
        case .skipped: return nil
        }
    }
}

/// A tabular file read into memory column by column (numbers as `[Double]`, text interned), remembering the line each
/// row came from so that errors can name it.
public struct Table: Sendable {
    /// The file the table was read from (for messages).
    public var source: String
    /// Every column of the header (or every key of a JSON Lines file), read or skipped.
    public var columnNames: [String]
    public var columns: [TableColumn]
    /// The 1-based line in `source` where each row starts.
    public var lines: [Int]
    /// What `numericValues` does with a numeric column's non-numeric cells.
    public var nonNumericPolicy: NonNumericPolicy

    public init(source: String, columnNames: [String], columns: [TableColumn], lines: [Int], nonNumericPolicy: NonNumericPolicy = .error) {
        self.source = source
        self.columnNames = columnNames
        self.columns = columns
        self.lines = lines
        self.nonNumericPolicy = nonNumericPolicy
    }

    public var rowCount: Int { lines.count }

    public func columnIndex(_ name: String) -> Int? { columnNames.firstIndex(of: name) }

    /// The type the reader gave the column (nil: skipped).
    public func type(column c: Int) -> ColumnType? { columns[c].type }

    /// True when the column reads as numbers: read as numbers, or labels that all parse as numbers (NaN/±Inf
    /// spellings count as missing), with at least one value.
    public func isNumeric(column c: Int) -> Bool {
        switch columns[c].storage {
        case .numbers(let v): return columns[c].nonNumeric.count > 0 || v.contains { !$0.isNaN }
        case .labels(let codes, let labels):
            guard codes.contains(where: { $0 >= 0 }) else { return false }
            return labels.allSatisfy { NumberText.parse($0) != nil }
        case .skipped: return false
        }
    }

    /// The column as doubles, NaN for missing cells and for NaN/±Inf values. A numeric column's non-numeric cells
    /// are `TableError.nonNumericCells` (naming the first ones) unless the policy is `.missing`; a text column
    /// with a label that is not a number is `TableError.notANumber` naming its first line.
    public func numericValues(column c: Int) throws -> [Double] {
        switch columns[c].storage {
        case .numbers(let v):
            let bad = columns[c].nonNumeric
            if bad.count > 0 && nonNumericPolicy == .error {
                throw TableError.nonNumericCells(file: source, column: columnNames[c], count: bad.count, rows: rowCount, examples: bad.examples)
            }
            return v
        case .labels(let codes, let labels):
            let parsed = labels.map { NumberText.parse($0).map { $0.isFinite ? $0 : .nan } }
            var out = [Double]()
            out.reserveCapacity(codes.count)
            for (r, code) in codes.enumerated() {
                guard code >= 0 else {
                    out.append(.nan)
                    continue
                }
                guard let v = parsed[Int(code)] else {
                    if nonNumericPolicy == .missing {
                        out.append(.nan)
                        continue
                    }
                    throw TableError.notANumber(file: source, line: lines[r], column: columnNames[c], value: labels[Int(code)])
                }
                out.append(v)
            }
            return out
        case .skipped:
            return [Double](repeating: .nan, count: rowCount)
        }
    }

    /// The column as category labels (numbers rendered in their shortest form), nil for missing.
    public func categoricalValues(column c: Int) -> [String?] {
        switch columns[c].storage {
        case .numbers(let v): return v.map(Self.label)
        case .labels(let codes, let labels):
            let shown: [String?] = labels.map { s in
                if let v = NumberText.parse(s), !v.isFinite { return nil }
                return s
            }
            return codes.map { $0 >= 0 ? shown[Int($0)] : nil }
        case .skipped: return [String?](repeating: nil, count: rowCount)
        }
    }

    /// The column's category counts and missing count, without building a label per row.
    public func categoryCounts(column c: Int) -> (counts: [String: Int], missing: Int) {
        switch columns[c].storage {
        case .labels(let codes, let labels):
            var perCode = [Int](repeating: 0, count: labels.count)
            var missing = 0
            for code in codes {
                if code >= 0 { perCode[Int(code)] += 1 } else { missing += 1 }
            }
            var counts: [String: Int] = [:]
            for (i, n) in perCode.enumerated() where n > 0 {
                if let v = NumberText.parse(labels[i]), !v.isFinite {
                    missing += n
                } else {
                    counts[labels[i], default: 0] += n
                }
            }
            return (counts, missing)
        case .numbers, .skipped:
            var counts: [String: Int] = [:]
            var missing = 0
            for label in categoricalValues(column: c) {
                if let label { counts[label, default: 0] += 1 } else { missing += 1 }
            }
            return (counts, missing)
        }
    }

    /// One cell: a number, a label, or missing.
    public func cell(column c: Int, row r: Int) -> Cell {
        switch columns[c].storage {
        case .numbers(let v): return v[r].isNaN ? .missing : .number(v[r])
        case .labels(let codes, let labels): return codes[r] >= 0 ? .text(labels[Int(codes[r])]) : .missing
        case .skipped: return .missing
        }
    }

    /// A cell as text (a label as written; a number in its shortest form), nil when missing.
    public func text(column c: Int, row r: Int) -> String? {
        switch columns[c].storage {
        case .numbers(let v): return Self.label(v[r])
        case .labels(let codes, let labels): return codes[r] >= 0 ? labels[Int(codes[r])] : nil
        case .skipped: return nil
        }
    }

    /// A number as a category label: integers without a fraction, others in Swift's shortest round-trip form.
    static func label(_ v: Double) -> String? {
        guard v.isFinite else { return nil }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}

/// Parsing of numbers written as text: surrounding spaces allowed; `nan`, `inf`, `-inf`,
/// `infinity` (any case) parse to non-finite values, which callers treat as missing.
public enum NumberText {
    public static func parse(_ s: String) -> Double? {
        var s = s
        return s.withUTF8 { FastFloat.parseCell(UnsafeRawBufferPointer($0)) }
    }
}
