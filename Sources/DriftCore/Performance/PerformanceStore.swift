import DriftCapture
import DriftStats
import DriftStore
import Foundation

/// The reads and writes of a monitor's performance (issue 20): a window's captured predictions LEFT JOIN its ground
/// truth, a labelled reference, and `performance_windows` / `performance_results`.
public enum PerformanceStore {
    /// The window's predictions, each with its label if one arrived: captured responses (and paired events) of the
    /// monitor's model, roles and versions, `ORDER BY sample_key LIMIT max_rows` (a uniform sample beyond it), then
    /// joined on (model, request_id) to `ground_truth` (its primary key serves the join); a request id seen twice in
    /// the sample counts once.
    public static func rows(_ c: PGConnection, monitor m: MonitorConfig, window w: TimeWindow) throws -> [PredictionRow] {
        guard let p = m.performance else { return [] }
        let layout = FeatureLayout(m)
        let column: String
        if let i = layout.numeric.firstIndex(of: p.prediction) {
            column = "e.numeric[\(i + 1)]::text"
        } else if let i = layout.categorical.firstIndex(of: p.prediction) {
            column = "e.categorical[\(i + 1)]"
        } else {
            throw DriftTaskError("monitor '\(m.name)': performance.prediction '\(p.prediction)' is not a numeric or categorical feature")
        }
        let rows = try c.query(
            """
            SELECT s.p, s.request_id, g.label, g.value
              FROM (SELECT e.model, e.request_id, \(column) AS p, e.sample_key
                      FROM capture_events e
                     WHERE e.model = $1 AND e.observed_at >= $2 AND e.observed_at < $3 AND e.role = ANY ($4::text[])
                       AND (cardinality($5::text[]) = 0 OR e.model_version = ANY ($5::text[])) AND e.kind <> 'request'
                     ORDER BY e.sample_key LIMIT $6) s
              LEFT JOIN ground_truth g ON g.model = s.model AND g.request_id = s.request_id AND s.request_id <> ''
             ORDER BY s.sample_key
            """, [m.model, w.start, w.end, m.roles, m.versions, p.maxRows], name: "performance.rows")
        let numeric = layout.numeric.contains(p.prediction)
        // one prediction per request: a re-sent event, or a request both imported from a file and captured, counts once
        var seen = Set<String>()
        return try rows.compactMap { r -> PredictionRow? in
            let id = try r.string("request_id")
            if !id.isEmpty && !seen.insert(id).inserted { return nil }
            let text = try r.optionalString("p")
            let score = numeric ? text.flatMap(Double.init).flatMap { $0.isNaN ? nil : $0 } : nil
            return PredictionRow(
                score: score, predictedClass: numeric ? nil : text, label: try r.optionalString("label"), value: try r.optionalDouble("value"))
        }
    }

    /// A time before every label the read about to follow cannot see: the database clock less a second, or the start of
    /// the oldest open writing transaction when that is earlier. Stored as the window's `computed_at`, so a label
    /// whose write was under way during the read (its `received_at` is taken inside its transaction) is newer than
    /// `computed_at` and re-scores the window on the next pass.
    public static func readMark(_ c: PGConnection) throws -> Date {
        // the start of the oldest writing transaction still open bounds from below the received_at of every label not
        // yet committed (received_at is taken inside the writing transaction)
        try c.query(
            """
            SELECT least(clock_timestamp() - interval '1 second',
                         (SELECT min(xact_start) FROM pg_stat_activity
                           WHERE backend_xid IS NOT NULL AND datname = current_database() AND pid <> pg_backend_pid())) AS t
            """, name: "performance.mark")[0].date("t")
    }

    /// A reference file's predictions and labels: the prediction feature's column and `performance.reference_label`.
    /// A file without the label column gives rows without labels (no bands, no estimates), with `missingLabels` set.
    static func fileRows(path: String, performance p: PerformanceConfig) throws -> (rows: [PredictionRow], missingLabels: Bool) {
        let table = try TabularFile.read(path: path, options: TableReadOptions(only: [p.prediction, p.referenceLabel], nonNumeric: .missing))
        guard let pc = table.columnIndex(p.prediction) else { return ([], true) }
        let lc = table.columnIndex(p.referenceLabel)
        var out: [PredictionRow] = []
        out.reserveCapacity(table.rowCount)
        let numeric = p.task != .multiclass
        for r in 0..<table.rowCount {
            let label = lc.flatMap { table.text(column: $0, row: r) }
            let value = label.flatMap(NumberText.parse).flatMap { $0.isFinite ? $0 : nil }
            if numeric {
                let s: Double?
                switch table.cell(column: pc, row: r) {
                case .number(let x): s = x
                case .text(let t): s = NumberText.parse(t).flatMap { $0.isFinite ? $0 : nil }
                case .missing: s = nil
                }
                out.append(PredictionRow(score: s, label: label, value: value))
            } else {
                out.append(PredictionRow(predictedClass: table.text(column: pc, row: r), label: label, value: value))
            }
        }
        return (out, lc == nil)
    }

    /// Writes a window's evaluation, replacing an earlier one (a re-score counts a revision). Run inside the caller's
    /// transaction.
    public static func write(
        _ e: PerformanceEvaluation, monitor: String, model: String, window w: TimeWindow, readAt: Date, on c: PGConnection
    ) throws {
        try c.query(
            """
            INSERT INTO performance_windows (monitor, window_start, window_end, predictions, labels, coverage, dropped, reasons, computed_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9)
            ON CONFLICT (monitor, window_start, window_end) DO UPDATE
               SET predictions = EXCLUDED.predictions, labels = EXCLUDED.labels, coverage = EXCLUDED.coverage,
                   dropped = EXCLUDED.dropped, reasons = EXCLUDED.reasons, computed_at = EXCLUDED.computed_at,
                   revisions = performance_windows.revisions + 1
            """, [monitor, w.start, w.end, e.predictions, e.labels, e.coverage, e.dropped, e.reasons, readAt], name: "performance.window")
        try c.query(
            "DELETE FROM performance_results WHERE monitor = $1 AND window_start = $2 AND window_end = $3", [monitor, w.start, w.end],
            name: "performance.clear")
        guard !e.figures.isEmpty else { return }
        let f = e.figures
        try c.query(
            """
            INSERT INTO performance_results (monitor, window_start, window_end, kind, metric, value, lower, upper, threshold_lower,
                                             threshold_upper, alert, labels, coverage, computed_at)
            SELECT $1, $2, $3, r.kind, r.metric, r.value, r.lower, r.upper, r.tl, r.tu, r.alert, $4, $5, $14
              FROM unnest($6::text[], $7::text[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::bool[])
                   AS r(kind, metric, value, lower, upper, tl, tu, alert)
            """,
            [
                monitor, w.start, w.end, e.labels, e.coverage, PGColumn(f.map { $0.kind.rawValue }), PGColumn(f.map { $0.metric.rawValue }),
                PGColumn(f.map { $0.value.pgText }), PGColumn(f.map { $0.lower?.pgText }), PGColumn(f.map { $0.upper?.pgText }),
                PGColumn(f.map { $0.thresholdLower?.pgText }), PGColumn(f.map { $0.thresholdUpper?.pgText }),
                PGColumn(f.map { $0.alert.pgText }), readAt
            ], name: "performance.results")
    }

    /// Marks the model's labels that joined one of the window's captured events (`ground_truth.matched_at`, read by
    /// `drift_labels_unmatched`). Best effort and outside any decision: its own short statement, the labels locked in
    /// id order (as label writes lock them) and those another transaction holds skipped (the next scoring marks them).
    /// Only labels received since the window began (less an hour) are looked at: a request's label comes after it, and
    /// labels that never match do not make every scoring slower.
    public static func markMatched(model: String, window w: TimeWindow, on c: PGConnection) throws {
        try c.query(
            """
            WITH m AS (
                SELECT g.request_id FROM ground_truth g
                 WHERE g.model = $1 AND g.matched_at IS NULL AND g.received_at >= $2 - interval '1 hour'
                   AND EXISTS (SELECT 1 FROM capture_events e
                                WHERE e.model = $1 AND e.request_id = g.request_id AND e.observed_at >= $2 AND e.observed_at < $3)
                 ORDER BY g.request_id FOR UPDATE SKIP LOCKED)
            UPDATE ground_truth g SET matched_at = now() FROM m WHERE g.model = $1 AND g.request_id = m.request_id
            """, [model, w.start, w.end], name: "performance.matched")
    }
}
