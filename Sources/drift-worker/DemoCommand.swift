import ArgumentParser
import DriftCapture
import DriftCore
import DriftStore
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The whole story on the sample fraud model: capture → hourly checks → drift → actions.",
        discussion: """
        Without DATABASE_URL it starts a throwaway local PostgreSQL (deleted at exit); with it, it uses schema \
        drift_demo there. Reads sample-data/ from the current directory (or --data).
        """)

    @Option(help: "The sample-data directory.") var data = "sample-data"
    @Flag(help: "Print a JSON summary instead of the tables.") var json = false
    @Option(help: "Also write the drift report (HTML) of the window where the actions first fired to this file.") var report: String?

    private func say(_ text: String) { if !json { print(text) } }

    private func story(client: PostgresClient, monitor: MonitorConfig, local: LocalPostgres?) async throws -> [Backfill.WindowResult] {
        let settings = client.settings
        if let local { say("== PostgreSQL: throwaway cluster in \(local.directory)") } else { say("== PostgreSQL: DATABASE_URL, schema \(settings.schema)") }
        let migrated = try await client.withConnection { c in try Migrator(schema: settings.schema).migrate(c) }
        say("== migrated: \(migrated.applied.isEmpty ? "up to date" : "applied \(migrated.applied.count) migrations")")
        let table: Table
        do { table = try TabularFile.read(path: "\(data)/fraud/traffic.csv.gz") } catch let e as TableError {
            Terminal.fail(e.description)
            throw ExitStatus.badInput
        }
        let imported = CaptureFileImporter(monitor: monitor).events(from: table)
        let writer = CaptureWriter(client: client)
        for start in stride(from: 0, to: imported.events.count, by: 10_000) {
            try await writer.write(Array(imported.events[start..<min(start + 10_000, imported.events.count)]))
        }
        say("== ingested \(imported.events.count) captured events of model \(monitor.model) (\(data)/fraud/traffic.csv.gz)")
        let times: [Date] = imported.events.map { $0.observedAt }
        guard let first = times.min(), let last = times.max() else { return [] }
        let from = monitor.schedule.window(containing: first).start
        let to = monitor.schedule.window(containing: last).end
        say("== backfill of monitor \(monitor.name), \(PGTimeText.iso(from)) – \(PGTimeText.iso(to)), windows \(monitor.schedule.length)")
        let reporter = ProgressReporter(label: "checking")
        let quiet = json
        let progress: @Sendable (Int, Int) -> Void = { done, total in if !quiet { reporter.report(done, total) } }
        return try await Backfill(client: client, monitor: monitor, references: ReferenceStore(baseDirectory: FileManager.default.currentDirectoryPath))
            .run(from: from, to: to, progress: progress)
    }

    func run() async throws {
        var local: LocalPostgres? = nil
        let settings: ConnectionSettings
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            settings = ConnectionSettings(conninfo: url, schema: "drift_demo", poolSize: 2)
        } else {
            do { local = try LocalPostgres.start() } catch {
                Terminal.fail("\(error)")
                throw ExitStatus.failed
            }
            LocalPostgres.stopOnSignals()
            settings = ConnectionSettings(conninfo: local!.conninfo, schema: "drift", poolSize: 2)
        }
        defer { local?.stop() }
        let monitors: [MonitorConfig]
        do { monitors = try MonitorsFile.load(path: "\(data)/monitors.yaml") } catch let e as ConfigError {
            for issue in e.issues { Terminal.fail(issue.description) }
            throw ExitStatus.badInput
        }
        let monitor = monitors[0]
        let client = PostgresClient(settings: settings)
        let results = try await withDatabaseErrors {
            try await story(client: client, monitor: monitor, local: local)
        }
        if let report, let window = (results.first { !$0.firedActions.isEmpty } ?? results.last)?.window {
            let stored = try await withDatabaseErrors {
                try await client.withConnection { c in try DriftReport.stored(c, monitor: monitor, windowStart: window.start, since: nil) }
            }
            try ReportCommand.write(stored, to: report)
            Terminal.info("wrote the drift report of \(PGTimeText.iso(window.start)) to \(report)")
        }
        await client.shutdown()
        let fired = results.flatMap(\.firedActions)
        if json {
            let firstDrift = results.first { $0.drifted == true }.map { JSONValue.string(PGTimeText.iso($0.window.start)) } ?? .null
            print(JSONValue.object([
                ("windows_checked", .int(results.count)),
                ("windows_drifted", .int(results.filter { $0.drifted == true }.count)),
                ("windows_insufficient_data", .int(results.filter { $0.status == "insufficient_data" }.count)),
                ("first_drifted_window", firstDrift),
                ("actions_fired", .int(fired.count)),
                ("actions", .array(results.filter { !$0.firedActions.isEmpty }.flatMap { r in
                    r.firedActions.map { .string(DriftCheck.actionID(monitor: monitor.name, window: r.window, action: $0)) }
                })),
            ]).rendered())
        } else {
            print(WindowTable.render(results))
            print("\nThe actions were written to trigger_outbox in the same transaction as their drift run; delivering them (retraining, shadow evaluation) arrives with the triggers.")
        }
    }
}
