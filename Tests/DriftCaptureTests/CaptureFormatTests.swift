import Foundation
import Testing

@testable import DriftCapture

@Suite("Capture formats: KServe/Seldon CloudEvents, Azure ML data collector, SageMaker data capture")
struct CaptureFormatTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sample-data/capture")

    func lines(_ name: String) throws -> [Data] {
        try Data(contentsOf: Self.dir.appendingPathComponent(name)).split(separator: UInt8(ascii: "\n")).map { Data($0) }
    }

    @Test func sampleFilesDecodeToPairedRequestsAndResponses() throws {
        for name in ["kserve-v1.jsonl", "kserve-oip.jsonl"] {
            let records = try lines(name).map { try CaptureLineDecoder.decode($0) }
            #expect(records.count == 40 && records.allSatisfy { $0.source == .kserve && $0.model == "fraud" })
            let requests = records.filter { $0.kind == .request }
            let responses = records.filter { $0.kind == .response }
            #expect(requests.count == 20 && responses.count == 20)
            #expect(Set(requests.map(\.pairingID)) == Set(responses.map(\.pairingID)), "request and response share the ce-id")
            #expect(requests[0].inputs[0].value(key: "amount", index: nil) == .number(56.39))
            #expect(requests[0].inputs[0].value(key: "merchant_category", index: nil) == .string("electronics"))
            #expect(requests[0].time == RFC3339.parse("2026-11-25T16:00:00Z"))
            #expect(responses[0].outputs[0].value(key: "score", index: nil) != nil)
            #expect(records[0].formatLabel == (name.contains("oip") ? "kserve-oip" : "kserve-v1"))
        }
        let inputs = try lines("azureml-model_inputs.jsonl").map { try CaptureLineDecoder.decode($0) }
        let outputs = try lines("azureml-model_outputs.jsonl").map { try CaptureLineDecoder.decode($0) }
        #expect(inputs.allSatisfy { $0.source == .azureml && $0.kind == .request && $0.model == "fraud" && $0.modelVersion == "3" })
        #expect(outputs.allSatisfy { $0.kind == .response } && inputs.map(\.pairingID) == outputs.map(\.pairingID), "paired on correlationid")
        let sm = try lines("sagemaker.jsonl").map { try CaptureLineDecoder.decode($0) }
        #expect(sm.count == 20 && sm.allSatisfy { $0.kind == .paired && $0.inputs.count == 1 && $0.outputs.count == 1 })
        #expect(sm[0].pairingID == "req-40-0000" && sm[0].outputs[0].isPositional && sm[0].outputs[0].value(key: nil, index: 0) == .number(0.05576))
    }

    @Test func otherShapesOfTheSameFormats() throws {
        // Azure ML: pandas split shape; SageMaker: BASE64-encoded JSON and multi-line CSV input
        let split =
            #"{"specversion":"1.0","id":"1","source":"/x/onlineEndpoints/churn/deployments/b","type":"azureml.inference.model_inputs","time":"2026-11-25T16:00:00.123456Z","correlationid":"c1","data":{"columns":["a","b"],"index":[0,1],"data":[[1,"x"],[2,"y"]]}}"#
        let a = try CaptureLineDecoder.decode(Data(split.utf8))
        #expect(a.model == "churn" && a.inputs.count == 2 && a.inputs[1].value(key: "b", index: nil) == .string("y"))
        let body = Data(#"{"instances": [[1.5, 2.5]]}"#.utf8).base64EncodedString()
        let b64 =
            #"{"captureData":{"endpointInput":{"observedContentType":"application/json","mode":"INPUT","data":"\#(body)","encoding":"BASE64"},"endpointOutput":{"observedContentType":"text/csv","mode":"OUTPUT","data":"0.1\n0.9","encoding":"CSV"}},"eventMetadata":{"eventId":"e1","inferenceTime":"2026-11-25T16:00:00Z"},"eventVersion":"0"}"#
        let s = try CaptureLineDecoder.decode(Data(b64.utf8))
        #expect(s.inputs.count == 1 && s.inputs[0].value(key: nil, index: 1) == .number(2.5) && s.outputs.count == 2 && s.pairingID == "e1")
        let csvIn =
            #"{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"1,a,\n2,b,3","encoding":"CSV"}},"eventMetadata":{"eventId":"e2"},"eventVersion":"0"}"#
        let c = try CaptureLineDecoder.decode(Data(csvIn.utf8))
        #expect(
            c.kind == .request && c.inputs.count == 2 && c.inputs[0].value(key: nil, index: 2) == .null
                && c.inputs[1].value(key: nil, index: 1) == .string("b"))
        // Seldon Core v1 types
        let seldon =
            #"{"specversion":"1.0","type":"io.seldon.serving.inference.response","id":"s1","source":"seldon","inferenceservicename":"fraud","data":{"predictions":[0.3]}}"#
        let d = try CaptureLineDecoder.decode(Data(seldon.utf8))
        #expect(d.source == .seldon && d.kind == .response && d.formatLabel == "seldon-v1")
    }

    @Test func badLinesNameTheProblem() {
        let cases: [(String, String)] = [
            (#"{"hello": 1}"#, "line is not a KServe/Seldon CloudEvent, an Azure ML data collector record or a SageMaker capture record"),
            (#"{"type":"azureml.inference.model_inputs","data":[{"a":1}]}"#, "correlationid is missing"),
            (#"{"type":"azureml.inference.labels","correlationid":"c","data":[]}"#, "reads the model_inputs and model_outputs collections"),
            (#"{"captureData":{"endpointInput":{"data":"x","encoding":"BASE64"}},"eventMetadata":{"eventId":"e"}}"#, "is not base64"),
            (#"{"captureData":{},"eventMetadata":{}}"#, "eventMetadata.eventId is missing"),
            (
                #"{"specversion":"1.0","type":"org.kubeflow.serving.inference.request","id":"1","source":"s","time":"yesterday","data":{"instances":[]}}"#,
                "time is \"yesterday\", not an RFC 3339 time"
            ),
            ("[1, 2", "line is not valid JSON")
        ]
        for (line, message) in cases {
            do {
                _ = try CaptureLineDecoder.decode(Data(line.utf8))
                Issue.record("accepted: \(line)")
            } catch let e as CaptureDecodeError {
                #expect(e.description.contains(message), "\(e)")
            } catch { Issue.record("\(error)") }
        }
    }
}

@Suite("Capture decoders under mutation")
struct CaptureFuzzTests {
    /// 100,000 mutated records (bytes flipped, inserted, deleted, cut) of every format — CloudEvents with V1 and
    /// OIP bodies, Azure ML, SageMaker — through the line decoder, and the same bodies through binary-mode
    /// CloudEvents: every outcome is a record or a CaptureDecodeError, never a crash.
    @Test func oneHundredThousandMutatedRecordsNeverCrash() throws {
        var seeds: [Data] = []
        for name in ["kserve-v1.jsonl", "kserve-oip.jsonl", "azureml-model_inputs.jsonl", "azureml-model_outputs.jsonl", "sagemaker.jsonl"] {
            let data = try Data(contentsOf: CaptureFormatTests.dir.appendingPathComponent(name))
            seeds += data.split(separator: UInt8(ascii: "\n")).prefix(6).map { Data($0) }
        }
        var rng = SplitMix(seed: 20_261_129)
        var decoded = 0
        var rejected = 0
        let headers = [("ce-specversion", "1.0"), ("ce-type", "org.kubeflow.serving.inference.request"), ("ce-id", "x"), ("ce-source", "s")]
        for i in 0..<100_000 {
            var bytes = [UInt8](seeds[i % seeds.count])
            for _ in 0..<(1 + rng.next() % 4) where !bytes.isEmpty {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                case 2: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            do {
                if i % 5 == 0 {
                    _ = try CapturedInference(InferenceCloudEvent.binary(headers: headers, body: Data(bytes)))
                } else {
                    _ = try CaptureLineDecoder.decode(Data(bytes))
                }
                decoded += 1
            } catch is CaptureDecodeError { rejected += 1 }
        }
        #expect(decoded + rejected == 100_000 && decoded > 0 && rejected > 0)
    }
}

/// A seeded generator so that a failure reproduces.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
