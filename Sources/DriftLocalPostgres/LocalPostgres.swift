import Foundation
import NIOConcurrencyHelpers

/// A private, throwaway PostgreSQL cluster for `make demo`, `drift-worker demo` and the tests:
/// `initdb` into a temporary directory, listening only on a Unix socket in that directory (never on
/// the network), stopped and deleted on `stop()`, at process exit, and on SIGINT/SIGTERM once
/// `stopOnSignals()` is called. PostgreSQL refuses to run as root, so as root it runs as the
/// `postgres` user in a directory that user owns. Durability is traded for speed (fsync off):
/// it is for data you can lose. A development tool: the CLI's `local-postgres` and `demo` and the tests link it; the
/// production library DriftStore does not.
public final class LocalPostgres: Sendable {
    public let directory: String
    public let port: Int
    public let user: String
    private let binDir: String
    private let runAs: String?
    private let running = NIOLockedValueBox(false)

    public enum Failure: Error, CustomStringConvertible {
        case serverNotInstalled
        case command(String, Int32, String)

        public var description: String {
            switch self {
            case .serverNotInstalled:
                return
                    "PostgreSQL server binaries (initdb, pg_ctl) were not found in `pg_config --bindir` or /usr/lib/postgresql/*/bin; install the Debian package `postgresql` (make does this)."
            case .command(let cmd, let status, let output):
                return "\(cmd) failed with status \(status): \(output.suffix(600))"
            }
        }
    }

    /// libpq settings for this cluster (database `postgres`, superuser, trust authentication).
    public var conninfo: String { "host=\(directory) port=\(port) user=\(user) dbname=postgres connect_timeout=10" }

    public static func start() throws -> LocalPostgres {
        let pg = try LocalPostgres()
        try pg.initialise()
        try pg.startServer()
        LocalPostgresRegistry.shared.add(pg)
        return pg
    }

    private init() throws {
        guard let bin = Self.findBinDir() else { throw Failure.serverNotInstalled }
        binDir = bin
        let isRoot = getuid() == 0
        runAs = isRoot ? "postgres" : nil
        user = isRoot ? "postgres" : (ProcessInfo.processInfo.environment["USER"] ?? NSUserName())
        var template = Array("/tmp/drift-pg-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw Failure.command("mkdtemp", errno, "cannot create a temporary directory") }
        directory = String(cString: dir)
        port = Int.random(in: 20_000..<60_000)
        if isRoot {
            guard let pw = getpwnam("postgres") else {
                throw Failure.command("getpwnam", 1, "there is no `postgres` user to run the server as (the Debian package `postgresql` creates it)")
            }
            chown(directory, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        chmod(directory, 0o700)
    }

    static func findBinDir() -> String? {
        var candidates: [String] = []
        if let out = try? Self.capture("/usr/bin/env", ["pg_config", "--bindir"]), !out.isEmpty {
            candidates.append(out.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "\(base)/\($0)/bin" }
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: "\($0)/initdb") && FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl")
        }
    }

    private var dataDir: String { "\(directory)/data" }

    private func initialise() throws {
        try run("initdb", ["-D", dataDir, "-A", "trust", "-U", user, "-E", "UTF8", "--locale=C", "--no-sync"])
        let conf = """

            listen_addresses = ''
            unix_socket_directories = '\(directory)'
            port = \(port)
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            max_connections = 200
            timezone = 'UTC'
            log_min_messages = warning

            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dataDir)/postgresql.conf"))
        handle.seekToEndOfFile()
        handle.write(Data(conf.utf8))
        try handle.close()
    }

    private func startServer() throws {
        try run("pg_ctl", ["-D", dataDir, "-l", "\(directory)/server.log", "-w", "-t", "60", "-o", "-k \(directory)", "start"])
        running.withLockedValue { $0 = true }
    }

    /// Restarts the server (fast shutdown), for tests that check clients survive it.
    public func restart() throws {
        try run("pg_ctl", ["-D", dataDir, "-l", "\(directory)/server.log", "-w", "-t", "60", "-m", "fast", "-o", "-k \(directory)", "restart"])
    }

    /// Stops the server (fast shutdown) but keeps its data, for tests of what clients do while it is down.
    public func pause() throws {
        try run("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Starts a paused server again on the same port and directory.
    public func resume() throws { try startServer() }

    /// Freezes the whole cluster with SIGSTOP — the postmaster and every backend — as a hung database looks to its
    /// clients (connections stay open, nothing answers); `thaw()` sends SIGCONT. For tests of clients under a hang.
    public func freeze() throws { try signalCluster(SIGSTOP) }

    /// Resumes a frozen cluster (SIGCONT to the postmaster and every backend).
    public func thaw() throws { try signalCluster(SIGCONT) }

    /// The postmaster (first line of postmaster.pid) and its children (their parent in /proc/PID/stat).
    private func signalCluster(_ signal: Int32) throws {
        guard let text = try? String(contentsOfFile: "\(dataDir)/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first, let postmaster = Int32(first.trimmingCharacters(in: .whitespaces))
        else { throw Failure.command("postmaster.pid", 1, "the cluster in \(dataDir) is not running") }
        func children() -> [Int32] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
                guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { return nil }
                // fields after the command name: state, ppid, …
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 1 && Int32(fields[1]) == postmaster ? pid : nil
            }
        }
        if signal == SIGSTOP {
            // the postmaster first (it forks no backend while stopped), then its children as they are now
            kill(postmaster, SIGSTOP)
            for pid in children() { kill(pid, SIGSTOP) }
        } else {
            for pid in children() { kill(pid, signal) }
            kill(postmaster, signal)
        }
    }

    /// Stops the server immediately and deletes its directory. Safe to call more than once.
    public func stop() {
        let wasRunning: Bool = running.withLockedValue { running in
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        _ = try? run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "-t", "30", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
        LocalPostgresRegistry.shared.remove(self)
    }

    deinit { stop() }

    /// Stops every running local cluster on SIGINT or SIGTERM, then exits (130 / 143).
    public static func stopOnSignals() { LocalPostgresRegistry.shared.installSignalHandlers() }

    /// Runs a server binary, as the `postgres` user when we are root.
    @discardableResult
    func run(_ tool: String, _ args: [String]) throws -> String {
        let path = "\(binDir)/\(tool)"
        let (exe, argv) = runAs.map { ("/usr/sbin/runuser", ["-u", $0, "--", path] + args) } ?? (path, args)
        let result = try ChildProcess.run(exe, argv, in: directory)
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? ""
            throw Failure.command("\(tool) \(args.last ?? "")", result.status, result.output + log)
        }
        return result.output
    }

    static func capture(_ exe: String, _ args: [String]) throws -> String {
        let r = try ChildProcess.run(exe, args)
        return r.status == 0 ? r.output : ""
    }
}

/// The running clusters of this process, stopped at exit and on signals.
final class LocalPostgresRegistry: Sendable {
    static let shared = LocalPostgresRegistry()
    private struct State {
        var servers: [ObjectIdentifier: LocalPostgres] = [:]
        var atexitInstalled = false
        var signalsInstalled = false
    }
    private let state = NIOLockedValueBox(State())

    func add(_ pg: LocalPostgres) {
        let installAtexit: Bool = state.withLockedValue { state in
            state.servers[ObjectIdentifier(pg)] = pg
            defer { state.atexitInstalled = true }
            return !state.atexitInstalled
        }
        if installAtexit { atexit { LocalPostgresRegistry.shared.stopAll() } }
    }

    func remove(_ pg: LocalPostgres) { state.withLockedValue { _ = $0.servers.removeValue(forKey: ObjectIdentifier(pg)) } }

    func stopAll() {
        let all = state.withLockedValue { Array($0.servers.values) }
        for s in all { s.stop() }
    }

    func installSignalHandlers() {
        let install: Bool = state.withLockedValue { state in
            defer { state.signalsInstalled = true }
            return !state.signalsInstalled
        }
        guard install else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler {
                LocalPostgresRegistry.shared.stopAll()
                exit(128 + sig)
            }
            src.resume()
            // the handlers live as long as the process: the source is deliberately kept (never released)
            _ = Unmanaged.passRetained(src as AnyObject)
        }
    }
}
