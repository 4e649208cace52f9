import Foundation

/// An unevaluated sum `hi + lo` of two doubles (about 106 bits of precision), as in the QD
/// library. Used where scipy's special functions use double-double arithmetic (the one-sided
/// Smirnov distribution), so that our p-values agree with scipy to well below 1e-12.
struct DoubleDouble: Sendable {
    var hi: Double
    var lo: Double

    init(_ hi: Double, _ lo: Double = 0) {
        self.hi = hi
        self.lo = lo
    }

    var double: Double { hi + lo }
    var isZero: Bool { hi == 0 }
    var isFinite: Bool { hi.isFinite }

    private static func quickTwoSum(_ a: Double, _ b: Double) -> DoubleDouble {
        let s = a + b
        return DoubleDouble(s, b - (s - a))
    }

    private static func twoSum(_ a: Double, _ b: Double) -> DoubleDouble {
        let s = a + b
        let bb = s - a
        return DoubleDouble(s, (a - (s - bb)) + (b - bb))
    }

    private static func twoProd(_ a: Double, _ b: Double) -> DoubleDouble {
        let p = a * b
        return DoubleDouble(p, fma(a, b, -p))
    }

    static func + (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
        var s = twoSum(a.hi, b.hi)
        let t = twoSum(a.lo, b.lo)
        s.lo += t.hi
        s = quickTwoSum(s.hi, s.lo)
        s.lo += t.lo
        return quickTwoSum(s.hi, s.lo)
    }

    static func + (a: DoubleDouble, b: Double) -> DoubleDouble {
        var s = twoSum(a.hi, b)
        s.lo += a.lo
        return quickTwoSum(s.hi, s.lo)
    }

    static prefix func - (a: DoubleDouble) -> DoubleDouble { DoubleDouble(-a.hi, -a.lo) }
    static func - (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble { a + (-b) }
    static func - (a: DoubleDouble, b: Double) -> DoubleDouble { a + (-b) }

    static func * (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
        var p = twoProd(a.hi, b.hi)
        p.lo += a.hi * b.lo + a.lo * b.hi
        return quickTwoSum(p.hi, p.lo)
    }

    static func * (a: DoubleDouble, b: Double) -> DoubleDouble {
        var p = twoProd(a.hi, b)
        p.lo += a.lo * b
        return quickTwoSum(p.hi, p.lo)
    }

    static func * (a: Double, b: DoubleDouble) -> DoubleDouble { b * a }

    static func / (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
        // Long division with three quotient terms (QD's accurate_div).
        let q1 = a.hi / b.hi
        var r = a - b * q1
        let q2 = r.hi / b.hi
        r = r - b * q2
        let q3 = r.hi / b.hi
        let q = quickTwoSum(q1, q2)
        return q + q3
    }

    static func / (a: DoubleDouble, b: Double) -> DoubleDouble { a / DoubleDouble(b) }
    static func / (a: Double, b: DoubleDouble) -> DoubleDouble { DoubleDouble(a) / b }

    /// Splits into a significand in [0.5, 1) and a power of two, like C's `frexp`.
    func frexp() -> (DoubleDouble, Int) {
        guard hi != 0, hi.isFinite else { return (self, 0) }
        let e = hi.exponent + 1
        return (DoubleDouble(Foundation.scalbn(hi, -e), Foundation.scalbn(lo, -e)), e)
    }

    func ldexp(_ e: Int) -> DoubleDouble {
        DoubleDouble(Foundation.scalbn(hi, e), Foundation.scalbn(lo, e))
    }

    func floor() -> DoubleDouble {
        let h = hi.rounded(.down)
        if h == hi { return DoubleDouble.quickTwoSum(h, lo.rounded(.down)) }
        return DoubleDouble(h, 0)
    }
}
