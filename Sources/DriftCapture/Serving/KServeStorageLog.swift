import DriftCommon
import Foundation

/// The batches KServe's payload logger writes when its logger URL is a bucket (`s3://`, `gs://`, `abfs://`)
/// instead of an HTTP sink (kserve/kserve `pkg/logger/store.go`, `pkg/logger/marshaller/json.go`,
/// `pkg/logger/types/types.go`): the logger buffers `LogRequest`s and uploads each batch as one object,
/// `<prefix>/<namespace>/<isvc>/<component>/<id>-<request|response>.json`, holding Go's `json.Marshal` of the
/// slice — one line, a JSON array (newer loggers' JSON marshaller write a lone record as the object itself).
/// Go gives no field tags, so the keys are the Go names:
/// `{"Url": {…}, "Bytes": "<base64 body>", "ContentType", "ReqType": "org.kubeflow.serving.inference.request",
/// "Id", "SourceUri": {"Scheme","Host","Path",…} | null, "InferenceService", "Namespace", "Component",
/// "Endpoint", "Metadata": {"header": ["v"]}, "Annotations", "CertName", "TlsSkipVerify"}`.
///
/// Each record is read as the CloudEvent the logger would have posted over HTTP (`ce-id` = `Id`, `ce-type` =
/// `ReqType`, `ce-inferenceservicename`, `ce-namespace`, `ce-component`, `ce-endpoint`), so a request and its
/// response pair on `Id` as they do live. A record carries no time: its events are dated when they are read.
/// The logger's CSV and Parquet store formats are not read (use the default `json`).
enum KServeStorageLog {
    /// A record of the storage logger: an object with the Go field names `ReqType` and `Id`.
    static func isLogRequest(_ node: JSONValue) -> Bool { node["ReqType"] != nil && node["Id"] != nil }

    static func decode(_ node: JSONValue, path: String, limits: CaptureLimits) throws -> CapturedInference {
        let prefix = path.isEmpty ? "" : path + "."
        func text(_ key: String) throws -> String? {
            guard let v = node[key], v != .null else { return nil }
            guard let s = v.string else { throw CaptureDecodeError(path: prefix + key, problem: "must be a string, found \(v.typeName)") }
            return s
        }
        guard let reqType = try text("ReqType"), InferenceCloudEvent.kind(ofType: reqType) != nil else {
            throw CaptureDecodeError(
                path: prefix + "ReqType", problem: "is missing or not an inference request or response type (org.kubeflow.serving.inference.request)")
        }
        guard let id = try text("Id"), !id.isEmpty else {
            throw CaptureDecodeError(path: prefix + "Id", problem: "is missing or empty (it pairs a request with its response)")
        }
        guard let encoded = try text("Bytes") else {
            throw CaptureDecodeError(path: prefix + "Bytes", problem: "is missing (the logged body, base64)")
        }
        guard let body = Data(base64Encoded: encoded) else {
            throw CaptureDecodeError(path: prefix + "Bytes", problem: "is not base64 (Go writes a []byte as standard base64)", reason: .malformed)
        }
        let source = try sourceURI(node["SourceUri"], path: prefix + "SourceUri")
        var headers: [(String, String)] = [
            ("ce-specversion", "1.0"), ("ce-type", reqType), ("ce-id", id),
            ("ce-source", source.isEmpty ? "kserve-logger-storage" : source)
        ]
        for (key, ext) in [
            ("InferenceService", "inferenceservicename"), ("Namespace", "namespace"), ("Component", "component"), ("Endpoint", "endpoint")
        ] {
            if let v = try text(key), !v.isEmpty { headers.append(("ce-" + ext, v)) }
        }
        let contentType = (try text("ContentType") ?? "").lowercased()
        if contentType.contains("csv") {
            // a text/csv body: the CloudEvent path reads JSON payloads only, so the rows come from the CSV reader
            let ce = try InferenceCloudEvent.binary(headers: headers, body: Data())
            let rows = try CSVPayload.rows(body, path: prefix + "Bytes", limits: limits)
            let response = ce.kind == .response
            var r = CapturedInference(
                source: .kserve, kind: response ? .response : .request, pairingID: id, time: nil,
                model: ce.inferenceServiceName, modelVersion: nil, wire: .v1,
                inputs: response ? [] : rows, outputs: response ? rows : [], origin: ce.source)
            r.service = ce.inferenceServiceName
            r.component = ce.extensions["component"]
            return r
        }
        do {
            return try CapturedInference(InferenceCloudEvent.binary(headers: headers, body: body), limits: limits)
        } catch let e as CaptureDecodeError {
            throw CaptureDecodeError(path: prefix + "Bytes" + (e.path == "body" ? "" : " " + e.path), problem: e.problem, reason: e.reason)
        }
    }

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
