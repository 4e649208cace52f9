import DriftStats
import Foundation
import Testing

/// Detection and false alarms of tensor drift on clustered embeddings (the shape of the sample data).
@Suite("Tensor drift: detection and false-alarm rate")
struct TensorDriftTests {
    /// A mixture of 5 clusters in an 8-dimensional subspace of 64 dimensions, plus noise; `shift` moves cluster 2.
    static func embeddings(_ n: Int, seed: UInt64, shift: Double = 0) -> Matrix {
        var basis = SeededGaussian(seed: 11)
        let b = (0..<(64 * 8)).map { _ in basis.nextGaussian() / 8.0.squareRoot() }
        var centres = SeededGaussian(seed: 14)
        let c = (0..<(5 * 8)).map { _ in centres.nextGaussian() * 2 }
        var g = SeededGaussian(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(n * 64)
        for _ in 0..<n {
            let k = g.nextIndex(5)
            var z = (0..<8).map { c[k * 8 + $0] + g.nextGaussian() }
            if k == 2 {
                z[0] += shift
                z[1] += shift
            }
            for j in 0..<64 {
                var s = 0.0
                for l in 0..<8 { s += b[j * 8 + l] * z[l] }
                values.append(s + 0.2 * g.nextGaussian())
            }
        }
        return Matrix(rows: n, cols: 64, values: values)
    }

    static func settings() -> (TensorSettings, DriftSettings) {
        var t = TensorSettings()
        t.maxComponents = 12
        t.mmdSampleSize = 300
        t.mmdPermutations = 100
        var s = DriftSettings()
        s.alpha = 0.05
        return (t, s)
    }

    @Test func aShiftedClusterIsDetectedAndNullWindowsAlarmAtMostAlpha() throws {
        let (t, s) = Self.settings()
        let ref = try TensorReference.fit(name: "embedding", reference: Self.embeddings(2400, seed: 1), settings: t)
        #expect(ref.projection.count >= 5 && ref.projection.explainedShare >= 0.9)
        let shifted = try TensorDrift.compare(ref, current: Self.embeddings(300, seed: 2, shift: 2.5), settings: s, seed: 2)
        #expect(shifted.drifted && !shifted.driftedComponents.isEmpty, "\(shifted.reasons)")
        // 60 windows of the reference distribution: the share that alarms stays within α (documented in the README)
        var alarms = 0
        for w in 0..<60 {
            let d = try TensorDrift.compare(ref, current: Self.embeddings(300, seed: 1000 + UInt64(w)), settings: s, seed: UInt64(w))
            if d.drifted { alarms += 1 }
        }
        print("tensor drift: \(alarms) false alarms in 60 null windows (α = \(s.alpha))")
        #expect(Double(alarms) / 60 <= s.alpha, "\(alarms) false alarms in 60 null windows")
    }

    @Test func randomProjectionsAreSeededAndCarryNoReconstructionBand() throws {
        var (t, s) = Self.settings()
        t.method = .random
        t.maxComponents = 8
        let x = Self.embeddings(600, seed: 3)
        let a = try TensorReference.fit(name: "e", reference: x, settings: t)
        let b = try TensorReference.fit(name: "e", reference: x, settings: t)
        #expect(a == b && a.projection.method == .random && a.reconstruction == nil && a.projection.count == 8)
        s.alpha = 0.05
        let d = try TensorDrift.compare(a, current: Self.embeddings(300, seed: 4, shift: 3), settings: s)
        #expect(d.components.map(\.name).first == "e.rp1" && d.drifted)
    }

    @Test func aWindowOfTheWrongShapeIsAnError() throws {
        let (t, s) = Self.settings()
        let ref = try TensorReference.fit(name: "embedding", reference: Self.embeddings(400, seed: 5), settings: t)
        #expect(throws: HighDimensionalError.self) { try TensorDrift.compare(ref, current: Matrix(zeros: 10, 32), settings: s) }
        #expect(throws: HighDimensionalError.self) { try Projection.pca(Matrix(zeros: 1, 4)) }
    }
}
