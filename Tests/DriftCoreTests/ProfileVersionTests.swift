import DriftCapture
import DriftCore
import DriftStats
import DriftTestSupport
import Foundation
import Testing

@Suite("compare --reference PROFILE: version 2 and version 1 profiles give the raw data's results")
struct ProfileVersionTests {
    /// A version 2 profile file rewritten as version 1 (no stored bin counts), byte for byte otherwise.
    static func version1(_ data: Data) -> Data {
        let length = Int(data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: UInt64.self)) })
        let header = String(decoding: data[20..<(20 + length)], as: UTF8.self)
            .replacingOccurrences(of: #""quantileCounts":\[[0-9,]*\],"#, with: "", options: .regularExpression)
        var out = Data(data.prefix(8))
        withUnsafeBytes(of: UInt32(1).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(Data(header.utf8))
        out.append(data[(20 + length)...])
        return out
    }

    @Test func sampleDataGivesTheSameReportFromEitherVersionAndTheRawFile() throws {
        let s = try Scratch()
        let refPath = fraud.appendingPathComponent("reference.csv").path
        let profile = try ProfileBuilder.build(table: try TabularFile.read(path: refPath), selection: .init())
        try ProfileFile.write(profile, to: s.path("v2.prf"))
        let v2 = try Data(contentsOf: URL(fileURLWithPath: s.path("v2.prf")))
        try Self.version1(v2).write(to: URL(fileURLWithPath: s.path("v1.prf")))
        #expect(try ProfileFile.read(path: s.path("v1.prf")) == ProfileFile.read(path: s.path("v2.prf")))
        for current in ["current_drift.csv", "current_no_drift.csv"] {
            let cur = fraud.appendingPathComponent(current).path
            for binning in PSIBinning.allCases {
                var settings = DriftSettings()
                settings.binning = binning
                func rendered(_ ref: String) throws -> String {
                    let r = try Comparison.run(referencePath: ref, currentPath: cur, format: nil, selection: .init(), settings: settings)
                    return r.json().rendered().replacingOccurrences(of: ref, with: "REF")
                }
                let raw = try rendered(refPath)
                #expect(try rendered(s.path("v2.prf")) == raw, "\(current) \(binning)")
                #expect(try rendered(s.path("v1.prf")) == raw, "\(current) \(binning)")
            }
        }
    }

    @Test func aDamagedProfileFileIsAnErrorNamingTheFile() throws {
        let s = try Scratch()
        let profile = try ProfileBuilder.build(
            table: try TabularFile.read(path: fraud.appendingPathComponent("reference.csv").path), selection: .init())
        let data = try ProfileCodec.encode(profile)
        try data.prefix(data.count - 5).write(to: URL(fileURLWithPath: s.path("cut.prf")))
        do {
            _ = try ReferenceSource.load(path: s.path("cut.prf"), format: nil)
            Issue.record("a truncated profile was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(s.path("cut.prf") + ": the profile file is truncated: the "))
            #expect(message.contains("correlation matrix needs"))
        }
    }
}
