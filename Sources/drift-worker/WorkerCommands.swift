import ArgumentParser
import DriftCapture
import DriftCore
import DriftStore
import Foundation
import NIOConcurrencyHelpers

/// Where the monitors are configured.
struct ConfigOptions: ParsableArguments {
    @Option(help: "The monitors file (default: $DRIFT_CONFIG or monitors.yaml).")
    var config: String?

    var path: String { config ?? ProcessInfo.processInfo.environment["DRIFT_CONFIG"] ?? "monitors.yaml" }

    /// Loads the monitors, printing every configuration problem (exit 2); a file that does not exist is
    /// "no such file: PATH (set --config or DRIFT_CONFIG)", since the path is often the default nobody chose.
    func load() throws -> [MonitorConfig] {
        try Self.requireFile(path)
        return try loadMonitors(path: path)
    }

    /// Exit 2 with one line naming the path and how to choose another when the monitors file does not exist.
    static func requireFile(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            Terminal.fail("no such file: \(path) (set --config or DRIFT_CONFIG)")
            throw ExitStatus.badInput
        }
    }

    /// Relative reference files are resolved against the current directory.
    var references: ReferenceStore { ReferenceStore(baseDirectory: FileManager.default.currentDirectoryPath) }
}

/// Loads a monitors file, printing every configuration problem with its line (exit 2).
func loadMonitors(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [MonitorConfig] {
    do { return try MonitorsFile.load(path: path, environment: environment) } catch let e as ConfigError {
        for issue in e.issues { Terminal.fail(issue.description) }
        throw ExitStatus.badInput
    }
}

/// Runs a database job, turning its failures into one line and an exit status.
func withDatabaseErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as PostgresError {
        Terminal.fail(e.description)
        throw e.kind == .invalidSettings ? ExitStatus.badInput : ExitStatus.failed
    } catch let e as ReferenceStore.Failure {
        Terminal.fail(e.description)
        throw ExitStatus.badInput
    }
}

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Load captured events from files (CSV, JSON Lines, or serving-path captures) into capture_events.",
        discussion: """
            csv / jsonl: each row needs a `timestamp` (ISO 8601 or epoch seconds); `request_id`, `model_version` and \
            `role` are optional; the model's monitor names the feature columns. kserve (alias oip): JSON Lines of \
            structured KServe/Seldon inference CloudEvents (V1 or Open Inference Protocol payloads), or the JSON batches \
            KServe's logger writes to storage; azureml: Azure ML data collector records (model_inputs / model_outputs, \
            payload logging request / response); sagemaker: SageMaker data capture records (CSV, JSON, JSON Lines). Files may \
            be gzip-compressed. labels: ground-truth labels into ground_truth, JSON Lines ({"request_id", "label" | "value", \
            "time"} or SageMaker ground-truth records) or CSV with those columns (by extension). Bad rows or lines are \
            reported with their line and skipped; good ones are written. Exit \
            status: 0 every row was written; 2 when any was rejected, a file could not be read, the monitors file is \
            missing or invalid, or on a usage error; 1 when PostgreSQL cannot be reached or refuses a write.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, jsonl, kserve, oip, azureml, sagemaker, labels
        var capture: CaptureLineFormat? {
            switch self {
            case .csv, .jsonl, .labels: nil
            case .kserve, .oip: .kserve
            case .azureml: .azureml
            case .sagemaker: .sagemaker
            }
        }
    }

    @Argument(help: "Files to load.") var files: [String]
    @Option(help: "The model the events belong to (its monitor gives the features).") var model: String
    @Option(help: "csv, jsonl, kserve, oip, azureml, sagemaker or labels (default: csv or jsonl by extension).") var format: Format?
    @Flag(help: "Create or upgrade the tables first.") var migrate = false
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        Observability.bootstrap()
        let monitors = try configOptions.load()
        guard let monitor = monitors.first(where: { $0.model == model }) else {
            Terminal.fail("no monitor in \(configOptions.path) watches model '\(model)'; models: \(monitors.map(\.model).joined(separator: ", "))")
            throw ExitStatus.badInput
        }
        var anyRejected = false
        try await withPostgresClient(database.settings) { client in
            try await withDatabaseErrors {
                if migrate { _ = try await client.withConnection { c in try Migrator(schema: client.settings.schema).migrate(c) } }
                let writer = CaptureWriter(client: client)
                for file in files {
                    if format == .labels {
                        anyRejected =
                            try await ingestLabels(file, models: Set(monitors.map(\.model)), writer: GroundTruthWriter(client: client)) || anyRejected
                        continue
                    }
                    if let lineFormat = format?.capture {
                        anyRejected = try await ingestCaptureLines(file, lineFormat, monitors: monitors, writer: writer) || anyRejected
                        continue
                    }
                    let table: Table
                    do {
                        table = try TabularFile.read(
                            path: file, format: format.flatMap { TabularFormat(rawValue: $0.rawValue) },
                            options: CaptureFileImporter(monitor: monitor).readOptions)
                    } catch let e
                        as TableError
                    {
                        Terminal.fail(e.description)
                        anyRejected = true
                        continue
                    }
                    let result = CaptureFileImporter(monitor: monitor).events(from: table)
                    for line in result.rejected.prefix(20) { Terminal.fail(line) }
                    if result.rejected.count > 20 { Terminal.fail("… and \(result.rejected.count - 20) more rejected rows in \(file)") }
                    anyRejected = anyRejected || !result.rejected.isEmpty
                    // batches of 10,000 in their own transactions, two in flight: PostgreSQL loads one while the next is encoded
                    let written = try await writer.write(result.events, batchSize: 10_000, inFlight: 2)
                    let fileFormat = format.flatMap { TabularFormat(rawValue: $0.rawValue) } ?? TabularFormat.infer(path: file) ?? .csv
                    WorkerMetrics.recordCapture(model: model, format: fileFormat.rawValue, accepted: written, rejected: result.rejected.count)
                    print(
                        "\(file): ingested \(written) events for model \(model)\(result.rejected.isEmpty ? "" : ", rejected \(result.rejected.count) rows")"
                    )
                }
            }
        }
        if anyRejected { throw ExitStatus.badInput }
    }
}

extension IngestCommand {
    /// One serving-path capture file: every line decoded on its own (a bad line is reported with its number
    /// and skipped), events written in batches; a progress bar on a terminal. Returns whether anything was rejected.
    func ingestCaptureLines(_ file: String, _ lineFormat: CaptureLineFormat, monitors: [MonitorConfig], writer: CaptureWriter) async throws -> Bool {
        let data: Data
        do { data = try TabularFile.contents(file) } catch let e as TableError {
            Terminal.fail(e.description)
            return true
        }
        let capture = ServingCapture(monitors: monitors)
        let now = Date()
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let progress = ProgressReporter(label: "ingest \(file)", unit: "lines")
        var pending: [CaptureEvent] = []
        var keys: [ServingCapture.DedupeKey] = []
        var written = 0
        var rejected = 0
        var shown = 0
        var sampledOut = 0
        func reject(_ message: String) {
            rejected += 1
            if shown < 20 {
                Terminal.fail(message)
                shown += 1
            }
        }
        for (i, raw) in lines.enumerated() {
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                // a line holds one record or a JSON array of them (KServe's logger writing to storage)
                for decoded in try CaptureLineDecoder.records(Data(raw), format: lineFormat) {
                    do {
                        let r = try capture.events(from: decoded.get(), model: model, now: now)
                        for e in r.events {
                            // what PostgreSQL cannot store (NUL, ids over the limit, times it cannot hold) is refused per event
                            if let p = CaptureEventCheck.problem(e, limits: .fileImport, now: now) {
                                reject("\(file):\(i + 1): \(p.description)")
                            } else {
                                pending.append(e)
                            }
                        }
                        if let k = r.dedupeKey { keys.append(k) }
                        sampledOut += r.sampledOut
                        for reason in r.rejected { reject("\(file):\(i + 1): \(reason)") }
                    } catch let e as CaptureDecodeError {
                        reject("\(file):\(i + 1): \(e.description)")
                    } catch {
                        reject("\(file):\(i + 1): \(error)")
                    }
                }
            } catch let e as CaptureDecodeError {
                reject("\(file):\(i + 1): \(e.description)")
            } catch {
                reject("\(file):\(i + 1): \(error)")
            }
            if pending.count >= 10_000 {
                written += try await writer.write(pending)
                capture.remember(keys)
                pending.removeAll(keepingCapacity: true)
                keys.removeAll(keepingCapacity: true)
            }
            if i % 1000 == 0 { progress.report(i + 1, lines.count) }
        }
        if !pending.isEmpty { written += try await writer.write(pending) }
        progress.report(lines.count, lines.count)
        if rejected > shown { Terminal.fail("… and \(rejected - shown) more rejected lines in \(file)") }
        WorkerMetrics.recordCapture(model: model, format: lineFormat.rawValue, accepted: written, rejected: rejected)
        print(
            "\(file): ingested \(written) events for model \(model)\(rejected == 0 ? "" : ", rejected \(rejected) lines or rows")\(sampledOut == 0 ? "" : ", \(sampledOut) sampled out (capture.keep / max_events_per_second)")"
        )
        return rejected > 0
    }
}

extension IngestCommand {
    /// One file of ground-truth labels (JSON Lines, or CSV with `request_id`, `label` or `value`, `time`, `model` columns):
    /// each record decoded on its own (a bad one is reported with its line and skipped), labels written in batches of
    /// 10,000. Returns whether anything was rejected.
    func ingestLabels(_ file: String, models: Set<String>, writer: GroundTruthWriter) async throws -> Bool {
        let limits = CaptureLimits.fileImport
        let now = Date()
        var pending: [GroundTruthWriter.Row] = []
        var counts: [GroundTruthWriter.Outcome: Int] = [:]
        var rejected = 0
        func reject(_ line: Int, _ message: String) {
            rejected += 1
            if rejected <= 20 { Terminal.fail("\(file):\(line): \(message)") }
        }
        // labels go to the database every 10,000: memory stays bounded whatever the file's size
        func take(_ line: Int, _ decode: () throws -> GroundTruthLabel) async throws {
            do {
                let label = try decode()
                guard models.contains(label.model) else { return reject(line, "model '\(label.model.prefix(64))' is watched by no monitor") }
                pending.append(label.row(now: now))
            } catch {
                reject(line, (error as? CaptureDecodeError)?.description ?? "\(error)")
            }
            if pending.count >= 10_000 {
                for o in try await writer.write(pending, source: .file) { counts[o, default: 0] += 1 }
                pending.removeAll(keepingCapacity: true)
            }
        }
        do {
            if (TabularFormat.infer(path: file) ?? .jsonl) == .csv {
                let names = ["request_id", "id", "label", "value", "time", "model"]
                let table = try TabularFile.read(
                    path: file, format: .csv,
                    options: TableReadOptions(types: Dictionary(uniqueKeysWithValues: names.map { ($0, .text) }), only: Set(names)))
                let cells = names.map { n in table.columnIndex(n).map { table.categoricalValues(column: $0) } }
                for r in 0..<table.rowCount {
                    func cell(_ k: Int) -> String? { cells[k]?[r].flatMap { $0.isEmpty ? nil : $0 } }
                    try await take(table.lines[r]) {
                        try GroundTruthDecoder.row(
                            requestID: cell(0) ?? cell(1), label: cell(2), value: cell(3), time: cell(4), model: cell(5), given: model,
                            limits: limits, now: now)
                    }
                }
            } else {
                let data = try TabularFile.contents(file)
                for (i, raw) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                    if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    try await take(i + 1) { try GroundTruthDecoder.record(Data(raw), model: model, limits: limits, now: now) }
                }
            }
        } catch let e as TableError {
            Terminal.fail(e.description)
            return true
        }
        if !pending.isEmpty { for o in try await writer.write(pending, source: .file) { counts[o, default: 0] += 1 } }
        if rejected > 20 { Terminal.fail("… and \(rejected - 20) more rejected labels in \(file)") }
        for o in GroundTruthWriter.Outcome.allCases { WorkerMetrics.recordLabels(model: model, outcome: o.rawValue, count: counts[o] ?? 0) }
        WorkerMetrics.recordLabelsRejected(model: model, reason: CaptureDecodeError.Reason.invalidValue.rawValue, count: rejected)
        print(
            "\(file): \(counts[.stored] ?? 0) labels stored, \(counts[.replaced] ?? 0) replaced, \(counts[.duplicate] ?? 0) duplicates for model \(model)"
                + (rejected == 0 ? "" : ", rejected \(rejected)"))
        return rejected > 0
    }
}

struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Check every window of a monitor in a time range; resumable.",
        discussion: """
            Windows already checked are skipped unless --recompute, which replaces them. Times are ISO 8601 with a zone \
            (2026-11-24T00:00:00Z). Exit status: 0 every window in the range was handled; 2 bad input (a usage error, an \
            unknown monitor, a missing or invalid monitors file or reference, an unusable OTEL_* variable); 1 when PostgreSQL cannot be reached or \
            refuses a statement.
            """)

    @Option(help: "Start of the range, e.g. 2026-11-24T00:00:00Z.", transform: Timestamp.parse) var from: Timestamp
    @Option(help: "End of the range (exclusive).", transform: Timestamp.parse) var to: Timestamp
    @Option(help: "The monitor's name.") var monitor: String
    @Flag(help: "Replace windows already checked.") var recompute = false
    @Flag(help: "Create or upgrade the tables first.") var migrate = false
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var push: PushOptions

    func validate() throws {
        guard to.date > from.date else { throw ValidationError("--to \(to) must be after --from \(from).") }
    }

    func run() async throws {
        Observability.bootstrap()
        let start = from.date
        let end = to.date
        guard let m = try configOptions.load().first(where: { $0.name == monitor }) else {
            Terminal.fail("no monitor named '\(monitor)' in \(configOptions.path)")
            throw ExitStatus.badInput
        }
        let results = try await Observability.withTracing {
            try await withPostgresClient(database.settings) { client in
                WorkerMetrics.initialise(monitors: [m], capture: false)
                return try await push.around(command: "backfill", client: client, monitors: [m.name]) {
                    try await withDatabaseErrors {
                        if migrate { _ = try await client.withConnection { c in try Migrator(schema: client.settings.schema).migrate(c) } }
                        return try await Backfill(client: client, monitor: m, references: configOptions.references)
                            .run(from: start, to: end, recompute: recompute, progress: ProgressReporter(label: "backfill \(monitor)").report)
                    }
                }
            }
        }
        print(WindowTable.render(results))
    }
}

/// Progress on a terminal as a bar (windows done/total, rate, ETA), otherwise a line every 10 %. Reports may come
/// from concurrent tasks (a backfill's checks).
final class ProgressReporter: Sendable {
    private let label: String
    private let unit: String
    private let started = Date()
    private let tty = isatty(STDERR_FILENO) == 1
    /// The tenth last printed when not on a terminal (-1: none yet).
    private let lastDecile = NIOLockedValueBox(-1)

    init(label: String, unit: String = "windows") {
        self.label = label
        self.unit = unit
    }

    func report(_ done: Int, _ total: Int) {
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let text = String(format: "%@: %d/%d %@, %.1f/s, ETA %.0fs", label as NSString, done, total, unit as NSString, rate, eta)
        if tty {
            let width = 30
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\(bar) \(text)\(done == total ? "\n" : "")".utf8))
        } else {
            let decile = total == 0 ? 10 : done * 10 / total
            let changed = lastDecile.withLockedValue { last in
                defer { last = decile }
                return last != decile
            }
            if changed { Terminal.info(text) }
        }
    }
}

/// The per-window summary table of `backfill` and `demo`.
enum WindowTable {
    static func render(_ results: [Backfill.WindowResult]) -> String {
        var out = "window (UTC)       events  verdict            drifted features                                  decision\n"
        for r in results {
            let verdict = r.status == .insufficientData ? "insufficient data" : (r.drifted == true ? "DRIFT" : "ok")
            let features = r.driftedFeatures.joined(separator: ", ")
            out += String(
                format: "%@  %6d  %@  %@  %@\n",
                (PGTimeText.iso(r.window.start).prefix(16) + "Z") as NSString, r.events,
                verdict.padding(toLength: 17, withPad: " ", startingAt: 0) as NSString,
                String(features.count > 48 ? features.prefix(47) + "…" : features).padding(toLength: 48, withPad: " ", startingAt: 0) as NSString,
                r.decision as NSString)
        }
        let checked = results.filter { $0.status == .completed }
        out +=
            "\n\(results.count) windows: \(checked.filter { $0.drifted == true }.count) drifted, \(checked.filter { $0.drifted == false }.count) without drift, \(results.filter { $0.status == .insufficientData }.count) with insufficient data"
        if results.contains(where: \.skipped) { out += " (\(results.filter(\.skipped).count) already checked, skipped)" }
        let fired = results.filter { !$0.firedActions.isEmpty }
        for r in fired { out += "\nactions fired at \(PGTimeText.iso(r.window.start)): \(r.firedActions.joined(separator: ", "))" }
        return out
    }
}

/// Queue timings shared by `serve` and `run-once`.
struct QueueOptions: ParsableArguments {
    @Option(
        help:
            "Seconds a worker's lease on a task lasts; a worker that stops heartbeating (killed, stalled) loses the task after this long and another worker retries it."
    )
    var leaseSeconds: Double = 30
    @Option(help: "Seconds between lease heartbeats (default: a third of --lease-seconds).")
    var heartbeatSeconds: Double?
    @Option(help: "Seconds between rescues of tasks whose lease expired.")
    var rescueInterval: Double = 10
    @Option(help: "Tasks enqueued per monitor per scheduler pass at most (the oldest unchecked windows first; the next pass continues).")
    var pageSize = 1_000
    @Option(
        help:
            "Seconds a check waits for its monitor's ordering lock (held by another worker checking an earlier window) before it fails and is retried."
    )
    var lockTimeout: Double = 60

    func validate() throws {
        guard leaseSeconds.isFinite, leaseSeconds >= 1, leaseSeconds <= 86_400 else {
            throw ValidationError("--lease-seconds must be from 1 to 86400.")
        }
        if let h = heartbeatSeconds, !(h.isFinite && h > 0 && h <= leaseSeconds / 2) {
            throw ValidationError("--heartbeat-seconds must be above 0 and at most half of --lease-seconds (\(leaseSeconds)).")
        }
        guard rescueInterval.isFinite, rescueInterval >= 0.1, rescueInterval <= 86_400 else {
            throw ValidationError("--rescue-interval must be from 0.1 to 86400 seconds.")
        }
        guard (1...100_000).contains(pageSize) else { throw ValidationError("--page-size must be from 1 to 100000.") }
        guard lockTimeout.isFinite, lockTimeout >= 0.1, lockTimeout <= 86_400 else {
            throw ValidationError("--lock-timeout must be from 0.1 to 86400 seconds.")
        }
    }

    func apply(to o: inout QueueConsumer.Options) {
        o.lease = leaseSeconds
        o.heartbeatInterval = heartbeatSeconds
        o.rescueInterval = rescueInterval
    }
}

struct RunOnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-once",
        abstract: "For a Kubernetes CronJob: check every due window of every monitor, then exit.",
        discussion: """
            Enqueues each window that is closed, past its lateness and not yet checked (within --lookback), oldest \
            first and at most --page-size per monitor at a time, processes the queue until nothing is due, and repeats \
            until every due window is checked. Two run-once processes, or run-once beside serve, never check a window \
            twice. Exit status: 0 every due window checked and no action dead; 1 when a task was discarded after its last \
            attempt, a monitor is failing (paused with backoff after failed checks; its unchecked windows are named), an \
            action died or PostgreSQL cannot be reached; 2 bad input (a usage error such as --lookback P1M, a missing or \
            invalid monitors file, an unusable OTEL_* variable).
            """)

    @Option(
        help: "How far back to look for unchecked windows: an ISO 8601 duration in weeks, days, hours… (default: P1D).", transform: ISODuration.parse)
    var lookback = ISODuration(seconds: 86_400)
    @Option(help: "Concurrent checks.") var concurrency = 2
    @Option(help: "Pretend the time is this (ISO 8601), for testing schedules.", transform: Timestamp.parse) var now: Timestamp?
    @Flag(help: "Only check windows; leave the outbox to a dispatcher elsewhere.") var noDispatch = false
    @OptionGroup var queueOptions: QueueOptions
    @OptionGroup var dispatch: DispatchOptions
    @Flag(help: "Create or upgrade the tables first.") var migrate = false
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var push: PushOptions

    func run() async throws {
        Observability.bootstrap()
        let look = lookback
        let clock = now?.date ?? Date()
        let monitors = try configOptions.load()
        do { try DriftTasks.validate(lookback: look, monitors: monitors) } catch {
            Terminal.fail("\(error)")
            throw ExitStatus.badInput
        }
        try await Observability.withTracing {
            try await withPostgresClient(database.settings) { client in
                try await checkDue(client: client, monitors: monitors, lookback: look, at: clock)
            }
        }
    }

    /// Checks every due window, then delivers the outbox (unless --no-dispatch).
    private func checkDue(client: PostgresClient, monitors: [MonitorConfig], lookback look: ISODuration, at clock: Date) async throws {
        let tasks = DriftTasks(
            client: client, monitors: monitors, references: configOptions.references, lookback: look,
            pageSize: queueOptions.pageSize, lockTimeout: queueOptions.lockTimeout)
        let at = clock
        WorkerMetrics.initialise(monitors: monitors, capture: false)
        try await push.around(command: "run-once", client: client, monitors: monitors.map(\.name)) {
            let (enqueued, passes, backlog, counters) = try await withDatabaseErrors {
                () -> (Int, Int, [DriftTasks.Backlog], QueueConsumer.Counters) in
                if migrate { _ = try await client.withConnection { c in try Migrator(schema: client.settings.schema).migrate(c) } }
                var options = QueueConsumer.Options()
                options.concurrency = max(1, concurrency)
                options.kinds = DriftTasks.kinds
                queueOptions.apply(to: &options)
                let consumer = QueueConsumer(queue: TaskQueue(client: client), options: options) { task in try await tasks.handle(task) }
                // page after page, oldest windows first, until a pass enqueues nothing new
                var enqueued = 0
                var passes = 0
                while true {
                    let n = try await tasks.enqueueDue(now: at, rescores: passes == 0)
                    if n == 0 && passes > 0 { break }
                    enqueued += n
                    passes += 1
                    _ = await consumer.runUntilIdle()
                    if n == 0 { break }
                }
                let counters = consumer.counters
                // the last pass set drift_window_backlog; read what is left (failing monitors, windows whose task failed)
                return (enqueued, passes, try await tasks.schedule(now: at, enqueue: false), counters)
            }
            print(
                "run-once: enqueued \(enqueued) window(s) in \(passes) pass(es); completed \(counters.completed) task(s), \(counters.failed) will retry, \(counters.discarded) discarded; \(backlog.reduce(0) { $0 + $1.unchecked }) due window(s) left unchecked"
            )
            for b in backlog where b.unchecked > 0 {
                let why =
                    b.pausedUntil.map { "the monitor is failing; next probe at \(PGTimeText.iso($0)) (see /readyz, drift_monitor_failing)" }
                    ?? "tasks waiting to retry or running elsewhere"
                (b.pausedUntil == nil ? Terminal.info : Terminal.fail)(
                    "run-once: monitor \(b.monitor): \(b.unchecked) due window(s) unchecked, oldest \(b.oldest.map(PGTimeText.iso) ?? "?"): \(why)")
            }
            var dead = 0
            if !noDispatch {
                let d = try await withDatabaseErrors {
                    try await TriggerSteps(client: client, monitors: monitors, options: dispatch.options()).run(wait: 0)
                }
                dead = d.dead
                print("run-once: actions \(d.delivered) delivered, \(d.retried) to retry, \(d.dead) dead")
            }
            if counters.discarded > 0 || dead > 0 || backlog.contains(where: { $0.pausedUntil != nil }) { throw ExitStatus.failed }
        }
    }
}
