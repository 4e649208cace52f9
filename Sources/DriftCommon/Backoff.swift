/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and Jitter"):
/// delay = random · min(cap, base · 2^(attempt−1)), with `attempt` clamped to 1…63 so the power never overflows.
/// Every retry loop of the worker uses it: reconnects, queue task retries, trigger deliveries.
public enum Backoff {
    /// `random`: uniform in [0, 1) for full jitter (or a narrower range, e.g. [0.5, 1), to keep a floor).
    public static func fullJitter(attempt: Int, base: Double, cap: Double, random: Double) -> Double {
        let exp = min(Double(max(attempt, 1) - 1), 62)
        return random * min(cap, base * Double(1 << Int(exp)))
    }
}
