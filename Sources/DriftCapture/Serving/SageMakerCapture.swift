import DriftCommon
import Foundation

/// SageMaker endpoint data capture: one JSON line per invocation,
/// `{"captureData": {"endpointInput": {"observedContentType","mode","data","encoding"}, "endpointOutput": {…}},
/// "eventMetadata": {"eventId","inferenceId","inferenceTime"}, "eventVersion"}`.
///
/// `encoding` is `CSV` or `JSON` (the body as text, for content types listed in the capture config's
/// CsvContentTypes / JsonContentTypes) or `BASE64` (any other type, e.g. `application/jsonlines` by default).
/// The body is read by `observedContentType`:
/// - `text/csv`: RFC 4180 records without a header, one positional row each (`CSVPayload`).
/// - `application/jsonlines` (also `jsonl`, `x-ndjson`): one JSON value per line, as the SageMaker Python SDK's
///   `JSONLinesSerializer` writes it (aws/sagemaker-python-sdk `src/sagemaker/base_serializers.py`): each line a
///   record, or a whole `{"instances": …}` / `{"predictions": …}` body.
/// - `application/json`: a V1 or OIP body, a bare array of rows, or one record.
/// A record follows the built-in algorithms' conventions (SageMaker developer guide, *Common Data Formats for
/// Inference*): `{"features": [..]}` and `{"data": {"features": {"values": [..]}}}` are dense positional rows,
/// `{"data": {"features": {"keys","shape","values"}}}` a sparse one (expanded, zeros elsewhere), any other
/// object a keyed row (`{"score": 0.4, "predicted_label": 0}`), an array a positional row.
enum SageMakerCapture {
    static func decode(_ root: JSONValue, limits: CaptureLimits) throws -> CapturedInference {
        guard let meta = root["eventMetadata"], let eventID = meta["eventId"]?.string else {
            throw CaptureDecodeError(path: "eventMetadata.eventId", problem: "is missing")
        }
        let time = try meta["inferenceTime"]?.string.map { t -> Date in
            guard let d = RFC3339.parse(t) else {
                throw CaptureDecodeError(path: "eventMetadata.inferenceTime", problem: "is \"\(t.prefix(64))\", not an RFC 3339 time")
            }
            return d
        }
        func side(_ key: String, response: Bool) throws -> [PayloadRow] {
            guard let part = root["captureData"]?[key] else { return [] }
            let path = "captureData.\(key)"
            guard let text = part["data"]?.string else { throw CaptureDecodeError(path: "\(path).data", problem: "is missing or not a string") }
            let encoding = (part["encoding"]?.string ?? "JSON").uppercased()
            var contentType = (part["observedContentType"]?.string ?? "").lowercased()
            let body: Data
            switch encoding {
            case "CSV":
                body = Data(text.utf8)
                if !contentType.contains("csv") { contentType = "text/csv" }
            case "JSON":
                body = Data(text.utf8)
                if contentType.isEmpty { contentType = "application/json" }
            case "BASE64":
                guard let d = Data(base64Encoded: text) else {
                    throw CaptureDecodeError(path: "\(path).data", problem: "is not base64 (encoding BASE64)", reason: .malformed)
                }
                body = d
            default: throw CaptureDecodeError(path: "\(path).encoding", problem: "is \"\(encoding.prefix(40))\", not CSV, JSON or BASE64")
            }
            return try rows(body, contentType: contentType, response: response, path: "\(path).data", limits: limits)
        }
        let inputs = try side("endpointInput", response: false)
        let outputs = try side("endpointOutput", response: true)
        let kind: CapturedInference.Kind = inputs.isEmpty ? .response : (outputs.isEmpty ? .request : .paired)
        return CapturedInference(
            source: .sagemaker, kind: kind, pairingID: meta["inferenceId"]?.string ?? eventID, time: time,
            model: nil, modelVersion: nil, wire: nil, inputs: inputs, outputs: outputs)
    }

    /// The rows of one captured body by its content type.
    static func rows(_ body: Data, contentType: String, response: Bool, path: String, limits: CaptureLimits) throws -> [PayloadRow] {
        if contentType.contains("csv") { return try CSVPayload.rows(body, path: path, limits: limits) }
        if contentType.contains("jsonlines") || contentType.contains("jsonl") || contentType.contains("ndjson") {
            return try jsonLines(body, response: response, path: path, limits: limits)
        }
        if contentType.contains("json") || contentType.isEmpty {
            return try json(JSONValue.parse(body, path: path, limits: limits), response: response, path: path, limits: limits)
        }
        throw CaptureDecodeError(
            path: path, problem: "has content type \"\(contentType.prefix(80))\"; CSV, JSON and JSON Lines bodies are read", reason: .unsupported)
    }

    /// `application/jsonlines`: each non-blank line one JSON value.
    static func jsonLines(_ body: Data, response: Bool, path: String, limits: CaptureLimits) throws -> [PayloadRow] {
        var rows: [PayloadRow] = []
        var lineNumber = 0
        for raw in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let linePath = "\(path) line \(lineNumber)"
            let value = try JSONValue.parse(Data(raw), path: linePath, limits: limits)
            if isWholeBody(value) {
                rows += try json(value, response: response, path: linePath, limits: limits)
            } else {
                rows.append(try record(value, path: linePath, limits: limits))
            }
            guard rows.count <= limits.maxRowsPerRequest else {
                throw CaptureDecodeError(
                    path: path, problem: "holds more than the \(limits.maxRowsPerRequest) rows accepted per request (--max-rows)", reason: .tooLarge)
            }
        }
        return rows
    }

    static func isWholeBody(_ v: JSONValue) -> Bool {
        guard let o = v.object else { return false }
        return o["instances"] != nil || o["predictions"] != nil || o["inputs"] != nil || o["outputs"] != nil
    }

    /// `application/json`: `{"instances": [records]}` / `{"predictions": [records]}`, an OIP or other V1 body,
    /// a bare array of records, or a single record.
    static func json(_ root: JSONValue, response: Bool, path: String, limits: CaptureLimits) throws -> [PayloadRow] {
        func rows(of items: [JSONValue], key: String) throws -> [PayloadRow] {
            guard items.count <= limits.maxRowsPerRequest else {
                throw CaptureDecodeError(
                    path: "\(path).\(key)",
                    problem: "holds \(items.count) rows; at most \(limits.maxRowsPerRequest) are accepted per request (--max-rows)",
                    reason: .tooLarge)
            }
            return try items.enumerated().map { i, item in try record(item, path: "\(path)\(key.isEmpty ? "" : ".")\(key)[\(i)]", limits: limits) }
        }
        switch root {
        case .array(let items): return try rows(of: items, key: "")
        case .object:
            if PayloadDecoder.isOIP(root) { return try decodePayload(root, response: response, path: path, limits: limits) }
            for key in ["instances", "predictions"] { if let items = root[key]?.array { return try rows(of: items, key: key) } }
            if isWholeBody(root) { return try decodePayload(root, response: response, path: path, limits: limits) }
            return [try record(root, path: path, limits: limits)]
        default: return [try record(root, path: path, limits: limits)]
        }
    }

    static func decodePayload(_ root: JSONValue, response: Bool, path: String, limits: CaptureLimits) throws -> [PayloadRow] {
        do { return try PayloadDecoder.decode(root: root, isResponse: response, limits: limits).rows } catch let e as CaptureDecodeError {
            throw CaptureDecodeError(path: "\(path).\(e.path)", problem: e.problem, reason: e.reason)
        }
    }

    /// One record by the built-in algorithms' conventions (see the type's comment).
    static func record(_ node: JSONValue, path: String, limits: CaptureLimits) throws -> PayloadRow {
        guard let o = node.object else { return try V1Decoder.row(node, path: path) }
        if o.count == 1, let features = o["features"], case .array = features { return PayloadRow(fields: [("", V1Decoder.flatten(features))]) }
        if o.count == 1, let f = o["data"]?["features"]?.object {
            guard let values = f["values"]?.array else {
                throw CaptureDecodeError(path: "\(path).data.features.values", problem: "is missing or not an array")
            }
            guard let keys = f["keys"] else { return PayloadRow(fields: [("", values.map(Scalar.init))]) }
            return PayloadRow(fields: [("", try sparse(keys: keys, shape: f["shape"], values: values, path: "\(path).data.features", limits: limits))]
            )
        }
        return try V1Decoder.row(node, path: path)
    }

    /// A sparse vector `{"keys": [i…], "shape": [n], "values": [v…]}` as n dense elements (0 where no key is given).
    static func sparse(keys: JSONValue, shape: JSONValue?, values: [JSONValue], path: String, limits: CaptureLimits) throws -> [Scalar] {
        guard let keyList = keys.array, keyList.count == values.count else {
            throw CaptureDecodeError(path: "\(path).keys", problem: "must be an array with one index per value (\(values.count))")
        }
        guard let dims = shape?.array, dims.count == 1, let n = dims[0].number, n >= 0, n == n.rounded() else {
            throw CaptureDecodeError(path: "\(path).shape", problem: "must be [length], one non-negative integer")
        }
        guard n <= Double(limits.maxElements) else {
            throw CaptureDecodeError(
                path: "\(path).shape",
                problem: "is [\(ReportNumber.text(n))]; at most \(limits.maxElements) elements are accepted per tensor (--max-tensor-elements)",
                reason: .tooLarge)
        }
        var dense = [Scalar](repeating: .number(0), count: Int(n))
        for (i, k) in keyList.enumerated() {
            guard let d = k.number, d >= 0, d == d.rounded(), d < n else {
                throw CaptureDecodeError(path: "\(path).keys[\(i)]", problem: "must be an index below the shape's length \(ReportNumber.text(n))")
            }
            dense[Int(d)] = Scalar(values[i])
        }
        return dense
    }
}
