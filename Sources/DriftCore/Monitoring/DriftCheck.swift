import DriftCommon
import DriftStats
import DriftStore
import Foundation
import Tracing

/// One drift check of one monitor and window — the unit of work of `run-once`, `serve` and `backfill`.
///
/// A check runs in two phases so that no transaction is open while it computes:
/// 1. with no transaction open: load the window's sample, compute every statistic (incl. tensor PCA and MMD
///    permutations, and correlation drift), read the policy's stored state (`PolicyState`) and decide;
/// 2. one short write transaction (`SET LOCAL lock_timeout` `writeLockTimeout`, `statement_timeout`
///    `writeStatementTimeout`) that only writes: the `drift_runs` row with the decision and its streak
///    (`ON CONFLICT DO NOTHING`: exactly one run per monitor and window, re-checked at the write), every
///    `drift_feature_results` row in one statement, and the actions the policy fired into `trigger_outbox`.
/// A crash leaves either nothing or everything, and a retried check finds its run and writes nothing again.
/// Callers serialise a monitor's checks with `MonitorLock` so the policy state read in phase 1 is current.
public struct DriftCheck: Sendable {
    /// `drift_runs.status`. `failed` is allowed by the table (migration 1) but never written by this version; a row that
    /// holds it reads as a completed check without drift.
    public enum Status: String, Sendable { case completed, insufficientData = "insufficient_data", failed }

    /// How long the write transaction waits for a row lock (e.g. another worker inserting the same window) before
    /// it fails and the task is retried.
    public static let writeLockTimeout: Double = 5
    /// The longest any statement of the write transaction may run; the writes are a few index inserts.
    public static let writeStatementTimeout: Double = 30

    public struct Outcome: Sendable, Equatable {
        public var runID: Int64?
        public var status: Status
        public var drifted: Bool?
        public var driftedFeatures: [String]
        public var decision: String
        public var firedActions: [String]
        /// False when the window had already been checked (nothing was written).
        public var written: Bool
    }

    public let monitor: MonitorConfig
    public let reference: ReferenceProfile
    public let configHash: String
    /// The monitor's performance baseline (`ReferenceStore.performanceBaseline`); with it, the check also measures the
    /// window's performance, stores it in the same transaction, and a performance trigger (`policy.on`) decides on it.
    public var performance: PerformanceBaseline?

    public init(monitor: MonitorConfig, reference: ReferenceProfile, configHash: String, performance: PerformanceBaseline? = nil) {
        self.monitor = monitor
        self.reference = reference
        self.configHash = configHash
        self.performance = performance
    }

    /// Runs the check for `window` on `c` (which must not be inside a transaction). With `recompute`
    /// an existing run of the window is replaced. `extra` runs inside the write transaction after the rows are
    /// written and before COMMIT (tests use it to fail or kill a check there).
    ///
    /// Traced as span `drift.window_check` (a root span in `serve`, `run-once` and `backfill`: a check is queue work, no request): `drift.monitor`,
    /// `drift.window.start`/`drift.window.end` (ISO 8601), then `drift.status`, `drift.drifted`,
    /// `drift.drifted_features.count`, `drift.decision` and `drift.written` from the outcome.
    public func run(
        window: TimeWindow, on c: PGConnection, recompute: Bool = false,
        inTransaction extra: ((PGConnection) throws -> Void)? = nil
    ) throws -> Outcome {
        try withSpan("drift.window_check") { span in
            span.attributes["drift.monitor"] = monitor.name
            span.attributes["drift.window.start"] = PGTimeText.iso(window.start)
            span.attributes["drift.window.end"] = PGTimeText.iso(window.end)
            let outcome = try runUntraced(window: window, on: c, recompute: recompute, inTransaction: extra)
            span.attributes["drift.status"] = outcome.status.rawValue
            if let drifted = outcome.drifted { span.attributes["drift.drifted"] = drifted }
            span.attributes["drift.drifted_features.count"] = outcome.driftedFeatures.count
            span.attributes["drift.decision"] = outcome.decision
            span.attributes["drift.written"] = outcome.written
            return outcome
        }
    }

    private func runUntraced(
        window: TimeWindow, on c: PGConnection, recompute: Bool, inTransaction extra: ((PGConnection) throws -> Void)?
    ) throws -> Outcome {
        if !recompute, let existing = try existingRun(window, on: c) { return existing }
        // Phase 1, no transaction open: the sample, the statistics and the policy's state.
        let sample = try WindowSample.load(c, monitor: monitor, window: window)
        let evaluation = evaluate(window: window, sample: sample)
        let readAt = self.performance == nil ? Date() : try PerformanceStore.readMark(c)
        let performance = try self.performance.map { try $0.evaluate(PerformanceStore.rows(c, monitor: monitor, window: window)) }
        let history = try PolicyState.read(monitor: monitor.name, before: window, on: c)
        let status = DriftPolicy.status(trigger: monitor.policy.trigger, drift: evaluation.status, performance: performance)
        let decision = monitor.policy.decide(status, windowEnd: window.end, history: history)
        // Phase 2: one short transaction that only writes.
        let outcome = try c.transaction { c in
            try c.run(
                "SET LOCAL lock_timeout = '\(Int(Self.writeLockTimeout * 1000))ms'; "
                    + "SET LOCAL statement_timeout = '\(Int(Self.writeStatementTimeout * 1000))ms'", name: "check.timeouts")
            if recompute {
                try c.query(
                    "DELETE FROM drift_runs WHERE monitor = $1 AND window_start = $2 AND window_end = $3",
                    [monitor.name, window.start, window.end], name: "check.replace")
            }
            let outcome = try write(window: window, evaluation: evaluation, decision: decision, performance: performance, on: c)
            if outcome.written, let performance {
                try PerformanceStore.write(performance, monitor: monitor.name, model: monitor.model, window: window, readAt: readAt, on: c)
            }
            try extra?(c)
            return outcome
        }
        if outcome.written, performance != nil { try? PerformanceStore.markMatched(model: monitor.model, window: window, on: c) }
        return outcome
    }

    func existingRun(_ w: TimeWindow, on c: PGConnection) throws -> Outcome? {
        try c.query(
            """
            SELECT id, status, drifted, decision->>'decision' AS decision, decision->'fired_actions' AS fired
            FROM drift_runs WHERE monitor = $1 AND window_start = $2 AND window_end = $3
            """, [monitor.name, w.start, w.end], name: "check.existing"
        ).first.map { r in
            Outcome(
                runID: Int64(try r.int("id")), status: try Status.stored(try r.string("status"), column: "drift_runs.status"),
                drifted: try r.optionalString("drifted").map { $0 == "t" }, driftedFeatures: [],
                decision: try r.optionalString("decision") ?? "", firedActions: [], written: false)
        }
    }

    /// The comparison of a sample with the reference, with per-feature overrides applied and correlation drift.
    public func compare(_ sample: WindowSample, seed: UInt64 = 0) -> DatasetDrift { compareAll(sample, seed: seed).dataset }

    /// The comparison, each tensor feature's result and the correlation drift (or why there is none). A tensor counts
    /// as one feature in the dataset share; its components (`<name>.pc1`, …) follow it in `features` (for storage, the
    /// report and the metrics) without counting. `seed` fixes the MMD sub-sample and permutations (the window start,
    /// so a recheck agrees).
    func compareAll(_ sample: WindowSample, seed: UInt64 = 0)
        -> (dataset: DatasetDrift, tensors: [String: TensorDrift], correlation: WindowCorrelation.Result)
    {
        let layout = FeatureLayout(monitor)
        var inputs: [FeatureInput] = []
        for f in monitor.features {
            switch f.kind {
            case .tensor: continue
            case .numeric:
                guard let i = layout.numeric.firstIndex(of: f.name), let ref = reference.numericFeature(named: f.name) else { continue }
                inputs.append(.numeric(name: f.name, reference: ref.asSample, current: NumericSample(values: sample.numeric[i])))
            case .categorical:
                guard let i = layout.categorical.firstIndex(of: f.name), let ref = reference.categoricalFeature(named: f.name) else { continue }
                inputs.append(.categorical(name: f.name, reference: ref.asSample, current: CategoricalSample(values: sample.categorical[i])))
            }
        }
        // Features with no value in the window cannot be compared; they are reported by their missing count.
        inputs = inputs.filter {
            switch $0 {
            case .numeric(_, _, let cur): return !cur.sorted.isEmpty
            case .categorical(_, _, let cur): return cur.presentCount > 0
            }
        }
        let correlation = WindowCorrelation.compare(monitor, sample: sample, reference: reference)
        var result = DatasetComparison.compare(
            inputs, correlation: { if case .figure(let d) = correlation { d } else { nil } }(),
            settings: monitor.settings, overrides: monitor.overrides)
        var tensors: [String: TensorDrift] = [:]
        var components: [FeatureDrift] = []
        for (t, slots) in layout.tensors.enumerated() {
            guard let ref = reference.tensors.first(where: { $0.name == slots.name }), t < sample.tensors.count, sample.tensors[t].rows >= 2 else {
                continue
            }
            let settings = monitor.overrides[slots.name] ?? monitor.settings
            guard let d = try? TensorDrift.compare(ref, current: sample.tensors[t], settings: settings, seed: seed) else { continue }
            tensors[slots.name] = d
            result.features.append(d.summary(referenceCount: ref.referenceCount, missing: sample.tensorMissing[t]))
            components += d.components
        }
        let topLevel = result.features
        result.driftedCount = topLevel.filter(\.drifted).count
        result.driftedShare = topLevel.isEmpty ? 0 : Double(result.driftedCount) / Double(topLevel.count)
        result.drifted = !topLevel.isEmpty && DriftSettings.meets(result.driftedShare, monitor.settings.datasetDriftShare)
        result.features += components
        return (result, tensors, correlation)
    }

    /// Everything a check writes, computed before its transaction opens.
    struct Evaluation {
        var sampleCount: Int
        var sampleTotal: Int
        var dataset: DatasetDrift?
        var status: DriftPolicy.Status
        /// `drift_runs.correlation`: the figure, `{"unavailable": why}`, or nil for insufficient data.
        var correlationJSON: String?
        /// `drift_feature_results`, one array per column (the parameters of one multi-row INSERT).
        var featureColumns: [PGColumn]
    }

    /// Phase 1 of a check: the statistics and every value the write needs, with no I/O.
    func evaluate(window: TimeWindow, sample: WindowSample) -> Evaluation {
        guard sample.count >= monitor.minSample else {
            return Evaluation(
                sampleCount: sample.count, sampleTotal: sample.total, dataset: nil, status: .insufficientData,
                correlationJSON: nil, featureColumns: Self.featureColumns([]))
        }
        let compared = compareAll(sample, seed: UInt64(max(0, window.start.timeIntervalSince1970)))
        let result = compared.dataset
        let correlation: JSONValue
        switch compared.correlation {
        case .figure(let c):
            correlation = .object([
                ("max_abs_delta", .number(c.maxAbsDelta)), ("pair", .array([.string(c.pair.0), .string(c.pair.1)])),
                ("reference", .number(c.referenceCorrelation)), ("current", .number(c.currentCorrelation))
            ])
        case .unavailable(let why):
            correlation = .object([("unavailable", .string(why))])
        }
        let layout = FeatureLayout(monitor)
        let rows: [[(any PGEncodable)?]] = result.features.map { f in
            let outOfRange =
                f.kind == .numeric
                ? layout.numeric.firstIndex(of: f.name).flatMap { i in
                    reference.numericFeature(named: f.name).map { Self.outOfRangeShare(sample.numeric[i], $0) }
                } : nil
            let detail =
                (f.kind == .tensor
                ? compared.tensors[f.name].map { FeatureDetail(tensor: $0, reference: reference.tensors.first { r in r.name == f.name }) } : nil)?
                .json()
                ?? FeatureDetail(f).json()
            return [
                f.name, f.kind.rawValue, f.referenceCount, f.currentCount, f.referenceMissing, f.currentMissing,
                f.ks?.statistic, f.ks?.pvalue, f.ks?.method.rawValue, f.psi, f.jensenShannon, f.wassersteinNormed, f.hellinger,
                f.chiSquare?.statistic, f.chiSquare?.pvalue, f.chiSquare?.dof, f.pvalueAdjusted, f.unseenCategories?.count,
                outOfRange, f.drifted, f.reasons, detail
            ]
        }
        return Evaluation(
            sampleCount: sample.count, sampleTotal: sample.total, dataset: result,
            status: result.drifted ? .drifted : .notDrifted, correlationJSON: correlation.rendered(),
            featureColumns: Self.featureColumns(rows))
    }

    /// The columns of `drift_feature_results` after `run_id`, with the SQL type of each (the order of `featureColumns`).
    static let featureColumnTypes: [(name: String, type: String)] = [
        ("feature", "text"), ("kind", "text"), ("reference_count", "int"), ("current_count", "int"), ("reference_missing", "int"),
        ("current_missing", "int"), ("ks_statistic", "float8"), ("ks_pvalue", "float8"), ("ks_method", "text"), ("psi", "float8"),
        ("jensen_shannon", "float8"), ("wasserstein_normed", "float8"), ("hellinger", "float8"), ("chi_square", "float8"),
        ("chi_square_pvalue", "float8"), ("chi_square_dof", "int"), ("pvalue_adjusted", "float8"), ("unseen_categories", "int"),
        ("out_of_range_share", "float8"), ("drifted", "bool"),
        // per-row arrays and jsonb travel as their text and are cast per row (unnest cannot unnest an array of arrays)
        ("reasons", "text"), ("detail", "text")
    ]

    static func featureColumns(_ rows: [[(any PGEncodable)?]]) -> [PGColumn] {
        featureColumnTypes.indices.map { j in PGColumn(rows.map { $0[j]?.pgText }) }
    }

    /// Every feature result of a run in one statement: one array parameter per column, unnested into rows.
    static let insertFeaturesSQL: String = {
        let names = featureColumnTypes.map(\.name)
        let arrays = featureColumnTypes.enumerated().map { j, c in "$\(j + 2)::\(c.type)[]" }
        let select = names.map { n in n == "reasons" ? "f.reasons::text[]" : n == "detail" ? "f.detail::jsonb" : "f.\(n)" }
        return "INSERT INTO drift_feature_results (run_id, \(names.joined(separator: ", ")))\n"
            + "SELECT $1, \(select.joined(separator: ", "))\n"
            + "FROM unnest(\(arrays.joined(separator: ", "))) AS f(\(names.joined(separator: ", ")))"
    }()

    /// Phase 2 of a check, inside its transaction: only writes.
    private func write(
        window: TimeWindow, evaluation e: Evaluation, decision: DriftPolicy.Decision, performance: PerformanceEvaluation?, on c: PGConnection
    ) throws -> Outcome {
        let result = e.dataset
        let fired: [String] = { if case .fired(let a, _) = decision { return a } else { return [] } }()
        let decisionJSON = Self.decisionJSON(
            decision, trigger: monitor.policy.trigger, drift: e.status, sampleTotal: e.sampleTotal, performance: performance)
        let insufficient = e.status == .insufficientData
        let runRows = try c.query(
            """
            INSERT INTO drift_runs (monitor, config_hash, window_start, window_end, status, drifted, reference_count, current_count,
                                    feature_count, drifted_count, drifted_share, correlation, decision)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb)
            ON CONFLICT (monitor, window_start, window_end) DO NOTHING
            RETURNING id
            """,
            [
                monitor.name, configHash, window.start, window.end, (insufficient ? Status.insufficientData : .completed).rawValue,
                result.map(\.drifted), reference.rowCount, e.sampleCount, result.map { Self.topLevel($0).count } ?? 0, result?.driftedCount ?? 0,
                result?.driftedShare, e.correlationJSON, decisionJSON
            ], name: "check.insert_run")
        guard let runRow = runRows.first else {
            // Another worker wrote this window first: exactly one run per window.
            return try existingRun(window, on: c)
                ?? Outcome(
                    runID: nil, status: .completed, drifted: nil, driftedFeatures: [],
                    decision: "", firedActions: [], written: false)
        }
        let runID = try runRow.int("id")
        if let result, !result.features.isEmpty {
            try c.query(Self.insertFeaturesSQL, [runID] + e.featureColumns, name: "check.insert_features")
        }
        try enqueueActions(
            fired, window: window, runID: runID, driftedFeatures: result.map(Self.topLevelDrifted) ?? [], performance: performance, on: c)
        return Outcome(
            runID: Int64(runID), status: insufficient ? .insufficientData : .completed, drifted: result?.drifted,
            driftedFeatures: result.map(Self.topLevelDrifted) ?? [], decision: decision.description,
            firedActions: fired, written: true)
    }

    /// `drift_runs.decision`: the decision in words, whether and what it fired, the window's event count, the streak,
    /// and with a performance trigger the trigger and the performance figures out of their band.
    static func decisionJSON(
        _ d: DriftPolicy.Decision, trigger: PolicyTrigger, drift: DriftPolicy.Status, sampleTotal: Int, performance: PerformanceEvaluation?
    ) -> String {
        let fired: [String] = { if case .fired(let a, _) = d { return a } else { return [] } }()
        var fields: [(String, JSONValue)] = [
            ("decision", .string(DriftPolicy.describe(d, trigger: trigger, drift: drift, performance: performance))), ("fired", .bool(d.fired)),
            ("fired_actions", .array(fired.map { .string($0) })),
            ("sample_total", .int(sampleTotal)), ("streak", .int(d.streak))
        ]
        if trigger != .drift { fields.append(("trigger", .string(trigger.rawValue))) }
        if let performance { fields.append(("performance_reasons", .array(performance.reasons.map { .string($0) }))) }
        return JSONValue.object(fields).rendered()
    }

    /// The fired actions into `trigger_outbox`, each once per monitor and window (`actionID`, ON CONFLICT DO NOTHING).
    func enqueueActions(
        _ fired: [String], window: TimeWindow, runID: Int, driftedFeatures: [String], performance: PerformanceEvaluation?, on c: PGConnection
    ) throws {
        for action in fired {
            var fields: [(String, JSONValue)] = [
                ("monitor", .string(monitor.name)), ("model", .string(monitor.model)),
                ("window_start", .string(PGTimeText.iso(window.start))), ("window_end", .string(PGTimeText.iso(window.end))),
                ("drifted_features", .array(driftedFeatures.map { .string($0) })), ("run_id", .int(runID))
            ]
            if monitor.policy.trigger != .drift { fields.append(("trigger", .string(monitor.policy.trigger.rawValue))) }
            if let performance { fields.append(("performance_reasons", .array(performance.reasons.map { .string($0) }))) }
            try c.query(
                """
                INSERT INTO trigger_outbox (action_id, monitor, run_id, action, preset, payload) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
                ON CONFLICT (action_id) DO NOTHING
                """,
                [
                    Self.actionID(monitor: monitor.name, window: window, action: action), monitor.name, runID, action,
                    monitor.actions[action]?.preset ?? "webhook", JSONValue.object(fields).rendered()
                ],
                name: "check.outbox")
        }
    }

    /// The drifted features a person acts on: scalars and tensors (a tensor's components are its detail).
    static func topLevelDrifted(_ d: DatasetDrift) -> [String] { topLevel(d).filter(\.drifted).map(\.name) }

    /// The features without tensor components.
    static func topLevel(_ d: DatasetDrift) -> [FeatureDrift] {
        let tensors = Set(d.features.filter { $0.kind == .tensor }.map(\.name))
        return d.features.filter { f in !tensors.contains { f.name.hasPrefix($0 + ".") } }
    }

    /// Data quality: the share of present current values outside the reference's [min, max].
    static func outOfRangeShare(_ values: [Double], _ ref: ReferenceProfile.NumericFeature) -> Double {
        var present = 0
        var outside = 0
        for v in values where v.isFinite {
            present += 1
            if v < ref.minimum || v > ref.maximum { outside += 1 }
        }
        return present == 0 ? 0 : Double(outside) / Double(present)
    }

    /// The stable id of an action: the same monitor, window and action always give the same id.
    public static func actionID(monitor: String, window: TimeWindow, action: String) -> String {
        "\(monitor):\(PGTimeText.iso(window.start)):\(action)"
    }
}

/// A one-dimensional PostgreSQL array parameter whose elements may be NULL (`{"a",NULL}`), in text format.
struct PGColumn: PGEncodable {
    var elements: [String?]
    init(_ elements: [String?]) { self.elements = elements }

    var pgText: String {
        "{"
            + elements.map { e in
                e.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" } ?? "NULL"
            }.joined(separator: ",") + "}"
    }
}
