/// The chi-square test of homogeneity of a 2×K table (reference counts, current counts) over
/// the union of observed categories, without continuity correction — equal to
/// `scipy.stats.chi2_contingency([ref, cur], correction=False)`. Every expected count is positive
/// because every column has an observation, so a category seen on one side only gives a finite
/// statistic and a p-value above 0 (unless it underflows).
public struct ChiSquareResult: Sendable, Equatable {
    public var statistic: Double
    public var pvalue: Double
    public var dof: Int

    public static func homogeneity(reference: [Int], current: [Int]) -> ChiSquareResult {
        let k = reference.count
        let r0 = Double(reference.reduce(0, +))
        let r1 = Double(current.reduce(0, +))
        let total = r0 + r1
        if k <= 1 { return ChiSquareResult(statistic: 0, pvalue: 1, dof: 0) }
        var stat = 0.0
        for i in 0..<k {
            let col = Double(reference[i] + current[i])
            let e0 = r0 * col / total
            let e1 = r1 * col / total
            let d0 = Double(reference[i]) - e0
            let d1 = Double(current[i]) - e1
            stat += d0 * d0 / e0 + d1 * d1 / e1
        }
        let dof = k - 1
        return ChiSquareResult(statistic: stat, pvalue: SpecialFunctions.chiSquareSF(stat, dof: Double(dof)), dof: dof)
    }
}
