import Foundation
import Testing

@testable import DriftCapture

/// One golden case of `Fixtures/seldon_cases.json` (written by `generate_seldon_fixtures.py`).
struct SeldonCase: Decodable, CustomTestStringConvertible, Sendable {
    /// A decoded scalar, tagged as the generator writes it.
    struct Value: Decodable, Sendable {
        var n: Double?
        var s: String?
        var b: Bool?
        var null: Bool?
        var scalar: Scalar { n.map { .number($0) } ?? s.map { .string($0) } ?? b.map { .bool($0) } ?? .null }
    }
    /// A field: [name, [values]].
    struct Field: Decodable, Sendable {
        var name: String
        var values: [Value]
        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            name = try c.decode(String.self)
            values = try c.decode([Value].self)
        }
    }
    var name: String
    var body: String
    var rows: [[Field]]?
    var id: String?
    var error_path: String?
    var error_contains: String?
    var error_reason: String?
    var testDescription: String { name }

    var expectedRows: [PayloadRow]? { rows?.map { PayloadRow(fields: $0.map { ($0.name, $0.values.map(\.scalar)) }) } }

    struct Event: Decodable, Sendable {
        var name: String
        var headers: [String: String]
        var body: String
        var kind: String?
        var rows: [[Field]]?
        var error_contains: String?
        var error_reason: String?
        var labels: [Label]?
    }
    struct Label: Decodable, Sendable {
        var request_id: String
        var label: String
        var value: Double?
        var reward: Double?
    }
    struct Events: Decodable, Sendable {
        var requestid: String
        var component: String
        var service: String
        var list: [Event]
    }
    struct File: Decodable, Sendable {
        var cases: [SeldonCase]
        var events: Events
    }

    static let file: File? = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/seldon_cases.json")
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try? d.decode(File.self, from: Data(contentsOf: url))
    }()
    static let all: [SeldonCase] = file?.cases ?? []
}

/// NaN-aware row equality (a NaN element equals a NaN element).
func sameRows(_ a: [PayloadRow], _ b: [PayloadRow]) -> Bool {
    func same(_ x: Scalar, _ y: Scalar) -> Bool {
        if case .number(let p) = x, case .number(let q) = y { return p == q || (p.isNaN && q.isNaN) }
        return x == y
    }
    return a.count == b.count
        && zip(a, b).allSatisfy { r, s in
            r.fields.count == s.fields.count
                && zip(r.fields, s.fields).allSatisfy { f, g in
                    f.name == g.name && f.values.count == g.values.count && zip(f.values, g.values).allSatisfy(same)
                }
        }
}

@Suite("SeldonMessage decoder and Seldon request-logger events against golden cases built like seldon-core's wrapper")
struct SeldonMessageTests {
    @Test func fixturesLoaded() { #expect(SeldonCase.all.count == 38 && SeldonCase.file?.events.list.count == 4) }

    @Test(arguments: SeldonCase.all)
    func matchesGolden(_ c: SeldonCase) throws {
        let body = Data(c.body.utf8)
        if let path = c.error_path {
            do {
                let p = try PayloadDecoder.decode(body, isResponse: false)
                Issue.record("decoded although it must be refused: \(p)")
            } catch let e as CaptureDecodeError {
                #expect(e.path == path, "\(e)")
                #expect(e.description.contains(c.error_contains ?? "\u{0}"), "\(e)")
                #expect(e.reason.rawValue == c.error_reason, "\(e.reason)")
            }
            return
        }
        let p = try PayloadDecoder.decode(body, isResponse: c.name.contains("response"))
        #expect(p.protocolName == .seldon && p.id == c.id && p.modelVersion == nil)
        let want = try #require(c.expectedRows)
        #expect(sameRows(p.rows, want), "\(p.rows) != \(want)")
    }

    @Test func seldonMessageIsToldApartFromV1AndOIP() {
        #expect(SeldonMessageDecoder.isSeldonMessage(.object([("data", .object([("ndarray", .array([]))]))])))
        #expect(SeldonMessageDecoder.isSeldonMessage(.object([("strData", .string("x"))])))
        #expect(!SeldonMessageDecoder.isSeldonMessage(.object([("instances", .array([])), ("data", .object([]))])))
        #expect(!SeldonMessageDecoder.isSeldonMessage(.object([("data", .array([]))])), "a data array is no DefaultData")
        #expect(
            !SeldonMessageDecoder.isSeldonMessage(.object([("data", .object([("features", .object([]))]))])), "SageMaker's record is no DefaultData")
        #expect(throws: CaptureDecodeError.self) {
            try SeldonMessageDecoder.decode(.object([("data", .object([("ndarray", .array([])), ("x", .null)]))]))
        }
    }

    @Test func limitsAreApplied() throws {
        var limits = CaptureLimits()
        limits.maxRowsPerRequest = 2
        limits.maxElementsPerRequest = 5
        let rows = Data(#"{"data":{"ndarray":[[1],[2],[3]]}}"#.utf8)
        #expect(throws: CaptureDecodeError.self) { try PayloadDecoder.decode(rows, limits: limits) }
        let elements = Data(#"{"data":{"ndarray":[[1,2,3],[4,5,6]]}}"#.utf8)
        do {
            _ = try PayloadDecoder.decode(elements, limits: limits)
            Issue.record("accepted")
        } catch let e as CaptureDecodeError {
            #expect(e.reason == .tooLarge && e.description.contains("--max-request-elements"))
        }
        limits.maxElements = 10
        let shape = Data(#"{"data":{"tensor":{"shape":[1,4611686018427387904,4],"values":[]}}}"#.utf8)
        do {
            _ = try PayloadDecoder.decode(shape, limits: limits)
            Issue.record("accepted")
        } catch let e as CaptureDecodeError {
            #expect(e.reason == .tooLarge)
        }
        let fill = Data(#"{"data":{"tftensor":{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"2"},{"size":"6"}]},"floatVal":[1]}}}"#.utf8)
        do {
            _ = try PayloadDecoder.decode(fill, limits: limits)
            Issue.record("accepted")
        } catch let e as CaptureDecodeError {
            #expect(e.reason == .tooLarge, "one value filling a shape is bounded by the shape check")
        }
    }

    /// The request logger's binary-mode events: fresh `Ce-Id`s, one `Ce-Requestid`; the graph node is the component.
    @Test func loggerEventsPairOnRequestID() throws {
        let events = try #require(SeldonCase.file?.events)
        var paired: [CapturedInference] = []
        for e in events.list {
            let headers = e.headers.map { ($0.key, $0.value) }
            if let expected = e.labels {
                // a feedback: ground truth for the prediction its Ce-Requestid names
                let labels = try SeldonFeedback.labels(
                    Data(e.body.utf8), requestID: e.headers["Ce-Requestid"] ?? "", model: events.service, time: nil, limits: CaptureLimits(),
                    now: Date())
                #expect(
                    labels
                        == expected.map {
                            GroundTruthLabel(
                                model: events.service, requestID: $0.request_id, label: $0.label, value: $0.value ?? Double($0.label),
                                reward: $0.reward)
                        }, "\(e.name)")
                continue
            }
            if let message = e.error_contains {
                do {
                    let ce = try InferenceCloudEvent.binary(headers: headers, body: Data(e.body.utf8))
                    _ = try CapturedInference(ce)
                    Issue.record("\(e.name) accepted")
                } catch let err as CaptureDecodeError {
                    #expect(err.description.contains(message) && err.reason.rawValue == e.error_reason && err.path == "ce-type", "\(err)")
                }
                continue
            }
            let record = try CapturedInference(InferenceCloudEvent.binary(headers: headers, body: Data(e.body.utf8)))
            #expect(record.source == .seldon && record.kind.rawValue == e.kind && record.formatLabel == "seldon-message")
            #expect(record.pairingID == events.requestid && record.component == events.component && record.model == events.service)
            let want = try #require(e.rows.map { $0.map { PayloadRow(fields: $0.map { ($0.name, $0.values.map(\.scalar)) }) } })
            #expect(sameRows(record.kind == .request ? record.inputs : record.outputs, want))
            paired.append(record)
        }
        #expect(paired.count == 2 && paired[0].pairingID == paired[1].pairingID)
        #expect(events.list[0].headers["Ce-Id"] != events.list[1].headers["Ce-Id"], "Seldon's ce-ids differ within a pair")
    }

    /// Without `Ce-Requestid` a Seldon event pairs on its `ce-id`; KServe's `ce-component` is its component.
    @Test func fallbacksAndKServeComponent() throws {
        let base = [("ce-specversion", "1.0"), ("ce-id", "e-1"), ("ce-source", "s")]
        let seldon = try CapturedInference(
            InferenceCloudEvent.binary(
                headers: base + [("ce-type", "io.seldon.serving.inference.request")],
                body: Data(#"{"data":{"ndarray":[[1]]}}"#.utf8)))
        #expect(seldon.pairingID == "e-1" && seldon.component == nil)
        let kserve = try CapturedInference(
            InferenceCloudEvent.binary(
                headers: base + [("ce-type", "org.kubeflow.serving.inference.request"), ("ce-component", "transformer"), ("ce-requestid", "ignored")],
                body: Data(#"{"instances":[[1]]}"#.utf8)))
        #expect(kserve.pairingID == "e-1" && kserve.component == "transformer")
    }
}
