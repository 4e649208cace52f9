import DriftCommon
import Foundation

/// One captured inference record, whatever wrote it: a KServe/Seldon CloudEvent (a request or a response),
/// an Azure ML online-endpoint data collector record (`model_inputs` or `model_outputs`), or a SageMaker
/// data-capture record (input and output together).
public struct CapturedInference: Sendable, Equatable {
    public enum Kind: String, Sendable { case request, response, paired }
    public enum Source: String, Sendable { case kserve, seldon, azureml, sagemaker }

    public var source: Source
    public var kind: Kind
    /// What pairs a request with its response: KServe's `ce-id`, Seldon's `ce-requestid` (its `ce-id` is random per
    /// event), Azure ML's `correlationid`, SageMaker's `eventId`.
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
    /// The part of the serving graph that logged it: KServe's `ce-component` (`predictor`, `transformer`,
    /// `explainer`), Seldon's `ce-modelid` (the graph node's name); nil when the event names none.
    public var component: String? = nil

    /// A CloudEvent from KServe's or Seldon's logger, its payload decoded. Seldon Core v1's logger
    /// (`executor/logger/worker.go`) gives every event a fresh random `ce-id` and the request's puid as the
    /// `ce-requestid` extension, which its request and response share: Seldon events pair on `requestid` (on
    /// `ce-id` when it is absent). (Seldon feedback events, `io.seldon.serving.feedback`, are refused when the
    /// event is read, `InferenceCloudEvent.make`.)
    public init(_ ce: InferenceCloudEvent, limits: OIPDecoder.Limits = .init()) throws {
        let response = ce.kind == .response
        let payload: DecodedPayload
        if let parsed = ce.parsedData {
            payload = try PayloadDecoder.decode(root: parsed, isResponse: response, limits: limits)
        } else if ce.dataContentType?.contains("csv") == true {
            // a text/csv body (SageMaker-style clients behind a KServe custom predictor): RFC 4180, positional rows
            payload = DecodedPayload(
                protocolName: .csv, id: nil, modelName: nil, modelVersion: nil, isResponse: response,
                rows: try CSVPayload.rows(ce.data, path: "body", limits: limits))
        } else {
            payload = try PayloadDecoder.decode(ce.data, headerLength: ce.inferenceHeaderLength, isResponse: response, limits: limits)
        }
        source = ce.type.hasPrefix("io.seldon") ? .seldon : .kserve
        kind = ce.kind == .response ? .response : .request
        let nonEmpty = { (name: String) in ce.extensions[name].flatMap { $0.isEmpty ? nil : $0 } }
        pairingID = source == .seldon ? nonEmpty("requestid") ?? ce.id : ce.id
        component = source == .seldon ? nonEmpty("modelid") : nonEmpty("component")
        time = ce.time
        model = ce.inferenceServiceName ?? payload.modelName
        service = ce.inferenceServiceName
        origin = ce.source
        modelVersion = payload.modelVersion ?? ce.extensions["modelversion"]
        wire = payload.protocolName
        inputs = ce.kind == .request ? payload.rows : []
        outputs = ce.kind == .response ? payload.rows : []
    }

    init(
        source: Source, kind: Kind, pairingID: String, time: Date?, model: String?, modelVersion: String?,
        wire: DecodedPayload.Wire?, inputs: [PayloadRow], outputs: [PayloadRow], origin: String? = nil
    ) {
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

    /// The format label of metrics: `kserve-v1`, `kserve-oip`, `seldon-v1`, `seldon-message`, `azureml`, `sagemaker`.
    public var formatLabel: String {
        switch source {
        case .kserve, .seldon: source.rawValue + "-" + (wire == .seldon ? "message" : wire?.rawValue ?? "v1")
        case .azureml, .sagemaker: source.rawValue
        }
    }
}

/// The JSON Lines formats a capture file (or `POST /v1/capture/batch`) may hold, one record — or one JSON array
/// of records — per line.
public enum CaptureLineFormat: String, Sendable, CaseIterable {
    /// Structured KServe/Seldon CloudEvents (as a Knative event display or a broker archive writes them), and the
    /// batches KServe's logger writes to storage (a JSON array of `LogRequest`s per object; `KServeStorageLog`).
    case kserve
    /// Azure ML online endpoint data collection: custom logging (`azureml.inference.model_inputs` / `model_outputs`)
    /// and payload logging (`azureml.inference.request` / `response`); `AzureMLCapture`.
    case azureml
    /// SageMaker endpoint data capture (`captureData.endpointInput` / `endpointOutput`; CSV, JSON or JSON Lines
    /// bodies); `SageMakerCapture`.
    case sagemaker

    /// Which format a parsed record is in (nil: none of them).
    public static func detect(_ root: JSONValue) -> CaptureLineFormat? {
        if root["captureData"] != nil { return .sagemaker }
        if KServeStorageLog.isLogRequest(root) { return .kserve }
        if let type = root["type"]?.string {
            if type.hasPrefix("azureml.inference.") { return .azureml }
            if InferenceCloudEvent.kind(ofType: type) != nil { return .kserve }
        }
        return nil
    }
}

public enum CaptureLineDecoder {
    /// Decodes a line that holds one record (a JSON object); `format` nil detects it. A line holding a JSON
    /// array of records (a KServe storage-logger batch) is refused here: read it with `records(_:format:limits:)`.
    public static func decode(_ line: Data, format: CaptureLineFormat? = nil, limits: OIPDecoder.Limits = .init()) throws -> CapturedInference {
        let root = try JSONValue.parse(line, path: "line", limits: limits)
        if case .array(let items) = root {
            throw CaptureDecodeError(path: "line", problem: "is a JSON array of \(items.count) records (a batch); read it record by record")
        }
        return try record(root, format: format, path: "line", limits: limits)
    }

    /// Decodes a line that holds one record (a JSON object) or a batch of them (a JSON array: KServe's logger
    /// writing to storage, a CloudEvents batch): one result per record, so one bad record does not lose the
    /// others; an element's error path starts with its index (`[3].Bytes`). Throws only when the line itself
    /// cannot be read: not JSON, neither an object nor an array, or more records than `limits.maxRowsPerRequest`.
    public static func records(_ line: Data, format: CaptureLineFormat? = nil, limits: OIPDecoder.Limits = .init()) throws -> [Result<
        CapturedInference, CaptureDecodeError
    >] {
        let root = try JSONValue.parse(line, path: "line", limits: limits)
        func one(_ node: JSONValue, path: String) -> Result<CapturedInference, CaptureDecodeError> {
            do { return .success(try record(node, format: format, path: path, limits: limits)) } catch let e as CaptureDecodeError {
                return .failure(e)
            } catch {
                return .failure(CaptureDecodeError(path: path, problem: "\(error)"))
            }
        }
        switch root {
        case .object: return [one(root, path: "line")]
        case .array(let items):
            guard items.count <= limits.maxRowsPerRequest else {
                throw CaptureDecodeError(
                    path: "line", problem: "holds \(items.count) records; at most \(limits.maxRowsPerRequest) are accepted per line (--max-rows)",
                    reason: .tooLarge)
            }
            // decoded one by one, stopping as soon as the rows exceed the request's limit (not after all of them)
            var out: [Result<CapturedInference, CaptureDecodeError>] = []
            var rows = 0
            for (i, item) in items.enumerated() {
                let r = one(item, path: "[\(i)]")
                if case .success(let record) = r { rows += max(record.inputs.count, record.outputs.count) }
                if rows > limits.maxRowsPerRequest {
                    throw CaptureDecodeError(
                        path: "line", problem: "holds more than the \(limits.maxRowsPerRequest) rows accepted per request (--max-rows)",
                        reason: .tooLarge)
                }
                out.append(r)
            }
            return out
        default:
            throw CaptureDecodeError(path: "line", problem: "must be a JSON object (a record) or an array of records, found \(root.typeName)")
        }
    }

    /// One record; `path` is where it sits ("line" for a whole line, "[i]" in a batch), for errors.
    static func record(_ root: JSONValue, format: CaptureLineFormat?, path: String, limits: CaptureLimits) throws -> CapturedInference {
        guard case .object = root else { throw CaptureDecodeError(path: path, problem: "must be a JSON object, found \(root.typeName)") }
        guard let f = format ?? CaptureLineFormat.detect(root) else {
            throw CaptureDecodeError(
                path: path,
                problem:
                    "is not a KServe/Seldon CloudEvent, an Azure ML data collector record or a SageMaker capture record (nor a KServe storage-logger record)"
            )
        }
        let inner = path == "line" ? "" : path
        func located(_ body: () throws -> CapturedInference) throws -> CapturedInference {
            do { return try body() } catch let e as CaptureDecodeError where !inner.isEmpty && !e.path.hasPrefix(inner) {
                throw CaptureDecodeError(path: inner + "." + e.path, problem: e.problem, reason: e.reason)
            }
        }
        switch f {
        case .kserve:
            if KServeStorageLog.isLogRequest(root) { return try KServeStorageLog.decode(root, path: inner, limits: limits) }
            return try CapturedInference(InferenceCloudEvent.structured(root, path: inner), limits: limits)
        case .azureml: return try located { try AzureMLCapture.decode(root, limits: limits) }
        case .sagemaker: return try located { try SageMakerCapture.decode(root, limits: limits) }
        }
    }
}
