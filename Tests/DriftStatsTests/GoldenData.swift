import DriftStats
import Foundation

/// Loads the golden fixtures written by Fixtures/generate_fixtures.py and rebuilds their data.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Uniforms in [0, 1) from SplitMix64, as `uniforms()` in the generator: (z >> 11)·2⁻⁵³.
    static func uniforms(seed: UInt64, count: Int) -> [Double] {
        var g = SplitMix64(seed: seed)
        return (0..<count).map { _ in Double(g.next() >> 11) * 0x1p-53 }
    }
}

/// A data set in a fixture: inline values, a numpy linspace with additions, or a SplitMix64 recipe.
enum DataSpec: Decodable {
    case values([Double])
    case linspace(start: Double, stop: Double, count: Int, ops: [(String, Double)])
    case generated(n: Int, seed: UInt64, dist: String, a: Double, b: Double, k: Double)

    private struct Recipe: Decodable {
        var n: Int?, seed: UInt64?, dist: String?, a: Double?, b: Double?, k: Double?
        var linspace: [Double]?
        var ops: [[OpPart]]?
    }

    private enum OpPart: Decodable {
        case s(String), d(Double)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .s(s) } else { self = .d(try c.decode(Double.self)) }
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode([Double].self) {
            self = .values(v)
            return
        }
        let r = try c.decode(Recipe.self)
        if let l = r.linspace {
            let ops: [(String, Double)] = (r.ops ?? []).map { parts in
                guard case .s(let name) = parts[0], case .d(let v) = parts[1] else { return ("add", 0) }
                return (name, v)
            }
            self = .linspace(start: l[0], stop: l[1], count: Int(l[2]), ops: ops)
        } else {
            self = .generated(n: r.n!, seed: r.seed!, dist: r.dist!, a: r.a ?? 1, b: r.b ?? 0, k: r.k ?? 1)
        }
    }

    var values: [Double] {
        switch self {
        case .values(let v): return v
        case .linspace(let start, let stop, let count, let ops):
            var x: [Double]
            if count == 1 {
                x = [start]
            } else {
                let step = (stop - start) / Double(count - 1)
                x = (0..<count).map { Double($0) * step + start }
                x[count - 1] = stop
            }
            for (op, v) in ops { x = x.map { op == "add" ? $0 + v : $0 - v } }
            return x
        case .generated(let n, let seed, let dist, let a, let b, let k):
            switch dist {
            case "uniform": return Golden.uniforms(seed: seed, count: n).map { $0 * a + b }
            case "irwin":
                let u = Golden.uniforms(seed: seed, count: 4 * n)
                return (0..<n).map { i -> Double in
                    var s: Double = u[4 * i] + u[4 * i + 1]
                    s = s + u[4 * i + 2]
                    s = s + u[4 * i + 3]
                    return (s - 2.0) * a + b
                }
            case "int": return Golden.uniforms(seed: seed, count: n).map { ($0 * k).rounded(.down) + b }
            default: fatalError("unknown distribution \(dist) in fixture")
            }
        }
    }
}

/// |a − b| ≤ abs, or ≤ rel·|b|.
func close(_ a: Double, _ b: Double, rel: Double, abs absTol: Double) -> Bool {
    if a == b { return true }
    if a.isNaN || b.isNaN { return false }
    let d = Swift.abs(a - b)
    return d <= absTol || d <= rel * Swift.abs(b)
}
