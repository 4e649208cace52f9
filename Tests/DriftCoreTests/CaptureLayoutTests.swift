import DriftCapture
import DriftCommon
import DriftCore
import DriftStats
import Foundation
import Testing

/// The per-request shortcuts of the capture path: a V1 request's instances reuse one key order while their keys
/// repeat, and `ServingCapture` finds each feature's field once per layout. Both must give exactly what decoding
/// every row on its own gives — also when the instances' keys differ, repeat or go missing from row to row.
@Suite("capture: layouts shared by the rows of one request")
struct CaptureLayoutTests {
    static let monitorsYAML = """
        monitors:
          - name: shop
            model: shop
            window: PT1H
            features:
              - {name: a, kind: numeric}
              - {name: b, kind: numeric}
              - {name: c, kind: categorical}
              - {name: t, kind: tensor, shape: [2]}
            reference: {rolling: {offset: P7D}}
            statistics: {alpha: 0.05}
        """

    /// What one object row is on its own: the members by key (the last of a repeated key), in ascending key order.
    static func oracle(_ members: [(String, JSONValue)]) -> [String] {
        Dictionary(members, uniquingKeysWith: { _, last in last }).keys.sorted()
    }

    @Test func v1InstancesWithChangingKeysDecodeAsEachAlone() throws {
        var rng = SplitMix64(seed: 18)
        let names = ["a", "b", "c", "é", "e\u{301}", "zz", "t"]
        for round in 0..<300 {
            // a run of rows with one layout, then rows whose keys are reordered, repeated, added or dropped
            var instances: [[(String, JSONValue)]] = []
            let base = (0..<Int(rng.next() % 5 + 1)).map { _ in names[Int(rng.next() % UInt64(names.count))] }
            for r in 0..<Int(rng.next() % 6 + 1) {
                var keys = base
                if r > 0 && rng.next() % 3 == 0 { keys.shuffle(using: &rng) }
                if rng.next() % 4 == 0 { keys.append(names[Int(rng.next() % UInt64(names.count))]) }
                if rng.next() % 5 == 0 && !keys.isEmpty { keys.removeLast() }
                instances.append(keys.enumerated().map { ($1, .int(round * 100 + r * 10 + $0)) })
            }
            let body = JSONValue.object([("instances", .array(instances.map { .object($0) }))]).rendered()
            let decoded = try PayloadDecoder.decode(Data(body.utf8))
            #expect(decoded.rows.count == instances.count)
            for (row, members) in zip(decoded.rows, instances) {
                let lastByKey = Dictionary(members, uniquingKeysWith: { _, last in last })
                // byte for byte: a repeated key keeps its first spelling ("é" and "e\u{301}" are one key)
                #expect(row.fields.map { Array($0.name.utf8) } == Self.oracle(members).map { Array($0.utf8) }, "round \(round): \(body)")
                for field in row.fields {
                    #expect(field.values == [.number(lastByKey[field.name]!.number!)], "round \(round): \(field.name) in \(body)")
                }
            }
        }
    }

    @Test func eachRowsFeaturesAreFoundWhateverItsLayout() throws {
        let capture = ServingCapture(monitors: try MonitorsFile.parse(Self.monitorsYAML, file: "monitors.yaml"))
        // rows 0–1 share a layout; row 2 reorders it; row 3 lacks `a` and adds a key; row 4 repeats row 3's layout;
        // row 5 goes back to the first one; row 6 repeats `b` (the last value counts)
        let body = #"""
            {"instances": [
              {"a": 1, "b": 2, "c": "x", "t": [1, 2]},
              {"a": 3, "b": 4, "c": "y", "t": [3, 4]},
              {"t": [5, 6], "c": "z", "b": 6, "a": 5},
              {"b": 8, "c": "w", "extra": 0, "t": [7, 8]},
              {"b": 10, "c": "v", "extra": 1, "t": [9, 10]},
              {"a": 11, "b": 12, "c": "u", "t": [11, 12]},
              {"a": 13, "b": 0, "c": "s", "b": 14, "t": [13, 14]}
            ]}
            """#
        let ce = try InferenceCloudEvent.binary(
            headers: [
                ("ce-specversion", "1.0"), ("ce-type", "org.kubeflow.serving.inference.request"), ("ce-id", "r1"),
                ("ce-source", "shop-predictor"), ("ce-inferenceservicename", "shop"), ("ce-component", "predictor")
            ],
            body: Data(body.utf8))
        let result = try capture.events(from: ce)
        #expect(result.rejected.isEmpty)
        #expect(result.events.count == 7)
        let a = result.events.map { $0.numeric[0] }
        let b = result.events.map { $0.numeric[1] }
        let t = result.events.map { Array($0.numeric[2...3]) }
        #expect(a[0] == 1 && a[1] == 3 && a[2] == 5 && a[3].isNaN && a[4].isNaN && a[5] == 11 && a[6] == 13)
        #expect(b == [2, 4, 6, 8, 10, 12, 14])
        #expect(t == [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14]])
        #expect(result.events.map { $0.categorical[0] } == ["x", "y", "z", "w", "v", "u", "s"])
    }
}
