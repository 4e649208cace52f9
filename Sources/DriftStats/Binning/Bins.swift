import Foundation

/// How numeric values are binned for PSI, Jensen–Shannon and Hellinger.
public enum PSIBinning: String, Sendable, CaseIterable, Codable {
    /// B bins at the reference's quantiles k/B (numpy `linear`), repeated edges merged, outer
    /// bins open to ±∞; a value x falls in the bin whose lower edge ≤ x < upper edge.
    case quantile
    /// Evidently 0.7: equal-width edges from `numpy.histogram_bin_edges(concat(ref, cur),
    /// 'sturges')`, last bin closed; a reference with ≤ 20 distinct values is binned per value.
    case sturges
}

/// Bin edges and the rule for placing a value.
public struct Bins: Sendable, Equatable {
    /// Ascending edges. For `.openEnded`, k edges make k + 1 bins (−∞, e₀), [e₀, e₁), …, [e_{k−1}, ∞).
    /// For `.closedRange`, k edges make k − 1 bins [e₀, e₁), …, [e_{k−2}, e_{k−1}].
    /// For `.values`, each edge is one distinct value and its own bin.
    public var edges: [Double]
    public var layout: Layout

    public enum Layout: String, Sendable, Codable { case openEnded, closedRange, values }

    public var count: Int {
        switch layout {
        case .openEnded: edges.count + 1
        case .closedRange: max(edges.count - 1, 0)
        case .values: edges.count
        }
    }

    /// The interior edges at the quantiles k/B of the (ascending) reference, duplicates merged.
    public static func quantile(sortedReference ref: [Double], bins: Int) -> Bins {
        var edges: [Double] = []
        edges.reserveCapacity(max(bins - 1, 0))
        if bins > 1 {
            for k in 1..<bins {
                let e = Quantile.linear(sorted: ref, Double(k) / Double(bins))
                if edges.last != e { edges.append(e) }
            }
        }
        return Bins(edges: edges, layout: .openEnded)
    }

    /// Evidently 0.7's binning for a numeric feature.
    public static func sturges(sortedReference ref: [Double], sortedCurrent cur: [Double]) -> Bins {
        if distinctCount(ref, atMost: 21) <= 20 {
            var values = ref + cur
            values.sort()
            var unique: [Double] = []
            for v in values where unique.last != v { unique.append(v) }
            return Bins(edges: unique, layout: .values)
        }
        let lo = min(ref.first!, cur.first!)
        let hi = max(ref.last!, cur.last!)
        let size = Double(ref.count + cur.count)
        var first = lo
        var last = hi
        if first == last {
            first -= 0.5
            last += 0.5
        }
        let width = (hi - lo) / (log2(size) + 1.0)
        let nBins = width != 0 ? Int(((last - first) / width).rounded(.up)) : 1
        let step = (last - first) / Double(nBins)
        var edges = (0...nBins).map { Double($0) * step + first }
        edges[nBins] = last
        return Bins(edges: edges, layout: .closedRange)
    }

    private static func distinctCount(_ sorted: [Double], atMost limit: Int) -> Int {
        var count = 0
        var last: Double? = nil
        for v in sorted where v != last {
            count += 1
            last = v
            if count >= limit { break }
        }
        return count
    }

    /// Counts per bin for an ascending sample, in one merge pass (O(n + bins)).
    public func counts(sorted x: [Double]) -> [Int] {
        var out = [Int](repeating: 0, count: count)
        switch layout {
        case .openEnded:
            // bin index = number of edges ≤ value
            var b = 0
            for v in x {
                while b < edges.count && edges[b] <= v { b += 1 }
                out[b] += 1
            }
        case .closedRange:
            guard count > 0 else { return out }
            var b = 0
            let lastEdge = edges[edges.count - 1]
            for v in x {
                if v < edges[0] || v > lastEdge { continue }
                while b < count - 1 && edges[b + 1] <= v { b += 1 }
                out[b] += 1
            }
        case .values:
            var b = 0
            for v in x {
                while b < edges.count && edges[b] < v { b += 1 }
                if b < edges.count && edges[b] == v { out[b] += 1 }
            }
        }
        return out
    }
}
