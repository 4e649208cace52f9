import DriftCommon
import Foundation

/// An inference CloudEvent as a KServe InferenceService's payload logger (or Seldon Core v1's request
/// logger) sends it: the request or the response body of one inference, with its context.
///
/// KServe (`pkg/logger`) posts in binary content mode: `ce-specversion`, `ce-type`
/// (`org.kubeflow.serving.inference.request` / `.response`), `ce-id` (shared by a request and its
/// response), `ce-source`, `ce-time`, and the extensions `ce-inferenceservicename`, `ce-namespace`,
/// `ce-component`, `ce-endpoint` (often empty), `ce-metadata` (JSON of the allowed request headers); the body is
/// the payload as the client sent it (or as the model answered). Seldon uses `io.seldon.serving.inference.*`.
/// Structured mode (`application/cloudevents+json`, `data` or `data_base64`) and batches
/// (`application/cloudevents-batch+json`) are read too.
public struct InferenceCloudEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case request, response }

    public var id: String
    public var type: String
    public var kind: Kind
    public var source: String
    public var time: Date?
    public var specversion: String
    /// Extension attributes, lowercased names without the `ce-` prefix (`inferenceservicename`, `namespace`,
    /// `component`, `endpoint`, `metadata`, `modelid`, …).
    public var extensions: [String: String]
    public var data: Data
    /// The payload already parsed, when the event carried it as JSON (structured mode): decoded from this, not reparsed.
    public var parsedData: JSONValue? = nil
    /// The OIP binary extension's JSON header length (`Inference-Header-Content-Length`), when present.
    public var inferenceHeaderLength: Int?
    /// The payload's media type: `Content-Type` in binary mode, `datacontenttype` in structured mode (lowercased).
    public var dataContentType: String?

    public var inferenceServiceName: String? { extensions["inferenceservicename"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The event kind from its type: `….inference.request` or `….inference.response`.
    public static func kind(ofType type: String) -> Kind? {
        if type.hasSuffix(".inference.request") || type.hasSuffix(".request") { return .request }
        if type.hasSuffix(".inference.response") || type.hasSuffix(".response") { return .response }
        return nil
    }

    static let required = ["specversion", "type", "id", "source"]
    static let known: Set<String> = ["specversion", "type", "id", "source", "time", "datacontenttype", "dataschema", "subject", "data", "data_base64"]

    /// Binary content mode: attributes in `ce-*` headers (any case), the body as the data.
    public static func binary(headers: [(String, String)], body: Data) throws -> InferenceCloudEvent {
        var attrs: [String: String] = [:]
        var headerLength: Int?
        for (name, value) in headers {
            let n = name.lowercased()
            if n.hasPrefix("ce-") { attrs[String(n.dropFirst(3))] = value }
            if n == "content-type" && attrs["datacontenttype"] == nil { attrs["datacontenttype"] = value }
            if n == "inference-header-content-length" {
                guard let v = Int(value.trimmingCharacters(in: .whitespaces)), v >= 0 else {
                    throw CaptureDecodeError(path: "Inference-Header-Content-Length", problem: "is \"\(value)\", not a byte count")
                }
                headerLength = v
            }
        }
        for r in required where (attrs[r] ?? "").isEmpty {
            throw CaptureDecodeError(
                path: "ce-\(r)", problem: "header is missing (a CloudEvent in binary mode needs ce-specversion, ce-type, ce-id and ce-source)")
        }
        return try make(attrs, data: body, headerLength: headerLength, where: "ce-")
    }

    /// Structured content mode: one JSON object with the attributes and `data` (JSON) or `data_base64`.
    public static func structured(_ body: Data, limits: CaptureLimits = .init()) throws -> InferenceCloudEvent {
        try structured(JSONValue.parse(body, limits: limits), path: "")
    }

    /// A batch: a JSON array of structured events. Each element is decoded on its own, so one bad event does
    /// not lose the others: the result lists, per element, the event or its error.
    public static func batch(_ body: Data, limits: CaptureLimits = .init()) throws -> [Result<InferenceCloudEvent, CaptureDecodeError>] {
        guard let items = try JSONValue.parse(body, limits: limits).array else {
            throw CaptureDecodeError(path: "body", problem: "must be a JSON array of CloudEvents (application/cloudevents-batch+json)")
        }
        return items.enumerated().map { i, item in
            do { return .success(try structured(item, path: "[\(i)]")) } catch let e as CaptureDecodeError { return .failure(e) } catch {
                return .failure(CaptureDecodeError(path: "[\(i)]", problem: "\(error)"))
            }
        }
    }

    static func structured(_ node: JSONValue, path: String) throws -> InferenceCloudEvent {
        guard let o = node.object else {
            throw CaptureDecodeError(path: path.isEmpty ? "body" : path, problem: "must be a CloudEvent object, found \(node.typeName)")
        }
        var attrs: [String: String] = [:]
        for (k, v) in o where k != "data" && k != "data_base64" {
            switch v {
            case .string(let s): attrs[k.lowercased()] = s
            case .int, .double: attrs[k.lowercased()] = v.number.map(ReportNumber.text)
            case .bool(let b): attrs[k.lowercased()] = String(b)
            default: continue
            }
        }
        let prefix = path.isEmpty ? "" : path + "."
        for r in required where (attrs[r] ?? "").isEmpty {
            throw CaptureDecodeError(path: prefix + r, problem: "is missing (a CloudEvent needs specversion, type, id and source)")
        }
        let data: Data
        var parsed: JSONValue?
        if let b64 = o["data_base64"] {
            guard let s = b64.string, let d = Data(base64Encoded: s) else {
                throw CaptureDecodeError(path: prefix + "data_base64", problem: "is not base64")
            }
            data = d
        } else if let d = o["data"] {
            if case .string(let s) = d, (attrs["datacontenttype"] ?? "application/json").contains("json") == false {
                data = Data(s.utf8)
            } else {
                data = Data()
                parsed = d
            }
        } else {
            throw CaptureDecodeError(path: prefix + "data", problem: "is missing (the inference payload)")
        }
        var event = try make(attrs, data: data, headerLength: nil, where: prefix)
        event.parsedData = parsed
        return event
    }

    static func make(_ attrs: [String: String], data: Data, headerLength: Int?, where prefix: String) throws -> InferenceCloudEvent {
        let type = attrs["type"]!
        if type == "io.seldon.serving.feedback" {
            throw CaptureDecodeError(
                path: prefix + "type", problem: "is \"\(type)\": feedback is read in binary mode, as Seldon's logger sends it (POST /v1/capture)",
                reason: .unsupported)
        }
        guard let kind = kind(ofType: type) else {
            throw CaptureDecodeError(
                path: prefix + "type",
                problem: "is \"\(type.prefix(80))\", not an inference request or response (e.g. org.kubeflow.serving.inference.request)")
        }
        var time: Date?
        if let t = attrs["time"], !t.isEmpty {
            guard let parsed = RFC3339.parse(t) else {
                throw CaptureDecodeError(path: prefix + "time", problem: "is \"\(t.prefix(80))\", not an RFC 3339 time")
            }
            time = parsed
        }
        var ext = attrs
        for k in known { ext.removeValue(forKey: k) }
        return InferenceCloudEvent(
            id: attrs["id"]!, type: type, kind: kind, source: attrs["source"]!, time: time,
            specversion: attrs["specversion"]!, extensions: ext, data: data, inferenceHeaderLength: headerLength,
            dataContentType: attrs["datacontenttype"]?.lowercased())
    }
}

/// RFC 3339 timestamps as CloudEvents carry them: `2026-11-25T17:03:12Z`, with fractional seconds and
/// with numeric offsets (`+01:00`).
public enum RFC3339 {
    /// `2026-11-25T17:03:12Z` (whole seconds, UTC), for messages.
    public static func format(_ d: Date) -> String {
        // proleptic Gregorian, as RFC 3339 and PostgreSQL count (Foundation switches to Julian before 1582)
        let t = d.timeIntervalSince1970
        guard t.isFinite, abs(t) < 1e14 else { return "\(t) s after 1970-01-01" }
        let secs = Int(t.rounded(.down))
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        // H. Hinnant's civil_from_days
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let y = year >= 0 && year < 10_000 ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
        return "\(y)-\(two(month))-\(two(day))T\(two(rem / 3600)):\(two(rem % 3600 / 60)):\(two(rem % 60))Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T`/`t`/space, `Z`/`z`), any number of fraction digits (Go
    /// writes nanoseconds), years 0000–9999; every field range-checked (a leap second 60 reads as 59.999…).
    /// nil for anything else. A parser of our own: total, and no formatter allocated per call on the hot path.
    public static func parse(_ s: String) -> Date? {
        var u = Array(s.utf8)[...]
        func digits(_ n: Int) -> Int? {
            guard u.count >= n else { return nil }
            var v = 0
            for b in u.prefix(n) {
                guard b >= 0x30 && b <= 0x39 else { return nil }
                v = v * 10 + Int(b - 0x30)
            }
            u = u.dropFirst(n)
            return v
        }
        func expect(_ allowed: [UInt8]) -> Bool {
            guard let b = u.first, allowed.contains(b) else { return false }
            u = u.dropFirst()
            return true
        }
        guard let year = digits(4), expect([0x2D]), let month = digits(2), expect([0x2D]), let day = digits(2),
            expect([0x54, 0x74, 0x20]), let hour = digits(2), expect([0x3A]), let minute = digits(2), expect([0x3A]),
            let second = digits(2)
        else { return nil }
        var fraction = 0.0
        if u.first == 0x2E {
            u = u.dropFirst()
            var scale = 0.1
            var any = false
            while let b = u.first, b >= 0x30 && b <= 0x39 {
                fraction += Double(b - 0x30) * scale
                scale /= 10
                any = true
                u = u.dropFirst()
            }
            guard any else { return nil }
        }
        var offset = 0
        guard let zone = u.first else { return nil }
        u = u.dropFirst()
        switch zone {
        case 0x5A, 0x7A: break
        case 0x2B, 0x2D:
            guard let oh = digits(2), expect([0x3A]), let om = digits(2), oh <= 23, om <= 59 else { return nil }
            offset = (oh * 60 + om) * 60 * (zone == 0x2D ? -1 : 1)
        default: return nil
        }
        guard u.isEmpty, (1...12).contains(month), day >= 1, hour <= 23, minute <= 59, second <= 60 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= monthDays[month - 1] else { return nil }
        // days from 1970-01-01 to the civil date (H. Hinnant's days_from_civil)
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset) + (second == 60 ? 0.999_999 : fraction)
        return Date(timeIntervalSince1970: seconds)
    }
}
