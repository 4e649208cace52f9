import DriftCapture
import DriftCore
import DriftStats
import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// A monitor with a 128-dimensional tensor input, end to end: KServe capture → windows → components,
/// reconstruction error and MMD → stored results, report and policy.
@Suite("Tensor features in monitors", .serialized)
struct TensorMonitorTests {
    static let config = "sample-data/embeddings/monitors.yaml"

    @Test func theShiftedTopicIsDetectedAndTheWindowsBeforeItAreNot() async throws {
        let schema = try WorkerSchema(prefix: "tensor")
        defer { schema.drop() }
        let ingest = try await onBlockingPool {
            try CLI.run(
                [
                    "ingest", "sample-data/embeddings/embedding-traffic.jsonl.gz", "--model", "ticket-router",
                    "--format", "kserve", "--config", Self.config, "--migrate"
                ], environment: schema.env)
        }
        #expect(ingest.status == 0 && ingest.stdout.contains("ingested 10800 events"), "\(ingest.stdout)\(ingest.stderr)")
        let backfill = try await onBlockingPool {
            try CLI.run(
                [
                    "backfill", "--monitor", "ticket-router-embeddings", "--from", "2026-11-20T06:00:00Z",
                    "--to", "2026-11-20T18:00:00Z", "--config", Self.config
                ], environment: schema.env)
        }
        #expect(backfill.status == 0, "\(backfill.stderr)")
        #expect(backfill.stdout.contains("12 windows: 6 drifted, 6 without drift"), "\(backfill.stdout)")
        let conn = try schema.connect()
        let runs = try conn.query("SELECT window_start, drifted, feature_count FROM drift_runs ORDER BY window_start", name: "t")
        let shift = ISO8601DateFormatter().date(from: "2026-11-20T12:00:00Z")!
        for r in runs {
            let start = try r.date("window_start")
            #expect(try r.bool("drifted") == (start >= shift), "\(start)")
            #expect(try r.int("feature_count") == 2, "a tensor counts as one feature, not one per component")
        }
        // the tensor row and its components, with the detail the report draws
        let rows = try conn.query(
            """
            SELECT f.feature, f.kind, f.drifted, f.detail::text AS detail FROM drift_feature_results f JOIN drift_runs r ON r.id = f.run_id
             WHERE r.window_start = '2026-11-20T12:00:00Z' ORDER BY f.feature
            """, name: "t")
        let tensorRow = try #require(rows.first { try $0.string("kind") == "tensor" })
        let detail = try #require(FeatureDetail.parse(try tensorRow.string("detail"))?.tensor)
        #expect(try tensorRow.bool("drifted") && detail.dimension == 128 && detail.method == "pca")
        #expect((detail.explainedShare ?? 0) >= 0.9 && detail.components.count >= 2)
        #expect((detail.mmdPValue ?? 1) < 0.025, "MMD sees the moved topic")
        // the reconstruction band comes from reference chunks in sample order (uniformly random): present, not asserted on
        #expect(detail.reconstructionError! > 0 && detail.reconstructionLower! < detail.reconstructionUpper!)
        let components = try rows.filter { try $0.string("feature").hasPrefix("embedding.pc") }
        #expect(components.count == detail.components.count && components.allSatisfy { (try? $0.string("kind")) == "numeric" })
        // the report shows the tensor with its components
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tensor-\(UUID().uuidString).html").path
        let report = try await onBlockingPool {
            try CLI.run(
                [
                    "report", "--monitor", "ticket-router-embeddings", "--window", "2026-11-20T12:00:00Z",
                    "--out", out, "--config", Self.config
                ], environment: schema.env)
        }
        #expect(report.status == 0 && report.stdout.contains("2 of 2 features drifted"), "\(report.stdout)\(report.stderr)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains("data-kind=\"tensor\"") && html.contains("data-mmd2=") && html.contains("PSI per principal component"))
        #expect(html.contains("id=\"embedding.pc1\"") || html.contains("data-feature=\"embedding.pc1\""))
    }

    @Test func aTensorOfTheWrongSizeIsRejectedWithItsRow() throws {
        let m = try MonitorsFile.load(path: repoRoot.appendingPathComponent(Self.config).path)
        let capture = ServingCapture(monitors: m)
        let line =
            #"{"specversion":"1.0","type":"org.kubeflow.serving.inference.request","id":"x","source":"s","time":"2026-11-20T07:00:00Z","inferenceservicename":"ticket-router","data":{"inputs":[{"name":"embedding","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}}"#
        let r = try capture.events(from: try CaptureLineDecoder.decode(Data(line.utf8), format: .kserve), model: "ticket-router")
        #expect(r.events.isEmpty && r.rejected.count == 2)
        #expect(r.rejected.first == "row 0: tensor 'embedding' has 3 elements; its shape needs 128")
        let good = "[" + (0..<128).map { String(Double($0) / 100) }.joined(separator: ",") + "]"
        let ok = line.replacingOccurrences(
            of: #""shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]"#, with: #""shape":[1,128],"datatype":"FP64","data":\#(good)"#)
        let e = try capture.events(from: try CaptureLineDecoder.decode(Data(ok.utf8), format: .kserve), model: "ticket-router")
        #expect(e.events.count == 1 && e.events[0].numeric.count == 129 && e.events[0].numeric[1] == 0 && e.events[0].numeric[128] == 1.27)
        #expect(e.events[0].numeric[0].isNaN, "the confidence (an output) is not in a request")
    }

    @Test func tensorConfigurationProblemsAreNamed() {
        let yaml = """
            monitors:
              - name: m
                model: x
                features:
                  - {name: e, kind: tensor}
                  - {name: f, kind: tensor, shape: [0]}
                  - {name: g, kind: tensor, shape: [16], tensor: {method: umap, mmd_permutations: 10}}
                  - {name: h, kind: numeric, shape: [3]}
                reference: {file: ref.csv}
                statistics: {alpha: 0.01}
            """
        do {
            _ = try MonitorsFile.parse(yaml, file: "monitors.yaml")
            Issue.record("expected problems")
        } catch let e as ConfigError {
            let text = e.description
            for m in [
                "tensor feature 'e' needs a `shape`", "tensor feature 'f': `shape` must be whole numbers", "`method` must be pca or random",
                "feature 'h': `shape` and `tensor` belong to `kind: tensor` features", "needs a reference of captured traffic",
                "10 MMD permutations cannot give p < α/2 = 0.005; use at least 200"
            ] {
                #expect(text.contains(m), "\(m) in \(text)")
            }
        } catch { Issue.record("\(error)") }
    }
}
