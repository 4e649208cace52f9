import Testing

@testable import DriftStats

/// The fast log-space sum used for many terms agrees with scipy's double-double term products.
@Suite("One-sided Smirnov distribution (scipy.special.smirnov)")
struct SmirnovConsistencyTests {
    @Test(arguments: [2_500, 9_091, 20_000])
    func logSpaceSumAgreesWithDoubleDoubleProducts(n: Int) {
        for x in [0.004, 0.01, 0.02, 0.035, 0.06] {
            let fast = Smirnov.sf(n: n, d: x)
            let reference = Smirnov.sf(n: n, d: x, allowLogSpace: false)
            #expect(reference > 0 && close(fast, reference, rel: 1e-11, abs: 1e-300), "n=\(n) x=\(x): \(fast) vs \(reference)")
        }
    }

    @Test func knownValues() {
        // scipy.special.smirnov(n, d)
        #expect(close(Smirnov.sf(n: 1, d: 0.3), 0.7, rel: 1e-15, abs: 0))
        #expect(close(Smirnov.sf(n: 10, d: 0.5), 0.003888705, rel: 1e-15, abs: 0))
        #expect(Smirnov.sf(n: 5, d: 0) == 1 && Smirnov.sf(n: 5, d: 1) == 0)
    }
}
