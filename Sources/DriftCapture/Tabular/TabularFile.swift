import Foundation

/// The tabular formats `compare` and `profile` read.
public enum TabularFormat: String, Sendable, CaseIterable {
    case csv
    case jsonl

    /// The format implied by a file name (`.csv`, `.jsonl`, `.ndjson`, `.json`; `.gz` not supported here).
    public static func infer(path: String) -> TabularFormat? {
        let lower = path.lowercased()
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

    static func load(_ path: String) throws -> Data {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TableError.unreadable(file: path, reason: "no such file")
        }
        if isDir.boolValue { throw TableError.unreadable(file: path, reason: "it is a directory") }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            if data.isEmpty { throw TableError.empty(file: path) }
            return data
        } catch let e as TableError {
            throw e
        } catch {
            throw TableError.unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
    }
}
