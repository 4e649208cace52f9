import DriftCommon
import Foundation

/// The batches KServe's payload logger writes when its logger URL is a bucket (`s3://`, `gs://`, `abfs://`)
/// instead of an HTTP sink (kserve/kserve `pkg/logger/store.go`, `pkg/logger/marshaller/json.go`,
/// `pkg/logger/types/types.go`): the logger buffers `LogRequest`s and uploads each batch as one object,
/// `<prefix>/<namespace>/<isvc>/<component>/<id>-<request|response>.json`, holding Go's `json.Marshal` of the
/// slice — one line, a JSON array (newer loggers' JSON marshaller write a lone record as the object itself).
/// Up to KServe 0.16 the struct had no field tags, so the keys are the Go names:
/// `{"Url": {…}, "Bytes": "<base64 body>", "ContentType", "ReqType": "org.kubeflow.serving.inference.request",
/// "Id", "SourceUri": {"Scheme","Host","Path",…} | null, "InferenceService", "Namespace", "Component",
/// "Endpoint", "Metadata": {"header": ["v"]}, "Annotations", "CertName", "TlsSkipVerify"}`.
/// From KServe 0.17 (kserve/kserve#5061, `pkg/logger/types.go`) the fields carry camelCase JSON tags with
/// `omitempty` — `url`, `bytes`, `contentType`, `reqType`, `id`, `sourceUri`, `inferenceService`, `namespace`,
/// `component`, `endpoint`, `metadata`, `annotations`, `certName`, `tlsSkipVerify` — and `occurrenceTime` (#5139),
/// the time the logger saw the request or response (Go's RFC 3339 with nanoseconds). Both spellings are read.
///
/// Each record is read as the CloudEvent the logger would have posted over HTTP (`ce-id` = `Id`, `ce-type` =
/// `ReqType`, `ce-time` = `occurrenceTime`, `ce-inferenceservicename`, `ce-namespace`, `ce-component`,
/// `ce-endpoint`), so a request and its response pair on `Id` as they do live. A record without a time (before
/// KServe 0.17, or Go's zero time) is dated when it is read. The logger's CSV and Parquet store formats are not
/// read (use the default `json`).
enum KServeStorageLog {
    /// A record of the storage logger: an object with `ReqType` and `Id` (the Go names), or `reqType` and `id`
    /// (KServe ≥ 0.17's JSON tags; no CloudEvent or payload of another format has a `reqType`).
    static func isLogRequest(_ node: JSONValue) -> Bool {
        (node["ReqType"] != nil && node["Id"] != nil) || (node["reqType"] != nil && node["id"] != nil)
    }

    static func decode(_ node: JSONValue, path: String, limits: CaptureLimits) throws -> CapturedInference {
        let prefix = path.isEmpty ? "" : path + "."
        // the record's spelling: Go names (≤ 0.16) or camelCase tags (≥ 0.17); one record uses one of them
        let tagged = node["ReqType"] == nil && node["reqType"] != nil
        func key(_ goName: String) -> String { tagged ? goName.prefix(1).lowercased() + goName.dropFirst() : goName }
        func text(_ goName: String) throws -> String? {
            let k = key(goName)
            guard let v = node[k], v != .null else { return nil }
            guard let s = v.string else { throw CaptureDecodeError(path: prefix + k, problem: "must be a string, found \(v.typeName)") }
            return s
        }
        guard let reqType = try text("ReqType"), InferenceCloudEvent.kind(ofType: reqType) != nil else {
            throw CaptureDecodeError(
                path: prefix + key("ReqType"),
                problem: "is missing or not an inference request or response type (org.kubeflow.serving.inference.request)")
        }
        guard let id = try text("Id"), !id.isEmpty else {
            throw CaptureDecodeError(path: prefix + key("Id"), problem: "is missing or empty (it pairs a request with its response)")
        }
        guard let encoded = try text("Bytes") else {
            throw CaptureDecodeError(path: prefix + key("Bytes"), problem: "is missing (the logged body, base64)")
        }
        guard let body = Data(base64Encoded: encoded) else {
            throw CaptureDecodeError(
                path: prefix + key("Bytes"), problem: "is not base64 (Go writes a []byte as standard base64)", reason: .malformed)
        }
        let source = try sourceURI(node[key("SourceUri")], path: prefix + key("SourceUri"))
        var headers: [(String, String)] = [
            ("ce-specversion", "1.0"), ("ce-type", reqType), ("ce-id", id),
            ("ce-source", source.isEmpty ? "kserve-logger-storage" : source)
        ]
        if let t = try text("OccurrenceTime") {
            // Go's zero time.Time (never set) marshals as year 1: no time, as before 0.17
            guard let date = RFC3339.parse(t) else {
                throw CaptureDecodeError(path: prefix + key("OccurrenceTime"), problem: "is \"\(t.prefix(64))\", not an RFC 3339 time")
            }
            if date > Self.goZeroTime { headers.append(("ce-time", t)) }
        }
        for (name, ext) in [
            ("InferenceService", "inferenceservicename"), ("Namespace", "namespace"), ("Component", "component"), ("Endpoint", "endpoint")
        ] {
            if let v = try text(name), !v.isEmpty { headers.append(("ce-" + ext, v)) }
        }
        let contentType = (try text("ContentType") ?? "").lowercased()
        if contentType.contains("csv") {
            // a text/csv body: the CloudEvent path reads JSON payloads only, so the rows come from the CSV reader
            let ce = try InferenceCloudEvent.binary(headers: headers, body: Data())
            let rows = try CSVPayload.rows(body, path: prefix + key("Bytes"), limits: limits)
            let response = ce.kind == .response
            var r = CapturedInference(
                source: .kserve, kind: response ? .response : .request, pairingID: id, time: ce.time,
                model: ce.inferenceServiceName, modelVersion: nil, wire: .v1,
                inputs: response ? [] : rows, outputs: response ? rows : [], origin: ce.source)
            r.service = ce.inferenceServiceName
            r.component = ce.extensions["component"]
            return r
        }
        do {
            return try CapturedInference(InferenceCloudEvent.binary(headers: headers, body: body), limits: limits)
        } catch let e as CaptureDecodeError {
            throw CaptureDecodeError(path: prefix + key("Bytes") + (e.path == "body" ? "" : " " + e.path), problem: e.problem, reason: e.reason)
        }
    }

    /// Go's zero `time.Time`, 0001-01-01T00:00:00Z: a time at or before it was never set.
    static let goZeroTime = Date(timeIntervalSince1970: -62_135_596_800)

    /// Go's `*url.URL` marshals as its struct (`{"Scheme","Opaque","Host","Path","RawQuery",…}`) or null;
    /// a plain string is taken as written.
    static func sourceURI(_ node: JSONValue?, path: String) throws -> String {
        switch node {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case .object?:
            let u = node?.object ?? [:]
            let scheme = u["Scheme"]?.string ?? ""
            let host = u["Host"]?.string ?? ""
            let p = u["Path"]?.string ?? ""
            if let opaque = u["Opaque"]?.string, !opaque.isEmpty { return scheme + ":" + opaque }
            var s = scheme.isEmpty ? "" : scheme + "://"
            s += host + p
            if let q = u["RawQuery"]?.string, !q.isEmpty { s += "?" + q }
            return s
        case let other?:
            throw CaptureDecodeError(path: path, problem: "must be a URL (a string or Go's url.URL object), found \(other.typeName)")
        }
    }
}
