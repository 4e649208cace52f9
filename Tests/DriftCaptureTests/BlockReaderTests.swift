import DriftCapture
import DriftTestSupport
import Foundation
import Testing

/// The block reader: the same table whatever the block size (records cut at every possible place, quoted line breaks
/// and `""` across cuts, CR/LF/CRLF), the typing rule, and a numeric column's non-numeric cells.
@Suite("Block-wise CSV reading")
struct BlockReaderTests {
    func read(
        _ text: String, block: Int = TableReadOptions.defaultBlockBytes, types: [String: ColumnType] = [:], nonNumeric: NonNumericPolicy = .error
    )
        throws -> Table
    {
        try CSVReader.read(data: Data(text.utf8), source: "t.csv", options: TableReadOptions(types: types, nonNumeric: nonNumeric, blockBytes: block))
    }

    func cells(_ t: Table) -> [[Cell]] { t.columnNames.indices.map { c in (0..<t.rowCount).map { t.cell(column: c, row: $0) } } }

    /// A seeded CSV of awkward records: quoted commas, quoted CR/LF/CRLF, escaped quotes, empty and quoted-empty
    /// fields, numbers in many spellings, mixed line ends.
    static func awkward(rows: Int, seed: UInt64) -> String {
        var rng = HostileInput(seed: seed)  // (its seeded SplitMix64)
        let texts = ["plain", "\"a, b\"", "\"two\nlines\"", "\"cr\rlf\r\n\"", "\"say \"\"hi\"\"\"", "\"\"", "", "ünïcode", "\"\"\"\""]
        let numbers = ["1", "-2.5", "3e4", " 7 ", "1.7976931348623157e308", "4.9e-324", "", "NaN", "-inf", "0.1", "\"12\""]
        let ends = ["\n", "\r\n", "\r"]
        var out = "id,label,x,note\r\n"
        for r in 0..<rows {
            out += "\(r),\(rng.pick(texts)),\(rng.pick(numbers)),\(rng.pick(texts))"
            out += rng.pick(ends)
        }
        return out
    }

    @Test func everyBlockSizeReadsTheSameTable() throws {
        let text = Self.awkward(rows: 400, seed: 7)
        let types: [String: ColumnType] = ["label": .text, "note": .text, "x": .numeric]
        let whole = try read(text, types: types)
        #expect(whole.rowCount == 400)
        // the RFC 4180 parser the capture bodies use agrees on every text field
        let oracle = try CSVReader.records(Data(text.utf8), path: "t", maxRecords: .max, maxFields: .max, maxFieldBytes: .max)
        #expect(oracle.count == 401)
        for r in 0..<400 {
            #expect(whole.text(column: 1, row: r) == oracle[r + 1][1], "row \(r)")
            #expect(whole.text(column: 3, row: r) == oracle[r + 1][3], "row \(r)")
            let x = oracle[r + 1][2].flatMap(NumberText.parse).map { $0.isFinite ? $0 : .nan } ?? .nan
            let got = try whole.numericValues(column: 2)[r]
            #expect(got.bitPattern == x.bitPattern || (got.isNaN && x.isNaN), "row \(r)")
        }
        for block in [64, 65, 97, 128, 333, 1024, 4099] {
            let t = try read(text, block: block, types: types)
            #expect(cells(t) == cells(whole), "block \(block)")
            #expect(t.lines == whole.lines, "block \(block)")
        }
    }

    @Test func largeBlocksAreCutIntoPiecesParsedInParallel() throws {
        // > 1 MiB so the block is split across cores at quote-aware boundaries
        let text = Self.awkward(rows: 40_000, seed: 11)
        let types: [String: ColumnType] = ["label": .text, "note": .text, "x": .numeric]
        let t = try read(text, types: types)
        let small = try read(text, block: 1 << 16, types: types)
        #expect(t.rowCount == 40_000)
        #expect(cells(t) == cells(small))
        #expect(t.lines == small.lines)
        #expect(try t.numericValues(column: 0) == (0..<40_000).map(Double.init))
    }

    @Test func aTypoInANumericColumnIsAnErrorNamingIt() throws {
        var text = "x,y\n"
        for i in 0..<50 { text += "\(i),a\(i % 3)\n" }
        text += "abc,a1\n"
        for i in 0..<50 { text += "\(i),a\(i % 3)\n" }
        let t = try read(text)
        #expect(t.type(column: 0) == .numeric, "49 of 50 numbers: numeric (the 90 % rule)")
        #expect(t.type(column: 1) == .text)
        #expect(throws: TableError.nonNumericCells(file: "t.csv", column: "x", count: 1, rows: 101, examples: [.init(line: 52, text: "abc")])) {
            try t.numericValues(column: 0)
        }
        let message = TableError.nonNumericCells(file: "t.csv", column: "x", count: 1, rows: 101, examples: [.init(line: 52, text: "abc")])
            .description
        #expect(message.contains("line 52 'abc'") && message.contains("--non-numeric missing") && message.contains("--categorical x"))
        let lenient = try read(text, nonNumeric: .missing)
        let v = try lenient.numericValues(column: 0)
        #expect(v.count == 101 && v[50].isNaN && v[51] == 0)
        // the same typo in a small block after the typing rows
        let late = try read(text, block: 64)
        #expect(late.columns[0].nonNumeric.rows == [50])
    }

    @Test func theTypingRule() throws {
        // mostly labels: text; a column that is empty in the typing rows is typed over the whole file
        var text = "code,late\n"
        for i in 0..<1_200 { text += "\(i % 5 == 0 ? "other" : String(i % 7)),\(i < 1_100 ? "" : String(Double(i) / 4))\n" }
        let t = try read(text, block: 256)
        #expect(t.type(column: 0) == .text, "20 % labels: text")
        #expect(t.type(column: 1) == .numeric, "empty in the first 1,000 rows, numbers after: numeric")
        #expect(try t.numericValues(column: 1)[1_199] == 1_199.0 / 4)
        #expect(ColumnTyping.type(present: 10, numeric: 9) == .numeric)
        #expect(ColumnTyping.type(present: 10, numeric: 8) == .text)
        #expect(ColumnTyping.type(present: 0, numeric: 0) == .text)
    }

    @Test func malformedInputNamesTheLine() {
        #expect(throws: TableError.malformedQuote(file: "t.csv", line: 3)) { try read("a,b\n1,2\n3,x\"y\n") }
        #expect(throws: TableError.unterminatedQuote(file: "t.csv", line: 3)) { try read("a,b\n1,2\n3,\"open\n4,5\n", block: 64) }
        #expect(throws: TableError.raggedRow(file: "t.csv", line: 4, fields: 3, expected: 2)) { try read("a,b\n1,2\n3,4\n5,6,7\n", block: 64) }
        #expect(throws: TableError.empty(file: "t.csv")) { try read("") }
        #expect(throws: TableError.empty(file: "t.csv")) { try read("\u{FEFF}") }
    }

    @Test func blankLinesBeforeTheHeaderAreSkipped() throws {
        let t = try read("\n\r\nid,x\n1,2\n")
        #expect(t.columnNames == ["id", "x"] && t.lines == [4])
    }

    @Test func onlyTheRequestedColumnsAreRead() throws {
        let t = try CSVReader.read(
            data: Data("a,b,c\n1,x,3\n4,y,6\n".utf8), source: "t.csv", options: TableReadOptions(only: ["c"]))
        #expect(t.columnNames == ["a", "b", "c"])
        #expect(t.type(column: 0) == nil && t.type(column: 2) == .numeric)
        #expect(try t.numericValues(column: 2) == [3, 6])
    }
}

/// JSON Lines past 1 MiB are parsed in pieces cut after line breaks, on all cores; the pieces' columns are merged in
/// order of first appearance and errors keep their file line.
@Suite("JSON Lines in parallel pieces")
struct JSONLinesPiecesTests {
    @Test func piecesMergeColumnsRowsAndLines() throws {
        var text = ""
        var expectedLines: [Int] = []
        var line = 0
        for i in 0..<40_000 {
            line += 1
            if i % 1_000 == 999 {
                text += "\n"  // a blank line
                line += 1
            }
            // a key that only appears late, and keys that come and go
            var fields = ["\"x\": \(i)", "\"tag\": \"t\(i % 7)\""]
            if i % 3 == 0 { fields.append("\"odd\": \(Double(i) / 8)") }
            if i >= 39_000 { fields.append("\"late\": true") }
            text += "{" + fields.joined(separator: ", ") + "}\n"
            expectedLines.append(line)
        }
        #expect(text.utf8.count > 1 << 20)
        let t = try JSONLinesReader.read(data: Data(text.utf8), source: "t.jsonl")
        #expect(t.rowCount == 40_000 && t.lines == expectedLines)
        #expect(t.columnNames == ["odd", "tag", "x", "late"], "each line's keys sorted, columns in order of first appearance")
        let x = try t.numericValues(column: 2)
        #expect(x == (0..<40_000).map(Double.init))
        let odd = try t.numericValues(column: 0)
        #expect(odd[3] == 3.0 / 8 && odd[4].isNaN)
        #expect(t.text(column: 3, row: 38_999) == nil && t.text(column: 3, row: 39_000) == "true")

        let broken = text + "{\"x\": [1]}\n"
        #expect(throws: TableError.nestedValue(file: "t.jsonl", line: line + 1, column: "x")) {
            try JSONLinesReader.read(data: Data(broken.utf8), source: "t.jsonl")
        }
    }
}
