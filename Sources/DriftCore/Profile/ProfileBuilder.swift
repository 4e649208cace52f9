import DriftCapture
import DriftCommon
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

/// One block's work for one numeric accumulator or for the correlation, owned by one `ParallelMap` iteration (a class:
/// the state is moved in and out, never copied).
private final class ReductionJob: @unchecked Sendable {
    let feature: Int
    var accumulator: NumericFeatureAccumulator?
    let tally: StreamingProfile.Tally
    var values: [Double]
    var correlation: CorrelationAccumulator?
    var columns: [[Double]]

    init(feature: Int, accumulator: NumericFeatureAccumulator, tally: StreamingProfile.Tally, values: [Double]) {
        self.feature = feature
        self.accumulator = accumulator
        self.tally = tally
        self.values = values
        columns = []
    }

    init(correlation: CorrelationAccumulator, columns: [[Double]]) {
        feature = -1
        tally = StreamingProfile.Tally()
        values = []
        self.correlation = correlation
        self.columns = columns
    }

    func run() {
        accumulator?.add(values)
        correlation?.add(columns: columns)
        values = []
        columns = []
    }
}

/// The state of a profile being built from a stream of blocks.
struct StreamingProfile {
    /// A numeric column's non-numeric cells over the whole file: how many, and the first few with their lines.
    struct Tally {
        var count = 0
        var examples: [NonNumericCells.Example] = []
        mutating func add(_ cells: NonNumericCells) {
            count += cells.count
            for e in cells.examples where examples.count < NonNumericCells.exampleLimit && !e.text.isEmpty { examples.append(e) }
        }
        mutating func add(line: Int, text: String) {
            count += 1
            if examples.count < NonNumericCells.exampleLimit { examples.append(.init(line: line, text: text)) }
        }
    }

    /// A column with no value in the typing rows, typed at the end by `ColumnTyping` over all its cells (as
    /// `TabularFile.read` types it): fed to a numeric accumulator (its non-numbers as missing) and, while it might
    /// still be labels, to category counts (dropped past `maxPendingLabels` distinct labels when it looks numeric).
    struct Pending {
        var numeric: NumericFeatureAccumulator
        var counts: [String: Int]? = [:]
        var categoricalMissing = 0
        var present = 0
        var numbers = 0
        var bad = Tally()
    }
    static let maxPendingLabels = 100_000

    enum Feature {
        case numeric(NumericFeatureAccumulator, Tally)
        case categorical(counts: [String: Int], missing: Int)
        case pending(Pending)
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
    /// The features (by position in `names`) the correlation covers: those numeric from the start (a column typed at
    /// the end is left out of the correlation matrix).
    let correlated: [Int]

    init(names: [String], columns: TabularFile.Columns, sampleCap: Int, seed: UInt64) {
        self.names = names
        self.sampleCap = sampleCap
        self.seed = seed
        index = names.map { columns.names.firstIndex(of: $0)! }
        var features: [Feature] = []
        var correlated: [Int] = []
        for (i, c) in index.enumerated() {
            let accumulator = NumericFeatureAccumulator(name: names[i], sampleCap: sampleCap, seed: seed)
            if columns.pending.contains(c) {
                features.append(.pending(Pending(numeric: accumulator)))
            } else if columns.types[c] == .numeric {
                features.append(.numeric(accumulator, Tally()))
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
        var lenient = block
        lenient.nonNumericPolicy = .missing  // non-numeric cells are tallied over the whole file, judged at the end
        var numericColumns: [[Double]] = []
        // the numeric accumulators (and the correlation) are fed on all cores after this loop, each moved into a box
        // that one iteration owns (moved, not copied: a copy would duplicate the reservoir)
        var jobs: [ReductionJob] = []
        for (i, c) in index.enumerated() {
            switch features[i] {
            case .numeric(let acc, var tally):
                let values: [Double]
                do { values = try lenient.numericValues(column: c) } catch let e as TableError { throw CompareError.table(e) }
                features[i] = .categorical(counts: [:], missing: 0)  // until the job hands the accumulator back
                tally.add(block.columns[c].nonNumeric)
                jobs.append(ReductionJob(feature: i, accumulator: acc, tally: tally, values: values))
                numericColumns.append(values)
            case .categorical(var counts, var missing):
                let block = block.categoryCounts(column: c)
                features[i] = .categorical(counts: [:], missing: 0)
                counts.merge(block.counts, uniquingKeysWith: +)
                missing += block.missing
                features[i] = .categorical(counts: counts, missing: missing)
            case .pending(var p):
                features[i] = .categorical(counts: [:], missing: 0)
                var values = [Double]()
                values.reserveCapacity(block.rowCount)
                for r in 0..<block.rowCount {
                    guard let label = block.text(column: c, row: r) else {
                        values.append(.nan)
                        p.categoricalMissing += 1
                        continue
                    }
                    p.present += 1
                    if let v = NumberText.parse(label) {
                        p.numbers += 1
                        values.append(v.isFinite ? v : .nan)
                        if !v.isFinite {
                            p.categoricalMissing += 1
                            continue
                        }
                    } else {
                        values.append(.nan)
                        p.bad.add(line: block.lines[r], text: label)
                    }
                    if p.counts != nil {
                        p.counts![label, default: 0] += 1
                        if p.counts!.count > Self.maxPendingLabels && ColumnTyping.type(present: p.present, numeric: p.numbers) == .numeric {
                            p.counts = nil
                        }
                    }
                }
                p.numeric.add(values)
                features[i] = .pending(p)
            }
        }
        rows += block.rowCount
        var correlationJob: ReductionJob? = nil
        if correlation == nil && rows <= sampleCap {
            for k in numericColumns.indices { buffered[k].append(contentsOf: numericColumns[k]) }
        } else {
            var acc = correlation ?? CorrelationAccumulator(dimension: correlated.count)
            correlation = nil
            if !buffered.isEmpty {
                acc.add(columns: buffered)
                acc.releaseWorkspace()  // sampleCap rows' worth: not kept for the blocks that follow
                buffered = []
            }
            correlationJob = ReductionJob(correlation: acc, columns: numericColumns)
        }
        numericColumns = []
        _ = ParallelMap.map(jobs + (correlationJob.map { [$0] } ?? [])) { $0.run() }
        for job in jobs {
            features[job.feature] = .numeric(job.accumulator!, job.tally)
        }
        if let correlationJob { correlation = correlationJob.correlation }
    }

    func finish(source: String, policy: NonNumericPolicy) throws -> ReferenceProfile {
        if rows == 0 { throw CompareError.table(.noRows(file: source)) }
        func check(_ tally: Tally, _ name: String) throws {
            if tally.count > 0 && policy == .error {
                throw CompareError.table(.nonNumericCells(file: source, column: name, count: tally.count, rows: rows, examples: tally.examples))
            }
        }
        var finishing: [NumericFeatureAccumulator] = []  // sorted and binned on all cores below
        var categorical: [ReferenceProfile.CategoricalFeature] = []
        for (i, feature) in features.enumerated() {
            switch feature {
            case .numeric(let acc, let tally):
                try check(tally, names[i])
                if acc.presentCount == 0 { throw CompareError.noValues(file: source, column: names[i], rows: rows) }
                finishing.append(acc)
            case .categorical(let counts, let missing):
                if counts.isEmpty { throw CompareError.noValues(file: source, column: names[i], rows: rows) }
                categorical.append(.init(name: names[i], counts: counts, missing: missing))
            case .pending(let p):
                if ColumnTyping.type(present: p.present, numeric: p.numbers) == .numeric {
                    try check(p.bad, names[i])
                    if p.numeric.presentCount == 0 { throw CompareError.noValues(file: source, column: names[i], rows: rows) }
                    finishing.append(p.numeric)
                } else {
                    guard let counts = p.counts else {
                        throw CompareError.table(
                            .unreadable(
                                file: source,
                                reason:
                                    "column '\(names[i])' has more than \(Self.maxPendingLabels) distinct values and is mostly but not all numbers; name it with --numeric or --categorical"
                            ))
                    }
                    if counts.isEmpty { throw CompareError.noValues(file: source, column: names[i], rows: rows) }
                    categorical.append(.init(name: names[i], counts: counts, missing: p.categoricalMissing))
                }
            }
        }
        let matrix: [Double]?
        let correlatedNames = correlated.map { names[$0] }
        let numeric = ParallelMap.map(finishing) { $0.finish() }
        if let correlation { matrix = correlation.matrix() } else { matrix = CorrelationSupport.matrix(buffered) }
        return ReferenceProfile(
            source: source, rowCount: rows, sampleCap: sampleCap, seed: seed, numeric: numeric, categorical: categorical,
            correlationNames: matrix == nil || correlatedNames.count < 2 ? [] : correlatedNames,
            correlation: correlatedNames.count < 2 ? [] : (matrix ?? []), featureNames: names)
    }
}
