import Foundation

/// Everything a comparison needs from a reference, computed once: per numeric feature a sorted
/// sample (all present values up to `sampleCap`, else a uniform reservoir sample), its missing
/// count, full-data count, mean, standard deviation, range and default quantile edges; per
/// categorical feature the category counts; and the reference Pearson correlation matrix of the
/// numeric features. Below the cap, comparing against a profile gives exactly the results of
/// comparing against the raw data.
public struct ReferenceProfile: Sendable, Equatable {
    public static let defaultSampleCap = 200_000
    public static let defaultSeed: UInt64 = 0x5EED_D21F

    public struct NumericFeature: Sendable, Equatable, Codable {
        public var name: String
        public var sample: [Double]
        public var missing: Int
        public var presentCount: Int
        public var mean: Double
        public var standardDeviation: Double
        public var minimum: Double
        public var maximum: Double
        /// The interior edges of `defaultBins` quantile bins of `sample` (`Bins.quantile(sortedReference:bins:)`).
        public var quantileEdges: [Double]
        /// The sample's count in each of those bins (`quantileEdges.count + 1` of them, stored in the profile so that a
        /// comparison with the same bins does not recount the reference; empty when not computed).
        public var quantileCounts: [Int] = []

        /// The sample for a comparison, carrying the stored default quantile bins when they belong to this sample.
        public var asSample: NumericSample {
            var s = NumericSample(sorted: sample, missing: missing, presentCount: presentCount, standardDeviation: standardDeviation)
            if quantileCounts.count == quantileEdges.count + 1 {
                s.knownQuantileBins = QuantileBins(bins: ReferenceProfile.defaultBins, edges: quantileEdges, counts: quantileCounts)
            }
            return s
        }

        /// The edges and counts of the default quantile bins: the stored ones when complete, else computed.
        public var referenceQuantileBins: (edges: [Double], counts: [Int]) {
            if quantileCounts.count == quantileEdges.count + 1 { return (quantileEdges, quantileCounts) }
            let edges = Self.defaultQuantileEdges(sortedSample: sample)
            return (edges, Bins(edges: edges, layout: .openEnded).counts(sorted: sample))
        }

        /// `Bins.quantile(sortedReference:bins:)` edges for `ReferenceProfile.defaultBins` bins (none for an empty sample).
        public static func defaultQuantileEdges(sortedSample: [Double]) -> [Double] {
            sortedSample.isEmpty ? [] : Bins.quantile(sortedReference: sortedSample, bins: ReferenceProfile.defaultBins).edges
        }
    }

    public struct CategoricalFeature: Sendable, Equatable, Codable {
        public var name: String
        public var counts: [String: Int]
        public var missing: Int
        public var asSample: CategoricalSample { CategoricalSample(counts: counts, missing: missing) }

        public init(name: String, counts: [String: Int], missing: Int) {
            self.name = name
            self.counts = counts
            self.missing = missing
        }
    }

    public var source: String
    public var rowCount: Int
    public var sampleCap: Int
    public var seed: UInt64
    public var numeric: [NumericFeature]
    public var categorical: [CategoricalFeature]
    /// Names (numeric features, in order) and row-major matrix, from rows with all of them present.
    /// Tensor features' references (stored beside the profile format, not in it).
    public var tensors: [TensorReference] = []
    public var correlationNames: [String]
    public var correlation: [Double]

    public static let defaultBins = 10

    public init(
        source: String, rowCount: Int, sampleCap: Int, seed: UInt64, numeric: [NumericFeature],
        categorical: [CategoricalFeature], correlationNames: [String], correlation: [Double],
        featureNames: [String]? = nil
    ) {
        self.featureNames = featureNames ?? numeric.map(\.name) + categorical.map(\.name)
        self.source = source
        self.rowCount = rowCount
        self.sampleCap = sampleCap
        self.seed = seed
        self.numeric = numeric
        self.categorical = categorical
        self.correlationNames = correlationNames
        self.correlation = correlation
    }

    /// Builds the numeric part of a profile from raw values (NaN/±Inf = missing).
    public static func numericFeature(name: String, values: [Double], sampleCap: Int, seed: UInt64) -> NumericFeature {
        var accumulator = NumericFeatureAccumulator(name: name, sampleCap: sampleCap, seed: seed)
        accumulator.add(values)
        return accumulator.finish()
    }

    public func numericFeature(named name: String) -> NumericFeature? { numeric.first { $0.name == name } }
    public func categoricalFeature(named name: String) -> CategoricalFeature? { categorical.first { $0.name == name } }
    /// Feature names in the reference's column order.
    public var featureNames: [String]
}

extension String {
    /// FNV-1a of the UTF-8 bytes: a hash that is the same in every process (Swift's is seeded).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
