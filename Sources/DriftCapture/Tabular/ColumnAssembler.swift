/// Gathers parsed fragments, in file order, into whole columns: numbers appended, each piece's labels merged into
/// one interner per column (so a label is stored once however many pieces saw it), non-numeric cells renumbered to
/// the table's rows and the file's lines.
struct ColumnAssembler {
    let names: [String]
    let types: [ColumnType?]
    /// Per column: −1 skipped, else the index into `numbers`/`nonNumeric` (numeric) or `codes`/`interners` (text).
    let slots: [Int]
    var numbers: [[Double]]
    var nonNumeric: [NonNumericCells]
    var codes: [[Int32]]
    var interners: [ByteInterner]
    var lines: [Int] = []

    init(names: [String], types: [ColumnType?]) {
        self.names = names
        self.types = types
        var slots: [Int] = []
        var n = 0
        var t = 0
        for type in types {
            switch type {
            case .numeric?:
                slots.append(n)
                n += 1
            case .text?:
                slots.append(t)
                t += 1
            case nil: slots.append(-1)
            }
        }
        self.slots = slots
        numbers = [[Double]](repeating: [], count: n)
        nonNumeric = [NonNumericCells](repeating: NonNumericCells(), count: n)
        codes = [[Int32]](repeating: [], count: t)
        interners = [ByteInterner](repeating: ByteInterner(), count: t)
    }

    /// Appends a block's fragments; `firstLine` is the line the first one starts on. The first call sizes every
    /// column for `estimatedRows` (0: grown as needed), so a large file's columns are allocated once, not doubled
    /// and copied (which would hold old and new copies at once).
    mutating func append(_ fragments: [CSVFragment], firstLine: Int, estimatedRows: Int = 0) {
        if lines.isEmpty && estimatedRows > 0 {
            lines.reserveCapacity(estimatedRows)
            for s in numbers.indices { numbers[s].reserveCapacity(estimatedRows) }
            for s in codes.indices { codes[s].reserveCapacity(estimatedRows) }
        }
        var line = firstLine
        for f in fragments {
            let rowBase = lines.count
            lines.reserveCapacity(lines.count + f.rowLines.count)
            for l in f.rowLines { lines.append(line + l) }
            for s in numbers.indices {
                numbers[s].append(contentsOf: f.numbers[s])
                for bad in f.nonNumeric[s] { nonNumeric[s].record(row: rowBase + bad.row, line: line + bad.line, text: bad.text) }
            }
            for s in codes.indices {
                let local = f.interners[s]
                var map = [Int32](repeating: -1, count: local.count)
                for i in 0..<local.count { map[i] = local.withBytes(i) { interners[s].intern($0) } }
                codes[s].reserveCapacity(codes[s].count + f.codes[s].count)
                for code in f.codes[s] { codes[s].append(code >= 0 ? map[Int(code)] : -1) }
            }
            line += f.lineEnds
        }
    }

    /// The table; `pending` columns (inferred, with no value in the typing rows) are typed now over all their cells.
    func table(source: String, policy: NonNumericPolicy, pending: Set<Int>) -> Table {
        var columns: [TableColumn] = []
        for c in names.indices {
            let s = slots[c]
            switch types[c] {
            case nil: columns.append(TableColumn(storage: .skipped))
            case .numeric?: columns.append(TableColumn(storage: .numbers(numbers[s]), nonNumeric: nonNumeric[s]))
            case .text?:
                let labels = interners[s].labels
                if pending.contains(c), let converted = Self.asNumbers(codes: codes[s], labels: labels, lines: lines) {
                    columns.append(converted)
                } else {
                    columns.append(TableColumn(storage: .labels(codes: codes[s], labels: labels)))
                }
            }
        }
        return Table(source: source, columnNames: names, columns: columns, lines: lines, nonNumericPolicy: policy)
    }

    /// A text column as numbers when `ColumnTyping` says so over all its cells; nil when it stays text.
    static func asNumbers(codes: [Int32], labels: [String], lines: [Int]) -> TableColumn? {
        var perLabel = [Int](repeating: 0, count: labels.count)
        for code in codes where code >= 0 { perLabel[Int(code)] += 1 }
        let parsed = labels.map(NumberText.parse)
        let present = perLabel.reduce(0, +)
        let numeric = zip(perLabel, parsed).reduce(0) { $0 + ($1.1 == nil ? 0 : $1.0) }
        guard ColumnTyping.type(present: present, numeric: numeric) == .numeric else { return nil }
        var values = [Double]()
        values.reserveCapacity(codes.count)
        var bad = NonNumericCells()
        for (r, code) in codes.enumerated() {
            guard code >= 0 else {
                values.append(.nan)
                continue
            }
            if let v = parsed[Int(code)] {
                values.append(v.isFinite ? v : .nan)
            } else {
                values.append(.nan)
                bad.record(row: r, line: lines[r], text: labels[Int(code)])
            }
        }
        return TableColumn(storage: .numbers(values), nonNumeric: bad)
    }
}
