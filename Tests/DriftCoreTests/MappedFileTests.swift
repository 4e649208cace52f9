import DriftTestSupport
import Foundation
import Testing

@testable import DriftCore

@Suite("MappedFile: a profile file mapped, read in place, its read pages dropped")
struct MappedFileTests {
    /// The resident kilobytes of this process's mapping of `path` (from /proc/self/smaps), nil when it is not mapped.
    static func residentKilobytes(of path: String) throws -> Int? {
        // Read to the end: a /proc file reports size 0 and may return less than a buffer's worth before its end.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            if line.split(separator: " ", maxSplits: 1).first?.allSatisfy({ $0.isHexDigit || $0 == "-" }) == true {
                inMapping = line.hasSuffix(" " + path)
            } else if inMapping, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ")[1])
            }
        }
        return nil
    }

    @Test func theFileIsMappedAndDiscardedPagesLeaveTheProcess() throws {
        let s = try Scratch()
        let path = s.path("big.bin")
        let size = 8 << 20
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: URL(fileURLWithPath: path))
        do {
            let file = try MappedFile(path: path)
            #expect(file.bytes.count == size)
            var sum = 0
            for i in stride(from: 0, to: size, by: 4096) { sum &+= Int(file.bytes[i]) }  // touch every page
            #expect(sum != 0)
            let touched = try #require(try Self.residentKilobytes(of: path))
            #expect(touched >= size / 1024 / 2, "the pages read are resident: \(touched) kB")
            file.discard(before: size)
            let after = try #require(try Self.residentKilobytes(of: path))
            #expect(after <= 4, "discarded pages are no longer resident: \(after) kB")
            #expect(file.bytes[size - 1] == UInt8(truncatingIfNeeded: (size - 1) &* 31 &+ 7), "a discarded page reads again from the file")
        }
        #expect(try Self.residentKilobytes(of: path) == nil, "unmapped when the value goes")
    }

    @Test func emptyMissingAndDirectoryPathsAreErrorsNotCrashes() throws {
        let s = try Scratch()
        let empty = s.write("empty.prf", "")
        #expect(try MappedFile(path: empty).bytes.isEmpty)
        #expect("\(try #require(throws: (any Error).self) { try ProfileFile.read(path: empty) })".contains("not a drift-worker profile"))
        let missing = "\(try #require(throws: (any Error).self) { try ProfileFile.read(path: s.path("nope.prf")) })"
        #expect(missing == "\(s.path("nope.prf")): cannot read the profile (open: No such file or directory).")
        let dir = "\(try #require(throws: (any Error).self) { try ProfileFile.read(path: s.dir.path) })"
        #expect(dir.contains("not a regular file"))
    }
}
