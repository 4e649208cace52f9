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
    static func isGzip(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b }

    /// Decompresses a gzip file (as written by gzip or Python) with zlib through CompressNIO.
    static func gunzip(_ data: Data, file: String) throws -> Data {
        var input = ByteBuffer(bytes: data)
        let out: Data
        do {
            var buffer = try input.decompress(with: .gzip())
            out = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch {
            throw TableError.unreadable(file: file, reason: "it is not a valid gzip file (\(error))")
        }
        // zlib stops quietly at the end of a truncated stream: the trailer's ISIZE (length mod 2^32,
        // little-endian, the last 4 bytes) must match what came out, or records would be lost unnoticed.
        let tail = data.suffix(4).map(UInt32.init)
        let isize = tail.count == 4 ? tail[0] | tail[1] << 8 | tail[2] << 16 | tail[3] << 24 : 0
        guard data.count >= 18, isize == UInt32(truncatingIfNeeded: out.count) else {
            throw TableError.unreadable(file: file, reason: "it is not a valid gzip file (truncated: the stream ends early)")
        }
        return out
    }
}
