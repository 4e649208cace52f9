/// Comparing secrets (tokens, signatures) without leaking through timing where they first differ.
public enum ConstantTime {
    /// True when `given` and `expected` hold the same UTF-8 bytes. The loop runs over `expected`'s bytes whatever
    /// `given` is (its length included), so the time depends on `expected`'s length only; a length difference is
    /// folded into the result rather than returned early.
    public static func equal(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        var diff = UInt64(truncatingIfNeeded: a.count ^ b.count)
        for i in b.indices {
            let x = a.isEmpty ? 0 : a[i % a.count]
            diff |= UInt64(x ^ b[i])
        }
        return diff == 0
    }
}
