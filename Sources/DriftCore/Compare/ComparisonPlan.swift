import DriftCapture
import DriftStats

/// The features to compare with their data, plus what was left out and why.
public struct ComparisonPlan: Sendable {
    public var inputs: [FeatureInput]
    public var onlyInReference: [String]
    public var onlyInCurrent: [String]
    public var correlation: CorrelationDrift?

    /// Resolves the feature list and kinds, extracts both sides' values and the correlation
    /// matrices. Throws `CompareError` for bad input.
    public static func make(reference: ReferenceSource, current: Table, selection: FeatureSelection) throws -> ComparisonPlan {
        if let both = selection.numeric.intersection(selection.categorical).first {
            throw CompareError.conflictingOverride(column: both)
        }
        let refNames: [String]
        switch reference {
        case .table(let t): refNames = t.columnNames
        case .profile(let p, _): refNames = p.featureNames
        }
        let curNames = current.columnNames
        let refSet = Set(refNames)
        let curSet = Set(curNames)
        var wanted = selection.features ?? refNames.filter { curSet.contains($0) }
        if let requested = selection.features {
            let unknown = requested.filter { !refSet.contains($0) && !curSet.contains($0) }
            if !unknown.isEmpty {
                throw CompareError.unknownFeatures(names: unknown, reference: reference.path, current: current.source)
            }
            wanted = requested.filter { refSet.contains($0) && curSet.contains($0) }
        }
        let scope = Set(selection.features ?? refNames + curNames)
        let onlyRef = refNames.filter { !curSet.contains($0) && scope.contains($0) }
        let onlyCur = curNames.filter { !refSet.contains($0) && scope.contains($0) }
        if wanted.isEmpty { throw CompareError.noCommonFeatures(reference: reference.path, current: current.source) }

        var inputs: [FeatureInput] = []
        var numericNames: [String] = []
        var refColumns: [[Double]] = []
        var curColumns: [[Double]] = []
        for name in wanted {
            let c = current.columnIndex(name)!
            let kind = try resolveKind(name, reference: reference, current: current, column: c, selection: selection)
            switch kind {
            case .tensor: continue  // files hold scalar columns; tensors come from the serving path
            case .numeric:
                let curValues = try tableCall { try current.numericValues(column: c) }
                let cur = NumericSample(values: curValues)
                try requireValues(cur.sorted.count, file: current.source, column: name, rows: current.rowCount)
                let ref: NumericSample
                switch reference {
                case .table(let t):
                    let values = try tableCall { try t.numericValues(column: t.columnIndex(name)!) }
                    ref = NumericSample(values: values)
                    try requireValues(ref.sorted.count, file: t.source, column: name, rows: t.rowCount)
                    refColumns.append(values)
                case .profile(let p, let path):
                    let f = p.numericFeature(named: name)!
                    try requireValues(f.sample.count, file: path, column: name, rows: p.rowCount)
                    ref = f.asSample
                }
                inputs.append(.numeric(name: name, reference: ref, current: cur))
                numericNames.append(name)
                curColumns.append(curValues)
            case .categorical:
                let cur = CategoricalSample(values: current.categoricalValues(column: c))
                try requireValues(cur.presentCount, file: current.source, column: name, rows: current.rowCount)
                let ref: CategoricalSample
                switch reference {
                case .table(let t):
                    ref = CategoricalSample(values: t.categoricalValues(column: t.columnIndex(name)!))
                    try requireValues(ref.presentCount, file: t.source, column: name, rows: t.rowCount)
                case .profile(let p, let path):
                    ref = p.categoricalFeature(named: name)!.asSample
                    try requireValues(ref.presentCount, file: path, column: name, rows: p.rowCount)
                }
                inputs.append(.categorical(name: name, reference: ref, current: cur))
            }
        }
        let refCorrelation: [Double]?
        switch reference {
        case .table: refCorrelation = CorrelationSupport.matrix(refColumns)
        case .profile(let p, _): refCorrelation = CorrelationSupport.submatrix(p.correlation, names: p.correlationNames, keep: numericNames)
        }
        var correlation: CorrelationDrift? = nil
        if let r = refCorrelation, let c = CorrelationSupport.matrix(curColumns) {
            correlation = CorrelationDrift.between(reference: r, current: c, names: numericNames)
        }
        return ComparisonPlan(inputs: inputs, onlyInReference: onlyRef, onlyInCurrent: onlyCur, correlation: correlation)
    }

    private static func tableCall<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as TableError { throw CompareError.table(e) }
    }

    private static func requireValues(_ n: Int, file: String, column: String, rows: Int) throws {
        if n == 0 { throw CompareError.noValues(file: file, column: column, rows: rows) }
    }

    private static func resolveKind(
        _ name: String, reference: ReferenceSource, current: Table, column c: Int,
        selection: FeatureSelection
    ) throws -> FeatureKind {
        let requested: FeatureKind? =
            selection.numeric.contains(name)
            ? .numeric
            : selection.categorical.contains(name) ? .categorical : nil
        switch reference {
        case .profile(let p, let path):
            let stored: FeatureKind = p.numericFeature(named: name) != nil ? .numeric : .categorical
            if let requested, requested != stored {
                throw CompareError.kindConflict(file: path, column: name, stored: stored.rawValue, requested: requested.rawValue)
            }
            return stored
        case .table(let t):
            if let requested { return requested }
            let r = t.columnIndex(name)!
            return t.isNumeric(column: r) && current.isNumeric(column: c) ? .numeric : .categorical
        }
    }
}

/// Correlation matrices over the rows where every numeric feature is present.
enum CorrelationSupport {
    static func matrix(_ columns: [[Double]]) -> [Double]? {
        Correlation.completeCaseMatrix(columns: columns)
    }

    static func submatrix(_ m: [Double], names: [String], keep: [String]) -> [Double]? {
        let p = names.count
        let idx = keep.compactMap { names.firstIndex(of: $0) }
        guard idx.count == keep.count, keep.count >= 2, m.count == p * p else { return nil }
        var out: [Double] = []
        for i in idx { for j in idx { out.append(m[i * p + j]) } }
        return out
    }
}
