import DriftCommon
import Foundation
import Testing

@testable import DriftStats

/// The statistics code that runs on several threads, at sizes that take its concurrent paths: what
/// `make sanitize` runs under ThreadSanitizer (a data race there fails the run), and a correctness check anywhere.
@Suite("Concurrent statistics paths")
struct ConcurrencyTests {
    @Test func fastSortSortsTwoHalvesConcurrentlyAndMerges() {
        var rng = SystemRandomNumberGenerator()
        let n = FastSort.parallelThreshold + 12_345
        let values = (0..<n).map { i -> Double in i % 1000 == 0 ? -0.0 : Double.random(in: -1e6...1e6, using: &rng) }
        let sorted = FastSort.sorted(values)
        #expect(sorted.count == n)
        #expect(sorted == values.sorted(), "the same order as the standard library's sort (±0 compare equal)")
    }

    @Test func parallelMapKeepsOrderAndEveryResult() {
        let items = Array(0..<257)
        let out = ParallelMap.map(items) { i in (0...i).reduce(0, +) }
        #expect(out == items.map { i in (0...i).reduce(0, +) })
        // non-trivial results (heap-allocated), each slot initialized exactly once
        let strings = ParallelMap.map(items) { String(repeating: "x", count: $0 % 17) + "\($0)" }
        #expect(strings == items.map { String(repeating: "x", count: $0 % 17) + "\($0)" })
    }
}
