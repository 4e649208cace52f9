/// SplitMix64: a small, fast, seedable generator (Steele, Lea & Flood 2014) so that profiles and
/// samples are reproducible for a seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_CE4E_5CE9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A uniform random sample of at most `capacity` items from a stream (Vitter's Algorithm R):
/// after n items each has been kept with probability capacity/n.
public struct Reservoir<Element>: Sendable where Element: Sendable {
    public let capacity: Int
    public private(set) var items: [Element] = []
    public private(set) var seen = 0
    private var rng: SplitMix64

    public init(capacity: Int, seed: UInt64) {
        self.capacity = capacity
        self.rng = SplitMix64(seed: seed)
        items.reserveCapacity(min(capacity, 1 << 20))
    }

    public mutating func add(_ x: Element) {
        seen += 1
        if items.count < capacity {
            items.append(x)
        } else {
            let j = Int.random(in: 0..<seen, using: &rng)
            if j < capacity { items[j] = x }
        }
    }

    /// `add` of each value in order (the same draws, so the same sample), without a per-value capacity check once the
    /// reservoir is full.
    public mutating func add(contentsOf values: UnsafeBufferPointer<Element>) {
        var k = 0
        while k < values.count && items.count < capacity {
            add(values[k])
            k += 1
        }
        guard k < values.count else { return }
        var seen = self.seen
        var rng = self.rng
        let capacity = self.capacity
        items.withUnsafeMutableBufferPointer { slots in
            for i in k..<values.count {
                seen += 1
                let j = Int.random(in: 0..<seen, using: &rng)
                if j < capacity { slots[j] = values[i] }
            }
        }
        self.seen = seen
        self.rng = rng
    }
}
