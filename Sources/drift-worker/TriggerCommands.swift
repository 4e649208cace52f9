import ArgumentParser
import DriftCore
import DriftStore
import DriftTriggers
import Foundation

/// Options of the dispatcher shared by `dispatch`, `run-once` and `serve`.
struct DispatchOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The shortest claim on an outbox row, in seconds (1–3600).",
            discussion:
                "A dispatcher holds a row this long while it prepares the request and writes the report; right before sending it extends the claim to what the action's own timeouts need (requests × (connect_timeout + timeout) + 5 s), never less than this."
        ))
    var claimSeconds: Double = 30
    @Option(help: "Write each fired run's HTML report here and pass its path as {{report_path}} (default: $DRIFT_REPORT_DIR; none).")
    var reportDir: String?

    func validate() throws {
        guard claimSeconds.isFinite, (1...3600).contains(claimSeconds) else {
            throw ValidationError(
                "--claim-seconds must be between 1 and 3600 (got \(claimSeconds)); it is the shortest claim, and each send's claim is derived from the action's timeouts anyway."
            )
        }
    }

    func options() -> TriggerDispatcher.Options {
        var o = TriggerDispatcher.Options()
        o.claimSeconds = claimSeconds
        o.reportDirectory = reportDir ?? ProcessInfo.processInfo.environment["DRIFT_REPORT_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        return o
    }
}

struct DispatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Deliver the actions waiting in trigger_outbox (retraining pipelines, webhooks, shadow evaluations), then exit.",
        discussion: """
            Claims due actions with SKIP LOCKED (several dispatchers never send one action at once), sends each with its \
            preset, records every attempt, and retries failures with backoff. With --wait N it keeps going while a retry \
            falls due within N seconds, and runs the shadow evaluations it enqueued. Exit status: 0 when nothing died; 1 \
            when an action was given up (dead) or PostgreSQL cannot be reached; 2 bad input (a usage error, a missing or \
            invalid monitors file).
            """)

    @Option(help: "Keep dispatching while a retry is due within this many seconds.") var wait: Double = 0
    @OptionGroup var dispatch: DispatchOptions
    @Flag(help: "Create or upgrade the tables first.") var migrate = false
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        Observability.bootstrap()
        let monitors = try configOptions.load()
        let counters = try await withPostgresClient(database.settings) { client in
            try await withDatabaseErrors { () -> TriggerDispatcher.Counters in
                if migrate { _ = try await client.withConnection { c in try Migrator(schema: client.settings.schema).migrate(c) } }
                return try await TriggerSteps(client: client, monitors: monitors, options: dispatch.options()).run(wait: wait)
            }
        }
        print(
            "dispatch: \(counters.delivered) delivered, \(counters.retried) to retry, \(counters.dead) dead; \(counters.runsChecked) run status checks, \(counters.runsEnded) runs ended"
        )
        if counters.dead > 0 { throw ExitStatus.failed }
    }
}

/// Dispatching and the shadow evaluations it enqueues, until both are idle: what `dispatch` and `run-once` do.
struct TriggerSteps {
    let client: PostgresClient
    let monitors: [MonitorConfig]
    let options: TriggerDispatcher.Options

    func run(wait: Double) async throws -> TriggerDispatcher.Counters {
        let dispatcher = TriggerDispatcher(client: client, monitors: monitors, options: options)
        let shadow = ShadowEvalTasks(client: client, monitors: monitors)
        var total = TriggerDispatcher.Counters()
        // dispatch → shadow evaluations → the actions they fire → …; three rounds cover every chain
        for _ in 0..<3 {
            let c = try await dispatcher.runUntilIdle(wait: wait)
            total.delivered += c.delivered
            total.retried += c.retried
            total.dead += c.dead
            total.runsChecked += c.runsChecked
            total.runsEnded += c.runsEnded
            var o = QueueConsumer.Options()
            o.kinds = [ShadowEvalTasks.kind]
            let consumer = QueueConsumer(queue: TaskQueue(client: client), options: o) { task in try await shadow.handle(task) }
            if await consumer.runUntilIdle().completed == 0 { break }
        }
        return total
    }
}

struct TriggerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger", abstract: "Work with configured trigger actions.", subcommands: [TriggerTestCommand.self, TriggerStatusCommand.self])
}

struct TriggerTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Check an action without starting anything: its target's dry run, or one marked test request of a webhook.",
        discussion: """
            The request is built exactly as a real delivery (preset, credentials, signatures, typed templates) from a sample \
            context — a sample run id (\(TriggerTestCommand.sampleRunID)), `X-Drift-Test: true`, `"test": true` in a webhook's \
            default body and an action id starting with `test:` — and printed with secrets as ***. Then, instead of sending \
            it, each target's dry run or read-only check: Kubernetes `?dryRun=All`, Argo `serverDryRun`, Azure DevOps \
            `previewRun`, GitHub the workflow and its declared inputs, Kubeflow the pipeline/version/experiment, Azure ML the \
            workspace or batch endpoint. A webhook has no dry run: the marked request is sent (receivers must honour \
            X-Drift-Test). --really sends the real request to any target. Nothing is written to the database. Exit status: \
            0 when every check passed (or, when sending, on a 2xx answer); 1 when a check failed; 2 bad input (a usage \
            error, an unknown monitor or action, a missing or invalid monitors file).
            """)

    /// The drift run id the sample context carries: an integer like a real one, so templates render as they will.
    static let sampleRunID = 41

    @Option(help: "The monitor.") var monitor: String
    @Option(help: "The action (a name under the monitor's `actions:`).") var action: String
    @Flag(help: "Send the real request (starts a real run on every target) instead of the dry run.") var really = false
    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let monitors = try configOptions.load()
        guard let m = monitors.first(where: { $0.name == monitor }) else {
            Terminal.fail("no monitor named '\(monitor)' in \(configOptions.path); monitors: \(monitors.map(\.name).joined(separator: ", "))")
            throw ExitStatus.badInput
        }
        guard case .trigger(let trigger)? = m.actions[action] else {
            let triggers = m.actions.filter { if case .trigger = $0.value { return true } else { return false } }.keys.sorted()
            Terminal.fail(
                m.actions[action] == nil
                    ? "monitor '\(monitor)' has no action '\(action)'; actions that send requests: \(triggers.joined(separator: ", "))"
                    : "action '\(action)' is a shadow evaluation; it sends no request (try drift-worker shadow-eval)")
            throw ExitStatus.badInput
        }
        let now = Date()
        let hour = m.schedule.window(containing: now.addingTimeInterval(-m.schedule.length.seconds))
        let context = TriggerContext(
            actionID: "test:\(m.name):\(PGTimeText.iso(now)):\(action)", action: action, monitor: m.name, model: m.model,
            windowStart: PGTimeText.iso(hour.start), windowEnd: PGTimeText.iso(hour.end),
            driftedFeatures: Array(m.features.prefix(2).map(\.name)), runID: Self.sampleRunID, reportPath: "",
            extra: Self.sampleShadowVariables(m, action: action), test: true)
        let sender = TriggerSender()
        let request: HTTPRequest
        let client: HTTPClient
        do { (request, client) = try sender.prepare(trigger, context, now: now) } catch {
            Terminal.fail("cannot build the request of action '\(action)': \(error)")
            throw ExitStatus.badInput
        }
        Self.printRequest(request, url: HTTPClient.redact(request.url), secret: client.options.sensitiveHeaders)
        if case .webhook = trigger.target {
        } else if !really {
            try await dryRun(trigger, request: request, client: client)
            return
        }
        let attempt = try await onBlockingPool { sender.attempt(trigger, context, attempt: 1, now: now) }
        print("")
        if let status = attempt.status {
            print("< HTTP \(status) in \(String(format: "%.3f", attempt.seconds)) s")
            if !attempt.responseExcerpt.isEmpty { print("<\n" + attempt.responseExcerpt) }
            if let id = attempt.externalRunID { print("external run id: \(id)") }
        } else {
            print("< no answer: \(attempt.error ?? "unknown error")")
        }
        switch attempt.outcome {
        case .delivered(let note): print("result: delivered (\(note))")
        case .retry(_, let reason):
            print("result: a real delivery would retry (\(reason))")
            throw ExitStatus.failed
        case .dead(let reason):
            print("result: a real delivery would give up (\(reason))")
            throw ExitStatus.failed
        }
    }

    /// The target's dry run: each check's request and answer, one verdict line per check, and the summary.
    func dryRun(_ trigger: TriggerAction, request: HTTPRequest, client: HTTPClient) async throws {
        let steps: [DryRunStep]
        do { steps = try trigger.target.dryRun(request) } catch {
            Terminal.fail("cannot build the dry run of action '\(action)': \(error)")
            throw ExitStatus.badInput
        }
        print("\nnot sent (a real delivery would start a run; --really sends it). Dry run of \(trigger.target.preset):")
        var passed = 0
        for step in steps {
            print("\n> \(step.request.method.uppercased()) \(step.shownURL)")
            let sent = step.request
            let outcome = try await onBlockingPool { () -> Result<HTTPResponse, Error> in Result { try client.sendBlocking(sent) } }
            switch outcome {
            case .success(let response):
                print("< HTTP \(response.status) in \(String(format: "%.3f", response.seconds)) s")
                let (ok, text) = step.verdict(response)
                print("\(ok ? "ok" : "FAILED"): \(text)")
                if ok { passed += 1 }
            case .failure(let error):
                print("< no answer: \((error as? HTTPClientError)?.message ?? "\(error)")")
                print("FAILED: the target could not be reached")
            }
        }
        print("\nresult: \(passed) of \(steps.count) check\(steps.count == 1 ? "" : "s") passed; nothing was started")
        if passed < steps.count { throw ExitStatus.failed }
    }

    /// The request as sent, with every header the credential added (`secret`, whatever its name) masked.
    static func printRequest(_ request: HTTPRequest, url: String, secret: Set<String> = []) {
        print("> \(request.method.uppercased()) \(url)")
        for (k, v) in request.headers {
            print("> \(k): \(secret.contains(k.lowercased()) && k.lowercased() != "authorization" ? "***" : Self.shown(k, v))")
        }
        if let body = request.body, !body.isEmpty { print(">\n" + String(decoding: body, as: UTF8.self)) }
    }

    /// For an action a shadow evaluation fires (and the policy does not): sample values of the variables the
    /// evaluation gives, so its templates build as they will ({{challenger}}, {{champion}}, {{verdict}}, …).
    static func sampleShadowVariables(_ m: MonitorConfig, action: String) -> [String: String] {
        guard !m.policy.actions.contains(action) else { return [:] }
        for case .shadowEval(let s) in m.actions.sorted(by: { $0.key < $1.key }).map(\.value) where (s.onPromote + s.onReject).contains(action) {
            return [
                "challenger": s.challenger ?? "challenger", "champion": m.versions.first ?? "champion",
                "verdict": s.onPromote.contains(action) ? "promote" : "reject", "shadow_evaluation_id": "0"
            ]
        }
        // an action a followed run's end fires: what that run would give it
        for (name, a) in m.actions.sorted(by: { $0.key < $1.key }) {
            guard case .trigger(let t) = a, (t.follow.onSuccess + t.follow.onFailure).contains(action) else { continue }
            return [
                "parent_action": name, "parent_action_id": "test:\(m.name):\(name)", "parent_run_id": "1234",
                "parent_run_state": t.follow.onSuccess.contains(action) ? "succeeded" : "failed",
                "parent_run_url": t.target.runURL(runID: "1234") ?? ""
            ]
        }
        return [:]
    }

    static func shown(_ name: String, _ value: String) -> String {
        let n = name.lowercased()
        if n == "authorization" { return (value.split(separator: " ").first.map { "\($0) " } ?? "") + "***" }
        if n.contains("token") || n.contains("key") && n != "idempotency-key" || n.contains("secret") { return "***" }
        return value
    }
}

struct ShadowEvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shadow-eval",
        abstract: "Compare a challenger with the champion on the requests both served, decide promote / hold / reject.",
        discussion: """
            Uses the thresholds of the monitor's shadow_eval action (--action, default: its first one; built-in defaults \
            when it has none), stores the result in shadow_evaluations and fires the action's on_promote / on_reject \
            actions into the outbox (deliver them with drift-worker dispatch). A period evaluated before is shown, not \
            evaluated again. Exit status: 0 promote; 3 reject; 4 hold; 2 bad input (a usage error, an unknown monitor or \
            action, a missing or invalid monitors file); 1 when PostgreSQL cannot be reached or refuses a statement.
            """)

    @Option(help: "The monitor.") var monitor: String
    @Option(help: "The challenger's model version (default: the action's, else every challenger-role event).") var challenger: String?
    @Option(help: "Start of the period (ISO 8601).", transform: Timestamp.parse) var from: Timestamp
    @Option(help: "End of the period (exclusive).", transform: Timestamp.parse) var to: Timestamp
    @Option(help: "The shadow_eval action whose thresholds and follow-up actions apply.") var action: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Create or upgrade the tables first.") var migrate = false
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard to.date > from.date else { throw ValidationError("--to \(to) must be after --from \(from).") }
    }

    func run() async throws {
        Observability.bootstrap()
        let start = from.date
        let end = to.date
        let monitors = try configOptions.load()
        guard let m = monitors.first(where: { $0.name == monitor }) else {
            Terminal.fail("no monitor named '\(monitor)' in \(configOptions.path)")
            throw ExitStatus.badInput
        }
        var config = ShadowEvalConfig()
        if let action {
            guard case .shadowEval(let c)? = m.actions[action] else {
                Terminal.fail("monitor '\(monitor)' has no shadow_eval action '\(action)'")
                throw ExitStatus.badInput
            }
            config = c
        } else if let c = m.actions.sorted(by: { $0.key < $1.key }).compactMap({ if case .shadowEval(let c) = $0.value { c } else { nil } }).first {
            config = c
        }
        if let challenger { config.challenger = challenger }
        let stored: ShadowEvalTasks.Stored
        do {
            stored = try await withPostgresClient(database.settings) { client in
                try await withDatabaseErrors {
                    if migrate { _ = try await client.withConnection { c in try Migrator(schema: client.settings.schema).migrate(c) } }
                    return try await ShadowEvalTasks(client: client, monitors: monitors).evaluate(monitor: m, config: config, from: start, to: end)
                }
            }
        } catch let e as DriftTaskError {
            Terminal.fail(e.description)
            throw ExitStatus.badInput
        }
        if json {
            print(
                stored.figures.dropLast()
                    + ",\"verdict\":\"\(stored.verdict)\",\"champion\":\"\(stored.champion)\",\"challenger\":\"\(stored.challenger)\"}")
        } else {
            print(ShadowReport.render(stored))
        }
        switch stored.verdict {
        case "promote": return
        case "reject": throw ExitStatus.driftFound
        default: throw ExitCode(4)
        }
    }
}

/// A shadow evaluation for people.
enum ShadowReport {
    static func render(_ s: ShadowEvalTasks.Stored, showStored: Bool = true) -> String {
        var out =
            "shadow evaluation of \(s.monitor): challenger \(s.challenger) vs champion \(s.champion), \(PGTimeText.iso(s.from)) – \(PGTimeText.iso(s.to))"
        if !s.written && showStored { out += " (evaluated before; stored result)" }
        out += "\n"
        let json = JSONTemplate.parse(Data(s.figures.utf8))
        let order = [
            "requests", "pairs", "pair_coverage", "agreement", "correlation", "champion_mean", "challenger_mean", "output_psi", "output_ks",
            "output_ks_pvalue", "output_js", "champion_latency_p50_ms", "champion_latency_p95_ms", "champion_latency_p99_ms",
            "challenger_latency_p50_ms", "challenger_latency_p95_ms", "challenger_latency_p99_ms", "latency_regression", "error_rate", "orphan_rate"
        ]
        for k in order {
            guard let v = json?.value(at: k), case .number(let d) = v else { continue }
            let text = d == d.rounded() && abs(d) < 1e12 ? String(Int64(d)) : String(format: "%.4f", d)
            out += "  \(k.padding(toLength: 26, withPad: " ", startingAt: 0)) \(text)\n"
        }
        out += "verdict: \(s.verdict.uppercased())\n"
        if case .array(let reasons)? = json?.value(at: "reasons") {
            for r in reasons { if let t = r.scalarText { out += "  - \(t)\n" } }
        }
        if !s.firedActions.isEmpty { out += "fired: \(s.firedActions.joined(separator: ", ")) (written to trigger_outbox)\n" }
        return out
    }
}
