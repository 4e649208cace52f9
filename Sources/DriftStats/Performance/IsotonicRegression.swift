/// Isotonic (non-decreasing) regression of y on x, identical to scikit-learn 1.7's
/// `IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x, y, sample_weight)`:
///
/// 1. Rows with weight ≤ 0 are dropped; the rest are sorted by (x, y), ties kept in input order (`np.lexsort`).
/// 2. Equal x are merged as `_make_unique` does: scanning in order, a row joins the current group while
///    x − x_first < 1e-15 (`np.finfo(float64).resolution`, an absolute distance, so x closer than that are merged
///    even when they differ); the group gets x_first, the weighted mean Σwy/Σw of its y and the weight Σw.
/// 3. Pool adjacent violators on the groups: equal means pool too, so the fitted blocks are strictly increasing —
///    Busing's (2022) single-pass algorithm as in `scipy.optimize.isotonic_regression`, the same arithmetic, O(n).
/// 4. Thresholds (`X_thresholds_`, `y_thresholds_`): the groups' x and fitted values, less every interior point whose
///    fitted value equals both neighbours' — that is, the first and the last x of each block.
///
/// `predict` clips x to [thresholdsX.first, thresholdsX.last] and interpolates linearly between the thresholds as
/// `np.interp` does (which is what scipy's `interp1d(kind="linear")` delegates to); a single threshold predicts its y
/// everywhere. Fitting costs O(n log n) (the sort), a prediction O(log m) for m thresholds.
///
/// Non-finite x, y or weights are refused (nil), as scikit-learn's input checks raise on them; filtering them is the
/// caller's job. `predict(.nan)` is NaN (scikit-learn refuses NaN input), except with a single threshold, where every
/// input gets its y as in scikit-learn; ±∞ is clipped to the ends.
public struct IsotonicRegression: Sendable {
    /// The x of the kept points, strictly increasing.
    public var thresholdsX: [Double]
    /// The fitted values at `thresholdsX`, non-decreasing.
    public var thresholdsY: [Double]

    /// `np.finfo(np.float64).resolution`: `_make_unique` merges x closer than this.
    static let mergeResolution = 1e-15

    /// nil for empty input, lengths that differ, a non-finite x, y or weight, or no row with a positive weight.
    public init?(x: [Double], y: [Double], weights: [Double]? = nil) {
        let n = x.count
        guard n > 0, y.count == n, weights == nil || weights?.count == n else { return nil }
        guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite), weights?.allSatisfy(\.isFinite) ?? true else { return nil }

        var rows: [(x: Double, y: Double, index: Int)] = []
        rows.reserveCapacity(n)
        for i in 0..<n where weights.map({ $0[i] > 0 }) ?? true { rows.append((x[i], y[i], i)) }
        guard !rows.isEmpty else { return nil }
        rows.sort { ($0.x, $0.y, $0.index) < ($1.x, $1.y, $1.index) }

        var uniqueX: [Double] = []
        var meanY: [Double] = []
        var weight: [Double] = []
        var currentX = rows[0].x
        var weightedY = 0.0
        var currentWeight = 0.0
        for row in rows {
            let w = weights?[row.index] ?? 1
            if row.x - currentX >= Self.mergeResolution {
                uniqueX.append(currentX)
                weight.append(currentWeight)
                meanY.append(weightedY / currentWeight)
                currentX = row.x
                currentWeight = w
                weightedY = row.y * w
            } else {
                currentWeight += w
                weightedY += row.y * w
            }
        }
        uniqueX.append(currentX)
        weight.append(currentWeight)
        meanY.append(weightedY / currentWeight)

        let fitted = Self.poolAdjacentViolators(meanY, weight)
        let m = fitted.count
        var tx: [Double] = []
        var ty: [Double] = []
        for j in 0..<m where j == 0 || j == m - 1 || fitted[j] != fitted[j - 1] || fitted[j] != fitted[j + 1] {
            tx.append(uniqueX[j])
            ty.append(fitted[j])
        }
        thresholdsX = tx
        thresholdsY = ty
    }

    /// The fitted value at x (see the type's documentation). NaN if the thresholds were emptied or made unequal in length.
    public func predict(_ x: Double) -> Double {
        let xs = thresholdsX
        let ys = thresholdsY
        let m = xs.count
        guard m > 0, ys.count == m else { return .nan }
        if m == 1 { return ys[0] }
        if x.isNaN { return .nan }
        let t = x < xs[0] ? xs[0] : (x > xs[m - 1] ? xs[m - 1] : x)
        if t >= xs[m - 1] { return ys[m - 1] }
        // the last j with xs[j] <= t, j in 0...m−2
        var lo = 0
        var hi = m - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if xs[mid] <= t { lo = mid } else { hi = mid }
        }
        let j = lo
        if xs[j] == t { return ys[j] }
        // np.interp's arithmetic, and its fallback from the right end when the left one gives NaN
        let slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
        var value = slope * (t - xs[j]) + ys[j]
        if value.isNaN {
            value = slope * (t - xs[j + 1]) + ys[j + 1]
            if value.isNaN && ys[j] == ys[j + 1] { value = ys[j] }
        }
        return value
    }

    public func predict(_ xs: [Double]) -> [Double] { xs.map { predict($0) } }

    /// Pool adjacent violators, Busing (2022) Algorithm 1 with ">=" in both violation tests (as scipy): one pass that
    /// extends the current block forwards while it is not below the next value and merges it backwards while the block
    /// before is not below it. A block's sum is re-formed from its mean × weight, as scipy does. Returns one fitted value
    /// per input.
    static func poolAdjacentViolators(_ values: [Double], _ weights: [Double]) -> [Double] {
        var x = values
        var w = weights
        let n = x.count
        guard n > 1 else { return x }
        var blockEnd = [Int](repeating: 0, count: n + 1)  // block k is [blockEnd[k], blockEnd[k + 1])
        blockEnd[1] = 1
        var b = 0
        var previousMean = x[0]
        var previousWeight = w[0]
        var i = 1
        while i < n {
            b += 1
            var mean = x[i]
            var total = w[i]
            if previousMean >= mean {
                b -= 1
                var sum = previousWeight * previousMean + total * mean
                total += previousWeight
                mean = sum / total
                while i < n - 1 && mean >= x[i + 1] {
                    i += 1
                    sum += w[i] * x[i]
                    total += w[i]
                    mean = sum / total
                }
                while b > 0 && x[b - 1] >= mean {
                    b -= 1
                    sum += w[b] * x[b]
                    total += w[b]
                    mean = sum / total
                }
            }
            x[b] = mean
            previousMean = mean
            w[b] = total
            previousWeight = total
            blockEnd[b + 1] = i + 1
            i += 1
        }
        var fitted = [Double](repeating: 0, count: n)
        for k in 0...b {
            for t in blockEnd[k]..<blockEnd[k + 1] { fitted[t] = x[k] }
        }
        return fitted
    }
}
