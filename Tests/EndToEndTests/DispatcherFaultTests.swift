import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// Several `drift-worker dispatch` processes against one outbox and a receiver on 127.0.0.1 that answers slower
/// than the dispatchers' `--claim-seconds` (2 s per request, claim floor 1 s): claims are renewed per row from the
/// action's own timeouts, so no live dispatcher's claim lapses mid-send; killing dispatchers mid-send (kill -9 while
/// the receiver holds their requests) leaves at most the rows they held to be resent, with the same webhook-id.
@Suite("Dispatcher under faults: slow receiver, several dispatchers, kill -9", .serialized)
struct DispatcherFaultTests {
    static let secret = "whsec_ZmF1bHQtdGVzdCBzZWNyZXQgZm9yIGRyaWZ0IQ=="
    /// The receiver's time per request: twice the dispatchers' `--claim-seconds 1`.
    static let holdSeconds = 2.0

    /// A receiver that verifies Standard Webhooks signatures and starts one run per webhook-id (202), answering a
    /// repeated id with its existing run (200): what a receiver that dedupes does.
    final class Receiver: @unchecked Sendable {
        let server = RecordingHTTPServer()
        private let lock = NSLock()
        private var runs: [String: Int] = [:]
        private var unverified = 0

        func start() async throws {
            let secrets = [try StandardWebhooks.Secret(DispatcherFaultTests.secret)]
            try await server.start { [self] r in
                let id = r.headers["webhook-id"] ?? ""
                let ok = StandardWebhooks.verify(
                    id: id, timestamp: Int(r.headers["webhook-timestamp"] ?? "") ?? 0,
                    signatureHeader: r.headers["webhook-signature"] ?? "", body: r.body, secrets: secrets)
                let status: Int = lock.withLock {
                    guard ok, !id.isEmpty else {
                        unverified += 1
                        return 401
                    }
                    runs[id, default: 0] += 1
                    return runs[id] == 1 ? 202 : 200
                }
                return .init(status: status, body: #"{"run_id":"\#(id)"}"#, delay: DispatcherFaultTests.holdSeconds)
            }
        }

        /// Requests received (each one a send by some dispatcher).
        var raw: Int { server.requests.count }
        /// Distinct webhook-ids, i.e. runs started.
        var distinct: Int { lock.withLock { runs.count } }
        var rejected: Int { lock.withLock { unverified } }
        /// Ids received more than once.
        var repeated: [String] { lock.withLock { runs.filter { $0.value > 1 }.keys.sorted() } }
    }

    /// A configuration with one monitor whose action `hook` posts to the receiver with a 3-s timeout and a 1-s
    /// connect timeout, so a send's claim is (1 + 3) s + 5 s = 9 s.
    static func config(port: Int, in dir: URL) throws -> String {
        let yaml = """
            monitors:
              - name: fault
                model: fraud
                window: PT1H
                features:
                  - {name: amount, kind: numeric}
                reference:
                  file: \(repoRoot.appendingPathComponent("sample-data/fraud/reference.csv").path)
                policy: {consecutive: 1, actions: [hook]}
                actions:
                  hook:
                    preset: webhook
                    url: http://127.0.0.1:\(port)/hooks/{{monitor}}
                    secrets: ["\(secret)"]
                    timeout: 3
                    connect_timeout: 1
                    max_attempts: 8
            """
        let file = dir.appendingPathComponent("monitors.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// A migrated schema with `rows` outbox rows of the `hook` action.
    static func seed(_ schema: WorkerSchema, rows: Int) async throws {
        let migrate = try await onBlockingPool { try CLI.run(["migrate"], environment: schema.env) }
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let conn = try schema.connect()
        for i in 0..<rows {
            let start = String(format: "2026-11-25T%02d:00:00Z", i)
            _ = try conn.query(
                """
                INSERT INTO trigger_outbox (action_id, monitor, action, preset, payload) VALUES ($1, 'fault', 'hook', 'webhook', $2::jsonb)
                """,
                [
                    "fault:\(start):hook",
                    #"{"monitor":"fault","model":"fraud","window_start":"\#(start)","window_end":"","drifted_features":["amount"],"run_id":\#(i + 1)}"#
                ],
                name: "t")
        }
    }

    /// A `dispatch` process with its standard error kept in a file (shown when it fails).
    struct Dispatcher {
        let process: Process
        let log: URL

        init(config: String, wait: Double, env: [String: String], dir: URL, name: String) throws {
            log = dir.appendingPathComponent("\(name).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process = CLI.process(["dispatch", "--config", config, "--claim-seconds", "1", "--wait", "\(wait)"], environment: env)
            process.standardOutput = try FileHandle(forWritingTo: log)
            process.standardError = process.standardOutput
            try process.run()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// Waits up to `timeout` seconds for the exit; a process still running then is killed and reported.
        func exit(within timeout: Double) async -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                Issue.record("dispatcher did not exit within \(timeout) s:\n\(output)")
                return nil
            }
            return process.terminationStatus
        }

        func killNow() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Polls `condition` every 20 ms for at most `timeout` seconds.
    static func until(_ timeout: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    struct Outbox {
        var delivered: Int
        var total: Int
        var attempts: [Int]
    }

    static func outbox(_ schema: WorkerSchema) throws -> Outbox {
        let rows = try schema.connect().query("SELECT state, attempts FROM trigger_outbox ORDER BY id", name: "t")
        return Outbox(
            delivered: try rows.filter { try $0.string("state") == "delivered" }.count, total: rows.count,
            attempts: try rows.map { try $0.int("attempts") })
    }

    @Test func threeDispatchersAndASlowReceiverSendEveryActionOnce() async throws {
        let schema = try WorkerSchema(prefix: "fault_a")
        defer { schema.drop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fault-a-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let receiver = Receiver()
        try await receiver.start()
        let rows = 9
        try await Self.seed(schema, rows: rows)
        let config = try Self.config(port: receiver.server.port, in: dir)

        let dispatchers = try (0..<3).map { try Dispatcher(config: config, wait: 0, env: schema.env, dir: dir, name: "d\($0)") }
        for d in dispatchers {
            let status = await d.exit(within: 45)
            #expect(status == 0, "\(d.output)")
        }
        let outbox = try Self.outbox(schema)
        print(
            "dispatcher fault test, no kill: rows \(rows), raw requests \(receiver.raw), distinct ids \(receiver.distinct), "
                + "most held at once \(receiver.server.maxInFlight), attempts \(outbox.attempts)")
        #expect(receiver.raw == rows && receiver.distinct == rows, "every action id got a 2xx exactly once; repeated: \(receiver.repeated)")
        #expect(receiver.rejected == 0, "every request was signed")
        #expect(outbox.delivered == rows && outbox.total == rows)
        #expect(receiver.server.maxInFlight >= 2, "the dispatchers sent concurrently")
        await receiver.server.stop()
    }

    @Test func dispatchersKilledMidSendLeaveOneRunPerActionAndAFreshDispatcherDrains() async throws {
        let schema = try WorkerSchema(prefix: "fault_b")
        defer { schema.drop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fault-b-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let receiver = Receiver()
        try await receiver.start()
        let rows = 6
        try await Self.seed(schema, rows: rows)
        let config = try Self.config(port: receiver.server.port, in: dir)

        let dispatchers = try (0..<3).map { try Dispatcher(config: config, wait: 0, env: schema.env, dir: dir, name: "d\($0)") }
        // all three are mid-send: the receiver holds a request of each
        let held = await Self.until(30) { receiver.server.inFlight >= 3 }
        #expect(held, "three requests held at once; got \(receiver.server.inFlight)")
        let killed = dispatchers.prefix(2)
        for d in killed { d.killNow() }
        #expect(killed.allSatisfy { $0.process.terminationReason == .uncaughtSignal && $0.process.terminationStatus == SIGKILL })
        let rawAtKill = receiver.raw

        // the survivor keeps going; a fresh dispatcher waits out the killed ones' claims (9 s) and resends their rows
        let fresh = try Dispatcher(config: config, wait: 30, env: schema.env, dir: dir, name: "fresh")
        let survivor = await dispatchers[2].exit(within: 45)
        #expect(survivor == 0, "\(dispatchers[2].output)")
        let drained = await fresh.exit(within: 50)
        #expect(drained == 0, "\(fresh.output)")

        let outbox = try Self.outbox(schema)
        print(
            "dispatcher fault test, 2 of 3 killed mid-send: rows \(rows), raw requests \(receiver.raw) (\(rawAtKill) at the kill), "
                + "distinct ids \(receiver.distinct), resent ids \(receiver.repeated), attempts \(outbox.attempts)")
        #expect(receiver.distinct == rows, "the receiver saw one run per id")
        #expect(receiver.raw <= rows + killed.count, "only rows the killed dispatchers held are resent (one row per claim)")
        #expect(receiver.repeated.count == receiver.raw - rows)
        #expect(receiver.rejected == 0)
        #expect(outbox.delivered == rows && outbox.total == rows, "every row ends delivered")
        await receiver.server.stop()
    }
}
