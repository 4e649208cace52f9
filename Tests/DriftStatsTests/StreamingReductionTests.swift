import DriftStats
import Testing

/// The streaming reductions behind `profile` and large correlations: fed in pieces they give the whole-data figures
/// (exactly below the cap for a numeric feature; to rounding for merged variances and co-moments).
@Suite("Streaming reductions")
struct StreamingReductionTests {
    static func columns(rows: Int, seed: UInt64) -> [[Double]] {
        var rng = SplitMix64(seed: seed)
        func u() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        var cols = [[Double]](repeating: [], count: 5)
        for i in 0..<rows {
            let a = u() * 10 - 5
            let b = a * 0.7 + u()
            cols[0].append(a)
            cols[1].append(b)
            cols[2].append(u() * 1e6)
            cols[3].append(i % 97 == 0 ? .nan : -b + u() * 0.1)
            cols[4].append(i % 211 == 0 ? .infinity : u())
        }
        return cols
    }

    @Test func aCorrelationAddedRangeByRangeIsTheWholeTablesToRounding() throws {
        let cols = Self.columns(rows: 20_000, seed: 7)
        let exact = try #require(Correlation.completeCaseMatrix(columns: cols))
        for step in [1_000, 4_096, 7_777, 20_000] {
            var acc = CorrelationAccumulator(dimension: 5)
            for start in stride(from: 0, to: 20_000, by: step) { acc.add(columns: cols, rows: start..<min(20_000, start + step)) }
            let merged = try #require(acc.matrix())
            for (x, y) in zip(merged, exact) { #expect(abs(x - y) <= 1e-13, "step \(step)") }
        }
    }

    @Test func aNumericFeatureFedInChunksIsTheWholeColumns() {
        let col = Self.columns(rows: 5_000, seed: 9)[3]
        let whole = ReferenceProfile.numericFeature(name: "x", values: col, sampleCap: 10_000, seed: 1)
        var acc = NumericFeatureAccumulator(name: "x", sampleCap: 10_000, seed: 1)
        for start in stride(from: 0, to: 5_000, by: 333) { acc.add(Array(col[start..<min(5_000, start + 333)])) }
        #expect(acc.finish() == whole, "below the cap: bit-identical")
        // above the cap: the same reservoir; the merged variance to rounding
        let capped = ReferenceProfile.numericFeature(name: "x", values: col, sampleCap: 500, seed: 1)
        var small = NumericFeatureAccumulator(name: "x", sampleCap: 500, seed: 1)
        for start in stride(from: 0, to: 5_000, by: 333) { small.add(Array(col[start..<min(5_000, start + 333)])) }
        let streamed = small.finish()
        #expect(streamed.sample == capped.sample && streamed.mean == capped.mean && streamed.missing == capped.missing)
        #expect(abs(streamed.standardDeviation - capped.standardDeviation) <= 1e-13 * capped.standardDeviation)
    }
}
