import DriftCommon

/// One cell of a tabular file.
public enum Cell: Sendable, Equatable {
    /// An empty CSV field, a JSON null, or a key absent from a JSON line.
    case missing
    case number(Double)
    case text(String)
}

/// A tabular file read into memory column by column, remembering the line each row came from
/// so that errors can name it.
public struct Table: Sendable {
    /// The file the table was read from (for messages).
    public var source: String
    public var columnNames: [String]
    /// `cells[c][r]`: column c, row r.
    public var cells: [[Cell]]
    /// The 1-based line in `source` where each row starts.
    public var lines: [Int]

    public var rowCount: Int { lines.count }

    public func columnIndex(_ name: String) -> Int? { columnNames.firstIndex(of: name) }

    /// True when every present cell of the column is a finite number, a number written as
    /// text, or a non-finite number (NaN/±Inf, which count as missing).
    public func isNumeric(column c: Int) -> Bool {
        var sawValue = false
        for cell in cells[c] {
            switch cell {
            case .missing: continue
            case .number: sawValue = true
            case .text(let s):
                guard NumberText.parse(s) != nil else { return false }
                sawValue = true
            }
        }
        return sawValue
    }

    /// The column as doubles, with NaN for missing cells and for NaN/±Inf values.
    /// Throws `TableError.notANumber` naming the line and column of the first non-numeric value.
    public func numericValues(column c: Int) throws -> [Double] {
        var out = [Double]()
        out.reserveCapacity(rowCount)
        for (r, cell) in cells[c].enumerated() {
            switch cell {
            case .missing: out.append(.nan)
            case .number(let v): out.append(v.isFinite ? v : .nan)
            case .text(let s):
                guard let v = NumberText.parse(s) else {
                    throw TableError.notANumber(file: source, line: lines[r], column: columnNames[c], value: s)
                }
                out.append(v.isFinite ? v : .nan)
            }
        }
        return out
    }

    /// The column as category labels (numbers rendered in their shortest form), nil for missing.
    public func categoricalValues(column c: Int) -> [String?] {
        cells[c].map { cell in
            switch cell {
            case .missing: return nil
            case .number(let v):
                guard v.isFinite else { return nil }
                return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
            case .text(let s):
                if let v = NumberText.parse(s), !v.isFinite { return nil }
                return s
            }
        }
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
