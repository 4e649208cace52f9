import DriftStats
import Foundation
import Testing

@Suite("Statistics: properties and edge cases")
struct StatisticsPropertyTests {
    @Test func fastSortEqualsStandardSort() {
        var g = SplitMix64(seed: 42)
        for n in [0, 1, 2, 511, 512, 513, 10_000, 100_003] {
            var xs = (0..<n).map { _ in Double(Int64(bitPattern: g.next())) / 1e15 }
            if n > 10 {
                xs[3] = -0.0
                xs[4] = 0.0
                xs[5] = .infinity
                xs[6] = -.infinity
                xs[7] = Double.leastNormalMagnitude / 4
                xs[8] = -Double.leastNormalMagnitude / 4
            }
            let sorted = FastSort.sorted(xs)
            #expect(sorted.elementsEqual(xs.sorted(), by: { $0 == $1 }), "n = \(n)")
        }
    }

    /// Every pass count the 11-bit digits can leave: keys that differ only in the low digit (one pass, the result
    /// left in the scratch buffer), in the low two (an even count, the last pass writing the doubles directly), all
    /// equal (no pass), and both single-threaded and split over two cores.
    @Test func fastSortTakesEveryPassPattern() {
        var g = SplitMix64(seed: 7)
        let n = (1 << 18) + 4_321  // above FastSort.parallelThreshold: the split path too
        let patterns: [(String, () -> Double)] = [
            ("low digit only", { Double(bitPattern: 0x4000_0000_0000_0000 | (g.next() & 0x7FF)) }),
            ("low two digits", { Double(bitPattern: 0x4000_0000_0000_0000 | (g.next() & 0x3F_FFFF)) }),
            ("all equal", { 3.25 }),
            ("signs and magnitudes", { Double(Int64(bitPattern: g.next())) / 1e12 })
        ]
        for (name, draw) in patterns {
            let xs = (0..<n).map { _ in draw() }
            for parallel in [false, true] {
                var sorted = xs
                FastSort.sort(&sorted, parallel: parallel)
                #expect(sorted.elementsEqual(xs.sorted(), by: { $0.bitPattern == $1.bitPattern }), "\(name), parallel \(parallel)")
            }
        }
    }

    /// −0 sorts before +0 whichever half of a large array each is in, on one core or two.
    @Test func fastSortPutsNegativeZeroFirstOnEveryPath() {
        let n = (1 << 18) + 10
        for (first, second) in [(0.0, -0.0), (-0.0, 0.0)] {
            var xs = (0..<n).map { Double($0 % 1000) + 1 }
            xs[5] = first
            xs[n - 5] = second
            for parallel in [false, true] {
                var sorted = xs
                FastSort.sort(&sorted, parallel: parallel)
                #expect(sorted[0].bitPattern == (-0.0).bitPattern && sorted[1].bitPattern == (0.0).bitPattern, "parallel \(parallel)")
                #expect(sorted.elementsEqual(xs.sorted(), by: ==))
            }
        }
    }

    /// The bulk add makes the same draws as adding value by value, so profiles keep their samples for a seed.
    @Test func reservoirBulkAddKeepsTheSameSample() {
        var g = SplitMix64(seed: 3)
        let values = (0..<50_000).map { _ in Double(g.next() >> 11) }
        for capacity in [1, 100, 49_999, 50_000, 60_000] {
            var one = Reservoir<Double>(capacity: capacity, seed: 99)
            for v in values { one.add(v) }
            var bulk = Reservoir<Double>(capacity: capacity, seed: 99)
            // uneven chunks, the first ending before the reservoir is full
            var start = 0
            for size in [capacity / 2, 7, 1_000, values.count] where start < values.count {
                let end = min(values.count, start + max(size, 1))
                values[start..<end].withUnsafeBufferPointer { bulk.add(contentsOf: $0) }
                start = end
            }
            #expect(bulk.items == one.items && bulk.seen == one.seen, "capacity \(capacity)")
        }
    }

    @Test func reservoirIsUniformAndBounded() {
        var kept = [Int](repeating: 0, count: 20)
        for seed in 0..<4000 {
            var r = Reservoir<Int>(capacity: 5, seed: UInt64(seed))
            for i in 0..<20 { r.add(i) }
            #expect(r.items.count == 5 && r.seen == 20)
            for i in r.items { kept[i] += 1 }
        }
        // Each item is kept with probability 1/4: 1000 of 4000 expected, sd ≈ 27.
        for k in kept { #expect(abs(k - 1000) < 150, "\(kept)") }
    }

    @Test func ksIsSymmetricForTwoSidedAndSwapsOneSided() {
        let a = DataSpecFree.normalish(300, seed: 1)
        let b = DataSpecFree.normalish(200, seed: 2, shift: 0.2)
        let ab = TwoSampleKS.test(a, b)
        let ba = TwoSampleKS.test(b, a)
        #expect(ab.statistic == ba.statistic && ab.pvalue == ba.pvalue)
        let g = TwoSampleKS.test(a, b, alternative: .greater)
        let l = TwoSampleKS.test(b, a, alternative: .less)
        #expect(g.statistic == l.statistic)
    }

    @Test func ksExactIsUsedUpTo10000AndAsymptoticAbove() {
        let a = DataSpecFree.normalish(10_000, seed: 3)
        let b = DataSpecFree.normalish(10_000, seed: 4)
        #expect(TwoSampleKS.test(a, b).method == .exact)
        let c = DataSpecFree.normalish(10_001, seed: 5)
        #expect(TwoSampleKS.test(a, c).method == .asymp)
    }

    @Test func largeSampleTrivialShiftIsNotDriftButBigShiftIs() {
        var s = DriftSettings()
        s.alpha = 0.01
        let ref = NumericSample(values: DataSpecFree.normalish(200_000, seed: 7))
        let tiny = NumericSample(values: DataSpecFree.normalish(200_000, seed: 8, shift: 0.03))
        var f = FeatureComparison.numeric(name: "x", reference: ref, current: tiny, settings: s)
        f.pvalueAdjusted = f.pvalue
        FeatureComparison.decide(&f, settings: s)
        #expect(f.pvalue! < 1e-6, "the shift is statistically significant")
        #expect(!f.drifted, "but D < 0.05 and PSI < 0.2: not drift (\(f.reasons))")
        let big = NumericSample(values: DataSpecFree.normalish(20_000, seed: 9, shift: 0.5))
        var g = FeatureComparison.numeric(name: "x", reference: ref, current: big, settings: s)
        g.pvalueAdjusted = g.pvalue
        FeatureComparison.decide(&g, settings: s)
        // continuous data: Anderson–Darling decides instead of KS; the trivial shift above is as significant to it,
        // and held back by the same D gate
        #expect(g.drifted && g.reasons.contains { $0.hasPrefix("anderson_darling:") } && g.reasons.contains { $0.hasPrefix("psi:") })
        #expect((f.distributionTest?.pvalue ?? 1) < 1e-6 && !f.reasons.contains { $0.hasPrefix("anderson_darling") })
    }

    @Test func missingValuesAreCountedAndARiseIsAReason() {
        let ref = NumericSample(values: [1, 2, .nan, 3, 4, 5, 6, 7, 8, 9])
        #expect(ref.missing == 1 && ref.sorted.count == 9)
        let cur = NumericSample(values: [1, .nan, .infinity, -.infinity, 4, 5, 6, 7, 8, 9])
        #expect(cur.missing == 3)
        var f = FeatureComparison.numeric(name: "x", reference: ref, current: cur, settings: DriftSettings())
        f.pvalueAdjusted = 1
        FeatureComparison.decide(&f, settings: DriftSettings())
        #expect(f.referenceMissing == 1 && f.currentMissing == 3)
        #expect(f.drifted && f.reasons.contains { $0.hasPrefix("missing rate") })
    }

    @Test func categoricalUnseenCategoryIsReportedWithFinitePValue() {
        let ref = CategoricalSample(values: Array(repeating: "a", count: 500) + Array(repeating: "b", count: 500))
        let cur = CategoricalSample(
            values: Array(repeating: "a", count: 400) + Array(repeating: "b", count: 400) + Array(repeating: "new", count: 200))
        let out = DatasetComparison.compare([.categorical(name: "c", reference: ref, current: cur)], settings: DriftSettings())
        let f = out.features[0]
        #expect(f.unseenCategories == ["new"])
        #expect(f.chiSquare!.pvalue > 0 && f.chiSquare!.pvalue < 1e-30)
        #expect(f.drifted && out.drifted)
    }

    @Test func datasetVerdictUsesTheShareOfDriftedFeatures() {
        let same = NumericSample(values: DataSpecFree.normalish(2000, seed: 11))
        let moved = NumericSample(values: DataSpecFree.normalish(2000, seed: 12, shift: 1))
        let inputs: [FeatureInput] =
            [.numeric(name: "a", reference: same, current: moved)]
            + (0..<3).map {
                .numeric(name: "n\($0)", reference: same, current: NumericSample(values: DataSpecFree.normalish(2000, seed: 20 + UInt64($0))))
            }
        let out = DatasetComparison.compare(inputs, settings: DriftSettings())
        #expect(out.driftedCount == 1 && out.driftedShare == 0.25 && !out.drifted)
        var s = DriftSettings()
        s.datasetDriftShare = 0.25
        #expect(DatasetComparison.compare(inputs, settings: s).drifted)
    }

    @Test func psiQuantileBinsMergeRepeatedEdges() {
        let ref = FastSort.sorted([1, 1, 1, 1, 1, 1, 1, 2, 3, 4].map(Double.init))
        let bins = Bins.quantile(sortedReference: ref, bins: 10)
        #expect(bins.edges == bins.edges.sorted() && Set(bins.edges).count == bins.edges.count)
        #expect(bins.counts(sorted: ref).reduce(0, +) == ref.count)
    }

    @Test func profileRoundTripsBitForBit() throws {
        let f = ReferenceProfile.numericFeature(name: "x", values: DataSpecFree.normalish(1000, seed: 1) + [.nan], sampleCap: 500, seed: 9)
        #expect(f.sample.count == 500 && f.presentCount == 1000 && f.missing == 1)
        let p = ReferenceProfile(
            source: "s.csv", rowCount: 1001, sampleCap: 500, seed: 9, numeric: [f],
            categorical: [.init(name: "c", counts: ["a": 3, "b": 4], missing: 2)],
            correlationNames: [], correlation: [])
        let data = try ProfileCodec.encode(p)
        #expect(try ProfileCodec.decode(data) == p)
        #expect(throws: ProfileCodec.DecodeError.self) { try ProfileCodec.decode(data.prefix(data.count - 3)) }
        var future = data
        future[8] = 99
        #expect(throws: ProfileCodec.DecodeError.unsupportedVersion(99)) { try ProfileCodec.decode(future) }
    }
}

/// Deterministic test data without fixtures.
enum DataSpecFree {
    static func normalish(_ n: Int, seed: UInt64, shift: Double = 0) -> [Double] {
        var g = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            var s = 0.0
            for _ in 0..<4 { s += Double(g.next() >> 11) * 0x1p-53 }
            return (s - 2) * 1.7320508 + shift
        }
    }
}
