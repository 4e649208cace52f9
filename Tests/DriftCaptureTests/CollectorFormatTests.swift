import Foundation
import Testing

@testable import DriftCapture

/// One golden case of Fixtures/collector_cases.json (written by generate_collector_fixtures.py).
struct CollectorCase: CustomTestStringConvertible, Sendable {
    struct Expected: Sendable {
        var kind: String?
        var pairingID: String?
        var model: String?
        var source: String?
        var modelVersion: String?
        var inputs: [PayloadRow] = []
        var outputs: [PayloadRow] = []
        var errorPath: String?
        var errorContains: String?
        /// Checked when the case names it: seconds since 1970, or nil for "no time" (dated when read).
        var checksTime = false
        var time: Double?
    }
    var name: String
    var line: String
    var format: CaptureLineFormat?
    var records: [Expected]
    var testDescription: String { name }

    static let all: [CollectorCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/collector_cases.json")
        guard let data = try? Data(contentsOf: url), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let cases = root["cases"] as? [[String: Any]]
        else { return [] }
        return cases.map { c in
            CollectorCase(
                name: c["name"] as? String ?? "", line: c["line"] as? String ?? "",
                format: (c["format"] as? String).flatMap(CaptureLineFormat.init(rawValue:)),
                records: (c["records"] as? [[String: Any]] ?? []).map(expected))
        }
    }()

    static func expected(_ r: [String: Any]) -> Expected {
        Expected(
            kind: r["kind"] as? String, pairingID: r["pairing_id"] as? String, model: r["model"] as? String,
            source: r["source"] as? String, modelVersion: r["model_version"] as? String,
            inputs: rows(r["inputs"]), outputs: rows(r["outputs"]),
            errorPath: r["error_path"] as? String, errorContains: r["error_contains"] as? String,
            checksTime: r.keys.contains("time"), time: (r["time"] as? NSNumber)?.doubleValue)
    }

    static func rows(_ v: Any?) -> [PayloadRow] {
        (v as? [[[Any]]] ?? []).map { fields in
            PayloadRow(
                fields: fields.map { f in
                    (
                        f[0] as? String ?? "",
                        (f[1] as? [Any] ?? []).map { x -> Scalar in
                            if let s = x as? String { return .string(s) }
                            if let n = x as? NSNumber { return .number(n.doubleValue) }
                            return .null
                        }
                    )
                })
        }
    }
}

@Suite("Collector formats: SageMaker CSV / JSON Lines / JSON, Azure ML payload logging, KServe storage logger")
struct CollectorFormatTests {
    @Test func fixturesLoaded() { #expect(CollectorCase.all.count == 19) }

    @Test(arguments: CollectorCase.all)
    func matchesGolden(_ c: CollectorCase) throws {
        let results = try CaptureLineDecoder.records(Data(c.line.utf8), format: c.format)
        #expect(results.count == c.records.count)
        for (result, want) in zip(results, c.records) {
            switch result {
            case .failure(let e):
                #expect(want.errorPath != nil, "unexpected error: \(e)")
                if let path = want.errorPath { #expect(e.path == path, "\(e)") }
                if let text = want.errorContains { #expect(e.problem.contains(text), "\(e)") }
            case .success(let r):
                #expect(want.errorPath == nil, "expected an error at \(want.errorPath ?? "")")
                #expect(r.kind.rawValue == want.kind)
                #expect(r.pairingID == want.pairingID)
                #expect(r.source.rawValue == want.source)
                if let m = want.model { #expect(r.model == m) }
                if let v = want.modelVersion { #expect(r.modelVersion == v) }
                #expect(r.inputs == want.inputs)
                #expect(r.outputs == want.outputs)
                if want.checksTime {
                    if let t = want.time {
                        #expect(abs((r.time?.timeIntervalSince1970 ?? 0) - t) < 1e-6, "time \(String(describing: r.time))")
                    } else {
                        #expect(r.time == nil)
                    }
                }
            }
        }
    }

    @Test func quotedCSVIsThreeFields() throws {
        let rows = try CSVPayload.rows(Data(#"12.5,"New York, NY",east"#.utf8), path: "body", limits: .init())
        #expect(rows == [PayloadRow(fields: [("", [.number(12.5), .string("New York, NY"), .string("east")])])])
        let records = try CSVReader.records(Data("a,\"b\r\nc\"\r\n\r\n\"\",x\n".utf8), path: "body", maxRecords: 10, maxFields: 10, maxFieldBytes: 10)
        #expect(records == [["a", "b\r\nc"], [nil, "x"]])
    }

    @Test func malformedCSVNamesThePath() {
        #expect(
            throws: CaptureDecodeError(
                path: "body", problem: "is not valid CSV: line 2 opens a quoted field that is never closed (RFC 4180)", reason: .malformed)
        ) {
            try CSVPayload.rows(Data("1,2\n3,\"open\n4".utf8), path: "body", limits: .init())
        }
    }

    @Test func csvBodiesAreBounded() {
        var limits = CaptureLimits()
        limits.maxRowsPerRequest = 2
        #expect(throws: CaptureDecodeError.self) { try CSVPayload.rows(Data("1\n2\n3\n".utf8), path: "body", limits: limits) }
        limits = CaptureLimits()
        limits.maxStringBytes = 4
        #expect(throws: CaptureDecodeError.self) { try CSVPayload.rows(Data("1,abcde".utf8), path: "body", limits: limits) }
        #expect(throws: CaptureDecodeError.self) { try CSVPayload.rows(Data("1,\"abcde\"".utf8), path: "body", limits: limits) }
        #expect((try? CSVPayload.rows(Data("1,\"abcd\"".utf8), path: "body", limits: limits).count) == 1, "a field of exactly the limit is kept")
        limits = CaptureLimits()
        limits.maxElementsPerRequest = 100
        let commas = Data(String(repeating: ",", count: 1000).utf8)
        do {
            _ = try CSVPayload.rows(commas, path: "body", limits: limits)
            Issue.record("a body of bare commas over the field limit must be refused")
        } catch let e as CaptureDecodeError {
            #expect(e.reason == .tooLarge)
        } catch { Issue.record("\(error)") }
    }

    @Test func batchLinesAreRefusedBySingleRecordDecode() {
        #expect(throws: CaptureDecodeError.self) { try CaptureLineDecoder.decode(Data("[]".utf8)) }
        #expect((try? CaptureLineDecoder.records(Data("[]".utf8)))?.isEmpty == true)
        #expect(throws: CaptureDecodeError.self) { try CaptureLineDecoder.records(Data("42".utf8)) }
    }
}
