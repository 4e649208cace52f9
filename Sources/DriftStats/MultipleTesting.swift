/// Multiple-testing correction across the features of one comparison.
public enum PValueCorrection: String, Sendable, CaseIterable, Codable {
    /// Benjamini–Hochberg step-up (`scipy.stats.false_discovery_control(p, method='bh')`).
    case bh
    /// Bonferroni: min(m·p, 1).
    case bonferroni
    /// No correction.
    case none

    /// Adjusted p-values in the input order. NaN entries are ignored and stay NaN.
    public func adjust(_ pvalues: [Double]) -> [Double] {
        let present = pvalues.indices.filter { !pvalues[$0].isNaN }
        let m = Double(present.count)
        var out = pvalues
        switch self {
        case .none: return out
        case .bonferroni:
            for i in present { out[i] = min(pvalues[i] * m, 1) }
        case .bh:
            let order = present.sorted { pvalues[$0] < pvalues[$1] }
            var adjusted = order.enumerated().map { (rank, idx) in pvalues[idx] * (m / Double(rank + 1)) }
            if adjusted.count > 1 {
                for r in stride(from: adjusted.count - 2, through: 0, by: -1) {
                    adjusted[r] = min(adjusted[r], adjusted[r + 1])
                }
            }
            for (rank, idx) in order.enumerated() { out[idx] = min(max(adjusted[rank], 0), 1) }
        }
        return out
    }
}
