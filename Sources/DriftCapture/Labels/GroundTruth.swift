import DriftCommon
import Foundation

/// One ground-truth label for a captured request: what the model should have answered, as it became known.
///
/// `label` is the truth as text, the way a classifier's class is compared: a JSON string as given (without surrounding
/// white space), an integer (or an
/// integral double such as `1.0`) as its decimal digits (`"1"`), a non-integral number in Swift's shortest round-trip
/// form (`"0.25"`), a boolean as `"true"` / `"false"`. `value` is the same truth as a number when it is one (a JSON
/// number, or a string that parses as a finite decimal number): what a regression monitor compares.
public struct GroundTruthLabel: Sendable, Equatable {
    public var model: String
    /// The request id as capture stored it (`request_id` of `capture_events`): a CloudEvent's `ce-id` (`<ce-id>/<row>`
    /// for row `row` of a batch), Seldon's `Seldon-Puid`, SageMaker's `inferenceId` (else `eventId`), Azure ML's
    /// correlation id.
    public var requestID: String
    /// The truth; nil only for a Seldon feedback that carries a reward and no truth.
    public var label: String?
    public var value: Double?
    /// A Seldon feedback's `reward` (how good the prediction was, in the deployment's own scale).
    public var reward: Double?
    /// When the truth became known; nil: when it is received.
    public var time: Date?

    public init(model: String, requestID: String, label: String?, value: Double? = nil, reward: Double? = nil, time: Date? = nil) {
        self.model = model
        self.requestID = requestID
        self.label = label
        self.value = value
        self.reward = reward
        self.time = time
    }
}

/// Decodes ground-truth labels from JSON Lines records (`POST /v1/labels`, `drift-worker ingest --format labels`) and
/// from table rows, totally: every input is a label or a `CaptureDecodeError` naming the field.
///
/// A record is one JSON object in either form:
/// - drift-worker's: `{"request_id": "r-1", "label": "fraud" | 1 | true, "time": "2026-12-01T10:00:00Z" | 1764583200,
///   "model": "fraud-model"}` or, for a regression, `"value": 412.5` instead of `label` (exactly one of the two);
///   `id` is accepted for `request_id`; `model` may come from the request instead (`?model=`, `--model`); other fields
///   are ignored;
/// - SageMaker Model Monitor's ground-truth record (AWS, *Ingest Ground Truth labels and merge them with
///   predictions*): `{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "…"},
///   "eventVersion": "0"}` — `eventId` holds the captured `inferenceId` (or its `eventId`), which is the request id
///   capture stored; `encoding` `CSV` takes `data` as the label text, `JSON` parses it as one JSON scalar.
///
/// Limits: the request id and model at most `maxIDBytes`, the label at most `maxStringBytes`, no NUL in any text
/// (PostgreSQL text cannot hold it); a time must be finite and not more than `maxEventLead` ahead of `now` (a label
/// may arrive long after its request, so `maxEventAge` does not apply).
public enum GroundTruthDecoder {
    /// One JSON Lines record (without its newline). `model` is the request's model (`?model=`), used when the record
    /// names none; a record naming another model than `model` is refused.
    public static func record(_ line: Data, model: String?, limits: CaptureLimits, now: Date) throws -> GroundTruthLabel {
        let root = try JSONValue.parse(line, path: "line", limits: limits)
        guard root.members != nil else { throw CaptureDecodeError(path: "line", problem: "is not a JSON object") }
        if let truth = root["groundTruthData"] { return try sageMaker(root, truth: truth, model: model, limits: limits, now: now) }
        let idValue = root["request_id"] ?? root["id"]
        let idField = root["request_id"] != nil ? "request_id" : "id"
        guard let idValue else { throw CaptureDecodeError(path: "request_id", problem: "is missing") }
        let requestID = try identifier(idValue, field: idField, limits: limits)
        let recordModel = try modelName(root["model"], given: model, limits: limits)
        let label = try truth(label: root["label"], value: root["value"], limits: limits) { v in
            guard let x = v.number, x.isFinite else { throw CaptureDecodeError(path: "value", problem: "is \(v.typeName), not a finite number") }
            return x
        }
        let time = try root["time"].map { try self.time($0, field: "time", limits: limits, now: now) }
        return GroundTruthLabel(model: recordModel, requestID: requestID, label: label.0, value: label.1, time: time)
    }

    /// A table row's cells (`ingest --format labels` of a CSV): `request_id` (or `id`), `label` or `value`, `time` and
    /// `model` as text (nil: the column is absent or the cell empty), decoded by the same rules as a JSON record whose
    /// fields are strings — a `value` must parse as a finite number, a `time` is RFC 3339 or epoch seconds.
    public static func row(
        requestID: String?, label: String?, value: String?, time: String?, model rowModel: String?, given model: String?, limits: CaptureLimits,
        now: Date
    ) throws -> GroundTruthLabel {
        guard let requestID, !requestID.isEmpty else { throw CaptureDecodeError(path: "request_id", problem: "is missing or empty") }
        let id = try identifier(.string(requestID), field: "request_id", limits: limits)
        let m = try modelName(rowModel.map { .string($0) }, given: model, limits: limits)
        let truth = try self.truth(label: label.map { .string($0) }, value: value, limits: limits) { v in
            guard let x = FastFloat.parse(v.trimmingCharacters(in: .whitespaces)), x.isFinite else {
                throw CaptureDecodeError(path: "value", problem: "is \"\(v.prefix(40))\", not a finite number")
            }
            return x
        }
        let t: Date?
        if let time {
            let trimmed = time.trimmingCharacters(in: .whitespaces)
            t = try self.time(FastFloat.parse(trimmed).map { .double($0) } ?? .string(trimmed), field: "time", limits: limits, now: now)
        } else {
            t = nil
        }
        return GroundTruthLabel(model: m, requestID: id, label: truth.0, value: truth.1, time: t)
    }

    // MARK: parts

    /// Exactly one of `label` (a class: text, number or boolean) and `value` (a regression target, read by `number`):
    /// the truth as text, and as a number when it is one. Both forms of `record` and `row` decide this here.
    static func truth<V>(
        label: JSONValue?, value: V?, limits: CaptureLimits, number: (V) throws -> Double
    ) throws -> (String, Double?) {
        switch (label, value) {
        case (nil, nil): throw CaptureDecodeError(path: "label", problem: "is missing (give label, or value for a regression)")
        case (.some, .some): throw CaptureDecodeError(path: "value", problem: "is given with label; give exactly one of the two")
        case (let l?, nil): return try truth(l, field: "label", limits: limits)
        case (nil, let v?):
            let x = try number(v)
            return (text(x), x)
        }
    }

    static func sageMaker(_ root: JSONValue, truth: JSONValue, model: String?, limits: CaptureLimits, now: Date) throws -> GroundTruthLabel {
        guard let idValue = root["eventMetadata"]?["eventId"] else {
            throw CaptureDecodeError(path: "eventMetadata.eventId", problem: "is missing")
        }
        let id = try identifier(idValue, field: "eventMetadata.eventId", limits: limits)
        let m = try modelName(root["model"], given: model, limits: limits)
        guard let data = truth["data"]?.string else {
            throw CaptureDecodeError(path: "groundTruthData.data", problem: "is missing or not a string")
        }
        let label: (String, Double?)
        switch (truth["encoding"]?.string ?? "CSV").uppercased() {
        case "CSV":
            let cell = data.trimmingCharacters(in: .whitespacesAndNewlines)
            if cell.contains(",") || cell.contains("\n") {
                throw CaptureDecodeError(path: "groundTruthData.data", problem: "holds more than one CSV value; a label is one value")
            }
            label = try self.truth(.string(cell), field: "groundTruthData.data", limits: limits)
        case "JSON":
            let inner = try JSONValue.parse(Data(data.utf8), path: "groundTruthData.data", limits: limits)
            label = try self.truth(inner, field: "groundTruthData.data", limits: limits)
        case let other:
            throw CaptureDecodeError(
                path: "groundTruthData.encoding", problem: "is \"\(other.prefix(20))\"; CSV and JSON are read", reason: .unsupported)
        }
        // eventMetadata.inferenceTime, when present, is the request's time, not the label's: the label is timed by its arrival
        return GroundTruthLabel(model: m, requestID: id, label: label.0, value: label.1, time: nil)
    }

    static func identifier(_ v: JSONValue, field: String, limits: CaptureLimits) throws -> String {
        let s: String
        switch v {
        case .string(let t): s = t
        case .int(let i): s = String(i)
        default: throw CaptureDecodeError(path: field, problem: "is \(v.typeName), not a string")
        }
        if s.isEmpty { throw CaptureDecodeError(path: field, problem: "is empty") }
        try check(s, field: field, max: limits.maxIDBytes)
        return s
    }

    static func modelName(_ v: JSONValue?, given: String?, limits: CaptureLimits) throws -> String {
        guard let v else {
            guard let given, !given.isEmpty else {
                throw CaptureDecodeError(path: "model", problem: "is missing: name it in the record or with ?model= (--model for a file)")
            }
            return given
        }
        guard let m = v.string, !m.isEmpty else { throw CaptureDecodeError(path: "model", problem: "is \(v.typeName), not a model name") }
        try check(m, field: "model", max: limits.maxIDBytes)
        if let given, !given.isEmpty, given != m {
            throw CaptureDecodeError(path: "model", problem: "is \"\(m.prefix(64))\" but the request is for model \"\(given.prefix(64))\"")
        }
        return m
    }

    /// A label value as its text and, when it is a number, the number.
    static func truth(_ v: JSONValue, field: String, limits: CaptureLimits) throws -> (String, Double?) {
        switch v {
        case .string(let raw):
            // surrounding white space is not part of a label (" 1" from a hand-made CSV is "1")
            let s = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if s.isEmpty { throw CaptureDecodeError(path: field, problem: "is empty") }
            try check(s, field: field, max: limits.maxStringBytes)
            let x = FastFloat.parse(s)
            return (s, x.flatMap { $0.isFinite ? $0 : nil })
        case .int(let i): return (String(i), Double(i))
        case .double(let x):
            guard x.isFinite else { throw CaptureDecodeError(path: field, problem: "is not a finite number") }
            return (text(x), x)
        case .bool(let b): return (b ? "true" : "false", nil)
        default: throw CaptureDecodeError(path: field, problem: "is \(v.typeName); a label is a string, a number or a boolean")
        }
    }

    static func time(_ v: JSONValue, field: String, limits: CaptureLimits, now: Date) throws -> Date {
        let t: Date
        switch v {
        case .string(let s):
            guard let d = RFC3339.parse(s) else {
                throw CaptureDecodeError(path: field, problem: "is \"\(s.prefix(40))\", not an RFC 3339 time or epoch seconds", reason: .time)
            }
            t = d
        case .int, .double:
            guard let x = v.number, x.isFinite, abs(x) < 1e11 else {
                throw CaptureDecodeError(path: field, problem: "is not a time in epoch seconds", reason: .time)
            }
            t = Date(timeIntervalSince1970: x)
        default: throw CaptureDecodeError(path: field, problem: "is \(v.typeName), not a time", reason: .time)
        }
        if t.timeIntervalSince1970 < 0 {
            throw CaptureDecodeError(path: field, problem: "is \(RFC3339.format(t)), before 1970", reason: .time)
        }
        if t > now.addingTimeInterval(limits.maxEventLead) {
            throw CaptureDecodeError(
                path: field,
                problem: "is \(RFC3339.format(t)), more than \(Int(limits.maxEventLead)) s ahead of this server's clock (--max-event-lead)",
                reason: .time)
        }
        return t
    }

    static func check(_ s: String, field: String, max: Int) throws {
        let n = s.utf8.count
        if n > max { throw CaptureDecodeError(path: field, problem: "is \(n) bytes long; at most \(max) are accepted", reason: .tooLarge) }
        if s.utf8.contains(0) {
            throw CaptureDecodeError(path: field, problem: "contains a NUL character (U+0000), which PostgreSQL text cannot store")
        }
    }

    /// A number as label text: integral values below 2⁵³ as integers, others in the shortest round-trip form.
    static func text(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 9_007_199_254_740_992 { return String(Int64(x)) }
        return "\(x)"
    }

}
