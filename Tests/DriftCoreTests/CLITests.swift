import Foundation
import Testing

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

@Suite("drift-worker command line")
struct CLITests {
    let ref = fraud.appendingPathComponent("reference.csv").path
    let drift = fraud.appendingPathComponent("current_drift.csv").path
    let calm = fraud.appendingPathComponent("current_no_drift.csv").path

    @Test func exitCodes() throws {
        #expect(try CLI.run(["compare", "--reference", ref, "--current", calm, "--fail-on-drift"]).status == 0)
        #expect(try CLI.run(["compare", "--reference", ref, "--current", drift]).status == 0)
        let failing = try CLI.run(["compare", "--reference", ref, "--current", drift, "--fail-on-drift"])
        #expect(failing.status == 3)
        let json = try JSONSerialization.jsonObject(with: Data(failing.stdout.utf8)) as? [String: Any]
        #expect((json?["dataset"] as? [String: Any])?["drifted"] as? Bool == true, "not on a terminal, the default output is JSON")
    }

    @Test func badInputExitsTwoWithOneSentence() throws {
        let r = try CLI.run(["compare", "--reference", "/nonexistent/ref.csv", "--current", drift])
        #expect(r.status == 2)
        #expect(r.stderr == "drift-worker: error: /nonexistent/ref.csv: cannot read the file (no such file).\n")
        #expect(r.stdout.isEmpty)
    }

    @Test func tableFormatAndProfileCommand() throws {
        let s = try Scratch()
        let built = try CLI.run(["profile", "--reference", ref, "--out", s.path("p.bin")])
        #expect(built.status == 0 && built.stderr.contains("wrote"))
        let t = try CLI.run(["compare", "--reference", s.path("p.bin"), "--current", drift, "--format", "table"])
        #expect(t.status == 0)
        #expect(t.stdout.contains("dataset: DRIFT"))
        #expect(t.stdout.contains("merchant_category") && t.stdout.contains("crypto_exchange"))
        let bad = try CLI.run(["compare", "--reference", ref, "--current", drift, "--bins", "1"])
        #expect(bad.status != 0 && bad.stderr.contains("--bins must be between 2 and 10000"))
    }

    @Test func versionNamesTheNativeLibraries() throws {
        let v = try CLI.run(["version"])
        #expect(v.status == 0 && v.stdout.contains("libpq") && v.stdout.contains("libcurl") && v.stdout.contains("OpenBLAS"))
        #expect(v.stdout.components(separatedBy: "OpenBLAS").count == 2, "OpenBLAS named once: \(v.stdout)")
    }
}
