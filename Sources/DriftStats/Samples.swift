/// The kind of a feature.
/// `tensor`: a fixed-shape array of numbers per event (an embedding), tested through projections (`TensorDrift`).
public enum FeatureKind: String, Sendable, Codable { case numeric, categorical, tensor }

/// One side's values of a numeric feature: the present values ascending, and how many were
/// missing (empty, NaN, ±Inf).
public struct NumericSample: Sendable, Equatable {
    public var sorted: [Double]
    public var missing: Int
    /// Present values in the full data (greater than `sorted.count` when a profile capped it).
    public var presentCount: Int
    /// Population standard deviation of the full data's present values, when known (a profile
    /// stores it); otherwise computed from `sorted` on demand.
    public var knownStandardDeviation: Double?
    /// Quantile bins of `sorted` with its counts per bin, when known (a profile stores them for its default bin
    /// count); a comparison with the same quantile binning uses them instead of recounting.
    public var knownQuantileBins: QuantileBins?

    public init(sorted: [Double], missing: Int, presentCount: Int? = nil, standardDeviation: Double? = nil) {
        self.sorted = sorted
        self.missing = missing
        self.presentCount = presentCount ?? sorted.count
        self.knownStandardDeviation = standardDeviation
    }

    /// The population standard deviation (ddof = 0) used to normalise the Wasserstein distance.
    public var standardDeviation: Double { knownStandardDeviation ?? Distances.standardDeviation(sorted) }

    /// Builds a sample from raw values taken out of `values` (left empty), treating NaN and ±Inf as missing: the
    /// present values are compacted and sorted in the array's own storage, so nothing is copied when the caller held
    /// its only reference. The same sample as `init(values:)`. `parallelSort`: false when the caller already builds
    /// several samples side by side (see `FastSort.sort(_:parallel:)`).
    public init(sortingInPlace values: inout [Double], parallelSort: Bool = true) {
        var v: [Double] = []
        swap(&v, &values)
        var kept = 0
        v.withUnsafeMutableBufferPointer { b in
            for i in b.indices where b[i].isFinite {
                b[kept] = b[i]
                kept += 1
            }
        }
        let missing = v.count - kept
        v.removeLast(missing)
        FastSort.sort(&v, parallel: parallelSort)
        self.init(sorted: v, missing: missing)
    }

    /// Builds a sample from raw values, treating NaN and ±Inf as missing.
    public init(values: [Double]) {
        var present = values.allSatisfy(\.isFinite) ? values : values.filter(\.isFinite)
        let missing = values.count - present.count
        FastSort.sort(&present)
        self.init(sorted: present, missing: missing)
    }
}

/// `bins` quantile bins of a sorted sample — exactly `Bins.quantile(sortedReference:bins:)` — and the sample's
/// count in each (`edges.count + 1` of them).
public struct QuantileBins: Sendable, Equatable {
    public var bins: Int
    public var edges: [Double]
    public var counts: [Int]

    public init(bins: Int, edges: [Double], counts: [Int]) {
        self.bins = bins
        self.edges = edges
        self.counts = counts
    }
}

/// One side's values of a categorical feature: counts per category and the missing count.
public struct CategoricalSample: Sendable, Equatable {
    public var counts: [String: Int]
    public var missing: Int
    public var presentCount: Int { counts.values.reduce(0, +) }

    public init(counts: [String: Int], missing: Int) {
        self.counts = counts
        self.missing = missing
    }

    public init(values: [String?]) {
        var counts: [String: Int] = [:]
        var missing = 0
        for v in values {
            if let v { counts[v, default: 0] += 1 } else { missing += 1 }
        }
        self.init(counts: counts, missing: missing)
    }
}
