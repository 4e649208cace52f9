import DriftCapture
import DriftCommon
import DriftTestSupport
import Foundation
import Testing

@Suite("Ground-truth label records")
struct GroundTruthDecoderTests {
    let now = Date(timeIntervalSince1970: 1_796_112_000)  // 2026-12-01T08:00:00Z
    let limits = CaptureLimits()

    func decode(_ line: String, model: String? = "fraud") throws -> GroundTruthLabel {
        try GroundTruthDecoder.record(Data(line.utf8), model: model, limits: limits, now: now)
    }

    func refusal(_ line: String, model: String? = "fraud") -> CaptureDecodeError? {
        do {
            _ = try decode(line, model: model)
            return nil
        } catch {
            return error as? CaptureDecodeError
        }
    }

    @Test func labelsBecomeTextAndNumbersAsTheyAre() throws {
        #expect(try decode(#"{"request_id": "a", "label": "fraud"}"#) == GroundTruthLabel(model: "fraud", requestID: "a", label: "fraud"))
        #expect(try decode(#"{"request_id": "a", "label": 1}"#) == GroundTruthLabel(model: "fraud", requestID: "a", label: "1", value: 1))
        #expect(try decode(#"{"request_id": "a", "label": 1.0}"#).label == "1", "an integral double reads as its integer")
        #expect(try decode(#"{"request_id": "a", "label": "0.25"}"#).value == 0.25)
        #expect(try decode(#"{"request_id": "a", "label": false}"#) == GroundTruthLabel(model: "fraud", requestID: "a", label: "false"))
        #expect(try decode(#"{"request_id": "a", "value": -3.5e2}"#) == GroundTruthLabel(model: "fraud", requestID: "a", label: "-350", value: -350))
        #expect(try decode(#"{"request_id": 42, "label": "x"}"#).requestID == "42")
        #expect(try decode(#"{"id": "batch-7/3", "label": "x"}"#).requestID == "batch-7/3")
        #expect(try decode(#"{"request_id": "a", "label": "x", "model": "m2"}"#, model: nil).model == "m2")
        let timed = try decode(#"{"request_id": "a", "label": "x", "time": "2026-11-30T10:00:00.5Z"}"#)
        #expect(timed.time == Date(timeIntervalSince1970: 1_796_032_800.5))
        #expect(try decode(#"{"request_id": "a", "label": "x", "time": 1796032800}"#).time == Date(timeIntervalSince1970: 1_796_032_800))
    }

    /// SageMaker Model Monitor's ground-truth record (AWS, "Ingest Ground Truth labels and merge them with predictions").
    @Test func sageMakerGroundTruthRecords() throws {
        let csv = try decode(
            #"{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "aaaa-bbbb-cccc"}, "eventVersion": "0"}"#)
        #expect(csv == GroundTruthLabel(model: "fraud", requestID: "aaaa-bbbb-cccc", label: "1", value: 1))
        let json = try decode(
            #"{"groundTruthData": {"data": "\"cat\"", "encoding": "JSON"}, "eventMetadata": {"eventId": "e"}, "eventVersion": "0"}"#)
        #expect(json.label == "cat")
        #expect(
            refusal(#"{"groundTruthData": {"data": "1,2", "encoding": "CSV"}, "eventMetadata": {"eventId": "e"}}"#)?.path == "groundTruthData.data")
        #expect(refusal(#"{"groundTruthData": {"data": "MQ==", "encoding": "BASE64"}, "eventMetadata": {"eventId": "e"}}"#)?.reason == .unsupported)
        #expect(refusal(#"{"groundTruthData": {"data": "1"}, "eventMetadata": {}}"#)?.path == "eventMetadata.eventId")
    }

    @Test func everyBadRecordIsARefusalNamingItsField() {
        let cases: [(String, String, CaptureDecodeError.Reason)] = [
            (#"{"label": 1}"#, "request_id", .invalidValue),
            (#"{"request_id": "", "label": 1}"#, "request_id", .invalidValue),
            (#"{"request_id": [1], "label": 1}"#, "request_id", .invalidValue),
            (#"{"request_id": "a"}"#, "label", .invalidValue),
            (#"{"request_id": "a", "label": 1, "value": 1}"#, "value", .invalidValue),
            (#"{"request_id": "a", "label": null}"#, "label", .invalidValue),
            (#"{"request_id": "a", "label": ""}"#, "label", .invalidValue),
            (#"{"request_id": "a", "label": {"k": 1}}"#, "label", .invalidValue),
            (#"{"request_id": "a", "value": "3"}"#, "value", .invalidValue),
            (#"{"request_id": "a", "value": 1e999}"#, "line", .invalidValue),
            (#"{"request_id": "a\u0000", "label": 1}"#, "request_id", .invalidValue),
            (#"{"request_id": "a", "label": "\u0000"}"#, "label", .invalidValue),
            (#"{"request_id": "\#(String(repeating: "é", count: 129))", "label": 1}"#, "request_id", .tooLarge),
            (#"{"request_id": "a", "label": "\#(String(repeating: "x", count: 4097))"}"#, "label", .tooLarge),
            (#"{"request_id": "a", "label": 1, "time": "yesterday"}"#, "time", .time),
            (#"{"request_id": "a", "label": 1, "time": 1e300}"#, "time", .time),
            (#"{"request_id": "a", "label": 1, "time": -5}"#, "time", .time),
            (#"{"request_id": "a", "label": 1, "time": "2026-12-03T00:00:00Z"}"#, "time", .time),
            (#"{"request_id": "a", "label": 1, "model": "other"}"#, "model", .invalidValue),
            (#"{"request_id": "a", "label": 1, "model": 7}"#, "model", .invalidValue),
            (#"[1, 2]"#, "line", .invalidValue),
            (#"{"request_id": "a", "label": 1"#, "line", .malformed),
            (String(repeating: "[", count: 1000), "line", .malformed)
        ]
        for (line, path, reason) in cases {
            let e = refusal(line)
            #expect(e?.path == path, "\(line.prefix(60)): \(String(describing: e))")
            #expect(e?.reason == reason, "\(line.prefix(60)): \(String(describing: e))")
        }
        #expect(refusal(#"{"request_id": "a", "label": 1}"#, model: nil)?.path == "model", "no model in the record or the request")
    }

    @Test func tableRowsFollowTheSameRules() throws {
        func row(_ id: String?, label: String? = nil, value: String? = nil, time: String? = nil) throws -> GroundTruthLabel {
            try GroundTruthDecoder.row(requestID: id, label: label, value: value, time: time, model: nil, given: "fraud", limits: limits, now: now)
        }
        #expect(try row("r", label: "1") == GroundTruthLabel(model: "fraud", requestID: "r", label: "1", value: 1))
        #expect(try row("r", value: " 2.5 ") == GroundTruthLabel(model: "fraud", requestID: "r", label: "2.5", value: 2.5))
        #expect(try row("r", label: "x", time: "1796032800").time == Date(timeIntervalSince1970: 1_796_032_800))
        #expect(try row("r", label: "x", time: "2026-11-30T10:00:00Z").time == Date(timeIntervalSince1970: 1_796_032_800))
        #expect(try row("r", label: " 1 ").label == "1", "white space around a label is not part of it")
        for (id, label, value, time, field) in [
            (nil, "1", nil, nil, "request_id"), ("r", nil, nil, nil, "label"), ("r", nil, "abc", nil, "value"),
            ("r", nil, "inf", nil, "value"), ("r", "x", "1", nil, "value"), ("r", "x", nil, "soon", "time")
        ] as [(String?, String?, String?, String?, String)] {
            #expect(throws: CaptureDecodeError.self) { try row(id, label: label, value: value, time: time) }
            do { _ = try row(id, label: label, value: value, time: time) } catch let e as CaptureDecodeError {
                #expect(e.path == field, "\(e)")
            } catch { Issue.record("\(error)") }
        }
    }

    /// Random near-JSON never traps: every line is a label or a refusal.
    @Test func hostileLinesAreTotal() {
        var h = HostileInput(seed: 20)
        var labels = 0
        var refusals = 0
        for _ in 0..<3000 {
            let keys = ["\"request_id\"", "\"id\"", "\"label\"", "\"value\"", "\"time\"", "\"model\"", "\"groundTruthData\"", "\"eventMetadata\""]
            let fields = (0..<h.int(5)).map { _ in h.pick(keys + [h.string()]) + ":" + h.value(depth: 3) }
            let line = (h.chance(0.5) ? #"{"request_id": "r", "# : "{") + fields.joined(separator: ",") + "}"
            do {
                _ = try decode(line)
                labels += 1
            } catch is CaptureDecodeError {
                refusals += 1
            } catch {
                Issue.record("not a CaptureDecodeError: \(error) for \(line.prefix(80))")
            }
        }
        #expect(labels > 0 && refusals > 0 && labels + refusals == 3000, "\(labels) labels, \(refusals) refusals")
    }
}
