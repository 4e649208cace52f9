import DriftCommon
import DriftStats
import Foundation

/// Float parsing, ns per number: FastFloat (on the bytes, as the tabular reader calls it) against glibc's strtod
/// (on NUL-terminated bytes, no String) and Swift's `Double(String)` (one String per cell, as the old reader built),
/// on 10^6 numbers as CSV files hold them: fixed decimals, integers, shortest round-trip doubles and `%.17g`.
enum FloatParseBench {
    static let count = 1_000_000

    static func run() {
        var g = SplitMix64(seed: 18)
        var texts: [String] = []
        texts.reserveCapacity(count)
        for i in 0..<count {
            let x = Double(g.next() % 2_000_000_000) / 1_000 - 1_000_000
            switch i % 4 {
            case 0: texts.append(String(format: "%.3f", x / 1_000))
            case 1: texts.append(String(Int(x)))
            case 2: texts.append("\(x * 1e-3 / 7)")
            default: texts.append(String(format: "%.17g", x / 3))
            }
        }
        // one buffer of NUL-separated numbers: FastFloat reads the slices, strtod the C strings
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for t in texts {
            starts.append(bytes.count)
            bytes.append(contentsOf: t.utf8)
            bytes.append(0)
        }
        starts.append(bytes.count)

        func nanosecondsPerNumber(_ body: () -> Double) -> (Double, Double) {
            var times: [Double] = []
            var sum = 0.0
            for _ in 0..<5 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                sum += body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(count))
            }
            return (times.sorted()[2], sum)
        }
        let (fast, s1) = bytes.withUnsafeBytes { buffer in
            nanosecondsPerNumber {
                var sum = 0.0
                for i in 0..<count {
                    sum += FastFloat.parse(UnsafeRawBufferPointer(rebasing: buffer[starts[i]..<(starts[i + 1] - 1)])) ?? 0
                }
                return sum
            }
        }
        let (libc, s2) = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { c in
                nanosecondsPerNumber {
                    var sum = 0.0
                    for i in 0..<count { sum += strtod(c.baseAddress! + starts[i], nil) }
                    return sum
                }
            }
        }
        let (swift, s3) = nanosecondsPerNumber {
            var sum = 0.0
            for t in texts { sum += Double(t) ?? 0 }
            return sum
        }
        precondition(s1 == s2 && s2 == s3, "the three parsers disagree")
        print("\nFloat parsing — \(count) CSV-style numbers, median of 5 runs, ns per number")
        print(
            String(
                format: "  FastFloat %.1f ns  |  glibc strtod %.1f ns (%.1f×)  |  Swift Double(String) %.1f ns (%.1f×)", fast, libc,
                libc / fast, swift, swift / fast))
    }
}
