import DriftStats
import Foundation

// `make bench`: drift-worker's statistics against scipy/numpy on the same data, in the same run.
//
//   drift-bench                 all workloads, each measured in its own child process (own peak RSS)
//   drift-bench --child NAME DIR REPS   one workload (internal)
//
// W1: 1 numeric feature, reference 1,000,000 and current 100,000 — KS (with p-value) + PSI.
// W2: 100 numeric features, reference 100,000 and current 10,000 each — cold (raw arrays) and
//     warm (from a reference profile: pre-sorted reference, cached bins).

let reps = Int(ProcessInfo.processInfo.environment["BENCH_REPS"] ?? "") ?? 5

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Peak resident set size of this process (VmHWM: per address space, so not inherited from the
/// parent as getrusage's ru_maxrss is across exec).
func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kb / 1024.0
}

func normalish(_ n: Int, seed: UInt64, shift: Double, scale: Double = 1) -> [Double] {
    var g = SplitMix64(seed: seed)
    return (0..<n).map { _ in
        var s = 0.0
        for _ in 0..<4 { s += Double(g.next() >> 11) * 0x1p-53 }
        return (s - 2) * 1.7320508 * scale + shift
    }
}

func writeRaw(_ xs: [Double], _ path: String) {
    let data = xs.withUnsafeBufferPointer { Data(buffer: $0) }
    FileManager.default.createFile(atPath: path, contents: data)
}

func readRaw(_ path: String) -> [Double] {
    let data = FileManager.default.contents(atPath: path)!
    return data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
}

/// KS with p-value + quantile PSI for one feature from raw arrays (sorts both sides).
func coldFeature(_ ref: [Double], _ cur: [Double]) -> (Double, Double, Double) {
    let r = NumericSample(values: ref), c = NumericSample(values: cur)
    return warmFeature(r.sorted, Bins.quantile(sortedReference: r.sorted, bins: 10), c.sorted)
}

/// The same from a profiled reference: only the current side is sorted.
func warmFeature(_ sortedRef: [Double], _ bins: Bins, _ sortedCur: [Double]) -> (Double, Double, Double) {
    let ks = TwoSampleKS.test(sorted1: sortedRef, sorted2: sortedCur)
    let p = bins.counts(sorted: sortedRef).map { Double($0) / Double(sortedRef.count) }
    let q = bins.counts(sorted: sortedCur).map { Double($0) / Double(sortedCur.count) }
    return (ks.statistic, ks.pvalue, Distances.psi(reference: p, current: q, epsilon: 1e-4))
}

final class Results: @unchecked Sendable {
    var values: [(Double, Double, Double)]
    init(_ n: Int) { values = Array(repeating: (0, 0, 0), count: n) }
}

func forEachFeature(_ n: Int, parallel: Bool, _ body: @Sendable (Int) -> (Double, Double, Double)) -> [(Double, Double, Double)] {
    let out = Results(n)
    if parallel {
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let r = body(i)
            out.values.withUnsafeMutableBufferPointer { $0[i] = r }
        }
    } else {
        for i in 0..<n { out.values[i] = body(i) }
    }
    return out.values
}

/// Runs one workload, timing `reps` repetitions; prints one JSON line.
func child(_ name: String, _ dir: String, _ reps: Int) {
    var times: [Double] = []
    var results: [(Double, Double, Double)] = []
    func time(_ body: () -> [(Double, Double, Double)]) {
        for _ in 0..<reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            results = body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
    }
    switch name {
    case "w1":
        let ref = readRaw("\(dir)/w1_ref.f64"), cur = readRaw("\(dir)/w1_cur.f64")
        time { [coldFeature(ref, cur)] }
    case "w2-cold", "w2-cold-1core", "w2-warm", "w2-warm-1core":
        func split(_ path: String, _ size: Int) -> [[Double]] {
            let all = readRaw(path)
            return (0..<100).map { Array(all[($0 * size)..<(($0 + 1) * size)]) }
        }
        let refs = split("\(dir)/w2_ref.f64", 100_000), curs = split("\(dir)/w2_cur.f64", 10_000)
        let parallel = !name.hasSuffix("1core")
        if name.hasPrefix("w2-cold") {
            time { forEachFeature(100, parallel: parallel) { coldFeature(refs[$0], curs[$0]) } }
        } else {
            // Build the profile once (untimed), as `drift-worker profile` does ahead of checks.
            let profiles = refs.enumerated().map { i, r in
                ReferenceProfile.numericFeature(name: "f\(i)", values: r, sampleCap: ReferenceProfile.defaultSampleCap, seed: 1)
            }
            let bins = profiles.map { Bins.quantile(sortedReference: $0.sample, bins: 10) }
            time {
                forEachFeature(100, parallel: parallel) { i in
                    warmFeature(profiles[i].sample, bins[i], FastSort.sorted(curs[i].filter { $0.isFinite }))
                }
            }
        }
    default:
        fatalError("unknown workload \(name)")
    }
    let res = results.map { "[\($0.0),\($0.1),\($0.2)]" }.joined(separator: ",")
    print("{\"median\":\(median(times)),\"times\":\(times),\"peak_rss_mb\":\(peakRSSMegabytes()),\"results\":[\(res)]}")
}

struct ChildResult: Decodable {
    var median: Double
    var peak_rss_mb: Double
    var results: [[Double]]
}

struct ReferenceResult: Decodable {
    var scipy: String
    var numpy: String
    var ks_median: Double
    var psi_median: Double
    var total_median: Double
    var peak_rss_mb: Double
    var results: [[Double]]
}

func runProcess(_ exe: String, _ args: [String]) -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    try! p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { fatalError("\(exe) \(args) failed with status \(p.terminationStatus)") }
    return data
}

func ours(_ name: String, _ dir: String) -> ChildResult {
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).path
    return try! JSONDecoder().decode(ChildResult.self, from: runProcess(me, ["--child", name, dir, String(reps)]))
}

func reference(_ name: String, _ dir: String) -> ReferenceResult {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("reference_stats.py").path
    return try! JSONDecoder().decode(ReferenceResult.self, from: runProcess("/usr/bin/env", ["python3", script, dir, name, String(reps)]))
}

/// Our results must be scipy's: statistic equal, p-value within 1e-9 relative, PSI within 1e-12.
func crossCheck(_ a: [[Double]], _ b: [[Double]]) -> String {
    var worstP = 0.0, worstPSI = 0.0, statsEqual = true
    for (x, y) in zip(a, b) {
        statsEqual = statsEqual && x[0] == y[0]
        if x[1] != y[1] { worstP = max(worstP, abs(x[1] - y[1]) / max(abs(y[1]), 1e-300)) }
        if x[2] != y[2] { worstPSI = max(worstPSI, abs(x[2] - y[2]) / abs(y[2])) }
    }
    let ok = statsEqual && (worstP <= 1e-9) && worstPSI <= 1e-12
    return "\(ok ? "results match scipy/numpy" : "RESULTS DIFFER") (KS statistics \(statsEqual ? "identical" : "differ"), max rel. diff p-value \(String(format: "%.1e", worstP)), PSI \(String(format: "%.1e", worstPSI)))"
}

if CommandLine.arguments.count >= 5 && CommandLine.arguments[1] == "--child" {
    child(CommandLine.arguments[2], CommandLine.arguments[3], Int(CommandLine.arguments[4])!)
    exit(0)
}

/// Writes the workloads' data as raw float64 files (done in a child so the parent stays small).
func generate(_ dir: String) {
    writeRaw(normalish(1_000_000, seed: 1, shift: 0), "\(dir)/w1_ref.f64")
    writeRaw(normalish(100_000, seed: 2, shift: 0.01, scale: 1.02), "\(dir)/w1_cur.f64")
    writeRaw((0..<100).flatMap { normalish(100_000, seed: 100 + UInt64($0), shift: 0) }, "\(dir)/w2_ref.f64")
    writeRaw((0..<100).flatMap { normalish(10_000, seed: 1000 + UInt64($0), shift: Double($0 % 10) * 0.01) }, "\(dir)/w2_cur.f64")
}

if CommandLine.arguments.count >= 3 && CommandLine.arguments[1] == "--generate" {
    generate(CommandLine.arguments[2])
    exit(0)
}

let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drift-bench-\(getpid())").path
try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }

print("drift-worker statistics benchmark — \(reps) repetitions each, median wall time; \(ProcessInfo.processInfo.activeProcessorCount) cores")
print("OpenBLAS: \(LinearAlgebra.openBLASConfig)")
_ = runProcess(URL(fileURLWithPath: CommandLine.arguments[0]).path, ["--generate", dir])

func row(_ label: String, _ us: ChildResult, _ ref: ReferenceResult, target: Double?) -> String {
    let ratio = ref.total_median / us.median
    let verdict = target.map { ratio >= $0 ? "meets ≥\(Int($0))×" : "BELOW ≥\(Int($0))× target" } ?? "(informational)"
    return String(format: "%-34@ ours %8.4f s  scipy+numpy %8.4f s (KS %.4f + PSI %.4f)  ratio %6.1f×  %@  | peak RSS ours %6.1f MB, python %6.1f MB",
                  label as NSString, us.median, ref.total_median, ref.ks_median, ref.psi_median, ratio, verdict as NSString,
                  us.peak_rss_mb, ref.peak_rss_mb)
}

let w1Ref = reference("w1", dir)
print("reference: scipy \(w1Ref.scipy), numpy \(w1Ref.numpy)\n")
let w1 = ours("w1", dir)
print(row("W1 1×(1e6 vs 1e5) KS+PSI", w1, w1Ref, target: 4))
print("   " + crossCheck(w1.results, w1Ref.results))
let w2Ref = reference("w2", dir)
let w2Rows: [(String, String, Double?)] = [
    ("w2-cold", "W2 100×(1e5 vs 1e4) cold", 4.0), ("w2-cold-1core", "W2 cold, on 1 core", nil),
    ("w2-warm", "W2 100×(1e5 vs 1e4) warm (profile)", 20.0), ("w2-warm-1core", "W2 warm, on 1 core", nil),
]
for (name, label, target) in w2Rows {
    let r = ours(name, dir)
    print(row(label, r, w2Ref, target: target))
    print("   " + crossCheck(r.results, w2Ref.results))
}
