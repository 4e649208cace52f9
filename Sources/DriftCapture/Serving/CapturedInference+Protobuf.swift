import Foundation

/// Seldon Core v2 traffic as it reaches `POST /v1/capture`: a protobuf `ModelInferRequest` or `ModelInferResponse`
/// from a Seldon Kafka topic, bridged to HTTP by a Knative KafkaSource (or sent by anything else that posts OIP
/// protobuf bodies).
///
/// What Seldon writes (SeldonIO/seldon-core v2, scheduler/pkg/kafka): topics `<prefix>.<namespace>.model.<model>.inputs`
/// / `.outputs` and `<prefix>.<namespace>.pipeline.<pipeline>.inputs` / `.outputs` (kafka/topics.go); record headers
/// `pipeline` (the model or pipeline name the request was sent to), `x-request-id` (set once per request and copied
/// to every record of it, pipeline/kafkamanager.go, gateway/worker.go), optionally `seldon-infer-type`
/// (`proto/InferModelRequest`, gateway/constants.go). The model server's response names the model by Seldon's
/// internal name (`<model>_<version>`, agent/rproxy_grpc.go), so the topic names the model better than the body.
///
/// What a KafkaSource sends for such a record (knative-extensions/eventing-kafka-broker,
/// InvalidCloudEventInterceptor.java): the record value as the body, in binary content mode with `ce-type:
/// dev.knative.kafka.event`, `ce-id: partition:<p>/offset:<o>` (unique per record: it does not pair anything),
/// `ce-source: /apis/v1/namespaces/<ns>/kafkasources/<name>#<topic>`, `ce-time` (the record's timestamp) and every
/// record header as `ce-kafkaheader<name>` (lowercased, only a–z and 0–9 kept: `ce-kafkaheaderxrequestid`).
///
/// The rules, in order (the first that answers wins):
/// - kind: the URL's `?kind=request|response`; a `ce-type` ending in `.request`/`.response`; the `seldon-infer-type`
///   header (`…Request` / `…Response`); the topic in `ce-source` ending in `.inputs`
///   (request) or `.outputs` (response; a Seldon `.errors` topic is refused). Otherwise the event is refused:
///   protobuf requests and responses cannot be told apart by their bytes.
/// - pairing id: the `x-request-id` Kafka header (`ce-kafkaheaderxrequestid`), which Seldon puts on the request and
///   on its response alike; else the message's `id`; else `ce-id` unless it is a KafkaSource's record id.
/// - model (and service): the model or pipeline name in the topic; else the `pipeline` Kafka header; else the
///   message's `model_name`. Model version: the message's `model_version` when not empty.
/// - time: `ce-time` when present.
extension CapturedInference {
    public init(
        protobuf body: Data, headers: [(String, String)], kind explicitKind: String? = nil,
        limits: CaptureLimits = .init()
    ) throws {
        let h = HeaderLookup(headers)
        let topic = SeldonTopic(h["ce-source"].flatMap(SeldonTopic.name(fromSource:)))
        let kind = try Self.protobufKind(explicit: explicitKind, headers: h, topic: topic)
        let message = try OIPProtobufDecoder.decode(body, isResponse: kind == .response, limits: limits)
        let payload = try PayloadDecoder.oip(message, limits: limits)
        var pairing = h.kafkaHeader("x-request-id", plain: false) ?? message.id
        if pairing == nil, let ceID = h["ce-id"], h["ce-type"] != OIPProtobufDecoder.knativeKafkaEventType { pairing = ceID }
        guard let pairing else {
            throw CaptureDecodeError(
                path: "id",
                problem: "is empty and no x-request-id Kafka header (ce-kafkaheaderxrequestid) names the request, "
                    + "so the request and its response cannot be paired; set the message id")
        }
        var time: Date?
        if let t = h["ce-time"] {
            guard let parsed = RFC3339.parse(t) else {
                throw CaptureDecodeError(path: "ce-time", problem: "is \"\(t.prefix(64))\", not an RFC 3339 time")
            }
            time = parsed
        }
        let service = topic?.resource ?? h.kafkaHeader("pipeline", plain: false)
        self.init(
            source: .seldon, kind: kind == .response ? .response : .request, pairingID: pairing, time: time,
            model: service ?? message.modelName, modelVersion: message.modelVersion, wire: .oip,
            inputs: kind == .request ? payload.rows : [], outputs: kind == .response ? payload.rows : [],
            origin: h["ce-source"])
        self.service = service
    }

    static func protobufKind(explicit: String?, headers h: HeaderLookup, topic: SeldonTopic?) throws -> InferenceCloudEvent.Kind {
        if let explicit {
            guard let k = InferenceCloudEvent.Kind(rawValue: explicit.lowercased()) else {
                throw CaptureDecodeError(path: "kind", problem: "is \"\(explicit.prefix(64))\"; the URL parameter kind takes request or response")
            }
            return k
        }
        if let type = h["ce-type"], let k = InferenceCloudEvent.kind(ofType: type) { return k }
        if let t = h.kafkaHeader("seldon-infer-type")?.lowercased() {
            if t.hasSuffix("request") { return .request }
            if t.hasSuffix("response") { return .response }
        }
        if let topic {
            switch topic.direction {
            case .inputs: return .request
            case .outputs: return .response
            case .errors:
                throw CaptureDecodeError(
                    path: "ce-source", problem: "names Seldon's error topic \(topic.name); its records are error messages, not inferences",
                    reason: .unsupported)
            case nil: break
            }
        }
        throw CaptureDecodeError(
            path: "kind",
            problem: "of this protobuf body is unknown: a request and a response look alike on the wire. "
                + "Add ?kind=request or ?kind=response to the capture URL, or send ce-type, seldon-infer-type or a ce-source naming the .inputs/.outputs topic"
        )
    }
}

/// A Kafka topic name as Seldon Core v2 forms it: `<prefix>.<namespace>.model|pipeline.<name>.inputs|outputs`,
/// and `<prefix>.<namespace>.errors.errors` for errors.
struct SeldonTopic {
    enum Direction { case inputs, outputs, errors }

    var name: String
    /// The model or pipeline the topic belongs to (nil when the name is not Seldon's shape).
    var resource: String?
    var direction: Direction?

    init?(_ name: String?) {
        guard let name, !name.isEmpty else { return nil }
        self.name = name
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch parts.last {
        case "inputs": direction = .inputs
        case "outputs": direction = .outputs
        case "errors": direction = .errors
        default: direction = nil
        }
        // the name may itself hold dots: everything between the last `.model.`/`.pipeline.` and the suffix
        if direction == .inputs || direction == .outputs,
            let kindIndex = parts.dropLast().lastIndex(where: { $0 == "model" || $0 == "pipeline" }), kindIndex + 1 < parts.count - 1
        {
            resource = parts[(kindIndex + 1)..<(parts.count - 1)].joined(separator: ".")
        }
    }

    /// The topic of a KafkaSource's `ce-source` (`/apis/v1/namespaces/<ns>/kafkasources/<name>#<topic>`).
    static func name(fromSource source: String) -> String? {
        guard let hash = source.lastIndex(of: "#") else { return nil }
        let topic = source[source.index(after: hash)...]
        return topic.isEmpty ? nil : String(topic)
    }
}
