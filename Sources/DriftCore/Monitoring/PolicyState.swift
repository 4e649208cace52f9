import DriftStore
import Foundation

/// The stored state `DriftPolicy` decides from, read from `drift_runs` before a check's write transaction. Both
/// reads walk `drift_runs_monitor_window` (monitor, window_start DESC) backwards from the window and stop at the
/// first match, so their cost does not grow with the monitor's history in the usual case.
///
/// Callers serialise a monitor's checks (`MonitorLock`), so the state read here is still current when the check writes.
enum PolicyState {
    static func read(monitor: String, before w: TimeWindow, on c: PGConnection) throws -> DriftPolicy.History {
        var runs = try storedRuns(monitor: monitor, before: w, limit: 1, on: c)
        if let first = runs.first, first.window.end == w.start, first.streak == nil {
            // a run written before streaks were stored: count backwards (bounded, see DriftPolicy.legacyLookback)
            runs = try storedRuns(monitor: monitor, before: w, limit: DriftPolicy.legacyLookback, on: c)
        }
        // Windows of a monitor do not overlap, so the fired run that starts last is the one that ends last:
        // max(window_end) over every fired run before the window, with no horizon.
        let lastFiring = try c.query(
            """
            SELECT window_end FROM drift_runs
            WHERE monitor = $1 AND window_start < $2 AND window_end <= $2 AND decision->>'fired' = 'true'
            ORDER BY window_start DESC LIMIT 1
            """, [monitor, w.start], name: "check.last_firing"
        ).first.map { try $0.date("window_end") }
        return DriftPolicy.History(previous: DriftPolicy.previous(before: w, runs: runs), lastFiring: lastFiring)
    }

    /// The runs that end at or before `w`'s start, newest first.
    static func storedRuns(monitor: String, before w: TimeWindow, limit: Int, on c: PGConnection) throws -> [DriftPolicy.StoredRun] {
        try c.query(
            """
            SELECT window_start, window_end, status, drifted,
                   CASE WHEN jsonb_typeof(decision->'streak') = 'number' THEN (decision->>'streak')::numeric::bigint END AS streak
            FROM drift_runs WHERE monitor = $1 AND window_start < $2 AND window_end <= $2
            ORDER BY window_start DESC LIMIT $3
            """, [monitor, w.start, limit], name: "check.policy_history"
        ).map { r in
            let status: DriftPolicy.Status =
                try DriftCheck.Status.stored(r.string("status"), column: "drift_runs.status") == .insufficientData
                ? .insufficientData
                : (try r.optionalString("drifted") == "t" ? .drifted : .notDrifted)
            return DriftPolicy.StoredRun(
                window: TimeWindow(start: try r.date("window_start"), end: try r.date("window_end")),
                status: status, streak: try r.optionalInt("streak"))
        }
    }
}
