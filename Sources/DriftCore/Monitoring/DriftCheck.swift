import DriftStats
import DriftStore
import Foundation

/// One drift check of one monitor and window — the unit of work of `run-once`, `serve` and
/// `backfill`. In ONE transaction it writes the `drift_runs` row, its `drift_feature_results`, the
/// policy decision and the actions the policy fires into `trigger_outbox`: a crash leaves either
/// nothing or everything, and a retried check finds its run (unique per monitor and window) and
/// writes nothing again.
public struct DriftCheck: Sendable {
    public enum Status: String, Sendable { case completed, insufficientData = "insufficient_data" }

    public struct Outcome: Sendable, Equatable {
        public var runID: Int64?
        public var status: String
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

    public init(monitor: MonitorConfig, reference: ReferenceProfile, configHash: String) {
        self.monitor = monitor
        self.reference = reference
        self.configHash = configHash
    }

    /// Runs the check for `window` on `c` (which must not be inside a transaction). With `recompute`
    /// an existing run of the window is replaced.
    public func run(window: TimeWindow, on c: PGConnection, recompute: Bool = false,
                    inTransaction extra: ((PGConnection) throws -> Void)? = nil) throws -> Outcome {
        if !recompute, let existing = try existingRun(window, on: c) { return existing }
        let sample = try WindowSample.load(c, monitor: monitor, window: window)
        return try c.transaction { c in
            if recompute {
                try c.query("DELETE FROM drift_runs WHERE monitor = $1 AND window_start = $2 AND window_end = $3",
                            [monitor.name, window.start, window.end], name: "check.replace")
            }
            let outcome = try write(window: window, sample: sample, on: c)
            try extra?(c)
            return outcome
        }
    }

    func existingRun(_ w: TimeWindow, on c: PGConnection) throws -> Outcome? {
        try c.query("""
            SELECT id, status, drifted, decision->>'decision' AS decision, decision->'fired_actions' AS fired
            FROM drift_runs WHERE monitor = $1 AND window_start = $2 AND window_end = $3
            """, [monitor.name, w.start, w.end], name: "check.existing").first.map { r in
            Outcome(runID: Int64(try r.int("id")), status: try r.string("status"),
                    drifted: try r.optionalString("drifted").map { $0 == "t" }, driftedFeatures: [],
                    decision: try r.optionalString("decision") ?? "", firedActions: [], written: false)
        }
    }

    /// The comparison of a sample with the reference, with per-feature overrides applied.
    public func compare(_ sample: WindowSample, seed: UInt64 = 0) -> DatasetDrift { compareAll(sample, seed: seed).dataset }

    /// The comparison, and each tensor feature's result. A tensor counts as one feature in the dataset share; its
    /// components (`<name>.pc1`, …) follow it in `features` (for storage, the report and the metrics) without
    /// counting. `seed` fixes the MMD sub-sample and permutations (the window start, so a recheck agrees).
    public func compareAll(_ sample: WindowSample, seed: UInt64 = 0) -> (dataset: DatasetDrift, tensors: [String: TensorDrift]) {
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
            case let .numeric(_, _, cur): return !cur.sorted.isEmpty
            case let .categorical(_, _, cur): return cur.presentCount > 0
            }
        }
        var result = DatasetComparison.compare(inputs, settings: monitor.settings)
        for i in result.features.indices {
            if let o = monitor.overrides[result.features[i].name] { FeatureComparison.decide(&result.features[i], settings: o) }
        }
        var tensors: [String: TensorDrift] = [:]
        var components: [FeatureDrift] = []
        for (t, slots) in layout.tensors.enumerated() {
            guard let ref = reference.tensors.first(where: { $0.name == slots.name }), t < sample.tensors.count, sample.tensors[t].rows >= 2 else { continue }
            let settings = monitor.overrides[slots.name] ?? monitor.settings
            guard let d = try? TensorDrift.compare(ref, current: sample.tensors[t], settings: settings, seed: seed) else { continue }
            tensors[slots.name] = d
            result.features.append(d.summary(referenceCount: ref.referenceCount, missing: sample.tensorMissing[t]))
            components += d.components
        }
        let topLevel = result.features
        result.driftedCount = topLevel.filter(\.drifted).count
        result.driftedShare = topLevel.isEmpty ? 0 : Double(result.driftedCount) / Double(topLevel.count)
        result.drifted = !topLevel.isEmpty && result.driftedShare >= monitor.settings.datasetDriftShare
        result.features += components
        return (result, tensors)
    }


    private func write(window: TimeWindow, sample: WindowSample, on c: PGConnection) throws -> Outcome {
        let insufficient = sample.count < monitor.minSample
        let compared = insufficient ? nil : compareAll(sample, seed: UInt64(max(0, window.start.timeIntervalSince1970)))
        let result: DatasetDrift? = compared?.dataset
        let status: DriftPolicy.Verdict.Status = insufficient ? .insufficientData : (result!.drifted ? .drifted : .notDrifted)
        // The policy looks at this monitor's earlier windows (enough of them to cover the streak and the cooldown).
        let horizon = window.start.addingTimeInterval(-max(monitor.policy.cooldown.seconds,
                                                          Double(monitor.policy.consecutive + 1) * monitor.schedule.length.seconds * 4))
        let history = try c.query("""
            SELECT window_start, window_end, status, drifted, coalesce((decision->>'fired')::boolean, false) AS fired
            FROM drift_runs WHERE monitor = $1 AND window_end <= $2 AND window_start >= $3
            """, [monitor.name, window.start, horizon], name: "check.history").map { r -> DriftPolicy.Verdict in
            let s = try r.string("status")
            let st: DriftPolicy.Verdict.Status = s == "insufficient_data" ? .insufficientData : (try r.bool("drifted") ? .drifted : .notDrifted)
            return DriftPolicy.Verdict(window: TimeWindow(start: try r.date("window_start"), end: try r.date("window_end")),
                                       status: st, fired: try r.bool("fired"))
        }
        let decision = monitor.policy.decide(current: DriftPolicy.Verdict(window: window, status: status), history: history)
        let fired: [String] = { if case .fired(let a, _) = decision { return a } else { return [] } }()
        let decisionJSON = JSONValue.object([
            ("decision", .string(decision.description)), ("fired", .bool(decision.fired)),
            ("fired_actions", .array(fired.map { .string($0) })), ("sample_total", .int(sample.total)),
        ]).rendered()
        let correlation = result?.correlationDrift.map { c in
            JSONValue.object([("max_abs_delta", .number(c.maxAbsDelta)), ("pair", .array([.string(c.pair.0), .string(c.pair.1)])),
                              ("reference", .number(c.referenceCorrelation)), ("current", .number(c.currentCorrelation))]).rendered()
        }
        let runRows = try c.query("""
            INSERT INTO drift_runs (monitor, config_hash, window_start, window_end, status, drifted, reference_count, current_count,
                                    feature_count, drifted_count, drifted_share, correlation, decision)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb)
            ON CONFLICT (monitor, window_start, window_end) DO NOTHING
            RETURNING id
            """, [monitor.name, configHash, window.start, window.end, insufficient ? "insufficient_data" : "completed",
                  result.map(\.drifted), reference.rowCount, sample.count, result.map { Self.topLevel($0).count } ?? 0, result?.driftedCount ?? 0,
                  result?.driftedShare, correlation, decisionJSON], name: "check.insert_run")
        guard let runRow = runRows.first else {
            // Another worker wrote this window first: exactly one run per window.
            return try existingRun(window, on: c) ?? Outcome(runID: nil, status: "completed", drifted: nil, driftedFeatures: [],
                                                              decision: "", firedActions: [], written: false)
        }
        let runID = try runRow.int("id")
        let layout = FeatureLayout(monitor)
        for f in result?.features ?? [] {
            let outOfRange = f.kind == .numeric ? layout.numeric.firstIndex(of: f.name).flatMap { i in
                reference.numericFeature(named: f.name).map { Self.outOfRangeShare(sample.numeric[i], $0) }
            } : nil
            try c.query("""
                INSERT INTO drift_feature_results (run_id, feature, kind, reference_count, current_count, reference_missing, current_missing,
                    ks_statistic, ks_pvalue, ks_method, psi, jensen_shannon, wasserstein_normed, hellinger, chi_square, chi_square_pvalue,
                    chi_square_dof, pvalue_adjusted, unseen_categories, out_of_range_share, drifted, reasons, detail)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23::jsonb)
                """, [runID, f.name, f.kind.rawValue, f.referenceCount, f.currentCount, f.referenceMissing, f.currentMissing,
                      f.ks?.statistic, f.ks?.pvalue, f.ks?.method.rawValue, f.psi, f.jensenShannon, f.wassersteinNormed, f.hellinger,
                      f.chiSquare?.statistic, f.chiSquare?.pvalue, f.chiSquare?.dof, f.pvalueAdjusted, f.unseenCategories?.count,
                      outOfRange, f.drifted, f.reasons,
                      (f.kind == .tensor ? compared?.tensors[f.name].map { FeatureDetail(tensor: $0, reference: reference.tensors.first { r in r.name == f.name }) } : nil)?.json()
                        ?? FeatureDetail(f).json()], name: "check.insert_feature")
        }
        for action in fired {
            let payload = JSONValue.object([
                ("monitor", .string(monitor.name)), ("model", .string(monitor.model)),
                ("window_start", .string(PGTimeText.iso(window.start))), ("window_end", .string(PGTimeText.iso(window.end))),
                ("drifted_features", .array((result.map(Self.topLevelDrifted) ?? []).map { .string($0) })),
                ("run_id", .int(runID)),
            ]).rendered()
            try c.query("""
                INSERT INTO trigger_outbox (action_id, monitor, run_id, action, preset, payload) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
                ON CONFLICT (action_id) DO NOTHING
                """, [Self.actionID(monitor: monitor.name, window: window, action: action), monitor.name, runID, action,
                      monitor.actions[action]?.preset ?? "webhook", payload],
                        name: "check.outbox")
        }
        return Outcome(runID: Int64(runID), status: insufficient ? "insufficient_data" : "completed", drifted: result?.drifted,
                       driftedFeatures: result.map(Self.topLevelDrifted) ?? [], decision: decision.description,
                       firedActions: fired, written: true)
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
        var present = 0, outside = 0
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
