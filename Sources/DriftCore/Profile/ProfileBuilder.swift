import DriftCapture
import DriftStats

/// Builds a `ReferenceProfile` from a reference table. Column kinds follow the same inference
/// and overrides as `compare`.
public enum ProfileBuilder {
    public static func build(
        table: Table, selection: FeatureSelection,
        sampleCap: Int = ReferenceProfile.defaultSampleCap,
        seed: UInt64 = ReferenceProfile.defaultSeed
    ) throws -> ReferenceProfile {
        if let both = selection.numeric.intersection(selection.categorical).first {
            throw CompareError.conflictingOverride(column: both)
        }
        let names = selection.features ?? table.columnNames
        let unknown = names.filter { table.columnIndex($0) == nil }
        if !unknown.isEmpty { throw CompareError.unknownFeatures(names: unknown, reference: table.source, current: table.source) }
        var numeric: [ReferenceProfile.NumericFeature] = []
        var categorical: [ReferenceProfile.CategoricalFeature] = []
        var columns: [[Double]] = []
        for name in names {
            let c = table.columnIndex(name)!
            let isNumeric =
                selection.numeric.contains(name)
                || (!selection.categorical.contains(name) && table.isNumeric(column: c))
            if isNumeric {
                let values: [Double]
                do { values = try table.numericValues(column: c) } catch let e as TableError { throw CompareError.table(e) }
                let f = ReferenceProfile.numericFeature(name: name, values: values, sampleCap: sampleCap, seed: seed)
                if f.presentCount == 0 { throw CompareError.noValues(file: table.source, column: name, rows: table.rowCount) }
                numeric.append(f)
                columns.append(values)
            } else {
                let s = CategoricalSample(values: table.categoricalValues(column: c))
                if s.presentCount == 0 { throw CompareError.noValues(file: table.source, column: name, rows: table.rowCount) }
                categorical.append(.init(name: name, counts: s.counts, missing: s.missing))
            }
        }
        let matrix = CorrelationSupport.matrix(columns)
        return ReferenceProfile(
            source: table.source, rowCount: table.rowCount, sampleCap: sampleCap, seed: seed,
            numeric: numeric, categorical: categorical,
            correlationNames: matrix == nil ? [] : numeric.map(\.name), correlation: matrix ?? [],
            featureNames: names)
    }
}
