import Foundation

// The in-memory pairings of `make bench`, measured fairly: each side is a process of its own that stays up (data
// loaded and warmed once), the sides run one repetition at a time in turn (ours, reference, ours, reference, …) so
// that a swing of the machine's load falls on both, and every figure is a median with its min–max spread.
// "1 core" runs a pair under `taskset -c 0` with OPENBLAS_NUM_THREADS=1: the library's own parallelism
// (DispatchQueue.concurrentPerform in ParallelMap and FastSort, OpenBLAS's threads) then has one CPU, in the same
// code path as the release binary; "2 cores" runs both unpinned.

/// One benchmark process kept running. Each `run` line written to its standard input runs the workload once and
/// answers one JSON line ({"seconds": …}); closing its input makes it print a final JSON line and exit.
final class PairedChild {
    let label: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered = Data()
    private(set) var seconds: [Double] = []

    /// `pinned`: the child is confined to CPU 0 (`taskset -c 0`) with OpenBLAS on one thread.
    init(label: String, executable: String, arguments: [String], pinned: Bool) {
        self.label = label
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (pinned ? ["taskset", "-c", "0"] : []) + [executable] + arguments
        var environment = ProcessInfo.processInfo.environment
        if pinned { environment["OPENBLAS_NUM_THREADS"] = "1" }
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        do { try process.run() } catch { fatalError("cannot start \(executable) \(arguments): \(error)") }
    }

    private func line() -> Data {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffered[buffered.startIndex..<newline]
                buffered = Data(buffered[(newline + 1)...])
                return Data(line)
            }
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { fatalError("\(label): the benchmark child exited before answering") }
            buffered.append(more)
        }
    }

    private struct Timing: Decodable { var seconds: Double }

    /// Runs the workload once; `record: false` for the warm-up.
    func runOnce(record: Bool = true) {
        input.fileHandleForWriting.write(Data("run\n".utf8))
        guard let timing = try? JSONDecoder().decode(Timing.self, from: line()) else { fatalError("\(label): unreadable timing") }
        if record { seconds.append(timing.seconds) }
    }

    /// Ends the child; returns its final line.
    func finish<T: Decodable>(_ type: T.Type) -> T {
        try? input.fileHandleForWriting.close()
        let last = line()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let value = try? JSONDecoder().decode(T.self, from: last) else {
            fatalError("\(label): the benchmark child failed (status \(process.terminationStatus))")
        }
        return value
    }

    var median: Double { Benchmarks.median(seconds) }
    var spread: String { String(format: "[%.4f–%.4f]", seconds.min() ?? .nan, seconds.max() ?? .nan) }
}

enum Benchmarks {
    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// One warm-up each, then `repetitions` rounds in which every child runs once, in the given order.
    static func alternate(_ children: [PairedChild], repetitions: Int) {
        for c in children { c.runOnce(record: false) }
        for _ in 0..<repetitions {
            for c in children { c.runOnce() }
        }
    }
}

/// What a child prints when its input closes.
struct ChildSummary: Decodable {
    var peak_rss_mb: Double
    var cpus: String
    var results: [[Double]]
}

/// One in-memory pairing: drift-worker's statistics and scipy's on the same data, on 1 core and on 2 cores.
func pairedRow(label: String, ours workload: String, reference: String, dir: String, target: Double?) {
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).path
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("reference_stats.py").path
    var columns: [String] = []
    var rss: [String] = []
    var checks: [String] = []
    for pinned in [true, false] {
        let cores = pinned ? "1 core" : "2 cores"
        let us = PairedChild(label: "\(workload) (\(cores))", executable: me, arguments: ["--child", workload, dir], pinned: pinned)
        let py = PairedChild(label: "\(reference).py (\(cores))", executable: "python3", arguments: [script, dir, reference], pinned: pinned)
        Benchmarks.alternate([us, py], repetitions: reps)
        let ours = us.finish(ChildSummary.self)
        let theirs = py.finish(ChildSummary.self)
        let ratio = py.median / us.median
        let verdict = target.map { pinned ? "" : (ratio >= $0 ? "  meets ≥\(Int($0))×" : "  BELOW ≥\(Int($0))× target") } ?? ""
        columns.append(
            String(
                format: "%@ (CPUs %@ / %@): ours %.4f s %@  scipy %.4f s %@  ratio %5.1f×%@", cores as NSString, ours.cpus as NSString,
                theirs.cpus as NSString,
                us.median, us.spread as NSString, py.median, py.spread as NSString, ratio, verdict as NSString))
        rss.append(String(format: "%@ %.0f/%.0f MB", cores as NSString, ours.peak_rss_mb, theirs.peak_rss_mb))
        checks.append(crossCheck(ours.results, theirs.results))
    }
    print("\(label)\n    \(columns.joined(separator: "\n    "))")
    print("    peak RSS ours/python: \(rss.joined(separator: ", "));  \(Set(checks).sorted().joined(separator: "; "))")
}
