import DriftCapture
import DriftStats
import Foundation

/// What `--reference` points at: a raw tabular file or a profile built by `drift-worker profile`.
public enum ReferenceSource: Sendable {
    case table(Table)
    case profile(ReferenceProfile, path: String)

    public var path: String {
        switch self {
        case .table(let t): return t.source
        case .profile(_, let path): return path
        }
    }

    /// Loads a reference, recognising a profile by its signature whatever its extension.
    public static func load(path: String, format: TabularFormat?) throws -> ReferenceSource {
        if let profile = try loadProfile(path: path) { return profile }
        do {
            return .table(try TabularFile.read(path: path, format: format))
        } catch let e as TableError {
            throw CompareError.table(e)
        }
    }

    /// The profile at `path`, nil when the file is not a profile (by its signature, whatever its extension).
    public static func loadProfile(path: String) throws -> ReferenceSource? {
        if let handle = FileHandle(forReadingAtPath: path) {
            let head = (try? handle.read(upToCount: 8)) ?? Data()
            try? handle.close()
            if ProfileCodec.isProfile(head) { return .profile(try ProfileFile.read(path: path), path: path) }
        }
        return nil
    }
}

/// Which columns to compare and how to treat them.
public struct FeatureSelection: Sendable {
    /// Only these features (nil: every column present on both sides).
    public var features: [String]?
    public var categorical: Set<String>
    public var numeric: Set<String>

    /// `features` named twice count once (the first time).
    public init(features: [String]? = nil, categorical: Set<String> = [], numeric: Set<String> = []) {
        var seen = Set<String>()
        self.features = features?.filter { seen.insert($0).inserted }
        self.categorical = categorical
        self.numeric = numeric
    }
}
