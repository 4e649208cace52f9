import DriftCore
import DriftStats
import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// Model performance as a user meets it (issue 20, acceptance item 2): predictions captured over HTTP as KServe
/// CloudEvents, ground truth posted late to `POST /v1/labels`, `run-once` re-scoring the window as labels arrive, and
/// the policies on performance firing their webhook once — all with the real binary, a real PostgreSQL and real HTTP.
@Suite("Model performance end to end: late labels, estimates and performance policies", .serialized)
struct PerformanceEndToEndTests {
    /// One captured prediction: the input feature, the score, and (part A) the label the test posts for it later.
    struct Prediction {
        var id = ""
        var x: Double
        var score: Double
        var label = 0
    }

    /// Seeded draws (SplitMix64), so every run sends the same traffic and labels.
    struct Draws {
        var rng: SplitMix64
        init(seed: UInt64) { rng = SplitMix64(seed: seed) }
        mutating func uniform() -> Double { Double(rng.next() >> 11) * 0x1p-53 }
        /// Box–Muller.
        mutating func gaussian(mean: Double = 0, sd: Double = 1) -> Double {
            let u = max(uniform(), 0x1p-53)
            return mean + sd * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * uniform())
        }
        mutating func bernoulli(_ p: Double) -> Int { uniform() < p ? 1 : 0 }
    }

    static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
    /// Six decimals, so the text sent is short and reads back as the same number.
    static func rounded(_ v: Double) -> Double { (v * 1e6).rounded() / 1e6 }

    /// The labelled reference: x ~ N(0, 1), score = σ(4x), label ~ Bernoulli(score) — calibrated scores of a good model.
    static func writeReference(_ scratch: Scratch) -> String {
        var d = Draws(seed: 20)
        var text = "x,score,label\n"
        for _ in 0..<2000 {
            let x = rounded(d.gaussian())
            let s = rounded(sigmoid(4 * x))
            text += "\(x),\(s),\(d.bernoulli(s))\n"
        }
        return scratch.write("reference.csv", text)
    }

    /// A monitors file: one monitor per (name, policy.on), each watching the model of its name, with the `performance:`
    /// block of the acceptance item, `policy` (plus `on` and `actions: [retrain]`) and a `retrain` webhook to `hookPort`.
    static func writeConfig(
        _ scratch: Scratch, reference: String, hookPort: Int, monitors: [(name: String, on: String)], policy: String = "consecutive: 1"
    ) -> String {
        var text = "monitors:\n"
        for m in monitors {
            text += """
                  - name: \(m.name)
                    model: \(m.name)
                    namespace: payments
                    window: PT1H
                    lateness: PT10M
                    sample_size: 500
                    min_sample: 100
                    features:
                      - {name: x, kind: numeric}
                      - {name: score, kind: numeric, source: output}
                    reference: {file: \(reference)}
                    performance: {task: binary_classification, prediction: score, min_labels: 200, label_delay: P2D, metrics: [accuracy, roc_auc, f1]}
                    policy: {\(policy), on: \(m.on), actions: [retrain]}
                    actions:
                      retrain: {preset: webhook, url: "http://127.0.0.1:\(hookPort)/hooks/retrain", max_attempts: 1}

                """
        }
        return scratch.write("monitors.yaml", text)
    }

    /// The hour that starts a day before the current hour: recent enough for the capture's default event age.
    static func windowStart() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 - 86_400)
    }

    /// Sends `predictions` to `POST /v1/capture` as a KServe payload logger does, in batches of 50: a request event
    /// (V1 `instances` with x) and a response event (`predictions` with the score) under one ce-id `<prefix>-<b>`,
    /// timed within the hour from `start`. Row k of batch b is stored as request id `<prefix>-<b>/<k>`; those ids are
    /// set on the returned predictions.
    static func capture(port: Int, model: String, prefix: String, _ predictions: [Prediction], start: Date) async throws -> [Prediction] {
        var out = predictions
        let batches = stride(from: 0, to: predictions.count, by: 50).map { $0..<min($0 + 50, predictions.count) }
        for (b, range) in batches.enumerated() {
            let id = "\(prefix)-\(b)"
            let time = PGTimeText.iso(start.addingTimeInterval(Double(b) * 3000 / Double(batches.count) + 1))
            let instances = range.map { #"{"x": \#(predictions[$0].x)}"# }.joined(separator: ", ")
            let scores = range.map { #"{"score": \#(predictions[$0].score)}"# }.joined(separator: ", ")
            for (type, body) in [
                ("org.kubeflow.serving.inference.request", #"{"instances": [\#(instances)]}"#),
                ("org.kubeflow.serving.inference.response", #"{"predictions": [\#(scores)]}"#)
            ] {
                let (status, answer) = try await postCloudEvent(port: port, type: type, id: id, time: time, service: model, body: Data(body.utf8))
                try #require(status == 200, "capture \(id) \(type): \(status) \(answer)")
            }
            for (k, i) in range.enumerated() { out[i].id = "\(id)/\(k)" }
        }
        return out
    }

    /// Posts the labels of `predictions` to `POST /v1/labels?model=` as JSON Lines; all must be stored.
    static func postLabels(port: Int, model: String, _ predictions: ArraySlice<Prediction>) throws {
        let body = predictions.map { #"{"request_id": "\#($0.id)", "label": \#($0.label)}"# }.joined(separator: "\n")
        let reply = try RawHTTP.post(
            port: port, path: "/v1/labels?model=\(model)", headers: [("Content-Type", "application/x-ndjson")], body: Data(body.utf8))
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any], "\(reply.body)")
        try #require(reply.status == 200 && answer["stored"] as? Int == predictions.count, "labels: \(reply.status) \(reply.body)")
    }

    /// `run-once` at `now`, looking back exactly to `start` (one window), with `extra` arguments; it dispatches the outbox
    /// after the checks.
    static func runOnce(_ schema: WorkerSchema, config: String, start: Date, now: Date, extra: [String] = []) async throws -> String {
        let args =
            ["run-once", "--config", config, "--now", PGTimeText.iso(now), "--lookback", "PT\(Int(now.timeIntervalSince(start) / 60))M"] + extra
        let env = schema.env
        let r = try await onBlockingPool { try CLI.run(args, environment: env) }
        #expect(r.status == 0, "run-once: \(r.stdout)\(r.stderr)")
        return r.stdout
    }

    /// One stored figure of `performance_results`.
    struct Figure {
        var value: Double
        var lower: Double?
        var upper: Double?
        var alert: Bool
        var labels: Int
        var coverage: Double?
        var band: String { "[\(lower.map { String(format: "%.3f", $0) } ?? "-"), \(upper.map { String(format: "%.3f", $0) } ?? "-")]" }
    }

    /// The window's figures by "kind metric" (e.g. "realized accuracy").
    static func figures(_ c: PGConnection, monitor: String, start: Date) throws -> [String: Figure] {
        var out: [String: Figure] = [:]
        for r in try c.query(
            """
            SELECT kind, metric, value, threshold_lower, threshold_upper, alert, labels, coverage FROM performance_results
             WHERE monitor = $1 AND window_start = $2
            """, [monitor, start], name: "t")
        {
            out["\(try r.string("kind")) \(try r.string("metric"))"] = Figure(
                value: try r.double("value"), lower: try r.optionalDouble("threshold_lower"), upper: try r.optionalDouble("threshold_upper"),
                alert: try r.bool("alert"), labels: try r.int("labels"), coverage: try r.optionalDouble("coverage"))
        }
        return out
    }

    /// The window's `performance_windows` row.
    static func window(_ c: PGConnection, monitor: String, start: Date) throws -> (
        predictions: Int, labels: Int, coverage: Double?, revisions: Int, dropped: Bool, reasons: String
    ) {
        let rows = try c.query(
            """
            SELECT predictions, labels, coverage, revisions, dropped, array_to_string(reasons, '; ') AS reasons
              FROM performance_windows WHERE monitor = $1 AND window_start = $2
            """, [monitor, start], name: "t")
        let r = try #require(rows.first, "a performance_windows row for \(monitor)")
        return (
            try r.int("predictions"), try r.int("labels"), try r.optionalDouble("coverage"), try r.int("revisions"), try r.bool("dropped"),
            try r.string("reasons")
        )
    }

    /// The window's `drift_runs` row: drifted, and its decision's fired, trigger, performance reasons and streak.
    static func run(_ c: PGConnection, monitor: String, start: Date) throws -> (
        drifted: Bool, fired: Bool, decision: String, trigger: String?, reasons: String, streak: Int?
    ) {
        let rows = try c.query(
            """
            SELECT drifted, (decision->>'fired')::bool AS fired, decision->>'decision' AS decision, decision->>'trigger' AS trigger,
                   coalesce((SELECT string_agg(r, '; ') FROM jsonb_array_elements_text(decision->'performance_reasons') r), '') AS reasons,
                   (decision->>'streak')::int AS streak
              FROM drift_runs WHERE monitor = $1 AND window_start = $2
            """, [monitor, start], name: "t")
        let r = try #require(rows.first, "a drift_runs row for \(monitor)")
        return (
            try r.bool("drifted"), try r.bool("fired"), try r.string("decision"), try r.optionalString("trigger"), try r.string("reasons"),
            try r.optionalInt("streak")
        )
    }

    /// The outbox rows of `monitor`: action id, action, state, the payload's trigger and performance reasons.
    static func outbox(_ c: PGConnection, monitor: String) throws -> [(
        actionID: String, action: String, state: String, trigger: String?, reasons: String
    )] {
        try c.query(
            """
            SELECT action_id, action, state, payload->>'trigger' AS trigger,
                   coalesce((SELECT string_agg(r, '; ') FROM jsonb_array_elements_text(payload->'performance_reasons') r), '') AS reasons
              FROM trigger_outbox WHERE monitor = $1 ORDER BY action_id
            """, [monitor], name: "t"
        ).map { r in
            (try r.string("action_id"), try r.string("action"), try r.string("state"), try r.optionalString("trigger"), try r.string("reasons"))
        }
    }

    /// A model wrong where it is sure: inputs and confident scores like the reference's, but 90 % of the labels contradict
    /// the score, the rest follow it.
    static func wrong(_ d: inout Draws, count: Int) -> [Prediction] {
        (0..<count).map { _ -> Prediction in
            let x = rounded(d.gaussian())
            let s = rounded(sigmoid(4 * x))
            return Prediction(x: x, score: s, label: d.uniform() < 0.9 ? (s >= 0.5 ? 0 : 1) : d.bernoulli(s))
        }
    }

    /// A model whose labels agree with its scores (label = score ≥ 0.5): its realized figures are at or above their bands.
    static func agreeing(_ d: inout Draws, count: Int) -> [Prediction] {
        (0..<count).map { _ -> Prediction in
            let x = rounded(d.gaussian())
            let s = rounded(sigmoid(4 * x))
            return Prediction(x: x, score: s, label: s >= 0.5 ? 1 : 0)
        }
    }

    /// Accuracy of `score >= 0.5` against the label, over `predictions`: what the realized figure must be.
    static func accuracy(_ predictions: ArraySlice<Prediction>) -> Double {
        Double(predictions.filter { ($0.score >= 0.5 ? 1 : 0) == $0.label }.count) / Double(predictions.count)
    }

    @Test func lateLabelsTurnConfidentEstimatesIntoARealizedDropThatFiresTheRetrainOnce() async throws {
        let schema = try WorkerSchema(prefix: "perf")
        defer { schema.drop() }
        let scratch = try Scratch()
        let hook = RecordingHTTPServer()
        try await hook.start()
        let config = Self.writeConfig(
            scratch, reference: Self.writeReference(scratch), hookPort: hook.port, monitors: [("scorer", "performance_drop")])
        let server = try RunningServer(["ingest-server", "--config", config, "--migrate"], environment: schema.env)
        let port = try await server.port()

        // 600 predictions in one hour: the inputs and confident scores look like the reference's, but the model is
        // wrong — 90 % of the labels contradict the score, the rest follow it
        let start = Self.windowStart()
        let end = start.addingTimeInterval(3600)
        var d = Draws(seed: 21)
        var predictions = Self.wrong(&d, count: 600)
        predictions = try await Self.capture(port: port, model: "scorer", prefix: "a", predictions, start: start)
        // the labels arrive in a shuffled order
        for i in stride(from: predictions.count - 1, to: 0, by: -1) { predictions.swapAt(i, Int(d.rng.next() % UInt64(i + 1))) }
        let now = end.addingTimeInterval(15 * 60)
        let conn = try schema.connect()
        let actionID = "scorer:\(PGTimeText.iso(start)):retrain"

        // 1. the window's check, no labels yet: estimated figures only, in their bands (confident scores); no retrain
        _ = try await Self.runOnce(schema, config: config, start: start, now: now)
        let first = try Self.figures(conn, monitor: "scorer", start: start)
        #expect(Set(first.keys) == ["estimated accuracy", "estimated roc_auc", "estimated f1"], "\(first.keys.sorted())")
        #expect(first.values.allSatisfy { !$0.alert }, "the estimates of confident scores hold: \(first)")
        var w = try Self.window(conn, monitor: "scorer", start: start)
        #expect(w.predictions == 600 && w.labels == 0 && w.coverage == 0 && w.revisions == 0 && !w.dropped, "\(w)")
        var r = try Self.run(conn, monitor: "scorer", start: start)
        #expect(!r.fired && r.trigger == "performance_drop" && r.reasons.isEmpty, "\(r)")
        #expect(try Self.outbox(conn, monitor: "scorer").isEmpty)
        #expect(hook.requests.isEmpty)
        let estimated = try #require(first["estimated accuracy"])

        // 2. 150 labels: below min_labels, so still no realized figures; the coverage is stored
        try Self.postLabels(port: port, model: "scorer", predictions[0..<150])
        _ = try await Self.runOnce(schema, config: config, start: start, now: now)
        let second = try Self.figures(conn, monitor: "scorer", start: start)
        #expect(Set(second.keys) == Set(first.keys), "no realized figures below min_labels: \(second.keys.sorted())")
        w = try Self.window(conn, monitor: "scorer", start: start)
        // re-scored at least once (a label that arrived within a second of a re-score's read schedules one more)
        #expect(w.labels == 150 && w.revisions >= 1 && !w.dropped, "\(w)")
        var revisions = w.revisions
        #expect(abs((w.coverage ?? -1) - 0.25) < 1e-12, "coverage 150/600: \(w)")
        let coverage150 = w.coverage ?? .nan
        #expect(second.values.allSatisfy { $0.labels == 150 && abs(($0.coverage ?? -1) - 0.25) < 1e-12 })
        #expect(try Self.outbox(conn, monitor: "scorer").isEmpty)
        #expect(hook.requests.isEmpty)

        // 3. 250 more: 400 labels reach min_labels; realized accuracy is far below its band, the policy fires once
        try Self.postLabels(port: port, model: "scorer", predictions[150..<400])
        let third = try await Self.runOnce(schema, config: config, start: start, now: now)
        #expect(third.contains("run-once: actions 1 delivered, 0 to retry, 0 dead"), "\(third)")
        let realized400 = try Self.figures(conn, monitor: "scorer", start: start)
        #expect(
            Set(realized400.keys) == Set(first.keys).union(["realized accuracy", "realized roc_auc", "realized f1"]), "\(realized400.keys.sorted())")
        let accuracy400 = try #require(realized400["realized accuracy"])
        #expect(abs(accuracy400.value - Self.accuracy(predictions[0..<400])) < 1e-12, "realized accuracy of the 400 labelled predictions")
        #expect(accuracy400.alert && accuracy400.value < (accuracy400.lower ?? 0), "\(accuracy400)")
        #expect(accuracy400.labels == 400)
        #expect(realized400["estimated accuracy"]?.alert == false, "the estimate still holds; the labels tell the truth")
        w = try Self.window(conn, monitor: "scorer", start: start)
        #expect(w.labels == 400 && w.revisions > revisions && w.dropped && w.reasons.contains("realized accuracy"), "\(w)")
        revisions = w.revisions
        r = try Self.run(conn, monitor: "scorer", start: start)
        #expect(r.fired && r.trigger == "performance_drop" && r.reasons.contains("realized accuracy"), "\(r)")
        var rows = try Self.outbox(conn, monitor: "scorer")
        #expect(rows.count == 1, "exactly one retrain: \(rows)")
        #expect(
            rows.first.map { $0.actionID == actionID && $0.action == "retrain" && $0.state == "delivered" && $0.trigger == "performance_drop" }
                == true,
            "\(rows)")
        #expect(rows.first?.reasons.contains("realized accuracy") == true, "the payload names the metric: \(rows)")
        #expect(hook.requests.count == 1, "one delivery: \(hook.requests.map(\.path))")
        let delivery = try #require(hook.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: delivery.body) as? [String: Any])
        #expect(delivery.path == "/hooks/retrain" && body["action_id"] as? String == actionID && body["monitor"] as? String == "scorer", "\(body)")
        // the delivered webhook says why: the trigger and the figure out of its band
        #expect(body["trigger"] as? String == "performance_drop", "\(body)")
        #expect((body["performance_reasons"] as? String)?.contains("realized accuracy") == true, "\(body)")

        // 4. the remaining 200 labels: the realized figures are re-scored on all 600, and nothing fires again
        try Self.postLabels(port: port, model: "scorer", predictions[400..<600])
        let fourth = try await Self.runOnce(schema, config: config, start: start, now: now)
        #expect(fourth.contains("run-once: actions 0 delivered"), "\(fourth)")
        let realized600 = try Self.figures(conn, monitor: "scorer", start: start)
        let accuracy600 = try #require(realized600["realized accuracy"])
        #expect(abs(accuracy600.value - Self.accuracy(predictions[0..<600])) < 1e-12 && accuracy600.labels == 600 && accuracy600.alert)
        w = try Self.window(conn, monitor: "scorer", start: start)
        #expect(w.labels == 600 && w.revisions > revisions && w.coverage == 1, "\(w)")
        rows = try Self.outbox(conn, monitor: "scorer")
        #expect(rows.count == 1 && rows.first?.actionID == actionID, "still exactly one retrain: \(rows)")
        #expect(hook.requests.count == 1, "still one delivery")
        #expect(try schema.count("SELECT count(*) AS n FROM trigger_outbox") == 1)
        print(
            "performance e2e (performance_drop): estimated accuracy \(String(format: "%.3f", estimated.value)) band \(estimated.band) "
                + "alert \(estimated.alert); coverage 0 → \(String(format: "%.3f", coverage150)) (150 labels, no realized figures) → "
                + "400 labels: realized accuracy \(String(format: "%.3f", accuracy400.value)) "
                + "band \(accuracy400.band) alert \(accuracy400.alert), retrain fired → 600 labels: realized accuracy "
                + "\(String(format: "%.3f", accuracy600.value)); outbox rows \(rows.count), webhook deliveries \(hook.requests.count)")
        #expect(server.terminate() == 0)
        await hook.stop()
    }

    @Test func driftAndEstimatedDropFiresOnlyTheDriftedStreamWhoseEstimatesFell() async throws {
        let schema = try WorkerSchema(prefix: "perfb")
        defer { schema.drop() }
        let scratch = try Scratch()
        let hook = RecordingHTTPServer()
        try await hook.start()
        let config = Self.writeConfig(
            scratch, reference: Self.writeReference(scratch), hookPort: hook.port,
            monitors: [("dropping", "drift_and_estimated_drop"), ("holding", "drift_and_estimated_drop")])
        let server = try RunningServer(["ingest-server", "--config", config, "--migrate"], environment: schema.env)
        let port = try await server.port()
        let start = Self.windowStart()
        var d = Draws(seed: 22)
        // both streams: x moved three standard deviations. "dropping": the scores collapse toward 0.5 (an estimated
        // drop); "holding": the scores stay confident and distributed as the reference's (no estimated drop)
        let dropping = (0..<600).map { _ in Prediction(x: Self.rounded(d.gaussian(mean: 3)), score: Self.rounded(0.4 + 0.2 * d.uniform())) }
        let holding = (0..<600).map { _ -> Prediction in
            let x = Self.rounded(d.gaussian(mean: 3))
            return Prediction(x: x, score: Self.rounded(Self.sigmoid(4 * (x - 3))))
        }
        _ = try await Self.capture(port: port, model: "dropping", prefix: "d", dropping, start: start)
        _ = try await Self.capture(port: port, model: "holding", prefix: "h", holding, start: start)

        let out = try await Self.runOnce(schema, config: config, start: start, now: start.addingTimeInterval(3600 + 15 * 60))
        #expect(out.contains("run-once: actions 1 delivered, 0 to retry, 0 dead"), "\(out)")
        let conn = try schema.connect()

        let fell = try Self.figures(conn, monitor: "dropping", start: start)
        let fellAccuracy = try #require(fell["estimated accuracy"])
        #expect(fell.keys.allSatisfy { $0.hasPrefix("estimated ") }, "no labels, no realized figures: \(fell.keys.sorted())")
        #expect(fellAccuracy.alert && fellAccuracy.value < (fellAccuracy.lower ?? 0), "\(fellAccuracy)")
        let fired = try Self.run(conn, monitor: "dropping", start: start)
        #expect(fired.drifted && fired.fired && fired.trigger == "drift_and_estimated_drop", "\(fired)")
        #expect(fired.reasons.contains("estimated accuracy"), "\(fired)")
        let rows = try Self.outbox(conn, monitor: "dropping")
        #expect(
            rows.count == 1 && rows.first?.actionID == "dropping:\(PGTimeText.iso(start)):retrain" && rows.first?.state == "delivered"
                && rows.first?.trigger == "drift_and_estimated_drop" && rows.first?.reasons.contains("estimated accuracy") == true, "\(rows)")

        let held = try Self.figures(conn, monitor: "holding", start: start)
        let heldAccuracy = try #require(held["estimated accuracy"])
        #expect(held.count == 3 && held.values.allSatisfy { !$0.alert }, "the estimates hold: \(held)")
        let quiet = try Self.run(conn, monitor: "holding", start: start)
        #expect(quiet.drifted, "the input drifted: \(quiet)")
        #expect(
            !quiet.fired && quiet.decision == "data drifted, performance held (estimated): not drifted" && quiet.trigger == "drift_and_estimated_drop"
                && quiet.reasons.isEmpty, "\(quiet)")
        #expect(try Self.outbox(conn, monitor: "holding").isEmpty, "drift alone does not fire in this mode")

        #expect(hook.requests.count == 1, "\(hook.requests.map(\.path))")
        let body = try #require(try hook.requests.first.flatMap { try JSONSerialization.jsonObject(with: $0.body) as? [String: Any] })
        #expect(body["monitor"] as? String == "dropping", "\(body)")
        #expect(body["trigger"] as? String == "drift_and_estimated_drop" && (body["drifted_features"] as? [String])?.contains("x") == true, "\(body)")
        #expect((body["performance_reasons"] as? String)?.contains("estimated accuracy") == true, "\(body)")
        print(
            "performance e2e (drift_and_estimated_drop): dropping: drifted, estimated accuracy \(String(format: "%.3f", fellAccuracy.value)) "
                + "band \(fellAccuracy.band) → fired; holding: drifted, estimated accuracy \(String(format: "%.3f", heldAccuracy.value)) "
                + "band \(heldAccuracy.band) → not fired; outbox rows \(try schema.count("SELECT count(*) AS n FROM trigger_outbox")), "
                + "webhook deliveries \(hook.requests.count)")
        #expect(server.terminate() == 0)
        await hook.stop()
    }

    @Test func consecutiveTwoUnderPerformanceDropFiresOnceWhenTheLabelsOfBothWindowsArrive() async throws {
        let schema = try WorkerSchema(prefix: "perfc")
        defer { schema.drop() }
        let scratch = try Scratch()
        let hook = RecordingHTTPServer()
        try await hook.start()
        let config = Self.writeConfig(
            scratch, reference: Self.writeReference(scratch), hookPort: hook.port, monitors: [("scorer", "performance_drop")],
            policy: "consecutive: 2, cooldown: P1D")
        let server = try RunningServer(["ingest-server", "--config", config, "--migrate"], environment: schema.env)
        let port = try await server.port()

        // three adjacent hours of 600 predictions: in the first two the model is wrong where it is sure, in the third its
        // labels agree with its scores
        let starts = (0..<3).map { Self.windowStart().addingTimeInterval(Double($0) * 3600) }
        var d = Draws(seed: 23)
        var windows: [[Prediction]] = []
        for (k, start) in starts.enumerated() {
            let predictions = k < 2 ? Self.wrong(&d, count: 600) : Self.agreeing(&d, count: 600)
            windows.append(try await Self.capture(port: port, model: "scorer", prefix: "w\(k)", predictions, start: start))
        }
        let now = starts[2].addingTimeInterval(3600 + 15 * 60)
        let conn = try schema.connect()
        let actionID = "scorer:\(PGTimeText.iso(starts[1])):retrain"

        // 1. the checks, no labels: the estimates of confident scores hold, no window starts a streak, nothing fires. The
        // first hour is checked last (a run-once that looks back two hours, then one that looks back three), so the
        // re-scores below, which run the longest unscored window first, meet the windows in the order 2, 3, 1
        for from in [starts[1], starts[0]] {
            let out = try await Self.runOnce(schema, config: config, start: from, now: now)
            let windows = from == starts[1] ? 2 : 1
            #expect(out.contains("run-once: enqueued \(windows) window(s)") && out.contains("run-once: actions 0 delivered"), "\(out)")
        }
        for start in starts {
            let r = try Self.run(conn, monitor: "scorer", start: start)
            #expect(!r.fired && r.streak == 0 && r.trigger == "performance_drop" && r.reasons.isEmpty, "\(PGTimeText.iso(start)): \(r)")
        }
        #expect(try Self.outbox(conn, monitor: "scorer").isEmpty)
        #expect(hook.requests.isEmpty)

        // 2. every label of the three windows, then one run-once (one task at a time, so the order above holds): the second
        // window is re-scored first, while the first still has streak 0, and reaches streak 1; the first's re-score then
        // gives it streak 1, which re-scores the second again: streak 2, the retrain fires once; the third breaks the streak
        for w in windows { try Self.postLabels(port: port, model: "scorer", w[...]) }
        let second = try await Self.runOnce(schema, config: config, start: starts[0], now: now, extra: ["--concurrency", "1"])
        #expect(second.contains("run-once: actions 1 delivered, 0 to retry, 0 dead"), "\(second)")
        var accuracies: [Figure] = []
        for (k, start) in starts.enumerated() {
            let w = try Self.window(conn, monitor: "scorer", start: start)
            #expect(w.labels == 600 && w.coverage == 1 && w.dropped == (k < 2), "window \(k): \(w)")
            let accuracy = try #require(try Self.figures(conn, monitor: "scorer", start: start)["realized accuracy"], "window \(k)")
            #expect(abs(accuracy.value - Self.accuracy(windows[k][...])) < 1e-12 && accuracy.labels == 600, "window \(k): \(accuracy)")
            accuracies.append(accuracy)
        }
        #expect(accuracies[0].alert && accuracies[0].value < (accuracies[0].lower ?? 0), "\(accuracies[0])")
        #expect(accuracies[1].alert && accuracies[1].value < (accuracies[1].lower ?? 0), "\(accuracies[1])")
        // the third window is better than its band: an alert, but not a drop
        #expect(accuracies[2].value == 1 && accuracies[2].alert && accuracies[2].value > (accuracies[2].upper ?? 1), "\(accuracies[2])")
        let expected: [(fired: Bool, streak: Int, decision: String)] = [
            (false, 1, "performance dropped (realized): drifted: streak 1 of 2"),
            (true, 2, "performance dropped (realized): fired retrain after 2 consecutive drifted windows"),
            (false, 0, "performance held (realized): not drifted: streak of 2 reset")
        ]
        func expectDecisions(_ step: String) throws {
            for (k, start) in starts.enumerated() {
                let r = try Self.run(conn, monitor: "scorer", start: start)
                #expect(
                    r.fired == expected[k].fired && r.streak == expected[k].streak && r.decision == expected[k].decision
                        && r.trigger == "performance_drop" && r.reasons.contains("realized accuracy") == (k < 2),
                    "\(step), window \(k): \(r)")
            }
        }
        try expectDecisions("labels")
        var rows = try Self.outbox(conn, monitor: "scorer")
        #expect(rows.count == 1, "exactly one retrain: \(rows)")
        #expect(
            rows.first.map { $0.actionID == actionID && $0.action == "retrain" && $0.state == "delivered" && $0.trigger == "performance_drop" }
                == true && rows.first?.reasons.contains("realized accuracy") == true, "the second window's retrain: \(rows)")
        #expect(hook.requests.count == 1, "one delivery: \(hook.requests.map(\.path))")
        let body = try #require(try hook.requests.first.flatMap { try JSONSerialization.jsonObject(with: $0.body) as? [String: Any] })
        #expect(
            body["action_id"] as? String == actionID && body["window_start"] as? String == PGTimeText.iso(starts[1])
                && body["trigger"] as? String == "performance_drop", "\(body)")

        // 3. run-once again, no new labels: the same decisions, still one retrain and one delivery
        let third = try await Self.runOnce(schema, config: config, start: starts[0], now: now)
        #expect(third.contains("run-once: actions 0 delivered"), "\(third)")
        try expectDecisions("again")
        rows = try Self.outbox(conn, monitor: "scorer")
        #expect(rows.count == 1 && rows.first?.actionID == actionID, "still exactly one retrain: \(rows)")
        #expect(hook.requests.count == 1, "still one delivery")
        #expect(try schema.count("SELECT count(*) AS n FROM trigger_outbox") == 1)
        print(
            "performance e2e (consecutive 2): realized accuracy "
                + accuracies.map { "\(String(format: "%.3f", $0.value)) band \($0.band)" }.joined(separator: ", ")
                + " → streaks 1, 2 (fired), 0; outbox rows \(rows.count), webhook deliveries \(hook.requests.count)")
        #expect(server.terminate() == 0)
        await hook.stop()
    }

    @Test func anEarlierWindowsDropLearnedAfterALaterWindowFiredIsHeldBackByTheCooldown() async throws {
        let schema = try WorkerSchema(prefix: "perfd")
        defer { schema.drop() }
        let scratch = try Scratch()
        let hook = RecordingHTTPServer()
        try await hook.start()
        let config = Self.writeConfig(
            scratch, reference: Self.writeReference(scratch), hookPort: hook.port, monitors: [("scorer", "performance_drop")],
            policy: "consecutive: 1, cooldown: P1D")
        let server = try RunningServer(["ingest-server", "--config", config, "--migrate"], environment: schema.env)
        let port = try await server.port()

        // two adjacent hours in which the model is wrong where it is sure
        let starts = (0..<2).map { Self.windowStart().addingTimeInterval(Double($0) * 3600) }
        var d = Draws(seed: 24)
        var windows: [[Prediction]] = []
        for (k, start) in starts.enumerated() {
            windows.append(try await Self.capture(port: port, model: "scorer", prefix: "w\(k)", Self.wrong(&d, count: 600), start: start))
        }
        let now = starts[1].addingTimeInterval(3600 + 15 * 60)
        let conn = try schema.connect()
        let actionID = "scorer:\(PGTimeText.iso(starts[1])):retrain"

        // 1. the checks, no labels: nothing fires
        _ = try await Self.runOnce(schema, config: config, start: starts[0], now: now)
        #expect(try Self.outbox(conn, monitor: "scorer").isEmpty)

        // 2. the later window's labels arrive first: its drop fires the retrain
        try Self.postLabels(port: port, model: "scorer", windows[1][...])
        let second = try await Self.runOnce(schema, config: config, start: starts[0], now: now)
        #expect(second.contains("run-once: actions 1 delivered, 0 to retry, 0 dead"), "\(second)")
        var r = try Self.run(conn, monitor: "scorer", start: starts[1])
        #expect(r.fired && r.streak == 1 && r.reasons.contains("realized accuracy"), "\(r)")
        r = try Self.run(conn, monitor: "scorer", start: starts[0])
        #expect(!r.fired && r.streak == 0 && r.reasons.isEmpty, "no labels yet, the estimates hold: \(r)")

        // 3. then the earlier window's: it dropped too, but the later window fired within the cooldown after it
        try Self.postLabels(port: port, model: "scorer", windows[0][...])
        let third = try await Self.runOnce(schema, config: config, start: starts[0], now: now)
        #expect(third.contains("run-once: actions 0 delivered"), "\(third)")
        #expect(try Self.window(conn, monitor: "scorer", start: starts[0]).dropped)
        r = try Self.run(conn, monitor: "scorer", start: starts[0])
        let until = PGTimeText.iso(starts[1].addingTimeInterval(3600 + 86_400))
        #expect(
            !r.fired && r.streak == 1 && r.reasons.contains("realized accuracy")
                && r.decision == "performance dropped (realized): drifted 1 window, suppressed by cooldown until \(until)", "\(r)")
        #expect(try Self.run(conn, monitor: "scorer", start: starts[1]).fired)
        let rows = try Self.outbox(conn, monitor: "scorer")
        #expect(rows.count == 1 && rows.first?.actionID == actionID && rows.first?.state == "delivered", "only the later window's retrain: \(rows)")
        #expect(hook.requests.count == 1, "one delivery: \(hook.requests.map(\.path))")
        print(
            "performance e2e (forward cooldown): earlier window: \(r.decision); outbox rows \(rows.count), webhook deliveries \(hook.requests.count)")
        #expect(server.terminate() == 0)
        await hook.stop()
    }
}
