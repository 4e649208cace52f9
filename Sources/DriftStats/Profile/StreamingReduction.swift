import COpenBLAS

/// A numeric feature's profile built from a stream of value chunks, in file order: a uniform reservoir sample of at
/// most `sampleCap` present values (Vitter's Algorithm R, seeded per feature), the missing count, sum, range, and the
/// variance by merging each chunk's centred sum of squares (Chan, Golub & LeVeque 1979). Fed the whole column as one
/// chunk it is `ReferenceProfile.numericFeature(name:values:sampleCap:seed:)`; below the cap the result does not
/// depend on how the column was chunked (the sample is every value, sorted; the standard deviation is computed from
/// it exactly as a raw comparison computes it).
public struct NumericFeatureAccumulator: Sendable {
    public let name: String
    public let sampleCap: Int
    private var reservoir: Reservoir<Double>
    private var missing = 0
    private var present = 0
    private var sum = 0.0
    private var lo = Double.infinity
    private var hi = -Double.infinity
    /// Σ(v − mean)² over the present values so far (merged chunk by chunk).
    private var m2 = 0.0

    public init(name: String, sampleCap: Int, seed: UInt64) {
        self.name = name
        self.sampleCap = sampleCap
        reservoir = Reservoir<Double>(capacity: sampleCap, seed: seed ^ UInt64(truncatingIfNeeded: name.hashValueStable))
    }

    /// Adds a chunk of values (NaN/±Inf = missing).
    public mutating func add(_ values: [Double]) {
        values.withUnsafeBufferPointer { add($0) }
    }

    /// Adds a chunk of values (NaN/±Inf = missing).
    public mutating func add(_ values: UnsafeBufferPointer<Double>) {
        var n = 0
        var chunkSum = 0.0
        var low = lo
        var high = hi
        var total = sum  // summed value by value over the whole stream, as the whole column would be
        for v in values where v.isFinite {
            total += v
            chunkSum += v
            low = min(low, v)
            high = max(high, v)
            n += 1
        }
        missing += values.count - n
        guard n > 0 else { return }
        lo = low
        hi = high
        if n == values.count {
            reservoir.add(contentsOf: values)
        } else {
            let finite = values.filter(\.isFinite)
            finite.withUnsafeBufferPointer { reservoir.add(contentsOf: $0) }
        }
        sum = total
        let chunkMean = chunkSum / Double(n)
        var chunkM2 = 0.0
        for v in values where v.isFinite { chunkM2 += (v - chunkMean) * (v - chunkMean) }
        if present == 0 {
            m2 = chunkM2
        } else {
            let meanSoFar = (sum - chunkSum) / Double(present)
            let delta = chunkMean - meanSoFar
            m2 += chunkM2 + delta * delta * Double(present) * Double(n) / Double(present + n)
        }
        present += n
    }

    public var presentCount: Int { present }

    public func finish() -> ReferenceProfile.NumericFeature {
        let mean = present > 0 ? sum / Double(present) : .nan
        var sample = reservoir.items
        FastSort.sort(&sample)
        // Below the cap, use exactly the computation a raw comparison uses, so results are identical.
        let std =
            present <= sampleCap
            ? Distances.standardDeviation(sample)
            : (present > 0 ? (m2 / Double(present)).squareRoot() : .nan)
        let edges = ReferenceProfile.NumericFeature.defaultQuantileEdges(sortedSample: sample)
        return ReferenceProfile.NumericFeature(
            name: name, sample: sample, missing: missing, presentCount: present, mean: mean, standardDeviation: std,
            minimum: lo, maximum: hi, quantileEdges: edges, quantileCounts: Bins(edges: edges, layout: .openEnded).counts(sorted: sample))
    }
}

/// The Pearson correlation matrix of p columns over the rows where all are finite, from a stream of row chunks:
/// each chunk's complete rows centred on the chunk's means, their cross-products formed by `cblas_dsyrk`, and the
/// chunks' co-moment matrices merged pairwise (Chan et al.'s update, Mᴬᴮ = Mᴬ + Mᴮ + δδᵀ·nᴬnᴮ/n), so memory is p² +
/// one chunk. r = Mᵢⱼ/√(MᵢᵢMⱼⱼ) normalised as `Correlation.matrix` does.
public struct CorrelationAccumulator: Sendable {
    public let dimension: Int
    public private(set) var rows = 0
    private var mean: [Double]
    /// Column-major p×p, upper triangle.
    private var comoment: [Double]
    /// Scratch for one chunk's centred rows (column-major, n×p), reused by the next chunk.
    private var workspace: [Double] = []

    public init(dimension p: Int) {
        dimension = p
        mean = [Double](repeating: 0, count: p)
        comoment = [Double](repeating: 0, count: p * p)
    }

    /// Adds the rows of equally long columns (one per dimension) where every column is finite.
    public mutating func add(columns: [[Double]]) {
        guard let total = columns.first?.count else { return }
        add(columns: columns, rows: 0..<total)
    }

    /// Adds the rows `rows` of equally long columns (one per dimension) where every column is finite; only those rows
    /// are copied (centred), so a large table is added in bounded memory a range at a time.
    public mutating func add(columns: [[Double]], rows range: Range<Int>) {
        let p = dimension
        guard p > 0, columns.count == p, !range.isEmpty else { return }
        var complete = [Bool](repeating: true, count: range.count)
        for col in columns {
            col.withUnsafeBufferPointer { c in
                for i in range where !c[i].isFinite { complete[i - range.lowerBound] = false }
            }
        }
        let n = complete.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard n > 0 else { return }
        var chunkMean = [Double](repeating: 0, count: p)
        // the centred rows go into a workspace kept from chunk to chunk (every cell used is written below): a fresh
        // n×p array per chunk was page faults and zeroing of ~50 MB each time
        if workspace.count < n * p { workspace = [Double](repeating: 0, count: n * p) }
        var x: [Double] = []
        swap(&x, &workspace)
        defer { swap(&x, &workspace) }
        let allComplete = n == range.count
        x.withUnsafeMutableBufferPointer { xb in
            complete.withUnsafeBufferPointer { keep in
                for (j, col) in columns.enumerated() {
                    col.withUnsafeBufferPointer { c in
                        let out = xb.baseAddress! + j * n
                        let lower = range.lowerBound
                        var s = 0.0
                        if allComplete {
                            for i in range { s += c[i] }
                        } else {
                            for i in range where keep[i - lower] { s += c[i] }
                        }
                        let m = s / Double(n)
                        chunkMean[j] = m
                        if allComplete {
                            for i in range { out[i - lower] = c[i] - m }
                        } else {
                            var k = 0
                            for i in range where keep[i - lower] {
                                out[k] = c[i] - m
                                k += 1
                            }
                        }
                    }
                }
            }
        }
        var c = [Double](repeating: 0, count: p * p)
        x.withUnsafeBufferPointer { xp in
            c.withUnsafeMutableBufferPointer { cp in
                cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, Int32(p), Int32(n), 1.0, xp.baseAddress, Int32(n), 0.0, cp.baseAddress, Int32(p))
            }
        }
        if rows == 0 {
            comoment = c
            mean = chunkMean
        } else {
            let na = Double(rows)
            let nb = Double(n)
            let weight = na * nb / (na + nb)
            let delta = (0..<p).map { chunkMean[$0] - mean[$0] }
            for j in 0..<p {
                for i in 0...j { comoment[j * p + i] += c[j * p + i] + delta[i] * delta[j] * weight }
            }
            for j in 0..<p { mean[j] += delta[j] * nb / (na + nb) }
        }
        rows += n
    }

    /// Frees the chunk workspace (after a large one-off chunk, so it is not kept for the rest of a stream).
    public mutating func releaseWorkspace() { workspace = [] }

    /// The row-major correlation matrix, nil with fewer than 3 complete rows.
    public func matrix() -> [Double]? {
        guard rows >= 3 else { return nil }
        return Correlation.normalize(comoment, dimension: dimension)
    }
}
