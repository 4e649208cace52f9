/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and Jitter"):
/// delay = U(0, 1) · min(cap, base · 2^(attempt−1)).
public enum Backoff {
    public static func fullJitter(attempt: Int, base: Double, cap: Double, random: Double) -> Double {
        let exp = min(Double(max(attempt, 1) - 1), 62)
        return random * min(cap, base * Double(1 << Int(exp)))
    }
}
