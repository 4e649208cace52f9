import DriftTestSupport
import Foundation

/// Runs the real `drift-worker` binary built next to the tests.
enum CLI {
    static var binary: URL {
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("drift-worker")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return repoRoot.appendingPathComponent(".build/debug/drift-worker")
    }

    /// A configured, not yet started process: the environment plus `environment` (without an inherited
    /// DATABASE_URL), running in the repository root so that relative paths like `sample-data/…` work.
    static func process(_ args: [String], environment: [String: String] = [:]) -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = repoRoot
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DATABASE_URL")
        // readable lines, as on a terminal, unless a test asks for JSON (stderr is a pipe here, which means JSON)
        env["LOG_FORMAT"] = "text"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        return p
    }

    /// Runs to completion and returns the exit status and both outputs.
    static func run(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = process(args, environment: environment)
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // both pipes drained at once: a process that fills one (stderr logs) while we wait on the other would block
        nonisolated(unsafe) var e = Data()
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            e = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Starts in the background with its output discarded.
    static func start(_ args: [String], environment: [String: String] = [:]) throws -> Process {
        let p = process(args, environment: environment)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }
}
