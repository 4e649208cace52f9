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

extension ProfileBuilder {
    /// Builds a profile by streaming a file block by block (`TabularFile.stream`): numeric features into
    /// `NumericFeatureAccumulator`s, categorical ones into counts, and the correlation from every row while the file
    /// has at most `sampleCap` rows (then it is exactly `build(table:)`'s) and from a `CorrelationAccumulator` past
    /// that — so memory is O(features × sample cap) + one block, whatever the file's size. Kinds: `selection`, else
    /// `ColumnTyping` over the first rows; a numeric feature's non-numeric cells are an error naming them (or missing
    /// values, with `nonNumeric: .missing`).
    public static func build(
        path: String, format: TabularFormat?, selection: FeatureSelection,
        sampleCap: Int = ReferenceProfile.defaultSampleCap, seed: UInt64 = ReferenceProfile.defaultSeed,
        nonNumeric: NonNumericPolicy = .error, blockBytes: Int = TableReadOptions.defaultBlockBytes
    ) throws -> ReferenceProfile {
        if let both = selection.numeric.intersection(selection.categorical).first {
            throw CompareError.conflictingOverride(column: both)
        }
        var types: [String: ColumnType] = [:]
        for n in selection.numeric { types[n] = .numeric }
        for n in selection.categorical { types[n] = .text }
        let options = TableReadOptions(
            types: types, only: selection.features.map(Set.init), nonNumeric: nonNumeric, blockBytes: blockBytes)
        var reduction: StreamingProfile?
        do {
            try TabularFile.stream(
                path: path, format: format, options: options,
                columns: { columns in
                    let names = selection.features ?? columns.names
                    let unknown = names.filter { !columns.names.contains($0) }
                    if !unknown.isEmpty { throw CompareError.unknownFeatures(names: unknown, reference: path, current: path) }
                    reduction = StreamingProfile(
                        names: names, columns: columns, sampleCap: sampleCap, seed: seed)
                },
                rows: { block in try reduction!.add(block, policy: nonNumeric) })
        } catch let e as TableError {
            throw CompareError.table(e)
        }
        return try reduction!.finish(source: path, policy: nonNumeric)
    }
}

/// The state of a profile being built from a stream of blocks.
struct StreamingProfile {
    enum Feature {
        case numeric(NumericFeatureAccumulator)
        case categorical(counts: [String: Int], missing: Int)
        /// Typed at the end (no value in the typing rows): its values parsed as numbers so far, and its labels' counts.
        case pending(values: [Double], counts: [String: Int], missing: Int, nonNumeric: Int)
    }
    let names: [String]
    let index: [Int]
    let sampleCap: Int
    let seed: UInt64
    var features: [Feature]
    var rows = 0
    /// Every row's numeric values while the file has at most `sampleCap` rows (for the exact correlation).
    var buffered: [[Double]]
    var correlation: CorrelationAccumulator?
    /// The features (by position in `names`) the correlation covers: those numeric from the start.
    let correlated: [Int]

    init(names: [String], columns: TabularFile.Columns, sampleCap: Int, seed: UInt64) {
        self.names = names
        self.sampleCap = sampleCap
        self.seed = seed
        index = names.map { columns.names.firstIndex(of: $0)! }
        var features: [Feature] = []
        var correlated: [Int] = []
        for (i, c) in index.enumerated() {
            if columns.pending.contains(c) {
                features.append(.pending(values: [], counts: [:], missing: 0, nonNumeric: 0))
            } else if columns.types[c] == .numeric {
                features.append(.numeric(NumericFeatureAccumulator(name: names[i], sampleCap: sampleCap, seed: seed)))
                correlated.append(i)
            } else {
                features.append(.categorical(counts: [:], missing: 0))
            }
        }
        self.features = features
        self.correlated = correlated
        buffered = [[Double]](repeating: [], count: correlated.count)
    }

    mutating func add(_ block: Table, policy: NonNumericPolicy) throws {
        var numericColumns: [[Double]] = []
        for (i, c) in index.enumerated() {
            switch features[i] {
            case .numeric(var acc):
                let values: [Double]
                do { values = try block.numericValues(column: c) } catch let e as TableError { throw CompareError.table(e) }
                features[i] = .categorical(counts: [:], missing: 0)  // (releases the accumulator's storage while it is updated)
                acc.add(values)
                features[i] = .numeric(acc)
                numericColumns.append(values)
            case .categorical(var counts, var missing):
                let block = block.categoryCounts(column: c)
                counts.merge(block.counts, uniquingKeysWith: +)
                missing += block.missing
                features[i] = .categorical(counts: counts, missing: missing)
            case .pending(var values, var counts, var missing, var nonNumeric):
                features[i] = .categorical(counts: [:], missing: 0)
                let labels = block.categoricalValues(column: c)
                for label in labels {
                    guard let label else {
                        values.append(.nan)
                        missing += 1
                        continue
                    }
                    counts[label, default: 0] += 1
                    if let v = NumberText.parse(label) {
                        values.append(v.isFinite ? v : .nan)
                    } else {
                        values.append(.nan)
                        nonNumeric += 1
                    }
                }
                features[i] = .pending(values: values, counts: counts, missing: missing, nonNumeric: nonNumeric)
            }
        }
        rows += block.rowCount
        if correlation == nil && rows <= sampleCap {
            for k in numericColumns.indices { buffered[k].append(contentsOf: numericColumns[k]) }
        } else {
            if correlation == nil {
                var acc = CorrelationAccumulator(dimension: correlated.count)
                acc.add(columns: buffered)
                buffered = []
                correlation = acc
            }
            correlation!.add(columns: numericColumns)
        }
    }

    func finish(source: String, policy: NonNumericPolicy) throws -> ReferenceProfile {
        if rows == 0 { throw CompareError.table(.noRows(file: source)) }
        var numeric: [ReferenceProfile.NumericFeature] = []
        var categorical: [ReferenceProfile.CategoricalFeature] = []
        for (i, feature) in features.enumerated() {
            switch feature {
            case .numeric(let acc):
                if acc.presentCount == 0 { throw CompareError.noValues(file: source, column: names[i], rows: rows) }
                numeric.append(acc.finish())
            case .categorical(let counts, let missing):
                if counts.isEmpty { throw CompareError.noValues(file: source, column: names[i], rows: rows) }
                categorical.append(.init(name: names[i], counts: counts, missing: missing))
            case .pending(let values, let counts, let missing, let nonNumeric):
                let present = rows - missing
                if ColumnTyping.type(present: present, numeric: present - nonNumeric) == .numeric {
                    if nonNumeric > 0 && policy == .error {
                        let examples = counts.keys.filter { NumberText.parse($0) == nil }.sorted().prefix(NonNumericCells.exampleLimit)
                        throw CompareError.table(
                            .nonNumericCells(
                                file: source, column: names[i], count: nonNumeric, rows: rows,
                                examples: examples.map { NonNumericCells.Example(line: 0, text: $0) }))
                    }
                    let f = ReferenceProfile.numericFeature(name: names[i], values: values, sampleCap: sampleCap, seed: seed)
                    if f.presentCount == 0 { throw CompareError.noValues(file: source, column: names[i], rows: rows) }
                    numeric.append(f)
                } else {
                    if counts.isEmpty { throw CompareError.noValues(file: source, column: names[i], rows: rows) }
                    let s = CategoricalSample(counts: counts, missing: missing)
                    categorical.append(.init(name: names[i], counts: s.counts, missing: s.missing))
                }
            }
        }
        let matrix: [Double]?
        let correlatedNames = correlated.map { names[$0] }
        if let correlation { matrix = correlation.matrix() } else { matrix = CorrelationSupport.matrix(buffered) }
        // (numeric features typed at the end are outside the correlation)
        return ReferenceProfile(
            source: source, rowCount: rows, sampleCap: sampleCap, seed: seed, numeric: numeric, categorical: categorical,
            correlationNames: matrix == nil || correlatedNames.count < 2 ? [] : correlatedNames,
            correlation: correlatedNames.count < 2 ? [] : (matrix ?? []), featureNames: names)
    }
}
