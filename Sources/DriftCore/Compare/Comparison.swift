import DriftCapture
import DriftStats

/// The whole `compare` job: load both sides, plan, compute, and report.
public enum Comparison {
    public static func run(
        referencePath: String, currentPath: String, format: TabularFormat?,
        selection: FeatureSelection, settings: DriftSettings
    ) throws -> CompareReport {
        let reference = try ReferenceSource.load(path: referencePath, format: format)
        let current: Table
        do { current = try TabularFile.read(path: currentPath, format: format) } catch let e as TableError {
            throw CompareError.table(e)
        }
        let plan = try ComparisonPlan.make(reference: reference, current: current, selection: selection)
        let result = DatasetComparison.compare(plan.inputs, correlation: plan.correlation, settings: settings)
        return CompareReport(result: result, plan: plan, referencePath: referencePath, currentPath: currentPath, settings: settings)
    }
}
