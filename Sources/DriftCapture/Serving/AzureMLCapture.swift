import DriftCommon
import Foundation

/// Azure ML online-endpoint data collection, one JSON line per record (MicrosoftDocs/azure-docs
/// `articles/machine-learning/how-to-collect-production-data.md`):
/// `{"specversion","id","source": "…/onlineEndpoints/<endpoint>/deployments/<deployment>","type","time","data",
/// "datacontenttype","correlationid","xrequestid","modelversion","contentrange",…}`.
///
/// Two kinds of collection, both paired on `correlationid` (`xrequestid`, then `id`, when it is absent):
/// - custom logging (`azureml-ai-monitoring`): `type` `azureml.inference.model_inputs` / `model_outputs`; `data`
///   is a DataFrame as records (a list of row objects), pandas' split shape `{"columns","index","data"}`, or
///   `{"col": [values…]}` columns (or that JSON as a string).
/// - payload logging (`data_collector.collections.request|response`): `type` `azureml.inference.request` /
///   `response`; `data` is the HTTP body — inline JSON when `datacontenttype` is JSON, else a string. The body is
///   read as Azure ML scoring scripts and MLflow deployments take it: `{"data": rows}`, `{"input_data": …}`,
///   `{"dataframe_split": …}`, `{"dataframe_records": …}`, a bare array of rows (`[11055.9, 4503.0]` as a
///   response), a `text/csv` body (`CSVPayload`), or any KServe V1 / Open Inference Protocol body (`PayloadDecoder`).
///   A payload over 4 MB or a binary one is stored in a separate blob (`"datainblob": "true"`, `data` its URL):
///   refused as unsupported, naming the blob.
enum AzureMLCapture {
    static func decode(_ root: JSONValue, limits: CaptureLimits) throws -> CapturedInference {
        let type = root["type"]?.string ?? ""
        let collection = type.hasPrefix("azureml.inference.") ? String(type.dropFirst("azureml.inference.".count)) : type
        let kind: CapturedInference.Kind
        let payloadLogging: Bool
        switch collection {
        case "model_inputs", "inputs": (kind, payloadLogging) = (.request, false)
        case "model_outputs", "outputs", "predictions": (kind, payloadLogging) = (.response, false)
        case "request": (kind, payloadLogging) = (.request, true)
        case "response": (kind, payloadLogging) = (.response, true)
        default:
            throw CaptureDecodeError(
                path: "type",
                problem:
                    "is \"\(type.prefix(80))\"; drift-worker reads the model_inputs and model_outputs collections and payload logging (request, response)",
                reason: .unsupported)
        }
        guard let correlation = root["correlationid"]?.string ?? root["xrequestid"]?.string ?? root["id"]?.string else {
            throw CaptureDecodeError(
                path: "correlationid", problem: "is missing (it pairs a request or model_inputs record with its response or model_outputs)")
        }
        guard let data = root["data"] else { throw CaptureDecodeError(path: "data", problem: "is missing") }
        let contentType = (root["datacontenttype"]?.string ?? "application/json").lowercased()
        var payload = (rows: [PayloadRow](), modelVersion: String?.none)
        if payloadLogging {
            if root["datainblob"]?.string?.lowercased() == "true" || root["datainblob"] == .bool(true) {
                throw CaptureDecodeError(
                    path: "datainblob",
                    problem:
                        "is true: the payload is stored in a separate blob (\(data.string?.prefix(200) ?? "")), which drift-worker does not fetch",
                    reason: .unsupported)
            }
            payload = try body(data, contentType: contentType, response: kind == .response, limits: limits)
        } else {
            payload.rows = try collectedRows(data, limits: limits)
        }
        let endpoint = root["source"]?.string.flatMap { s -> String? in
            let parts = s.split(separator: "/")
            return parts.firstIndex(of: "onlineEndpoints").flatMap { $0 + 1 < parts.count ? String(parts[$0 + 1]) : nil }
        }
        let time = try root["time"]?.string.map { t -> Date in
            guard let d = RFC3339.parse(t) else { throw CaptureDecodeError(path: "time", problem: "is \"\(t.prefix(64))\", not an RFC 3339 time") }
            return d
        }
        return CapturedInference(
            source: .azureml, kind: kind, pairingID: correlation, time: time, model: endpoint,
            modelVersion: root["modelversion"]?.string ?? payload.modelVersion, wire: nil,
            inputs: kind == .request ? payload.rows : [], outputs: kind == .response ? payload.rows : [],
            origin: root["source"]?.string)
    }

    /// Custom logging's `data`: a DataFrame as records, split or columns (or any of them as a JSON string).
    static func collectedRows(_ data: JSONValue, limits: CaptureLimits) throws -> [PayloadRow] {
        switch data {
        case .array(let items):
            try checkRows(items.count, path: "data", limits: limits)
            return try items.enumerated().map { i, item in try V1Decoder.row(item, path: "data[\(i)]") }
        case .object where data["columns"] != nil && data["data"] != nil:
            return try split(data.object ?? [:], path: "data", limits: limits)
        case .object:
            return try V1Decoder.decode(.object([("inputs", data)]), limits: limits).rows
        case .string(let s):
            // the collector may store the JSON as a string
            return try collectedRows(JSONValue.parse(Data(s.utf8), path: "data", limits: limits), limits: limits)
        default:
            throw CaptureDecodeError(path: "data", problem: "must be a list of rows, found \(data.typeName)")
        }
    }

    /// Payload logging's `data`: the HTTP body, inline JSON or a string of `contentType`.
    static func body(_ data: JSONValue, contentType: String, response: Bool, limits: CaptureLimits) throws -> (
        rows: [PayloadRow], modelVersion: String?
    ) {
        if case .string(let s) = data {
            if contentType.contains("csv") { return (try CSVPayload.rows(Data(s.utf8), path: "data", limits: limits), nil) }
            if contentType.contains("json") {
                return try body(
                    JSONValue.parse(Data(s.utf8), path: "data", limits: limits), contentType: contentType, response: response, limits: limits)
            }
            throw CaptureDecodeError(
                path: "datacontenttype", problem: "is \"\(contentType.prefix(80))\"; JSON and CSV payloads are read", reason: .unsupported)
        }
        switch data {
        case .array(let items):
            try checkRows(items.count, path: "data", limits: limits)
            return (try items.enumerated().map { i, item in try V1Decoder.row(item, path: "data[\(i)]") }, nil)
        case .object:
            for key in ["data", "input_data", "dataframe_split", "dataframe_records"] {
                guard let inner = data[key] else { continue }
                switch inner {
                case .array(let items):
                    try checkRows(items.count, path: "data.\(key)", limits: limits)
                    return (try items.enumerated().map { i, item in try V1Decoder.row(item, path: "data.\(key)[\(i)]") }, nil)
                case .object where inner["columns"] != nil && inner["data"] != nil:
                    return (try self.split(inner.object ?? [:], path: "data.\(key)", limits: limits), nil)
                case .object:
                    return (try V1Decoder.decode(.object([("inputs", inner)]), limits: limits).rows, nil)
                default:
                    throw CaptureDecodeError(path: "data.\(key)", problem: "must be a list of rows or a DataFrame, found \(inner.typeName)")
                }
            }
            do {
                let p = try PayloadDecoder.decode(root: data, isResponse: response, limits: limits)
                return (p.rows, p.modelVersion)
            } catch let e as CaptureDecodeError {
                throw CaptureDecodeError(path: "data." + e.path, problem: e.problem, reason: e.reason)
            }
        case .null:
            throw CaptureDecodeError(path: "data", problem: "is null (an empty payload)")
        default:
            return ([PayloadRow(fields: [("", [Scalar(data)])])], nil)
        }
    }

    /// pandas' split orientation `{"columns": [...], "index": [...], "data": [[...], ...]}`.
    static func split(_ o: [String: JSONValue], path: String, limits: CaptureLimits) throws -> [PayloadRow] {
        guard let columnNodes = o["columns"]?.array, let matrix = o["data"]?.array else {
            throw CaptureDecodeError(path: path, problem: "has the split shape but its columns or data are not arrays")
        }
        let columns = columnNodes.map { $0.string ?? ($0.number.map(ReportNumber.text) ?? "") }
        try checkRows(matrix.count, path: "\(path).data", limits: limits)
        return try matrix.enumerated().map { i, r in
            guard let values = r.array, values.count == columns.count else {
                throw CaptureDecodeError(path: "\(path).data[\(i)]", problem: "must be an array of \(columns.count) values (one per column)")
            }
            return PayloadRow(fields: zip(columns, values).map { ($0, V1Decoder.flatten($1)) })
        }
    }

    static func checkRows(_ n: Int, path: String, limits: CaptureLimits) throws {
        guard n <= limits.maxRowsPerRequest else {
            throw CaptureDecodeError(
                path: path, problem: "holds \(n) rows; at most \(limits.maxRowsPerRequest) are accepted per request (--max-rows)", reason: .tooLarge)
        }
    }
}
