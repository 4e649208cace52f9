import DriftCapture
import DriftStats

/// Why a comparison could not run: bad input that the user can fix. Each prints one sentence
/// naming the file and column involved.
public enum CompareError: Error, Sendable, CustomStringConvertible {
    case table(TableError)
    case profile(file: String, reason: String)
    case noValues(file: String, column: String, rows: Int)
    case unknownFeatures(names: [String], reference: String, current: String)
    case noCommonFeatures(reference: String, current: String)
    case kindConflict(file: String, column: String, stored: String, requested: String)
    case conflictingOverride(column: String)

    public var description: String {
        switch self {
        case .table(let e): return e.description
        case .profile(let file, let reason): return "\(file): \(reason)."
        case .noValues(let file, let column, let rows):
            return "\(file): column '\(column)' has no values (all \(rows) rows are empty, NaN or Inf); drop it with --features or fix the data."
        case .unknownFeatures(let names, let reference, let current):
            return "feature(s) \(names.map { "'\($0)'" }.joined(separator: ", ")) named by --features are in neither \(reference) nor \(current)."
        case .noCommonFeatures(let reference, let current):
            return "\(reference) and \(current) have no column in common; nothing to compare."
        case .kindConflict(let file, let column, let stored, let requested):
            return
                "\(file): the profile stores '\(column)' as \(stored), but it was requested as \(requested); rebuild the profile with the same --numeric/--categorical options."
        case .conflictingOverride(let column):
            return "column '\(column)' is named by both --numeric and --categorical; choose one."
        }
    }
}
