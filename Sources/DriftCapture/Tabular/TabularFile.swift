import CompressNIO
import Foundation
import NIOCore

/// The tabular formats `compare` and `profile` read.
public enum TabularFormat: String, Sendable, CaseIterable {
    case csv
    case jsonl

    /// The format implied by a file name (`.csv`, `.jsonl`, `.ndjson`, `.json`, each optionally `.gz`).
    public static func infer(path: String) -> TabularFormat? {
        var lower = path.lowercased()
        if lower.hasSuffix(".gz") { lower.removeLast(3) }
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonl }
        return nil
    }
}

public enum TabularFile {
    /// Reads a CSV or JSON Lines file whole, by `format` or else by the file's extension. CSV is read in blocks (a
    /// gzip file is decompressed first, bounded by `maxDecompressedBytes`) and parsed on all cores.
    public static func read(path: String, format: TabularFormat? = nil, options: TableReadOptions = TableReadOptions()) throws -> Table {
        guard let f = format ?? TabularFormat.infer(path: path) else { throw TableError.unknownFormat(file: path) }
        switch f {
        case .csv:
            var source = try open(path)
            return try CSVReader.read(source: &source, name: path, options: options)
        case .jsonl: return try JSONLinesReader.read(data: load(path), source: path, options: options)
        }
    }

    /// The names and types of a streamed file's columns, given before its first rows.
    public struct Columns: Sendable {
        public var names: [String]
        /// nil: not read (`TableReadOptions.only`).
        public var types: [ColumnType?]
        /// Inferred columns that had no value in the typing rows: they arrive as text; the consumer decides at the end
        /// (`ColumnTyping`) over all their cells.
        public var pending: Set<Int>
    }

    /// Reads a file block by block without keeping it: `columns` is called once with the header, then `rows` with
    /// each block's rows as a `Table` (its `lines` the file's), in file order. The memory used is that of one block
    /// (`TableReadOptions.blockBytes` and its parsed values), whatever the file's size — for a plain CSV file; a
    /// gzip file is decompressed whole first, and JSON Lines arrive as one table.
    public static func stream(
        path: String, format: TabularFormat? = nil, options: TableReadOptions = TableReadOptions(),
        columns: (Columns) throws -> Void, rows: (Table) throws -> Void
    ) throws {
        guard let f = format ?? TabularFormat.infer(path: path) else { throw TableError.unknownFormat(file: path) }
        switch f {
        case .csv:
            var source = try open(path)
            defer { if case .file(let handle) = source { try? handle.close() } }
            var sawRows = false
            try CSVBlockReader.run(
                source: &source, name: path, options: options,
                start: { h in try columns(Columns(names: h.names, types: h.types, pending: h.pending)) },
                deliver: { h, fragments, firstLine in
                    var block = ColumnAssembler(names: h.names, types: h.types)
                    block.append(fragments, firstLine: firstLine)
                    guard !block.lines.isEmpty else { return }
                    sawRows = true
                    try rows(block.table(source: path, policy: options.nonNumeric, pending: []))
                })
            if !sawRows { throw TableError.noRows(file: path) }
        case .jsonl:
            let table = try JSONLinesReader.read(data: load(path), source: path, options: options)
            try columns(Columns(names: table.columnNames, types: table.columns.map(\.type), pending: []))
            try rows(table)
        }
    }

    /// The column names of a file's header (CSV: only the first block is read; JSON Lines: every key, so all of it).
    public static func columnNames(path: String, format: TabularFormat? = nil) throws -> [String] {
        guard let f = format ?? TabularFormat.infer(path: path) else { throw TableError.unknownFormat(file: path) }
        switch f {
        case .csv:
            struct Stop: Error { var names: [String] }
            var source = try open(path)
            defer { if case .file(let handle) = source { try? handle.close() } }
            do {
                try CSVBlockReader.run(
                    source: &source, name: path, options: TableReadOptions(only: []), start: { throw Stop(names: $0.names) },
                    deliver: { _, _, _ in })
            } catch let stop as Stop {
                return stop.names
            }
            throw TableError.noRows(file: path)
        case .jsonl: return try JSONLinesReader.read(data: load(path), source: path).columnNames
        }
    }

    /// A file to read in blocks: the open file, or its decompressed bytes when it is gzip-compressed.
    static func open(_ path: String) throws -> ByteSource {
        try checkFile(path)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TableError.unreadable(file: path, reason: "permission denied") }
        let magic = (try? handle.read(upToCount: 2)) ?? Data()
        if BoundedGunzip.isGzip(magic) {
            try? handle.close()
            return .memory(try load(path), offset: 0)
        }
        do { try handle.seek(toOffset: 0) } catch { throw TableError.unreadable(file: path, reason: "cannot seek (\(error))") }
        return .file(handle)
    }

    static func checkFile(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TableError.unreadable(file: path, reason: "no such file")
        }
        if isDir.boolValue { throw TableError.unreadable(file: path, reason: "it is a directory") }
    }

    /// The bytes of a file, gunzipped when it is gzip-compressed; a missing, empty or unreadable file is a `TableError`.
    public static func contents(_ path: String) throws -> Data { try load(path) }

    static func load(_ path: String) throws -> Data {
        try checkFile(path)
        do {
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            if isGzip(data) { data = try gunzip(data, file: path) }
            if data.isEmpty { throw TableError.empty(file: path) }
            return data
        } catch let e as TableError {
            throw e
        } catch {
            throw TableError.unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Whether `data` starts with the gzip magic bytes (1f 8b), whatever the file is called.
    static func isGzip(_ data: Data) -> Bool { BoundedGunzip.isGzip(data) }

    /// The most a gzip-compressed file may expand to (1 GiB): gzip files are decompressed whole, so a larger one (or a gzip
    /// bomb) is refused before it takes the memory; split larger captures into several files. A file that expands
    /// more than 200× is refused too (real capture files compress 4–50×; a gzip bomb ~1000×).
    public static let maxDecompressedBytes = 1 << 30

    /// Decompresses a gzip file (as written by gzip or Python) with zlib through CompressNIO, bounded.
    static func gunzip(_ data: Data, file: String) throws -> Data {
        do {
            return try BoundedGunzip.decompress(data, maxBytes: maxDecompressedBytes, maxRatio: 200, path: file)
        } catch let e as CaptureDecodeError {
            throw TableError.unreadable(
                file: file,
                reason: e.reason == .tooLarge
                    ? "it expands past \(maxDecompressedBytes) bytes when decompressed; split it into smaller files"
                    : "it is not a valid gzip file (\(e.problem.replacingOccurrences(of: "is not a valid gzip stream (", with: "").dropLast()))")
        }
    }
}
