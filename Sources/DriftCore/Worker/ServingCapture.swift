import Crypto
import DriftCapture
import DriftStore
import Foundation
import NIOConcurrencyHelpers

/// Turns captured inferences from the serving path into `capture_events` rows laid out for the model's
/// monitor. A feature is read by its `source` key (default: its name) and/or index; from a positional row (a
/// CSV body, V1 rows as arrays) without an index, by its position among the monitor's input (or output)
/// features in configuration order. Then: a request's rows carry the input features (outputs missing), a response's rows the output
/// features (inputs missing); a batch of B rows becomes B events whose request ids are `<ce-id>` (B = 1) or
/// `<ce-id>/<row>`, so that row k of a response pairs with row k of its request.
public struct ServingCapture: Sendable {
    /// The first monitor of each model gives its feature layout (as with `ingest`).
    public let monitorsByModel: [String: MonitorConfig]
    public var limits: OIPDecoder.Limits
    /// Per model, where each feature is read and written, worked out once (not per record or row).
    let plans: [String: Plan]
    /// Services that a role rule names, claimed for its monitor's model (a shadow service of its own).
    let modelByService: [String: String]

    /// One feature: where it is read (`key`/`index`, its position among its side's features for positional
    /// rows) and where it goes in `capture_events.numeric` or `.categorical`.
    struct Slot {
        var name: String
        var output: Bool
        var key: String?
        var index: Int?
        var position: Int
        var numeric: Bool
        var slot: Int
        /// A tensor's element count (its elements fill `width` slots from `slot`); nil for scalars.
        var width: Int?
    }

    struct Plan {
        var numericCount: Int
        var categoricalCount: Int
        var categoricalNames: [String]
        var slots: [Slot]

        init(_ m: MonitorConfig) {
            let layout = FeatureLayout(m)
            numericCount = layout.numericWidth
            categoricalCount = layout.categorical.count
            categoricalNames = layout.categorical
            var positions = [false: 0, true: 0]
            slots = m.features.map { f in
                let (output, key, index): (Bool, String?, Int?)
                switch f.source {
                case .input(let k, let i): (output, key, index) = (false, k, i)
                case .output(let k, let i): (output, key, index) = (true, k, i)
                }
                defer { positions[output]! += 1 }
                if f.kind == .tensor, let t = layout.tensors.first(where: { $0.name == f.name }) {
                    return Slot(
                        name: f.name, output: output, key: key ?? f.name, index: nil, position: positions[output]!, numeric: true,
                        slot: t.offset, width: t.size)
                }
                let numeric = f.kind == .numeric
                return Slot(
                    name: f.name, output: output, key: key ?? (index == nil ? f.name : nil), index: index,
                    position: positions[output]!, numeric: numeric,
                    slot: (numeric ? layout.numeric : layout.categorical).firstIndex(of: f.name)!)
            }
        }
    }

    public init(monitors: [MonitorConfig], limits: OIPDecoder.Limits = .init()) {
        var byModel: [String: MonitorConfig] = [:]
        for m in monitors where byModel[m.model] == nil { byModel[m.model] = m }
        monitorsByModel = byModel
        self.limits = limits
        plans = byModel.mapValues(Plan.init)
        var services: [String: String] = [:]
        for m in byModel.values.sorted(by: { $0.model < $1.model }) {
            for rule in m.capture.roles { if let svc = rule.service, services[svc] == nil { services[svc] = m.model } }
        }
        modelByService = services
    }

    public var models: [String] { monitorsByModel.keys.sorted() }

    /// The model an event of serving `service` (`ce-inferenceservicename`) belongs to: the monitor whose role rules
    /// name the service, else a monitored model of that name; nil when none.
    public func model(forService service: String?) -> String? {
        guard let service else { return nil }
        return modelByService[service] ?? (monitorsByModel[service] != nil ? service : nil)
    }

    /// A model no monitor watches (HTTP 404).
    public struct UnknownModel: Error, CustomStringConvertible, Sendable {
        public var model: String?
        public var configured: [String]
        public var description: String {
            (model.map { "no monitor watches model '\($0)'" } ?? "the event names no model (no ce-inferenceservicename, no model_name, no ?model=)")
                + "; configured models: \(configured.joined(separator: ", "))"
        }
    }

    public struct Result: Sendable {
        public var model: String
        public var events: [CaptureEvent]
        /// Rows left out, each with the reason (the event's other rows are kept).
        public var rejected: [String] = []
        /// Events dropped on purpose: by the monitor's `capture.keep` fraction or `max_events_per_second`.
        public var sampledOut = 0
        /// Events dropped because another component of the serving graph logged them (`capture.component`;
        /// counted with reason "component", answered 200).
        public var otherComponent = 0
        /// The record had been captured already (a logger's retry): nothing was added.
        public var duplicate = false
        /// Pass to `remember` once the events are committed, so a re-sent copy is recognised.
        public var dedupeKey: DedupeKey?
        /// The names of `events`' categorical values, in order (for messages).
        public var categoricalNames: [String] = []
        /// The metrics label of the record's format (`kserve-v1`, `azureml`, …).
        public var format = ""
    }

    /// Records committed records, for deduplication of re-sent copies (the last 200,000 per process).
    public func remember(_ keys: [DedupeKey]) { state.remember(keys) }

    /// A record's identity for deduplication: the first 128 bits of the SHA-256 of its canonical key, so the cache
    /// holds 16 bytes per record however long the ids an attacker sends.
    public struct DedupeKey: Hashable, Sendable {
        var high: UInt64, low: UInt64
        init(_ parts: [String]) {
            var hasher = SHA256()
            for p in parts {
                // length-prefixed parts: no two different tuples share an encoding
                withUnsafeBytes(of: UInt64(p.utf8.count).littleEndian) { hasher.update(bufferPointer: $0) }
                hasher.update(data: Data(p.utf8))
            }
            let digest = Array(hasher.finalize())
            high = digest[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
            low = digest[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    /// Rate limits and the recently seen records, shared by every copy of this value (one per process).
    final class State: Sendable {
        struct Recent {
            var set = Set<DedupeKey>()
            var order: [DedupeKey] = []
            var head = 0
        }
        let buckets = NIOLockedValueBox<[String: (tokens: Double, at: Double)]>([:])
        let recent = NIOLockedValueBox(Recent())
        static let recentCapacity = 200_000

        func contains(_ key: DedupeKey) -> Bool { recent.withLockedValue { $0.set.contains(key) } }

        /// Remembers committed keys, forgetting the oldest beyond `recentCapacity`.
        func remember(_ keys: [DedupeKey]) {
            recent.withLockedValue { r in
                for key in keys where r.set.insert(key).inserted {
                    if r.order.count < Self.recentCapacity {
                        r.order.append(key)
                    } else {
                        r.set.remove(r.order[r.head])
                        r.order[r.head] = key
                        r.head = (r.head + 1) % Self.recentCapacity
                    }
                }
            }
        }

        /// Takes `n` tokens from the model's bucket (refilled at `rate` per second, holding one second's worth).
        func take(_ n: Int, model: String, rate: Double, now: Double) -> Bool {
            buckets.withLockedValue { buckets in
                var b = buckets[model] ?? (rate, now)
                b.tokens = min(rate, b.tokens + (now - b.at) * rate)
                b.at = now
                let ok = b.tokens >= Double(n)
                if ok { b.tokens -= Double(n) }
                buckets[model] = b
                return ok
            }
        }
    }
    let state = State()
    /// Model versions seen, for the events that name none (one per process, like `state`).
    let versions = ModelVersionMemory()

    /// Decodes one CloudEvent. `model`: an explicit model (the `?model=` of the URL), else the event's
    /// `inferenceservicename`, else the payload's `model_name`.
    public func events(from ce: InferenceCloudEvent, model explicit: String? = nil, now: Date = Date()) throws -> Result {
        try events(from: CapturedInference(ce, limits: limits), model: explicit, now: now)
    }

    /// Maps one captured inference to events: a request's rows carry the inputs, a response's the outputs, a
    /// paired record's both (row k of the outputs with row k of the inputs).
    public func events(from record: CapturedInference, model explicit: String? = nil, now: Date = Date()) throws -> Result {
        let name = explicit ?? record.service.flatMap { modelByService[$0] } ?? record.model
        guard let name, let monitor = monitorsByModel[name], let plan = plans[name] else { throw UnknownModel(model: name, configured: models) }
        // ids are copied into every row's event: refuse an over-long or NUL-laden one before any row is built
        let rowCount = max(record.inputs.count, record.outputs.count)
        // a batch's request ids get "/<row>" appended: the id must leave room for it
        let suffix = rowCount > 1 ? 1 + String(rowCount - 1).utf8.count : 0
        for (field, value, room) in [("request id", record.pairingID, suffix), ("model version", record.modelVersion ?? "", 0)] {
            if let p = CaptureEventCheck.textProblem(value, max: limits.maxIDBytes - room) {
                throw CaptureDecodeError(path: field, problem: p.0, reason: p.1)
            }
        }
        let options = monitor.capture
        let batch = max(record.inputs.count, record.outputs.count)
        guard Self.acceptsComponent(record, selected: options.component) else {
            return Result(model: name, events: [], otherComponent: batch, format: record.formatLabel)
        }
        let version = inheritVersion(record, model: name)
        // the serving service, component and model version are part of the identity: a champion and its shadow
        // log the same request id (so do a Seldon graph's nodes), and both events must be kept
        let key = DedupeKey([
            name, record.service ?? "", record.component ?? "", record.modelVersion ?? "", record.kind.rawValue,
            record.pairingID, record.source.rawValue
        ])
        if state.contains(key) { return Result(model: name, events: [], duplicate: true, format: record.formatLabel) }
        if options.keep < 1, Double(StableHash.fnv1a(record.pairingID) % 1_000_000) / 1_000_000 >= options.keep {
            return Result(model: name, events: [], sampledOut: batch, format: record.formatLabel)
        }
        if let rate = options.maxEventsPerSecond, !state.take(batch, model: name, rate: rate, now: now.timeIntervalSince1970) {
            return Result(model: name, events: [], sampledOut: batch, format: record.formatLabel)
        }
        let role: CaptureEvent.Role =
            options.roles.first { r in
                (r.service == nil || r.service == record.service) && (r.modelVersion == nil || r.modelVersion == version)
                    && (r.sourcePrefix == nil || (record.origin ?? "").hasPrefix(r.sourcePrefix!))
            }.flatMap { CaptureEvent.Role(rawValue: $0.role) } ?? .champion
        var events: [CaptureEvent] = []
        var rejected: [String] = []
        let kind: CaptureEvent.Kind = record.kind == .request ? .request : (record.kind == .response ? .response : .paired)
        // where each slot's field is, found once per layout: a record's rows almost always share their field names
        // (in order), and a row with the same names has every field at the same place (`PayloadRow.value`'s result)
        var layouts: [(names: [String], at: [Int?])?] = [nil, nil]  // inputs, outputs
        func locate(_ row: PayloadRow, output: Bool) -> [Int?] {
            let side = output ? 1 : 0
            if let known = layouts[side], known.names.count == row.fields.count,
                zip(known.names, row.fields).allSatisfy({ $0 == $1.name })
            {
                return known.at
            }
            let at = plan.slots.map { f in f.output == output ? f.key.flatMap { key in row.fields.firstIndex { $0.name == key } } : nil }
            layouts[side] = (row.fields.map(\.name), at)
            return at
        }
        let usesInputs = plan.slots.contains { !$0.output && $0.key != nil }
        let usesOutputs = plan.slots.contains { $0.output && $0.key != nil }
        rows: for k in 0..<batch {
            let inputAt = usesInputs && k < record.inputs.count ? locate(record.inputs[k], output: false) : []
            let outputAt = usesOutputs && k < record.outputs.count ? locate(record.outputs[k], output: true) : []
            var numeric = [Double](repeating: .nan, count: plan.numericCount)
            var categorical = [String?](repeating: nil, count: plan.categoricalCount)
            for (slotIndex, f) in plan.slots.enumerated() {
                let side = f.output ? record.outputs : record.inputs
                guard k < side.count else { continue }
                let row = side[k]
                if let width = f.width {
                    // a tensor: every element of the named field (an OIP tensor's row, a V1 instance's array)
                    guard f.key != nil, let at = (f.output ? outputAt : inputAt)[slotIndex] else { continue }
                    let field = row.fields[at]
                    guard field.values.count == width else {
                        rejected.append("row \(k): tensor '\(f.name)' has \(field.values.count) elements; its shape needs \(width)")
                        continue rows
                    }
                    for (j, v) in field.values.enumerated() {
                        switch v {
                        case .number(let d): numeric[f.slot + j] = d.isFinite ? d : .nan
                        case .bool(let b): numeric[f.slot + j] = b ? 1 : 0
                        case .null: break
                        case .string:
                            rejected.append("row \(k): tensor '\(f.name)' element \(j) is not a number")
                            continue rows
                        }
                    }
                    continue
                }
                var value: Scalar?
                if f.key != nil {
                    if let at = (f.output ? outputAt : inputAt)[slotIndex] {
                        let values = row.fields[at].values
                        let i = f.index ?? 0
                        value = i >= 0 && i < values.count ? values[i] : nil
                    }
                } else {
                    value = row.value(key: nil, index: f.index)
                }
                if value == nil, f.index == nil, row.isPositional {
                    // a positional row (a CSV body, V1 rows as arrays): the side's features in configuration order
                    value = row.value(key: nil, index: f.position)
                }
                if f.numeric {
                    switch value {
                    // non-finite values are missing, as in file imports (an infinity would break every binning)
                    case .number(let d)?: numeric[f.slot] = d.isFinite ? d : .nan
                    case .bool(let b)?: numeric[f.slot] = b ? 1 : 0
                    case .string(let s)?:
                        guard let parsed = NumberText.parse(s), !s.lowercased().contains("x") else {
                            rejected.append("row \(k): feature '\(f.name)' is numeric but the payload holds \"\(s.prefix(40))\"")
                            continue rows
                        }
                        numeric[f.slot] = parsed.isFinite ? parsed : .nan
                    case .null?, nil: break
                    }
                } else {
                    switch value {
                    case .string(let s)?: categorical[f.slot] = s
                    case .number(let d)?: categorical[f.slot] = d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
                    case .bool(let b)?: categorical[f.slot] = b ? "true" : "false"
                    case .null?, nil: break
                    }
                }
            }
            events.append(
                CaptureEvent(
                    model: name, modelVersion: version ?? "", role: role,
                    requestID: batch == 1 ? record.pairingID : "\(record.pairingID)/\(k)", kind: kind,
                    observedAt: record.time ?? now, numeric: numeric, categorical: categorical))
        }
        var result = Result(model: name, events: events, rejected: rejected, dedupeKey: key, format: record.formatLabel)
        result.categoricalNames = plan.categoricalNames
        return result
    }

    /// Whether a monitor takes events of the record's component (`capture.component`). Events that name no
    /// component (structured archives, Azure ML, SageMaker, older loggers) are always taken. Selected: the component
    /// must match. Not selected: KServe events of the `predictor` only — a transformer's request is the raw client
    /// input and its response the post-processed answer, an explainer's are explanations; mixed with the
    /// predictor's, both sides' distributions are corrupted — and Seldon events of every graph node (a graph
    /// usually logs at one node; when several log, name the node).
    public static func acceptsComponent(_ record: CapturedInference, selected: String?) -> Bool {
        guard let component = record.component else { return true }
        if let selected { return component == selected }
        return record.source != .kserve || component == "predictor"
    }

    /// The record's model version, else the one inherited from its pair or sender (`ModelVersionMemory`);
    /// remembers a version the record names.
    func inheritVersion(_ record: CapturedInference, model: String) -> String? {
        let pair = ModelVersionMemory.key(model, record.service ?? "", record.component ?? "", record.source.rawValue, record.pairingID)
        let sender = ModelVersionMemory.key(model, record.service ?? "", record.component ?? "", record.origin ?? "")
        if let own = record.modelVersion, !own.isEmpty {
            // only a version that can be stored is remembered: a refused one must not spread to other events
            if CaptureEventCheck.textProblem(own, max: limits.maxIDBytes) == nil { versions.note(pair: pair, sender: sender, version: own) }
            return own
        }
        return versions.inherited(pair: pair, sender: sender)
    }
}
