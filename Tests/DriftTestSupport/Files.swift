import Foundation

/// Writes files into a private temporary directory for one test; the directory goes when the value does.
public final class Scratch {
    public let dir: URL
    public init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("drift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: dir) }
    public func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }
    public func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
}

/// The repository's root folder (this file is Tests/DriftTestSupport/Files.swift).
public let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// The sample fraud model's data (sample-data/fraud).
public let fraud = repoRoot.appendingPathComponent("sample-data/fraud")

/// gzip through the system's gzip (the test's stand-in for a client that compresses).
public func gzip(_ data: Data, level: Int = 1) throws -> Data {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: file) }
    try data.write(to: file)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-c", "-\(level)", file.path]
    let output = Pipe()
    p.standardOutput = output
    try p.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return out
}
