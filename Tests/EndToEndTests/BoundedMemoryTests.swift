import DriftTestSupport
import Foundation
import Testing

/// `profile` and `compare` hold a sample, not the file: a 256 MB CSV (generated here into a temporary directory and
/// deleted after) is profiled and compared in well under its size, peak RSS read from the kernel (`wait4`'s
/// ru_maxrss, by scripts/peak-rss.py). The 1 GB figure is in `make bench`.
@Suite("Bounded memory", .serialized)
struct BoundedMemoryTests {
    /// Runs a program (not drift-worker itself) to completion: its status and stderr (stdout discarded).
    func run(_ program: String, _ args: [String]) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        p.currentDirectoryURL = repoRoot
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    func peakRSS(_ args: [String]) throws -> (status: Int32, kib: Int, stderr: String) {
        let r = try run("/usr/bin/python3", [repoRoot.appendingPathComponent("scripts/peak-rss.py").path, CLI.binary.path] + args)
        let last = r.stderr.split(separator: "\n").last { $0.hasPrefix("peak_rss_kib=") } ?? ""
        let kib = Int(last.split(separator: " ")[0].dropFirst("peak_rss_kib=".count)) ?? -1
        return (r.status, kib, r.stderr)
    }

    @Test func profileAndCompareOfA256MBFileStayUnder300MB() throws {
        let s = try Scratch()
        let big = s.path("big.csv")
        // ~256 MB: 20 numeric columns (scripts/generate-wide-csv.py)
        let gen = try run("/usr/bin/python3", [repoRoot.appendingPathComponent("scripts/generate-wide-csv.py").path, big, "256"])
        try #require(gen.status == 0, "\(gen.stderr)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: big)[.size] as? Int)
        #expect(size >= 256 << 20)
        let small = s.write("small.csv", "f0,f1\n" + (0..<500).map { "\(Double($0) / 100),\(Double($0 % 17))" }.joined(separator: "\n") + "\n")

        let profile = try peakRSS(["profile", "--reference", big, "--out", s.path("big.prf")])
        #expect(profile.status == 0, "\(profile.stderr)")
        #expect(profile.kib > 0 && profile.kib < 300 * 1024, "profile of \(size >> 20) MB peaked at \(profile.kib / 1024) MB")

        let compare = try peakRSS(["compare", "--reference", big, "--current", small, "--format", "json"])
        #expect(compare.status == 0, "\(compare.stderr)")
        #expect(compare.kib > 0 && compare.kib < 300 * 1024, "compare against \(size >> 20) MB peaked at \(compare.kib / 1024) MB")
        print("bounded memory: \(size >> 20) MB CSV — profile peak \(profile.kib / 1024) MB, compare peak \(compare.kib / 1024) MB")
    }
}
