import Foundation

// numpy and scikit-learn reproduced bit for bit where a golden comparison needs it (CBPE's calibration check).

/// numpy's summation of a contiguous float64 array (`pairwise_sum`: below 8 values a plain loop, up to 128 eight
/// interleaved accumulators combined as ((r₀+r₁)+(r₂+r₃))+((r₄+r₅)+(r₆+r₇)) then the rest, above that the halves split
/// at a multiple of 8), and the `np.std`/`np.nanstd` built on it (ddof = 0), so results match numpy bit for bit.
enum NumpySum {
    static func sum(_ a: [Double]) -> Double {
        a.withUnsafeBufferPointer { pairwise($0, 0, $0.count) }
    }

    private static func pairwise(_ a: UnsafeBufferPointer<Double>, _ start: Int, _ n: Int) -> Double {
        if n < 8 {
            var res = -0.0
            for i in start..<(start + n) { res += a[i] }
            return res
        }
        if n <= 128 {
            var r = (0..<8).map { a[start + $0] }
            var i = 8
            while i < n - n % 8 {
                for j in 0..<8 { r[j] += a[start + i + j] }
                i += 8
            }
            var res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n {
                res += a[start + i]
                i += 1
            }
            return res
        }
        var half = n / 2
        half -= half % 8
        return pairwise(a, start, half) + pairwise(a, start + half, n - half)
    }

    /// `np.std(a)`; NaN for an empty array.
    static func std(_ a: [Double]) -> Double {
        let n = Double(a.count)
        let mean = sum(a) / n
        return (sum(a.map { ($0 - mean) * ($0 - mean) }) / n).squareRoot()
    }

    /// `(np.nanmean(a), np.nanstd(a))`: NaN entries count as 0 in place and are left out of the count.
    static func nanMeanAndStd(_ a: [Double]) -> (mean: Double, std: Double) {
        let count = Double(a.filter { !$0.isNaN }.count)
        let filled = a.map { $0.isNaN ? 0 : $0 }
        let mean = sum(filled) / count
        let squares = a.map { $0.isNaN ? 0 : ($0 - mean) * ($0 - mean) }
        return (mean, (sum(squares) / count).squareRoot())
    }
}

/// scikit-learn 1.7's `StratifiedShuffleSplit(n_splits, test_size, random_state=seed).split(X, y)` for boolean y,
/// driven by numpy's legacy `RandomState(seed)`: classes in sorted order (false, true), each class's rows in index
/// order; per split `_approximate_mode` for the train then the test counts, a permutation per class, then a
/// permutation of the train and of the test rows.
enum StratifiedShuffleSplit {
    /// nil when scikit-learn would raise: a class with fewer than 2 rows, or fewer train or test rows than classes.
    static func splits(labels: [Bool], count: Int, testFraction: Double, seed: UInt32) -> [(train: [Int], test: [Int])]? {
        var out: [(train: [Int], test: [Int])] = []
        let made = forEachSplit(labels: labels, count: count, testFraction: testFraction, seed: seed) { out.append(($0, $1)) }
        return made ? out : nil
    }

    /// The same folds one at a time, as scikit-learn's `split` yields them (one fold's index arrays in memory, not
    /// ten); false when scikit-learn would raise, or for 2³² rows or more (numpy draws 64-bit there, which this does
    /// not reproduce).
    static func forEachSplit(labels: [Bool], count: Int, testFraction: Double, seed: UInt32, _ body: (_ train: [Int], _ test: [Int]) -> Void)
        -> Bool
    {
        let n = labels.count
        guard n < Int(UInt32.max) else { return false }
        let nTest = Int((testFraction * Double(n)).rounded(.up))
        let nTrain = n - nTest
        let classRows = [labels.indices.filter { !labels[$0] }, labels.indices.filter { labels[$0] }].filter { !$0.isEmpty }
        let classCounts = classRows.map(\.count)
        guard classCounts.allSatisfy({ $0 >= 2 }), nTrain >= classRows.count, nTest >= classRows.count else { return false }
        var rng = LegacyMT19937(seed: seed)
        for _ in 0..<count {
            let trainCounts = approximateMode(classCounts, draws: nTrain, rng: &rng)
            let testCounts = approximateMode(zip(classCounts, trainCounts).map { $0 - $1 }, draws: nTest, rng: &rng)
            var train: [Int] = []
            var test: [Int] = []
            for (c, rows) in classRows.enumerated() {
                let permuted = rng.permutation(rows.count).map { rows[$0] }
                train += permuted[0..<trainCounts[c]]
                test += permuted[trainCounts[c]..<(trainCounts[c] + testCounts[c])]
            }
            rng.shuffle(&train)
            rng.shuffle(&test)
            body(train, test)
        }
        return true
    }

    /// `sklearn.utils.extmath._approximate_mode`: floor of the proportional share, the remainder given to the largest
    /// fractional parts, ties among them drawn by `rng.choice(…, replace=False)` (= the head of a permutation).
    static func approximateMode(_ classCounts: [Int], draws: Int, rng: inout LegacyMT19937) -> [Int] {
        let total = Double(classCounts.reduce(0, +))
        let continuous = classCounts.map { Double($0) / total * Double(draws) }
        var floored = continuous.map { $0.rounded(.down) }
        var need = Int(Double(draws) - NumpySum.sum(floored))
        guard need > 0 else { return floored.map { Int($0) } }
        let remainder = zip(continuous, floored).map { $0 - $1 }
        for value in Set(remainder).sorted(by: >) {
            let candidates = remainder.indices.filter { remainder[$0] == value }
            let take = Swift.min(candidates.count, need)
            for k in rng.permutation(candidates.count).prefix(take) { floored[candidates[k]] += 1 }
            need -= take
            if need == 0 { break }
        }
        return floored.map { Int($0) }
    }
}

/// numpy's legacy `RandomState(seed)` generator: MT19937 seeded by `init_genrand`, 32-bit tempered outputs, and the
/// legacy `shuffle`/`permutation` (Fisher–Yates from the end, j from `random_interval`: a draw masked to the smallest
/// all-ones mask ≥ i, rejected while > i).
struct LegacyMT19937 {
    private var state: [UInt32]
    private var index: Int

    init(seed: UInt32) {
        state = [UInt32](repeating: 0, count: 624)
        state[0] = seed
        for i in 1..<624 { state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i) }
        index = 624
    }

    mutating func next() -> UInt32 {
        if index >= 624 {
            for k in 0..<624 {
                let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7fff_ffff)
                state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// `random_interval(max)` for max < 2³²: uniform in 0...max.
    mutating func interval(_ max: Int) -> Int {
        guard max > 0 else { return 0 }
        var mask = UInt32(max)
        for shift in [1, 2, 4, 8, 16] { mask |= mask >> UInt32(shift) }
        while true {
            let v = next() & mask
            if v <= UInt32(max) { return Int(v) }
        }
    }

    mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, interval(i)) }
    }

    mutating func permutation(_ n: Int) -> [Int] {
        var a = Array(0..<n)
        shuffle(&a)
        return a
    }
}
