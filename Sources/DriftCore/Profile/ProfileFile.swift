import DriftCapture
import DriftStats
import Foundation

/// Reading and writing profile files (`profile` itself streams its input through `ProfileBuilder.build(path:…)`).
public enum ProfileFile {
    /// Reads a profile file: memory-mapped (`MappedFile`) and decoded in place, so each sample is copied once, from
    /// the mapped pages into its array, and the pages already copied are dropped as decoding goes on (loading needs
    /// about the samples' size in memory, not twice it). Throws `CompareError.profile` naming the file for an
    /// unreadable or damaged profile. The file must not be truncated while it is read (`write` replaces a profile
    /// atomically, by rename).
    public static func read(path: String) throws -> ReferenceProfile {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw CompareError.profile(file: path, reason: "cannot read the profile (\(error))")
        }
        do {
            return try ProfileCodec.decode(bytes: file.bytes) { file.discard(before: $0) }
        } catch let e as ProfileCodec.DecodeError {
            throw CompareError.profile(file: path, reason: e.description)
        }
    }

    public static func write(_ profile: ReferenceProfile, to path: String) throws {
        do {
            try ProfileCodec.encode(profile).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CompareError.profile(file: path, reason: "cannot write the profile (\((error as NSError).localizedDescription))")
        }
    }
}
