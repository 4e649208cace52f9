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
    /// Reads a CSV or JSON Lines file, by `format` or else by the file's extension.
    public static func read(path: String, format: TabularFormat? = nil) throws -> Table {
        guard let f = format ?? TabularFormat.infer(path: path) else { throw TableError.unknownFormat(file: path) }
        switch f {
        case .csv: return try CSVReader.read(path: path)
        case .jsonl: return try JSONLinesReader.read(path: path)
        }
    }

    /// The bytes of a file, gunzipped when it is gzip-compressed; a missing, empty or unreadable file is a `TableError`.
    public static func contents(_ path: String) throws -> Data { try load(path) }

    static func load(_ path: String) throws -> Data {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TableError.unreadable(file: path, reason: "no such file")
        }
        if isDir.boolValue { throw TableError.unreadable(file: path, reason: "it is a directory") }
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

    /// The most a gzip-compressed file may expand to (1 GiB): files are read whole, so a larger one (or a gzip
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
