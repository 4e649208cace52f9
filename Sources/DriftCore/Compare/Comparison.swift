import DriftCapture
import DriftStats
import Foundation

/// The whole `compare` job: load both sides, plan, compute, and report.
public enum Comparison {
    /// Compares `currentPath` with `referencePath` (a profile file, or a CSV/JSON Lines file reduced while it is read
    /// to a profile of `sampleCap` values per numeric feature: below the cap the results are those of the raw data).
    /// The reference decides each feature's kind (unless `selection` does); the current file is read with those kinds,
    /// so a numeric feature's non-numeric current cells are an error naming them (or missing values, `nonNumeric`).
    public static func run(
        referencePath: String, currentPath: String, format: TabularFormat?,
        selection: FeatureSelection, settings: DriftSettings,
        sampleCap: Int = ReferenceProfile.defaultSampleCap, nonNumeric: NonNumericPolicy = .error
    ) throws -> CompareReport {
        let reference: ReferenceSource
        if let profile = try ReferenceSource.loadProfile(path: referencePath) {
            reference = profile
        } else {
            let refNames = try tableCall { try TabularFile.columnNames(path: referencePath, format: format) }
            let curNames = try tableCall { try TabularFile.columnNames(path: currentPath, format: format) }
            let wanted = ComparisonPlan.wanted(refNames: refNames, curNames: curNames, selection: selection)
            var profile = try ProfileBuilder.build(
                path: referencePath, format: format,
                selection: FeatureSelection(features: wanted, categorical: selection.categorical, numeric: selection.numeric),
                sampleCap: sampleCap, nonNumeric: nonNumeric)
            profile.featureNames = refNames
            reference = .profile(profile, path: referencePath)
        }
        guard case .profile(let p, _) = reference else { preconditionFailure("the reference is a profile") }
        var types: [String: ColumnType] = [:]
        for f in p.numeric { types[f.name] = .numeric }
        for f in p.categorical { types[f.name] = .text }
        let only = Set(p.featureNames).union(selection.features ?? [])
        var current = try tableCall {
            try TabularFile.read(path: currentPath, format: format, options: TableReadOptions(types: types, only: only, nonNumeric: nonNumeric))
        }
        let plan = try ComparisonPlan.make(reference: reference, current: &current, selection: selection)
        let result = DatasetComparison.compare(plan.inputs, correlation: plan.correlation, settings: settings)
        return CompareReport(result: result, plan: plan, referencePath: referencePath, currentPath: currentPath, settings: settings)
    }

    private static func tableCall<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as TableError { throw CompareError.table(e) }
    }
}
