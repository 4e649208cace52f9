import DriftCapture
import DriftStore
import Foundation

/// Turns inference CloudEvents from the serving path into `capture_events` rows laid out for the model's
/// monitor: a request's rows carry the input features (outputs missing), a response's rows the output
/// features (inputs missing); a batch of B rows becomes B events whose request ids are `<ce-id>` (B = 1) or
/// `<ce-id>/<row>`, so that row k of a response pairs with row k of its request.
public struct ServingCapture: Sendable {
    /// The first monitor of each model gives its feature layout (as with `ingest`).
    public let monitorsByModel: [String: MonitorConfig]
    public var limits: OIPDecoder.Limits

    public init(monitors: [MonitorConfig], limits: OIPDecoder.Limits = .init()) {
        var byModel: [String: MonitorConfig] = [:]
        for m in monitors where byModel[m.model] == nil { byModel[m.model] = m }
        monitorsByModel = byModel
        self.limits = limits
    }

    public var models: [String] { monitorsByModel.keys.sorted() }

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
        public var rejected: [String]
    }

    /// Decodes one event. `model`: an explicit model (the `?model=` of the URL), else the event's
    /// `inferenceservicename`, else the payload's `model_name`.
    public func events(from ce: InferenceCloudEvent, model explicit: String? = nil, now: Date = Date()) throws -> Result {
        let payload = try PayloadDecoder.decode(ce.data, headerLength: ce.inferenceHeaderLength, isResponse: ce.kind == .response, limits: limits)
        let name = explicit ?? ce.inferenceServiceName ?? payload.modelName
        guard let name, let monitor = monitorsByModel[name] else { throw UnknownModel(model: explicit ?? ce.inferenceServiceName ?? payload.modelName, configured: models) }
        let layout = FeatureLayout(monitor)
        let isResponse = ce.kind == .response
        let features = monitor.features.filter { f in
            if case .output = f.source { return isResponse } else { return !isResponse }
        }
        var events: [CaptureEvent] = []
        var rejected: [String] = []
        let batch = payload.rows.count
        rows: for (k, row) in payload.rows.enumerated() {
            var numeric = [Double](repeating: .nan, count: layout.numeric.count)
            var categorical = [String?](repeating: nil, count: layout.categorical.count)
            for f in features {
                let (key, index): (String?, Int?)
                switch f.source {
                case .input(let k, let i), .output(let k, let i): (key, index) = (k ?? (i == nil ? f.name : nil), i)
                }
                let value = row.value(key: key, index: index)
                switch f.kind {
                case .numeric:
                    guard let slot = layout.numeric.firstIndex(of: f.name) else { continue }
                    switch value {
                    case .number(let d)?: numeric[slot] = d
                    case .bool(let b)?: numeric[slot] = b ? 1 : 0
                    case .string(let s)?:
                        guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else {
                            rejected.append("row \(k): feature '\(f.name)' is numeric but the payload holds \"\(s.prefix(40))\"")
                            continue rows
                        }
                        numeric[slot] = d
                    case .null?, nil: break
                    }
                case .categorical:
                    guard let slot = layout.categorical.firstIndex(of: f.name) else { continue }
                    switch value {
                    case .string(let s)?: categorical[slot] = s
                    case .number(let d)?: categorical[slot] = d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
                    case .bool(let b)?: categorical[slot] = b ? "true" : "false"
                    case .null?, nil: break
                    }
                }
            }
            events.append(CaptureEvent(
                model: name, modelVersion: payload.modelVersion ?? ce.extensions["modelversion"] ?? "", role: .champion,
                requestID: batch == 1 ? ce.id : "\(ce.id)/\(k)", kind: isResponse ? .response : .request,
                observedAt: ce.time ?? now, numeric: numeric, categorical: categorical))
        }
        return Result(model: name, events: events, rejected: rejected)
    }
}
