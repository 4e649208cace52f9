/// Quantiles of an ascending sample with numpy's default (`linear`, Hyndman–Fan type 7) method:
/// virtual index v = (n − 1)·q, result = lerp(x[⌊v⌋], x[⌊v⌋+1], v − ⌊v⌋) using numpy's
/// two-sided lerp (b − (b − a)(1 − t) when t ≥ 0.5), so results equal `numpy.quantile` bit for bit.
public enum Quantile {
    public static func linear(sorted x: [Double], _ q: Double) -> Double {
        precondition(!x.isEmpty)
        let n = x.count
        let v = Double(n - 1) * q
        if v >= Double(n - 1) { return x[n - 1] }
        if v < 0 { return x[0] }
        let prev = v.rounded(.down)
        let i = Int(prev)
        let a = x[i]
        let b = x[i + 1]
        let t = v - prev
        let diff = b - a
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
    }
}
