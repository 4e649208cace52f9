import ArgumentParser
import DriftCapture
import DriftCommon
import DriftCore
import DriftLocalPostgres
import DriftServer
import DriftStore
import DriftTriggers
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The whole story on the sample fraud model: capture → hourly checks → drift → actions.",
        discussion: """
            Without DATABASE_URL it starts a throwaway local PostgreSQL (deleted at exit); with it, it uses schema \
            drift_demo there. Reads sample-data/ from the current directory (or --data). Starts a webhook receiver on \
            127.0.0.1 (any free port) that stands in for the retraining pipeline and the model registry: it verifies \
            every signature and starts one run per action id. Exit status: 0 the story ran to its end; 1 when PostgreSQL \
            cannot be started or reached; 2 bad input (a usage error, sample data missing or invalid).
            """)

    @Option(help: "The sample-data directory.") var data = "sample-data"
    @Flag(help: "Print a JSON summary instead of the tables.") var json = false
    @Option(help: "Also write the drift report (HTML) of the window where the actions first fired to this file.") var report: String?

    private func say(_ text: String) { if !json { print(text) } }

    private func story(client: PostgresClient, monitor: MonitorConfig, local: LocalPostgres?) async throws -> [Backfill.WindowResult] {
        let settings = client.settings
        if let local {
            say("== PostgreSQL: throwaway cluster in \(local.directory)")
        } else {
            say("== PostgreSQL: DATABASE_URL, schema \(settings.schema)")
        }
        let migrated = try await client.withConnection { c in try Migrator(schema: settings.schema).migrate(c) }
        say("== migrated: \(migrated.applied.isEmpty ? "up to date" : "applied \(migrated.applied.count) migrations")")
        let table: Table
        do {
            table = try TabularFile.read(path: "\(data)/fraud/traffic.csv.gz", options: CaptureFileImporter(monitor: monitor).readOptions)
        } catch let e as TableError {
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
        return try await Backfill(
            client: client, monitor: monitor, references: ReferenceStore(baseDirectory: FileManager.default.currentDirectoryPath)
        )
        .run(from: from, to: to, progress: progress)
    }

    func run() async throws {
        // the story is told on standard output; the workers' routine info records would interleave with it (LOG_LEVEL
        // brings them back), warnings and errors still show
        LogSetup.bootstrap(defaultLevel: .warning)
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
        // the pipeline and the registry the actions go to: a local receiver that checks signatures
        let secret = try StandardWebhooks.Secret(Self.demoSecret)
        let receiver = WebhookReceiver(secrets: [secret])
        try await receiver.start()
        var environment = ProcessInfo.processInfo.environment
        let base = "http://127.0.0.1:\(receiver.port)/hooks"
        environment["DRIFT_RETRAIN_URL"] = "\(base)/retrain"
        environment["DRIFT_PROMOTE_URL"] = "\(base)/promote"
        environment["DRIFT_REJECT_URL"] = "\(base)/reject"
        environment["DRIFT_WEBHOOK_SECRET"] = Self.demoSecret
        let monitor: MonitorConfig
        let results: [Backfill.WindowResult]
        let triggers: TriggerStory
        let embeddings: (results: [Backfill.WindowResult], text: String)
        let performance: PerformanceStory
        do {
            let monitors = try loadMonitors(path: "\(data)/monitors.yaml", environment: environment)
            monitor = monitors[0]
            (results, triggers, performance, embeddings) = try await withPostgresClient(settings) { client in
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
                let triggers = try await withDatabaseErrors {
                    try await deliver(client: client, monitors: monitors, monitor: monitor, receiver: receiver, results: results)
                }
                await receiver.stop()
                let performance = try await withDatabaseErrors {
                    try await performanceStory(
                        client: client, monitor: monitor, references: ReferenceStore(baseDirectory: FileManager.default.currentDirectoryPath))
                }
                let embeddings = try await withDatabaseErrors { try await embeddingStory(client: client) }
                return (results, triggers, performance, embeddings)
            }
        } catch {
            await receiver.stop()  // stopping twice is harmless
            throw error
        }
        let fired = results.flatMap(\.firedActions)
        if json {
            let firstDrift = results.first { $0.drifted == true }.map { JSONValue.string(PGTimeText.iso($0.window.start)) } ?? .null
            print(
                JSONValue.object([
                    ("windows_checked", .int(results.count)),
                    ("windows_drifted", .int(results.filter { $0.drifted == true }.count)),
                    ("windows_insufficient_data", .int(results.filter { $0.status == .insufficientData }.count)),
                    ("first_drifted_window", firstDrift),
                    ("actions_fired", .int(fired.count)),
                    (
                        "actions",
                        .array(
                            results.filter { !$0.firedActions.isEmpty }.flatMap { r in
                                r.firedActions.map { .string(DriftCheck.actionID(monitor: monitor.name, window: r.window, action: $0)) }
                            })
                    ),
                    (
                        "deliveries",
                        .array(
                            triggers.outbox.map {
                                .object([
                                    ("action_id", .string($0.actionID)), ("state", .string($0.state)),
                                    ("attempts", .int($0.attempts)), ("external_run_id", $0.runID.map { .string($0) } ?? .null)
                                ])
                            })
                    ),
                    (
                        "receiver",
                        .object([("requests", .int(triggers.received)), ("verified", .int(triggers.verified)), ("runs", .int(triggers.runs))])
                    ),
                    (
                        "performance",
                        .object([
                            ("moment", .string(PGTimeText.iso(Self.performanceMoment))), ("labels_known_then", .int(performance.labelsEarly)),
                            ("labels", .int(performance.labelsTotal)),
                            ("first_estimated_drop", performance.firstEstimatedDrop.map { .string(PGTimeText.iso($0)) } ?? .null),
                            ("first_realized_drop", performance.firstRealizedDrop.map { .string(PGTimeText.iso($0)) } ?? .null)
                        ])
                    ),
                    (
                        "embeddings",
                        .object([
                            ("windows_checked", .int(embeddings.results.count)),
                            ("windows_drifted", .int(embeddings.results.filter { $0.drifted == true }.count)),
                            (
                                "first_drifted_window",
                                embeddings.results.first { $0.drifted == true }.map { .string(PGTimeText.iso($0.window.start)) } ?? .null
                            ),
                            (
                                "false_alarms_before_the_shift",
                                .int(embeddings.results.filter { $0.drifted == true && $0.window.start < Self.embeddingShift }.count)
                            )
                        ])
                    ),
                    (
                        "shadow_evaluations",
                        .array(
                            triggers.evaluations.map {
                                .object([
                                    ("challenger", .string($0.challenger)), ("verdict", .string($0.verdict)),
                                    ("window_start", .string(PGTimeText.iso($0.from)))
                                ])
                            })
                    )
                ]).rendered())
        } else {
            print(WindowTable.render(results))
            print(triggers.text)
            if !performance.text.isEmpty { print(performance.text) }
            print(embeddings.text)
        }
    }

    /// When the sample embeddings' billing topic moves (sample-data/embeddings/generate_embeddings.py).
    static let embeddingShift = ISO8601DateFormatter().date(from: "2026-11-20T12:00:00Z")!

    /// Captures a sample file of KServe logger events (JSON Lines, gzip) for `model`; returns the events written.
    private func captureSample(_ file: String, monitors: [MonitorConfig], model: String, client: PostgresClient) async throws -> Int {
        let contents: Data
        do { contents = try TabularFile.contents(file) } catch let e as TableError {
            Terminal.fail(e.description)
            throw ExitStatus.badInput
        }
        let capture = ServingCapture(monitors: monitors)
        var events: [CaptureEvent] = []
        for line in contents.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            events += try capture.events(from: try CaptureLineDecoder.decode(Data(line), format: .kserve), model: model).events
        }
        return try await CaptureWriter(client: client).write(events)
    }

    /// Part 1c: a 128-dimensional embedding input, tested through PCA components, reconstruction error and MMD.
    private func embeddingStory(client: PostgresClient) async throws -> (results: [Backfill.WindowResult], text: String) {
        let monitors = try loadMonitors(path: "\(data)/embeddings/monitors.yaml")
        let monitor = monitors[0]
        let file = "\(data)/embeddings/embedding-traffic.jsonl.gz"
        let captured = try await captureSample(file, monitors: monitors, model: monitor.model, client: client)
        var out = "\n== embeddings: \(captured) captured events of model \(monitor.model) (a 128-dimensional input tensor), \(file)\n"
        out += "== reference: \(monitor.reference.description); checking 06:00–18:00 (the billing topic moves at 12:00)\n"
        let from = ISO8601DateFormatter().date(from: "2026-11-20T06:00:00Z")!
        let to = ISO8601DateFormatter().date(from: "2026-11-20T18:00:00Z")!
        let results = try await Backfill(
            client: client, monitor: monitor, references: ReferenceStore(baseDirectory: FileManager.default.currentDirectoryPath)
        )
        .run(from: from, to: to)
        out += WindowTable.render(results)
        if let first = results.first(where: { $0.drifted == true }) {
            let rows = try await client.withConnection { c in
                try c.query(
                    """
                    SELECT f.reasons, f.detail::text AS detail FROM drift_feature_results f JOIN drift_runs r ON r.id = f.run_id
                     WHERE r.monitor = $1 AND r.window_start = $2 AND f.kind = 'tensor'
                    """, [monitor.name, first.window.start], name: "demo.tensor"
                ).map { (try $0.strings("reasons").compactMap { $0 }, try $0.string("detail")) }
            }
            for (reasons, detail) in rows {
                guard let t = FeatureDetail.parse(detail)?.tensor else { continue }
                out += "\n\nembedding at \(PGTimeText.iso(first.window.start)): PCA on the reference keeps \(t.components.count) components"
                out += (t.explainedShare.map { String(format: " (%.1f%% of the variance)", $0 * 100) } ?? "") + "\n"
                out +=
                    "  component PSI: "
                    + zip(t.components, t.componentPSI).map {
                        String(format: "%@ %.3f", ($0.0.split(separator: ".").last.map(String.init) ?? $0.0) as NSString, $0.1)
                    }.joined(separator: ", ") + "\n"
                if let e = t.reconstructionError, let lo = t.reconstructionLower, let hi = t.reconstructionUpper {
                    out += String(format: "  reconstruction error %.4f (reference band %.4f – %.4f)\n", e, lo, hi)
                }
                if let m = t.mmd2, let p = t.mmdPValue {
                    out += String(format: "  MMD² %.5f, permutation p = %.4f (%d permutations)\n", m, p, t.mmdPermutations ?? 0)
                }
                out += "  why: " + reasons.joined(separator: "; ")
            }
        }
        return (results, out)
    }

    static let demoSecret = "whsec_ZHJpZnQtd29ya2VyIGRlbW8gc2VjcmV0IQ=="

    struct TriggerStory {
        struct Row {
            var actionID: String
            var state: String
            var attempts: Int
            var runID: String?
        }
        var outbox: [Row] = []
        var received = 0, verified = 0, runs = 0
        var evaluations: [ShadowEvalTasks.Stored] = []
        var text = ""
    }

    /// Part 1b: the shadow traffic arrives, the dispatcher delivers the fired actions to the local receiver, runs the
    /// shadow evaluations they enqueue and delivers what those fire; then a bad candidate is judged on the same hours.
    private func deliver(
        client: PostgresClient, monitors: [MonitorConfig], monitor: MonitorConfig, receiver: WebhookReceiver,
        results: [Backfill.WindowResult]
    ) async throws -> TriggerStory {
        var story = TriggerStory()
        var out = ""
        let file = "\(data)/shadow/shadow-traffic.jsonl.gz"
        let captured = try await captureSample(file, monitors: monitors, model: monitor.model, client: client)
        out += "\n== shadow traffic: \(captured) captured events of the champion (v3) and two candidates in shadow (v4, v5), \(file)\n"
        out += "== dispatching the outbox to the pipeline receiver at http://127.0.0.1:\(receiver.port)/hooks (Standard Webhooks signatures)\n"
        var options = TriggerDispatcher.Options()
        options.crashAfterSend = nil
        let steps = TriggerSteps(client: client, monitors: monitors, options: options)
        var counters = try await steps.run(wait: 10)
        // the bad candidate, judged on the same two hours as the first evaluation
        if case .shadowEval(var config)? = monitor.actions["shadow_eval"], let first = results.first(where: { !$0.firedActions.isEmpty }) {
            config.challenger = "v5"
            let period = config.period?.seconds ?? monitor.schedule.length.seconds
            _ = try await ShadowEvalTasks(client: client, monitors: monitors).evaluate(
                monitor: monitor, config: config,
                from: first.window.end.addingTimeInterval(-period), to: first.window.end)
            let more = try await steps.run(wait: 10)
            counters.delivered += more.delivered
            counters.dead += more.dead
        }
        let (rows, evaluations) = try await client.withConnection { c in
            (
                try c.query("SELECT action_id, state, attempts, external_run_id FROM trigger_outbox ORDER BY id", name: "demo.outbox").map {
                    TriggerStory.Row(
                        actionID: try $0.string("action_id"), state: try $0.string("state"), attempts: try $0.int("attempts"),
                        runID: try $0.optionalString("external_run_id"))
                },
                try c.query(
                    "SELECT challenger, window_start, window_end FROM shadow_evaluations ORDER BY window_start, challenger", name: "demo.shadow"
                ).map {
                    (try $0.string("challenger"), try $0.date("window_start"), try $0.date("window_end"))
                }
            )
        }
        story.outbox = rows
        for (challenger, from, to) in evaluations {
            if let e = try await client.withConnection({ c in
                try ShadowEvalTasks.existing(c, monitor: monitor.name, challenger: challenger, from: from, to: to)
            }) {
                story.evaluations.append(e)
            }
        }
        out += "\naction id".padding(toLength: 85, withPad: " ", startingAt: 0) + "  state      attempts  run started\n"
        for r in rows {
            out +=
                "\(r.actionID.padding(toLength: 84, withPad: " ", startingAt: 0))  \(r.state.padding(toLength: 9, withPad: " ", startingAt: 0))  \(String(format: "%8d", r.attempts))  \(r.runID ?? "–")\n"
        }
        let deliveries = receiver.deliveries
        story.received = deliveries.count
        story.verified = deliveries.filter(\.verified).count
        story.runs = receiver.runCount
        out +=
            "\nreceiver: \(deliveries.count) requests, \(story.verified) with a valid signature, \(receiver.runCount) runs started (one per action id)\n"
        for e in story.evaluations { out += "\n" + ShadowReport.render(e, showStored: false) }
        out +=
            "\n\(counters.delivered) actions delivered, \(counters.dead) dead. Each was written to trigger_outbox in the same transaction as the drift run (or shadow evaluation) that fired it."
        story.text = out
        return story
    }
}
