import Foundation

/// One captured inference record, whatever wrote it: a KServe/Seldon CloudEvent (a request or a response),
/// an Azure ML online-endpoint data collector record (`model_inputs` or `model_outputs`), or a SageMaker
/// data-capture record (input and output together).
public struct CapturedInference: Sendable, Equatable {
    public enum Kind: String, Sendable { case request, response, paired }
    public enum Source: String, Sendable { case kserve, seldon, azureml, sagemaker }

    public var source: Source
    public var kind: Kind
    /// What pairs a request with its response: `ce-id`, Azure ML's `correlationid`, SageMaker's `eventId`.
    public var pairingID: String
    public var time: Date?
    /// The model the record names (`ce-inferenceservicename`, the payload's `model_name`, the Azure ML endpoint).
    public var model: String?
    /// The serving service that sent it (`ce-inferenceservicename`, the Azure ML endpoint), for role rules.
    public var service: String?
    /// Where it came from (`ce-source`, Azure ML's `source`), for role rules.
    public var origin: String?
    public var modelVersion: String?
    public var wire: DecodedPayload.Wire?
    /// Input rows (requests, paired records) and output rows (responses, paired records).
    public var inputs: [PayloadRow]
    public var outputs: [PayloadRow]

    /// A CloudEvent from KServe's or Seldon's logger, its payload decoded.
    public init(_ ce: InferenceCloudEvent, limits: OIPDecoder.Limits = .init()) throws {
        let response = ce.kind == .response
        let payload = try ce.parsedData.map { try PayloadDecoder.decode(root: $0, isResponse: response, limits: limits) }
            ?? PayloadDecoder.decode(ce.data, headerLength: ce.inferenceHeaderLength, isResponse: response, limits: limits)
        source = ce.type.hasPrefix("io.seldon") ? .seldon : .kserve
        kind = ce.kind == .response ? .response : .request
        pairingID = ce.id
        time = ce.time
        model = ce.inferenceServiceName ?? payload.modelName
        service = ce.inferenceServiceName
        origin = ce.source
        modelVersion = payload.modelVersion ?? ce.extensions["modelversion"]
        wire = payload.protocolName
        inputs = ce.kind == .request ? payload.rows : []
        outputs = ce.kind == .response ? payload.rows : []
    }

    init(source: Source, kind: Kind, pairingID: String, time: Date?, model: String?, modelVersion: String?,
         wire: DecodedPayload.Wire?, inputs: [PayloadRow], outputs: [PayloadRow], origin: String? = nil) {
        self.source = source
        self.kind = kind
        self.pairingID = pairingID
        self.time = time
        self.model = model
        self.service = source == .azureml ? model : nil
        self.origin = origin
        self.modelVersion = modelVersion
        self.wire = wire
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The format label of metrics: `kserve-v1`, `kserve-oip`, `seldon-v1`, `azureml`, `sagemaker`.
    public var formatLabel: String {
        switch source {
        case .kserve, .seldon: source.rawValue + "-" + (wire?.rawValue ?? "v1")
        case .azureml, .sagemaker: source.rawValue
        }
    }
}

/// The JSON Lines formats a capture file (or `POST /v1/capture/batch`) may hold, one record per line.
public enum CaptureLineFormat: String, Sendable, CaseIterable {
    /// Structured KServe/Seldon CloudEvents (as a Knative event display or a broker archive writes them).
    case kserve
    /// Azure ML online endpoint data collector records (`azureml.inference.model_inputs` / `model_outputs`).
    case azureml
    /// SageMaker endpoint data capture (`captureData.endpointInput` / `endpointOutput`).
    case sagemaker

    /// Which format a parsed line is in (nil: none of them).
    public static func detect(_ root: JSONNode) -> CaptureLineFormat? {
        if root["captureData"] != nil { return .sagemaker }
        if let type = root["type"]?.string {
            if type.hasPrefix("azureml.inference.") { return .azureml }
            if InferenceCloudEvent.kind(ofType: type) != nil { return .kserve }
        }
        return nil
    }
}

public enum CaptureLineDecoder {
    /// Decodes one line; `format` nil detects it.
    public static func decode(_ line: Data, format: CaptureLineFormat? = nil, limits: OIPDecoder.Limits = .init()) throws -> CapturedInference {
        let root = try JSONNode.parse(line, path: "line")
        guard case .object = root else { throw CaptureDecodeError(path: "line", problem: "must be a JSON object, found \(root.typeName)") }
        guard let f = format ?? CaptureLineFormat.detect(root) else {
            throw CaptureDecodeError(path: "line", problem: "is not a KServe/Seldon CloudEvent, an Azure ML data collector record or a SageMaker capture record")
        }
        switch f {
        case .kserve: return try CapturedInference(InferenceCloudEvent.structured(root, path: ""), limits: limits)
        case .azureml: return try azureML(root)
        case .sagemaker: return try sageMaker(root)
        }
    }

    /// `{"specversion","id","source","type": "azureml.inference.model_inputs|model_outputs","time","data": [rows…],
    /// "correlationid","xrequestid","modelversion",…}`; `data` as records (a list of row objects), as pandas'
    /// split shape `{"columns","index","data"}`, or as `{"col": [values…]}` columns.
    static func azureML(_ root: JSONNode) throws -> CapturedInference {
        let type = root["type"]?.string ?? ""
        let collection = type.replacingOccurrences(of: "azureml.inference.", with: "")
        let kind: CapturedInference.Kind
        switch collection {
        case "model_inputs", "inputs": kind = .request
        case "model_outputs", "outputs", "predictions": kind = .response
        default: throw CaptureDecodeError(path: "type", problem: "is \"\(type)\"; drift-worker reads the model_inputs and model_outputs collections")
        }
        guard let correlation = root["correlationid"]?.string ?? root["xrequestid"]?.string ?? root["id"]?.string else {
            throw CaptureDecodeError(path: "correlationid", problem: "is missing (it pairs model_inputs with model_outputs)")
        }
        guard let data = root["data"] else { throw CaptureDecodeError(path: "data", problem: "is missing") }
        let rows: [PayloadRow]
        switch data {
        case .array(let items):
            rows = try items.enumerated().map { i, item in try V1Decoder.row(item, path: "data[\(i)]") }
        case .object(let o) where o["columns"] != nil && o["data"] != nil:
            guard let columns = o["columns"]?.array?.compactMap(\.string), let matrix = o["data"]?.array else {
                throw CaptureDecodeError(path: "data", problem: "has the split shape but its columns or data are not arrays")
            }
            rows = try matrix.enumerated().map { i, r in
                guard let values = r.array, values.count == columns.count else {
                    throw CaptureDecodeError(path: "data.data[\(i)]", problem: "must be an array of \(columns.count) values (one per column)")
                }
                return PayloadRow(fields: zip(columns, values).map { ($0, V1Decoder.flatten($1)) })
            }
        case .object:
            rows = try V1Decoder.decode(.object(["inputs": data])).rows
        case .string(let s):
            // the collector may store the JSON as a string
            return try azureML(.object((root.object ?? [:]).merging(["data": try JSONNode.parse(Data(s.utf8), path: "data")]) { $1 }))
        default:
            throw CaptureDecodeError(path: "data", problem: "must be a list of rows, found \(data.typeName)")
        }
        let endpoint = root["source"]?.string.flatMap { s -> String? in
            let parts = s.split(separator: "/")
            return parts.firstIndex(of: "onlineEndpoints").flatMap { $0 + 1 < parts.count ? String(parts[$0 + 1]) : nil }
        }
        let time = try root["time"]?.string.map { t -> Date in
            guard let d = RFC3339.parse(t) else { throw CaptureDecodeError(path: "time", problem: "is \"\(t)\", not an RFC 3339 time") }
            return d
        }
        return CapturedInference(source: .azureml, kind: kind, pairingID: correlation, time: time, model: endpoint,
                                 modelVersion: root["modelversion"]?.string, wire: nil,
                                 inputs: kind == .request ? rows : [], outputs: kind == .response ? rows : [], origin: root["source"]?.string)
    }

    /// `{"captureData": {"endpointInput": {"observedContentType","mode","data","encoding"}, "endpointOutput": {…}},
    /// "eventMetadata": {"eventId","inferenceId","inferenceTime"}, "eventVersion"}`. `encoding` CSV (rows by
    /// position, one per line), JSON (a V1 or OIP body) or BASE64 (either, by `observedContentType`).
    static func sageMaker(_ root: JSONNode) throws -> CapturedInference {
        guard let meta = root["eventMetadata"], let eventID = meta["eventId"]?.string else {
            throw CaptureDecodeError(path: "eventMetadata.eventId", problem: "is missing")
        }
        let time = try meta["inferenceTime"]?.string.map { t -> Date in
            guard let d = RFC3339.parse(t) else { throw CaptureDecodeError(path: "eventMetadata.inferenceTime", problem: "is \"\(t)\", not an RFC 3339 time") }
            return d
        }
        func side(_ key: String, response: Bool) throws -> [PayloadRow] {
            guard let part = root["captureData"]?[key] else { return [] }
            let path = "captureData.\(key)"
            guard let text = part["data"]?.string else { throw CaptureDecodeError(path: "\(path).data", problem: "is missing or not a string") }
            let encoding = (part["encoding"]?.string ?? "JSON").uppercased()
            var contentType = (part["observedContentType"]?.string ?? "").lowercased()
            var body: Data
            switch encoding {
            case "CSV": body = Data(text.utf8); contentType = "text/csv"
            case "JSON": body = Data(text.utf8); if contentType.isEmpty { contentType = "application/json" }
            case "BASE64":
                guard let d = Data(base64Encoded: text) else { throw CaptureDecodeError(path: "\(path).data", problem: "is not base64 (encoding BASE64)") }
                body = d
            default: throw CaptureDecodeError(path: "\(path).encoding", problem: "is \"\(encoding)\", not CSV, JSON or BASE64")
            }
            if contentType.contains("csv") {
                return String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline).map { line in
                    PayloadRow(fields: [("", line.split(separator: ",", omittingEmptySubsequences: false).map { cell in
                        let t = cell.trimmingCharacters(in: .whitespaces)
                        if t.isEmpty { return .null }
                        return Double(t).map { Scalar.number($0) } ?? .string(t)
                    })])
                }
            }
            if contentType.contains("json") || contentType.isEmpty {
                if body.first == UInt8(ascii: "[") { body = Data("{\"\(response ? "predictions" : "instances")\":".utf8) + body + Data("}".utf8) }
                do { return try PayloadDecoder.decode(body, isResponse: response).rows } catch let e as CaptureDecodeError {
                    throw CaptureDecodeError(path: "\(path).data", problem: e.description)
                }
            }
            throw CaptureDecodeError(path: "\(path).observedContentType", problem: "is \"\(contentType)\"; CSV and JSON bodies are read")
        }
        let inputs = try side("endpointInput", response: false), outputs = try side("endpointOutput", response: true)
        let kind: CapturedInference.Kind = inputs.isEmpty ? .response : (outputs.isEmpty ? .request : .paired)
        return CapturedInference(source: .sagemaker, kind: kind, pairingID: meta["inferenceId"]?.string ?? eventID, time: time,
                                 model: nil, modelVersion: nil, wire: nil, inputs: inputs, outputs: outputs)
    }
}
