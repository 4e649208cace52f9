import DriftCapture
import DriftStats
import Foundation

/// Reading tables for the profile command and writing profile files.
public enum ReferenceSourceLoader {
    public static func table(path: String, format: TabularFormat?) throws -> Table {
        do { return try TabularFile.read(path: path, format: format) } catch let e as TableError { throw CompareError.table(e) }
    }
}

public enum ProfileFile {
    public static func write(_ profile: ReferenceProfile, to path: String) throws {
        do {
            try ProfileCodec.encode(profile).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CompareError.profile(file: path, reason: "cannot write the profile (\((error as NSError).localizedDescription))")
        }
    }
}
