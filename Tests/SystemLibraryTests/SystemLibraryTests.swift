import DriftStats
import DriftStore
import DriftTriggers
import Foundation
import Testing

/// Each C wrapper target links and answers: libpq, libcurl, OpenBLAS + LAPACKE.
@Suite("System libraries link and work")
struct SystemLibraryTests {
    @Test func libpqIsLinkedAndThreadSafe() throws {
        let major = try #require(Int(LibPQ.version.split(separator: ".")[0]))
        #expect(major >= 10, "libpq \(LibPQ.version)")
        #expect(LibPQ.isThreadSafe)
    }

    @Test func libcurlIsLinkedWithTLS() {
        let parts = LibCurl.version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count == 3 && parts[0] >= 7, "libcurl \(LibCurl.version)")
        #expect(LibCurl.supportsTLS)
    }

    @Test func lapackSymmetricEigenvalues() throws {
        // [[2,1,0],[1,2,1],[0,1,2]] has eigenvalues 2−√2, 2, 2+√2.
        let w = try #require(LinearAlgebra.symmetricEigenvalues([2, 1, 0, 1, 2, 1, 0, 1, 2], n: 3))
        let expected = [2 - 2.0.squareRoot(), 2, 2 + 2.0.squareRoot()]
        for (a, b) in zip(w, expected) { #expect(abs(a - b) < 1e-13) }
        #expect(LinearAlgebra.openBLASConfig.contains("OpenBLAS"))
    }

    @Test func blasCorrelationOfPerfectlyCorrelatedColumns() {
        let x = (0..<100).map(Double.init)
        let r = Correlation.matrix(columns: [x, x.map { 3 * $0 + 1 }, x.map { -$0 }])
        #expect(abs(r[1] - 1) < 1e-14 && abs(r[2] + 1) < 1e-14 && r[0] == 1)
    }
}
