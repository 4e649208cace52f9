import DriftCommon
import DriftStats
import DriftStore
import Foundation
import Logging
import Tracing

/// Shadow evaluations on captured traffic: reads the champion's and the challenger's events of a period,
/// pairs them on the request id, evaluates (`ShadowEvaluation`), and stores the result in `shadow_evaluations`
/// together with the `on_promote` / `on_reject` actions it fires into `trigger_outbox` — one transaction, and
/// the unique key (monitor, challenger, period) makes a repeated evaluation write nothing twice. When the monitor has
/// `performance:` and the compared output is its prediction, each request's ground truth is read with it and the two
/// models' realized performance is compared on the same labelled requests.
public struct ShadowEvalTasks: Sendable {
    public static let kind = "shadow_eval"

    public let client: PostgresClient
    public let monitors: [MonitorConfig]
    public let logger: Logger

    public init(client: PostgresClient, monitors: [MonitorConfig], logger: Logger = Logger(label: "drift-worker")) {
        self.client = client
        self.monitors = monitors
        self.logger = logger
    }

    struct Args: Codable {
        var monitor: String
        var action: String
        var challenger: String?
        var from: Date
        var to: Date
        var actionID: String
    }

    /// A stored evaluation.
    public struct Stored: Sendable {
        public var id: Int
        public var monitor: String
        public var champion: String
        public var challenger: String
        public var from: Date
        public var to: Date
        public var verdict: String
        /// The figures as stored (JSON object text), including `reasons`.
        public var figures: String
        /// False when this period was evaluated before and the stored result is returned.
        public var written: Bool
        public var firedActions: [String]
    }

    /// Runs a `shadow_eval` task.
    public func handle(_ task: QueueTask) async throws {
        do {
            try await WorkerMetrics.timeTask(kind: task.kind) {
                let args = try DriftTasks.decoder.decode(Args.self, from: Data(task.args.utf8))
                guard let m = monitors.first(where: { $0.name == args.monitor }) else {
                    throw DriftTaskError("monitor '\(args.monitor)' is no longer configured")
                }
                guard case .shadowEval(var config)? = m.actions[args.action] else {
                    throw DriftTaskError("monitor '\(args.monitor)' no longer defines the shadow_eval action '\(args.action)'")
                }
                config.challenger = args.challenger
                _ = try await evaluate(monitor: m, config: config, from: args.from, to: args.to)
            }
        } catch {
            logger.log(
                level: task.attempt >= task.maxAttempts ? .error : .warning, "shadow evaluation failed",
                metadata: ["task.id": .stringConvertible(task.id), "task.attempt": .stringConvertible(task.attempt), "error": "\(error)"])
            throw error
        }
    }

    /// Evaluates [from, to) and stores the result (or returns the one stored before), in a span
    /// `drift.shadow_evaluation`: `drift.monitor`, `drift.shadow.challenger`, `drift.window.start`/`drift.window.end`,
    /// then `drift.shadow.verdict` (promote, hold, reject) and `drift.written`.
    public func evaluate(monitor m: MonitorConfig, config: ShadowEvalConfig, from: Date, to: Date) async throws -> Stored {
        try await withSpan("drift.shadow_evaluation") { span in
            span.attributes["drift.monitor"] = m.name
            span.attributes["drift.shadow.challenger"] = config.challenger ?? "challenger"
            span.attributes["drift.window.start"] = PGTimeText.iso(from)
            span.attributes["drift.window.end"] = PGTimeText.iso(to)
            let stored = try await evaluateUntraced(monitor: m, config: config, from: from, to: to)
            span.attributes["drift.shadow.verdict"] = stored.verdict
            span.attributes["drift.written"] = stored.written
            return stored
        }
    }

    private func evaluateUntraced(monitor m: MonitorConfig, config: ShadowEvalConfig, from: Date, to: Date) async throws -> Stored {
        let outputs = m.features.filter { if case .output = $0.source { return true } else { return false } }
        guard let output = config.output.flatMap({ o in outputs.first { $0.name == o } }) ?? outputs.first else {
            throw DriftTaskError("monitor '\(m.name)' has no output feature to compare (add one with `source: output`)")
        }
        let layout = FeatureLayout(m)
        let numeric = output.kind == .numeric
        let slot = (numeric ? layout.numeric.firstIndex(of: output.name) : layout.categorical.firstIndex(of: output.name))! + 1
        let challengerLabel = config.challenger ?? "challenger"
        // realized performance compares the output the monitor's performance is measured on, and only that one
        let performance = m.performance.flatMap { $0.prediction == output.name ? $0 : nil }
        let logger = self.logger
        // load and evaluate outside any transaction; then one short transaction writes the result and its actions
        let stored = try await client.withConnection { c -> Stored in
            if let existing = try Self.existing(c, monitor: m.name, challenger: challengerLabel, from: from, to: to) { return existing }
            let (requests, championVersions) = try Self.load(
                c, model: m.model, from: from, to: to, slot: slot, numeric: numeric, challenger: config.challenger, labels: performance != nil)
            var evaluation = ShadowEvaluation.evaluate(
                requests, config: config, settings: m.overrides[output.name] ?? m.settings, performance: performance)
            if let p = m.performance, performance == nil {
                evaluation.reasons.append(
                    "realized performance not compared (the compared output '\(output.name)' is not performance.prediction '\(p.prediction)')")
            }
            let figures = JSONValue.object(
                evaluation.figures + [
                    ("output", .string(output.name)),
                    ("reasons", .array(evaluation.reasons.map { .string($0) }))
                ]
            ).rendered()
            let champion = championVersions.isEmpty ? "champion" : championVersions.joined(separator: ",")
            return try c.transaction { c -> Stored in
                guard
                    let id = try c.query(
                        """
                        INSERT INTO shadow_evaluations (monitor, champion, challenger, window_start, window_end, verdict, figures)
                        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (monitor, challenger, window_start, window_end) DO NOTHING RETURNING id
                        """, [m.name, champion, challengerLabel, from, to, evaluation.verdict.rawValue, figures], name: "shadow.insert"
                    ).first.map({ try $0.int("id") })
                else {
                    return try Self.existing(c, monitor: m.name, challenger: challengerLabel, from: from, to: to)!
                }
                let fired = evaluation.verdict == .promote ? config.onPromote : evaluation.verdict == .reject ? config.onReject : []
                for action in fired {
                    let actionID = "\(m.name):shadow:\(challengerLabel):\(PGTimeText.iso(from)):\(PGTimeText.iso(to)):\(action)"
                    let payload = JSONValue.object([
                        ("monitor", .string(m.name)), ("model", .string(m.model)), ("window_start", .string(PGTimeText.iso(from))),
                        ("window_end", .string(PGTimeText.iso(to))), ("drifted_features", .array([])), ("run_id", .null),
                        ("challenger", .string(challengerLabel)), ("champion", .string(champion)), ("verdict", .string(evaluation.verdict.rawValue)),
                        ("shadow_evaluation_id", .string(String(id)))
                    ]).rendered()
                    try c.query(
                        """
                        INSERT INTO trigger_outbox (action_id, monitor, action, preset, payload) VALUES ($1, $2, $3, $4, $5::jsonb)
                        ON CONFLICT (action_id) DO NOTHING
                        """, [actionID, m.name, action, m.actions[action]?.preset ?? "webhook", payload], name: "shadow.outbox")
                }
                return Stored(
                    id: id, monitor: m.name, champion: champion, challenger: challengerLabel, from: from, to: to,
                    verdict: evaluation.verdict.rawValue, figures: figures, written: true, firedActions: fired)
            }
        }
        if stored.written {
            WorkerMetrics.recordShadowEvaluation(monitor: m.name, verdict: stored.verdict)
            logger.info(
                "shadow evaluation",
                metadata: [
                    "monitor": "\(m.name)", "challenger": "\(stored.challenger)", "champion": "\(stored.champion)",
                    "from": "\(PGTimeText.iso(from))", "to": "\(PGTimeText.iso(to))", "verdict": "\(stored.verdict)",
                    "fired": .array(stored.firedActions.map { .string($0) })
                ])
        }
        return stored
    }

    /// The evaluation stored for this period, if any.
    public static func existing(_ c: PGConnection, monitor: String, challenger: String, from: Date, to: Date) throws -> Stored? {
        try c.query(
            """
            SELECT id, champion, verdict, figures::text AS figures FROM shadow_evaluations
             WHERE monitor = $1 AND challenger = $2 AND window_start = $3 AND window_end = $4
            """, [monitor, challenger, from, to], name: "shadow.existing"
        ).first.map { r in
            Stored(
                id: try r.int("id"), monitor: monitor, champion: try r.string("champion"), challenger: challenger, from: from, to: to,
                verdict: try r.string("verdict"), figures: try r.string("figures"), written: false, firedActions: [])
        }
    }

    /// The period's champion and challenger events with request ids, folded into one `ShadowRequest` per id.
    /// Challenger events count when their model version is the challenger's (or, for requests, unknown).
    /// `labels`: each event also carries its request's ground truth (LEFT JOIN `ground_truth` on (model, request id),
    /// served by its primary key), kept once per request — the same one query, so memory stays one entry per request.
    static func load(
        _ c: PGConnection, model: String, from: Date, to: Date, slot: Int, numeric: Bool,
        challenger: String?, labels: Bool = false
    ) throws -> ([ShadowRequest], [String]) {
        let column = numeric ? "e.numeric[\(slot)]::text AS v" : "e.categorical[\(slot)] AS v"
        let truth =
            labels
            ? "g.label AS truth_label, g.value AS truth_value FROM capture_events e "
                + "LEFT JOIN ground_truth g ON g.model = e.model AND g.request_id = e.request_id"
            : "NULL::text AS truth_label, NULL::float8 AS truth_value FROM capture_events e"
        let rows = try c.query(
            """
            SELECT e.role, e.model_version, e.request_id, e.kind, (extract(epoch FROM e.observed_at) * 1000000)::int8 AS t, \(column),
                   \(truth)
             WHERE e.model = $1 AND e.observed_at >= $2 AND e.observed_at < $3 AND e.request_id <> ''
               AND e.role IN ('champion', 'challenger')
            """, [model, from, to], name: "shadow.load")
        var byID: [String: ShadowRequest] = [:]
        var versions = Set<String>()
        for r in rows {
            let role = try r.string("role")
            let version = try r.string("model_version")
            let kind = try r.string("kind")
            if role == "challenger", let challenger, version != challenger, !(kind == "request" && version.isEmpty) { continue }
            if role == "champion", !version.isEmpty { versions.insert(version) }
            let t = Double(try r.int("t"))
            let raw = try r.optionalString("v")
            var request = byID[try r.string("request_id"), default: ShadowRequest()]
            var side = role == "champion" ? request.champion : request.challenger
            if kind == "request" || kind == "paired" { side.requestAt = side.requestAt ?? t }
            if kind == "response" || kind == "paired" {
                if kind == "response" { side.responseAt = t }
                if numeric, let v = raw.flatMap(Double.init), v.isFinite { side.value = v } else if !numeric, let raw { side.label = raw }
            }
            if role == "champion" { request.champion = side } else { request.challenger = side }
            if request.truth == nil {
                let label = try r.optionalString("truth_label")
                let value = try r.optionalDouble("truth_value")
                if label != nil || value != nil { request.truth = ShadowRequest.Truth(label: label, value: value) }
            }
            byID[try r.string("request_id")] = request
        }
        return (Array(byID.values), versions.sorted())
    }
}
