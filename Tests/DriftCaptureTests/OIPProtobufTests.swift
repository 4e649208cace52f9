import Foundation
import Testing

@testable import DriftCapture

struct ProtobufCase: Decodable, CustomTestStringConvertible, Sendable {
    struct Tensor: Decodable, Sendable {
        var name: String
        var datatype: String
        var shape: [Int]
        var numbers: [Double]?
        var bools: [Bool]?
        var strings: [String]?
    }
    var name: String
    var body: String
    var response: Bool
    var id: String?
    var model_name: String?
    var model_version: String?
    var tensors: [Tensor]?
    var error_path: String?
    var error_reason: String?
    var error_contains: String?
    var testDescription: String { name }

    static let all: [ProtobufCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/protobuf_cases.json")
        struct File: Decodable { var cases: [ProtobufCase] }
        return (try? JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases) ?? []
    }()

    static func body(_ name: String) -> Data {
        all.first { $0.name == name }.flatMap { Data(base64Encoded: $0.body) } ?? Data()
    }
}

@Suite("Open Inference Protocol protobuf decoder (Seldon Core v2) against golden cases made with Python's protobuf")
struct OIPProtobufTests {
    /// The fixture's per-request case is built for 5,000 elements; every other case is far below both limits.
    static let limits: CaptureLimits = {
        var l = CaptureLimits()
        l.maxElementsPerRequest = 5_000
        return l
    }()

    @Test func fixturesLoaded() { #expect(ProtobufCase.all.count == 30) }

    @Test(arguments: ProtobufCase.all)
    func matchesGolden(_ c: ProtobufCase) throws {
        let body = try #require(Data(base64Encoded: c.body))
        if let path = c.error_path {
            do {
                let m = try OIPProtobufDecoder.decode(body, isResponse: c.response, limits: Self.limits)
                Issue.record("decoded although hostile: \(m)")
            } catch let e as CaptureDecodeError {
                #expect(e.path == path, "\(e)")
                #expect(e.reason.rawValue == c.error_reason, "\(e)")
                #expect(c.error_contains?.isEmpty != false || e.problem.contains(c.error_contains!), "\(e)")
            }
            return
        }
        let m = try OIPProtobufDecoder.decode(body, isResponse: c.response, limits: Self.limits)
        #expect(m.id == c.id && m.modelName == c.model_name && m.modelVersion == c.model_version && m.isResponse == c.response)
        let expected = try #require(c.tensors)
        try #require(m.tensors.count == expected.count)
        for (t, e) in zip(m.tensors, expected) {
            #expect(t.name == e.name && t.datatype.rawValue == e.datatype && t.shape == e.shape, "\(t.name)")
            switch t.values {
            case .numbers(let v): #expect(v == e.numbers, "\(t.name)")
            case .bools(let v): #expect(v == e.bools, "\(t.name)")
            case .bytes(let v): #expect(v.map { String(decoding: $0, as: UTF8.self) } == e.strings, "\(t.name)")
            }
        }
    }

    /// Cut and corrupt every golden body at many places: each variant decodes or throws CaptureDecodeError.
    @Test func mutatedBodiesNeverTrap() {
        var rng = SplitMix(seed: 20_261_130)
        var decoded = 0
        var refused = 0
        for c in ProtobufCase.all {
            guard let body = Data(base64Encoded: c.body), !body.isEmpty, body.count < 4_096 else { continue }
            for k in 0..<150 {
                var b = [UInt8](body)
                switch k % 3 {
                case 0: b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
                case 1: for _ in 0..<3 { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(b.count)))
                }
                do {
                    _ = try OIPProtobufDecoder.decode(Data(b), isResponse: k % 2 == 0, limits: Self.limits)
                    decoded += 1
                } catch is CaptureDecodeError {
                    refused += 1
                } catch {
                    Issue.record("\(c.name): threw \(error), not a CaptureDecodeError")
                }
            }
        }
        #expect(decoded > 0 && refused > 0)
    }

    @Test func bodyOverTheLimitIsRefusedBeforeDecoding() {
        var limits = CaptureLimits()
        limits.maxBodyBytes = 16
        #expect(throws: CaptureDecodeError.self) {
            try OIPProtobufDecoder.decode(Data(repeating: 0x0A, count: 17), isResponse: false, limits: limits)
        }
        do { _ = try OIPProtobufDecoder.decode(Data(repeating: 0x0A, count: 17), isResponse: false, limits: limits) } catch let e
            as CaptureDecodeError
        {
            #expect(e.reason == .tooLarge && e.path == "body")
        } catch { Issue.record("\(error)") }
    }

    /// A tensor at the default per-tensor limit (1,000,000 FP32 elements, 4 MB) decodes; one more element is refused
    /// by the wire census, before swift-protobuf allocates it.
    @Test func tensorAtTheElementLimit() throws {
        var req = Inference_ModelInferRequest()
        var input = Inference_ModelInferRequest.InferInputTensor()
        input.name = "x"
        input.datatype = "FP32"
        input.shape = [1_000, 1_000]
        input.contents.fp32Contents = [Float](repeating: 0.25, count: 1_000_000)
        req.inputs = [input]
        let m = try OIPProtobufDecoder.decode(try req.serializedBytes(), isResponse: false)
        #expect(m.tensors.first?.values.count == 1_000_000)
        req.inputs[0].contents.fp32Contents.append(1)
        #expect(
            throws: CaptureDecodeError(
                path: "inputs[0].contents", problem: "has more than the 1000000 elements allowed per tensor (--max-tensor-elements)",
                reason: .tooLarge)
        ) {
            try OIPProtobufDecoder.decode(try req.serializedBytes(), isResponse: false)
        }
    }

    // MARK: detection and the Kafka envelope

    @Test func protobufIsDeclaredOrDetected() {
        let proto = ProtobufCase.body("request typed contents FP32 INT64 BYTES BOOL")
        let json = Data(#"  {"inputs":[]}"#.utf8)
        #expect(OIPProtobufDecoder.isProtobuf(headers: [("Content-Type", "application/x-protobuf")], body: proto))
        #expect(
            OIPProtobufDecoder.isProtobuf(headers: [("content-type", "application/protobuf; messageType=inference.ModelInferRequest")], body: proto))
        #expect(OIPProtobufDecoder.isProtobuf(headers: [("Content-Type", "application/octet-stream")], body: proto))
        #expect(!OIPProtobufDecoder.isProtobuf(headers: [("Content-Type", "application/octet-stream")], body: json), "JSON sent as octet-stream")
        #expect(OIPProtobufDecoder.isProtobuf(headers: [("ce-type", "dev.knative.kafka.event")], body: proto), "KafkaSource, no content type")
        #expect(!OIPProtobufDecoder.isProtobuf(headers: [("ce-type", "dev.knative.kafka.event")], body: json))
        #expect(OIPProtobufDecoder.isProtobuf(headers: [("Ce-Kafkaheaderseldoninfertype", "proto/InferModelRequest")], body: proto))
        #expect(
            !OIPProtobufDecoder.isProtobuf(
                headers: [("Content-Type", "application/json"), ("ce-type", "org.kubeflow.serving.inference.request")], body: proto))
    }

    /// A request on a model's inputs topic and its response on the outputs topic, as a KafkaSource delivers them:
    /// the message ids differ (the client set none; the server made one up) and the response names Seldon's
    /// internal model, but the x-request-id header and the topic pair them under one model.
    @Test func kafkaSourcePairOfSeldonTopics() throws {
        var req = Inference_ModelInferRequest()
        var input = Inference_ModelInferRequest.InferInputTensor()
        input.name = "predict"
        input.datatype = "FP32"
        input.shape = [1, 2]
        input.contents.fp32Contents = [1.5, 2.5]
        req.inputs = [input]
        var res = Inference_ModelInferResponse()
        res.modelName = "iris_1"
        res.id = "0b5c7f3e-generated-by-the-server"
        var output = Inference_ModelInferResponse.InferOutputTensor()
        output.name = "predict"
        output.datatype = "INT64"
        output.shape = [1, 1]
        output.contents.int64Contents = [2]
        res.outputs = [output]
        func headers(_ topic: String, offset: Int) -> [(String, String)] {
            [
                ("ce-specversion", "1.0"), ("ce-id", "partition:0/offset:\(offset)"), ("ce-type", "dev.knative.kafka.event"),
                ("ce-source", "/apis/v1/namespaces/seldon-mesh/kafkasources/iris-capture#\(topic)"), ("ce-subject", "partition:0#\(offset)"),
                ("ce-time", "2026-11-30T10:00:00.123Z"), ("ce-kafkaheaderpipeline", "iris"), ("ce-kafkaheaderxrequestid", "d4mq3kq5ah1s73e0bkk0")
            ]
        }
        let a = try CapturedInference(protobuf: try req.serializedBytes(), headers: headers("seldon.seldon-mesh.model.iris.inputs", offset: 41))
        let b = try CapturedInference(protobuf: try res.serializedBytes(), headers: headers("seldon.seldon-mesh.model.iris.outputs", offset: 17))
        #expect(a.kind == .request && b.kind == .response)
        #expect(a.pairingID == "d4mq3kq5ah1s73e0bkk0" && b.pairingID == a.pairingID)
        #expect(a.model == "iris" && b.model == "iris" && a.service == "iris" && a.source == .seldon && a.formatLabel == "seldon-oip")
        #expect(a.time == RFC3339.parse("2026-11-30T10:00:00.123Z"))
        #expect(a.inputs.count == 1 && a.inputs[0].value(key: "predict", index: 1) == .number(2.5))
        #expect(b.outputs.count == 1 && b.outputs[0].value(key: "predict", index: nil) == .number(2))
    }

    @Test func kindRules() throws {
        let body = ProtobufCase.body("request typed contents FP32 INT64 BYTES BOOL")
        let noKind: [(String, String)] = [("Content-Type", "application/octet-stream")]
        // the message id pairs when no Kafka header does; the model comes from the message
        let r = try CapturedInference(protobuf: body, headers: noKind, kind: "request")
        #expect(r.kind == .request && r.pairingID == "req-0001" && r.model == "iris" && r.modelVersion == "1" && r.inputs.count == 2)
        #expect(try CapturedInference(protobuf: body, headers: [("ce-type", "io.seldon.serving.inference.request")]).kind == .request)
        #expect(try CapturedInference(protobuf: body, headers: [("ce-kafkaheaderseldoninfertype", "proto/InferModelRequest")]).kind == .request)
        let response = ProtobufCase.body("response typed contents FP64 INT32 UINT8 UINT64")
        #expect(try CapturedInference(protobuf: response, headers: [("seldon-infer-type", "proto/InferModelResponse")]).kind == .response)
        #expect(
            try CapturedInference(
                protobuf: response, headers: [("ce-source", "/apis/v1/namespaces/n/kafkasources/s#seldon.n.pipeline.my.pipe.outputs")]
            ).model == "my.pipe")
        for (headers, kind, path, reason) in [
            (noKind, nil, "kind", CaptureDecodeError.Reason.invalidValue), (noKind, "both", "kind", .invalidValue),
            ([("ce-source", "/apis/v1/namespaces/n/kafkasources/s#seldon.n.errors.errors")], nil, "ce-source", .unsupported)
        ] {
            do {
                _ = try CapturedInference(protobuf: body, headers: headers, kind: kind)
                Issue.record("accepted without a kind")
            } catch let e as CaptureDecodeError {
                #expect(e.path == path && e.reason == reason, "\(e)")
            }
        }
        // no id anywhere: refused, naming the field
        let anonymous = ProtobufCase.body("request with an empty tensor and no id")
        #expect(
            throws: CaptureDecodeError(
                path: "id",
                problem: "is empty and no x-request-id Kafka header (ce-kafkaheaderxrequestid) names the request, "
                    + "so the request and its response cannot be paired; set the message id")
        ) {
            try CapturedInference(
                protobuf: anonymous, headers: [("ce-type", "dev.knative.kafka.event"), ("ce-id", "partition:0/offset:1")], kind: "request")
        }
    }
}
