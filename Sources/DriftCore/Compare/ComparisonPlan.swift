import DriftCapture
import DriftCommon
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
        var current = current
        return try make(reference: reference, current: &current, selection: selection)
    }

    /// As `make(reference:current:selection:)`, taking the current numeric columns out of `current` (they become
    /// skipped columns) so that each is compacted and sorted in its own storage: with 10⁶ rows × 100 features the
    /// 800 MB of values are held once, not twice.
    public static func make(reference: ReferenceSource, current: inout Table, selection: FeatureSelection) throws -> ComparisonPlan {
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
        if let requested = selection.features {
            let unknown = requested.filter { !refSet.contains($0) && !curSet.contains($0) }
            if !unknown.isEmpty {
                throw CompareError.unknownFeatures(names: unknown, reference: reference.path, current: current.source)
            }
        }
        let wanted = Self.wanted(refNames: refNames, curNames: curNames, selection: selection)
        let scope = Set(selection.features ?? refNames + curNames)
        let onlyRef = refNames.filter { !curSet.contains($0) && scope.contains($0) }
        let onlyCur = curNames.filter { !refSet.contains($0) && scope.contains($0) }
        if wanted.isEmpty { throw CompareError.noCommonFeatures(reference: reference.path, current: current.source) }

        var inputs: [FeatureInput] = []
        var numericNames: [String] = []
        var refColumns: [[Double]] = []
        var curColumns: [[Double]] = []
        var unsorted: [(input: Int, column: Int)] = []
        for name in wanted {
            let c = current.columnIndex(name)!
            let kind = try resolveKind(name, reference: reference, current: current, column: c, selection: selection)
            switch kind {
            case .tensor: continue  // files hold scalar columns; tensors come from the serving path
            case .numeric:
                let curValues = try tableCall { try current.numericValues(column: c) }
                let present = curValues.reduce(0) { $0 + ($1.isFinite ? 1 : 0) }
                try requireValues(present, file: current.source, column: name, rows: current.rowCount)
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
                // (the current sample is sorted below, all features at once)
                unsorted.append((inputs.count, c))
                inputs.append(.numeric(name: name, reference: ref, current: ref))
                numericNames.append(name)
                curColumns.append(curValues)
            case .categorical:
                let counted = current.categoryCounts(column: c)
                let cur = CategoricalSample(counts: counted.counts, missing: counted.missing)
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
        // the correlation covers the numeric features the reference's matrix has (a profile leaves out a column it
        // typed only at the end)
        let refCorrelation: [Double]?
        var covered = Array(numericNames.indices)
        switch reference {
        case .table: refCorrelation = CorrelationSupport.matrix(refColumns)
        case .profile(let p, _):
            let inMatrix = Set(p.correlationNames)
            covered = covered.filter { inMatrix.contains(numericNames[$0]) }
            refCorrelation = CorrelationSupport.submatrix(p.correlation, names: p.correlationNames, keep: covered.map { numericNames[$0] })
        }
        var correlation: CorrelationDrift? = nil
        if let r = refCorrelation, let c = CorrelationSupport.matrix(covered.count == curColumns.count ? curColumns : covered.map { curColumns[$0] })
        {
            correlation = CorrelationDrift.between(reference: r, current: c, names: covered.map { numericNames[$0] })
        }
        curColumns = []
        // the current numeric samples: each column taken out of the table and sorted in place, in parallel
        let boxes = try unsorted.map { u -> ColumnBox in
            let box = ColumnBox(try tableCall { try current.numericValues(column: u.column) })
            current.columns[u.column].storage = .skipped
            return box
        }
        let sorted = ParallelMap.map(boxes) { box in
            var values: [Double] = []
            swap(&values, &box.values)
            return NumericSample(sortingInPlace: &values, parallelSort: boxes.count < 2)
        }
        for (k, u) in unsorted.enumerated() {
            if case .numeric(let name, let ref, _) = inputs[u.input] { inputs[u.input] = .numeric(name: name, reference: ref, current: sorted[k]) }
        }
        return ComparisonPlan(inputs: inputs, onlyInReference: onlyRef, onlyInCurrent: onlyCur, correlation: correlation)
    }

    /// The features compared: those named by `selection` (or every reference column) that both sides have.
    public static func wanted(refNames: [String], curNames: [String], selection: FeatureSelection) -> [String] {
        let refSet = Set(refNames)
        let curSet = Set(curNames)
        return (selection.features ?? refNames).filter { refSet.contains($0) && curSet.contains($0) }
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

/// One column handed to exactly one parallel iteration, which takes its values (so they are sorted in place).
private final class ColumnBox: @unchecked Sendable {
    var values: [Double]
    init(_ values: [Double]) { self.values = values }
}

/// Correlation matrices over the rows where every numeric feature is present.
enum CorrelationSupport {
    /// Up to `exactCells` values: `Correlation.completeCaseMatrix` (exactly numpy's result). Larger tables (a current
    /// file of 10⁶ rows × 100 features) are added 65,536 rows at a time to a `CorrelationAccumulator`, so the centred
    /// copy is one range, not another 800 MB; equal to the exact matrix to rounding (~1e-15).
    static func matrix(_ columns: [[Double]]) -> [Double]? {
        guard columns.count >= 2, let n = columns.first?.count else { return nil }
        guard n.multipliedReportingOverflow(by: columns.count).partialValue > exactCells else {
            return Correlation.completeCaseMatrix(columns: columns)
        }
        var accumulator = CorrelationAccumulator(dimension: columns.count)
        for start in stride(from: 0, to: n, by: 65_536) { accumulator.add(columns: columns, rows: start..<min(n, start + 65_536)) }
        return accumulator.matrix()
    }

    static let exactCells = 1 << 23

    static func submatrix(_ m: [Double], names: [String], keep: [String]) -> [Double]? {
        let p = names.count
        let idx = keep.compactMap { names.firstIndex(of: $0) }
        guard idx.count == keep.count, keep.count >= 2, m.count == p * p else { return nil }
        var out: [Double] = []
        for i in idx { for j in idx { out.append(m[i * p + j]) } }
        return out
    }
}
