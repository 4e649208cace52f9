import DriftCapture
import DriftCommon
import DriftCore
import DriftStats
import DriftStore
import Foundation

extension DemoCommand {
    /// What part 1d found, for the JSON summary.
    struct PerformanceStory {
        var text = ""
        /// The first window whose estimated (CBPE) performance left its band, and the first whose realized one did.
        var firstEstimatedDrop: Date?
        var firstRealizedDrop: Date?
        /// Labels known at the story's first moment, and in all.
        var labelsEarly = 0
        var labelsTotal = 0
    }

    /// The moment part 1d looks from first: six hours into the drift (sample-data/generate_labels.py).
    static let performanceMoment = ISO8601DateFormatter().date(from: "2026-11-25T22:00:00Z")!

    /// Part 1d: ground truth arrives hours after the transactions (chargebacks: 4–10 h here). Every check already
    /// estimated the window's performance from its scores alone (CBPE); at 22:00 on the drift day the labels known
    /// by then come in and the windows are re-scored, then, two days on, all of them.
    func performanceStory(client: PostgresClient, monitor: MonitorConfig, references: ReferenceStore) async throws -> PerformanceStory {
        var story = PerformanceStory()
        guard let p = monitor.performance else { return story }
        let file = "\(data)/fraud/labels.csv.gz"
        var labels: [GroundTruthWriter.Row] = []
        do {
            let names = ["request_id", "label", "time"]
            let table = try TabularFile.read(
                path: file, options: TableReadOptions(types: Dictionary(uniqueKeysWithValues: names.map { ($0, .text) }), only: Set(names)))
            let cells = names.map { n in table.columnIndex(n).map { table.categoricalValues(column: $0) } }
            let now = Date()
            for r in 0..<table.rowCount {
                let l = try GroundTruthDecoder.row(
                    requestID: cells[0]?[r], label: cells[1]?[r], value: nil, time: cells[2]?[r], model: nil, given: monitor.model,
                    limits: CaptureLimits(), now: now)
                labels.append(l.row(now: now))
            }
        } catch let e as TableError {
            Terminal.fail(e.description)
            throw ExitStatus.badInput
        } catch let e as CaptureDecodeError {
            Terminal.fail("\(file): \(e)")
            throw ExitStatus.badInput
        }
        let early = labels.filter { $0.labelledAt <= Self.performanceMoment }
        let late = labels.filter { $0.labelledAt > Self.performanceMoment }
        story.labelsEarly = early.count
        story.labelsTotal = labels.count
        let writer = GroundTruthWriter(client: client)
        for start in stride(from: 0, to: early.count, by: 10_000) {
            _ = try await writer.write(Array(early[start..<min(start + 10_000, early.count)]), source: .file)
        }
        let tasks = DriftTasks(client: client, monitors: [monitor], references: references, lookback: ISODuration(seconds: 86_400 * 30))
        let shown = (0..<10).map { k in
            monitor.schedule.window(containing: Self.performanceMoment.addingTimeInterval(-Double(10 - k) * monitor.schedule.length.seconds))
        }
        for w in shown { _ = try await tasks.rescoreWindow(monitor, w) }
        let metric = p.metrics.contains(.accuracy) ? PerformanceMetric.accuracy : p.metrics[0]
        var out = "\n== performance of \(monitor.model): \(metric.rawValue), estimated from the scores alone (CBPE) vs realized from labels\n"
        out += "== labels: \(file), known 4–10 h after each transaction; at \(PGTimeText.iso(Self.performanceMoment)) "
        out += "\(early.count) of \(labels.count) are known\n"
        out += try await table(client: client, monitor: monitor, metric: metric, windows: shown)

        for start in stride(from: 0, to: late.count, by: 10_000) {
            _ = try await writer.write(Array(late[start..<min(start + 10_000, late.count)]), source: .file)
        }
        let all = try await client.withConnection { c in
            try c.query(
                "SELECT window_start, window_end FROM performance_windows WHERE monitor = $1 ORDER BY window_start", [monitor.name],
                name: "demo.performance_windows"
            ).map { TimeWindow(start: try $0.date("window_start"), end: try $0.date("window_end")) }
        }
        for w in all { _ = try await tasks.rescoreWindow(monitor, w) }
        let firsts = try await client.withConnection { c in
            try c.query(
                """
                SELECT kind, min(window_start) AS first FROM performance_results
                 WHERE monitor = $1 AND metric = $2 AND alert AND value < threshold_lower GROUP BY kind
                """, [monitor.name, metric.rawValue], name: "demo.performance_first"
            ).map { (try $0.string("kind"), try $0.date("first")) }
        }
        story.firstEstimatedDrop = firsts.first { $0.0 == "estimated" }?.1
        story.firstRealizedDrop = firsts.first { $0.0 == "realized" }?.1
        out += "\n== two days on, all \(labels.count) labels are in and every window is re-scored:\n"
        out += "   estimated \(metric.rawValue) first left its band in the window of \(story.firstEstimatedDrop.map(PGTimeText.iso) ?? "–") "
        out += "(known when that window closed); realized \(metric.rawValue) first left it in the window of "
        out += "\(story.firstRealizedDrop.map(PGTimeText.iso) ?? "–") (known only once its labels had come in, hours later).\n"
        out += "   drift_model_performance{monitor, metric, kind} and drift_label_coverage_ratio export the same figures; "
        out += "`drift-worker report` draws them over time."
        story.text = out
        return story
    }

    /// One line per window: the estimate with its band and alert, the realized figure (or why there is none), coverage.
    private func table(client: PostgresClient, monitor: MonitorConfig, metric: PerformanceMetric, windows: [TimeWindow]) async throws -> String {
        let minLabels = monitor.performance?.minLabels ?? 0
        var out = "window start            estimated  band              alert  realized  alert  labels  coverage\n"
        for w in windows {
            let (rows, cover) = try await client.withConnection { c in
                (
                    try c.query(
                        """
                        SELECT kind, value, threshold_lower, threshold_upper, alert FROM performance_results
                         WHERE monitor = $1 AND window_start = $2 AND metric = $3
                        """, [monitor.name, w.start, metric.rawValue], name: "demo.performance_rows"
                    ).map {
                        (
                            try $0.string("kind"), try $0.double("value"), try $0.optionalDouble("threshold_lower"),
                            try $0.optionalDouble("threshold_upper"), try $0.bool("alert")
                        )
                    },
                    try c.query(
                        "SELECT labels, coverage FROM performance_windows WHERE monitor = $1 AND window_start = $2", [monitor.name, w.start],
                        name: "demo.performance_cover"
                    ).first.map { (try $0.int("labels"), try $0.optionalDouble("coverage") ?? 0) }
                )
            }
            let e = rows.first { $0.0 == "estimated" }
            let r = rows.first { $0.0 == "realized" }
            func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "–" }
            let band = e.map { "[\(f($0.2)), \(f($0.3))]" } ?? "–"
            let labels = cover?.0 ?? 0
            let realized = r.map { f($0.1) } ?? (labels < minLabels ? "pending" : "–")
            out += PGTimeText.iso(w.start).padding(toLength: 24, withPad: " ", startingAt: 0)
            out += f(e?.1).padding(toLength: 11, withPad: " ", startingAt: 0) + band.padding(toLength: 18, withPad: " ", startingAt: 0)
            out += (e?.4 == true ? "DROP" : "").padding(toLength: 7, withPad: " ", startingAt: 0)
            out +=
                realized.padding(toLength: 10, withPad: " ", startingAt: 0)
                + (r?.4 == true ? "DROP" : "").padding(toLength: 7, withPad: " ", startingAt: 0)
            out += String(format: "%6d  %7.0f%%\n", labels, (cover?.1 ?? 0) * 100)
        }
        return out
    }
}
