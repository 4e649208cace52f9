import DriftCapture
import Foundation
import Testing

@Suite("CSV and JSON Lines readers")
struct TabularReaderTests {
    func csv(_ text: String) throws -> Table { try CSVReader.read(data: Data(text.utf8), source: "t.csv") }
    func jsonl(_ text: String) throws -> Table { try JSONLinesReader.read(data: Data(text.utf8), source: "t.jsonl") }
    func cells(_ t: Table, _ c: Int) -> [Cell] { (0..<t.rowCount).map { t.cell(column: c, row: $0) } }

    @Test func rfc4180Quoting() throws {
        let t = try csv("\u{FEFF}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"multi\nline\",\r\n3,,z")
        #expect(t.columnNames == ["a", "b", "c"])
        #expect(t.rowCount == 3)
        #expect(cells(t, 1) == [.text("x, y"), .text("multi\nline"), .missing])
        #expect(cells(t, 2) == [.text("say \"hi\""), .missing, .text("z")])
        #expect(t.lines == [2, 3, 5], "a quoted newline moves later rows down a line")
    }

    @Test func raggedRowNamesFileAndLine() {
        #expect(throws: TableError.raggedRow(file: "t.csv", line: 3, fields: 2, expected: 3)) {
            try csv("a,b,c\n1,2,3\n4,5\n")
        }
        let e = TableError.raggedRow(file: "t.csv", line: 3, fields: 2, expected: 3)
        #expect(e.description == "t.csv:3: the row has 2 fields but the header has 3.")
    }

    @Test func quotingErrors() {
        #expect(throws: TableError.unterminatedQuote(file: "t.csv", line: 2)) { try csv("a,b\n1,\"open\n2,3\n") }
        #expect(throws: TableError.malformedQuote(file: "t.csv", line: 2)) { try csv("a,b\n1,\"x\"y\n") }
        #expect(throws: TableError.duplicateColumn(file: "t.csv", column: "a")) { try csv("a,a\n1,2\n") }
        #expect(throws: TableError.noRows(file: "t.csv")) { try csv("a,b\n") }
    }

    @Test func numericColumnsAndMissingValues() throws {
        let t = try csv("x,y\n1.5,a\n,b\nNaN,c\n-inf,d\n 2e3 ,e\n")
        #expect(t.isNumeric(column: 0) && !t.isNumeric(column: 1))
        let v = try t.numericValues(column: 0)
        #expect(v[0] == 1.5 && v[1].isNaN && v[2].isNaN && v[3].isNaN && v[4] == 2000)
        #expect(throws: TableError.notANumber(file: "t.csv", line: 2, column: "y", value: "a")) { try t.numericValues(column: 1) }
        #expect(t.type(column: 0) == .numeric && t.type(column: 1) == .text)
        #expect(t.categoricalValues(column: 0) == ["1.5", nil, nil, nil, "2000"], "a numeric column's labels are its numbers")
    }

    @Test func jsonLines() throws {
        let t = try jsonl("{\"a\": 1, \"b\": \"x\", \"c\": true}\n\n{\"a\": null, \"d\": 2.5}\n{\"b\": \"y\"}\n")
        #expect(t.rowCount == 3 && t.lines == [1, 3, 4])
        let a = try #require(t.columnIndex("a"))
        let d = try #require(t.columnIndex("d"))
        let c = try #require(t.columnIndex("c"))
        #expect(cells(t, a) == [.number(1), .missing, .missing])
        #expect(cells(t, d) == [.missing, .number(2.5), .missing])
        #expect(cells(t, c) == [.text("true"), .missing, .missing])
        #expect(t.categoricalValues(column: a) == ["1", nil, nil])
    }

    @Test func jsonLinesErrorsNameTheLine() {
        #expect(throws: TableError.nestedValue(file: "t.jsonl", line: 2, column: "b")) {
            try jsonl("{\"a\": 1}\n{\"b\": [1, 2]}\n")
        }
        do {
            _ = try jsonl("{\"a\": 1}\n{\"a\": 2\n")
            Issue.record("a truncated line must be rejected")
        } catch let e as TableError {
            guard case .invalidJSON(let file, let line, _) = e else {
                Issue.record("\(e)")
                return
            }
            #expect(file == "t.jsonl" && line == 2)
            #expect(e.description.hasPrefix("t.jsonl:2: not a JSON object"))
        } catch { Issue.record("\(error)") }
    }

    @Test func filesAndFormats() throws {
        #expect(TabularFormat.infer(path: "a/b.CSV") == .csv)
        #expect(TabularFormat.infer(path: "x.ndjson") == .jsonl)
        #expect(throws: TableError.unknownFormat(file: "x.parquet")) { try TabularFile.read(path: "x.parquet") }
        #expect(throws: TableError.unreadable(file: "/nonexistent/r.csv", reason: "no such file")) {
            try TabularFile.read(path: "/nonexistent/r.csv")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("e.csv").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: TableError.empty(file: empty)) { try TabularFile.read(path: empty) }
    }

    /// The sample traffic is gzip-compressed by Python's gzip module (generate_traffic.py).
    @Test func gzipFilesAreReadByContentAndErrorsNameTheFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let traffic = root.appendingPathComponent("sample-data/fraud/traffic.csv.gz").path
        #expect(TabularFormat.infer(path: traffic) == .csv)
        #expect(TabularFormat.infer(path: "events.jsonl.gz") == .jsonl)
        let table = try TabularFile.read(path: traffic)
        let rows: Int = 71 * 2000 + 120
        #expect(table.rowCount == rows)
        #expect(Array(table.columnNames.prefix(3)) == ["timestamp", "request_id", "model_version"])
        #expect(table.lines.last == rows + 1, "line numbers count the decompressed lines")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // a gzip header followed by garbage, and a truncated real file
        let bad = dir.appendingPathComponent("bad.csv.gz").path
        _ = FileManager.default.createFile(atPath: bad, contents: Data([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
        let cut = dir.appendingPathComponent("cut.csv.gz").path
        _ = FileManager.default.createFile(atPath: cut, contents: try Data(contentsOf: URL(fileURLWithPath: traffic)).prefix(5000))
        for path in [bad, cut] {
            do {
                _ = try TabularFile.read(path: path)
                Issue.record("\(path) should not read")
            } catch let e as TableError {
                #expect(e.description.contains(path) && e.description.contains("not a valid gzip file"), "\(e)")
            }
        }
    }
}
