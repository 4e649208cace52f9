import Foundation

/// When a monitor fires its actions: once `consecutive` adjacent windows (default 2) have drifted,
/// and not again within `cooldown` (default P1D) of the last firing, measured on window ends so that
/// backfills decide exactly as live checks do.
///
/// The streak is stored state, not a look-back: every run stores its streak (drifted windows in a row
/// up to and including it) and the next window continues from the run of the window just before it:
/// - drifted: that run's streak + 1;
/// - not drifted: 0;
/// - insufficient data: that run's streak, unchanged (the window neither extends nor breaks the streak);
/// - when the window just before was never checked (a gap, e.g. a backfill that skipped a range), the
///   streak starts again: 1 for a drifted window, 0 for insufficient data. A drifted window after a gap
///   is not evidence of a sustained shift, so it must earn its streak again.
///
/// Pure: plain values in, a decision out; the reads live in `PolicyState` (DriftCheck).
public struct DriftPolicy: Sendable, Equatable {
    public var consecutive: Int
    public var cooldown: ISODuration
    public var actions: [String]
    /// What fires the actions (`policy.on`); a performance trigger needs the monitor's `performance:` block.
    public var trigger: PolicyTrigger = .drift

    public init(consecutive: Int = 2, cooldown: ISODuration = ISODuration(seconds: 86_400), actions: [String] = ["retrain", "shadow_eval"]) {
        self.consecutive = max(1, consecutive)
        self.cooldown = cooldown
        self.actions = actions
    }

    /// A checked window's verdict, as the policy sees it.
    public enum Status: String, Sendable { case drifted, notDrifted = "not_drifted", insufficientData = "insufficient_data" }

    /// What the policy knows before deciding a window: plain values read from the stored runs.
    public struct History: Sendable, Equatable {
        public enum Previous: Sendable, Equatable {
            /// The monitor has no run before this window.
            case none
            /// The window just before this one was never checked, though earlier ones were (a gap).
            case notChecked
            /// The window just before this one was checked; `streak` is its streak.
            case checked(streak: Int)
        }

        public var previous: Previous
        /// The end of the last window whose check fired, among the windows before this one (nil: never fired).
        public var lastFiring: Date?

        public init(previous: Previous, lastFiring: Date? = nil) {
            self.previous = previous
            self.lastFiring = lastFiring
        }
    }

    /// The decision for one window, with its streak (stored with the run) and its reason.
    public enum Decision: Sendable, Equatable, CustomStringConvertible {
        case fired(actions: [String], streak: Int)
        case suppressedByCooldown(streak: Int, until: Date)
        /// Drifted, but the streak is still shorter than `consecutive`; `afterGap`: the previous window was never checked.
        case streak(Int, of: Int, afterGap: Bool = false)
        /// Not drifted; `ended` is the streak this window broke (0: there was none).
        case notDrifted(ended: Int = 0)
        /// Too few events to decide; the streak carried on unchanged.
        case insufficientData(streak: Int = 0)

        public var fired: Bool { if case .fired = self { return true } else { return false } }

        /// Drifted windows in a row up to and including this one, as stored in `drift_runs.decision.streak`.
        public var streak: Int {
            switch self {
            case .fired(_, let s), .suppressedByCooldown(let s, _), .streak(let s, _, _), .insufficientData(let s): return s
            case .notDrifted: return 0
            }
        }

        public var description: String {
            switch self {
            case .fired(let actions, let streak):
                let after = streak == 1 ? "after 1 drifted window" : "after \(streak) consecutive drifted windows"
                return actions.isEmpty ? "drift confirmed \(after) (no actions configured)" : "fired \(actions.joined(separator: ", ")) \(after)"
            case .suppressedByCooldown(let streak, let until):
                let what = streak == 1 ? "drifted 1 window" : "drifted \(streak) windows in a row"
                return "\(what), suppressed by cooldown until \(PGTimeText.iso(until))"
            case .streak(let n, let k, let afterGap):
                return "drifted: streak \(n) of \(k)" + (afterGap ? " (the previous window was not checked)" : "")
            case .notDrifted(let ended):
                return ended == 0 ? "not drifted" : "not drifted: streak of \(ended) reset"
            case .insufficientData(let streak):
                return streak == 0 ? "insufficient data: no decision" : "insufficient data: no decision, streak stays \(streak)"
            }
        }
    }

    /// The status the policy decides a window on, by its trigger (`policy.on`):
    /// - `drift`: the window's drift status;
    /// - `performance_drop`: drifted when the window's deciding performance figures (realized once `min_labels` is
    ///   reached, else estimated) left their band, not drifted when they did not, insufficient data without a figure;
    /// - `drift_and_estimated_drop`: a drifted window counts only when its performance also dropped (not drifted when
    ///   it held, insufficient data without a figure); other windows keep their drift status.
    public static func status(trigger: PolicyTrigger, drift: Status, performance: PerformanceEvaluation?) -> Status {
        switch trigger {
        case .drift:
            return drift
        case .performanceDrop:
            guard let p = performance, p.decidable else { return .insufficientData }
            return p.dropped ? .drifted : .notDrifted
        case .driftAndEstimatedDrop:
            guard drift == .drifted else { return drift }
            guard let p = performance, p.decidable else { return .insufficientData }
            return p.dropped ? .drifted : .notDrifted
        }
    }

    /// The decision in words: as `Decision.description` for `drift`; under a performance trigger prefixed with what the
    /// status was made of, e.g. "data drifted, performance held: not drifted" (`drift_and_estimated_drop` on a window
    /// whose inputs moved while the model kept its performance) or "performance dropped: fired retrain after 1 drifted
    /// window" (the streak counts windows that met the trigger).
    public static func describe(_ d: Decision, trigger: PolicyTrigger, drift: Status, performance: PerformanceEvaluation?) -> String {
        guard trigger != .drift else { return d.description }
        let perf: String
        if let p = performance, p.decidable {
            perf = (p.dropped ? "performance dropped" : "performance held") + (p.realized ? " (realized)" : " (estimated)")
        } else {
            perf = "no performance figure yet"
        }
        guard trigger == .driftAndEstimatedDrop else { return "\(perf): \(d.description)" }
        let data = drift == .drifted ? "data drifted" : drift == .notDrifted ? "no data drift" : "insufficient data"
        return "\(data), \(perf): \(d.description)"
    }

    /// Decides a window of status `status` that ends at `windowEnd`, given the stored state before it.
    public func decide(_ status: Status, windowEnd: Date, history: History) -> Decision {
        let previous: Int
        switch history.previous {
        case .checked(let s): previous = max(0, s)
        case .none, .notChecked: previous = 0
        }
        switch status {
        case .insufficientData: return .insufficientData(streak: previous)
        case .notDrifted: return .notDrifted(ended: previous)
        case .drifted: break
        }
        let streak = previous + 1
        guard streak >= consecutive else { return .streak(streak, of: consecutive, afterGap: history.previous == .notChecked) }
        if let last = history.lastFiring {
            let until = last.addingTimeInterval(cooldown.seconds)
            if windowEnd < until { return .suppressedByCooldown(streak: streak, until: until) }
        }
        return .fired(actions: actions, streak: streak)
    }

    /// One stored run as the policy reads it; `streak` is nil for runs written before streaks were stored.
    public struct StoredRun: Sendable, Equatable {
        public var window: TimeWindow
        public var status: Status
        public var streak: Int?

        public init(window: TimeWindow, status: Status, streak: Int? = nil) {
            self.window = window
            self.status = status
            self.streak = streak
        }
    }

    /// How many stored runs are counted backwards when the run before a window has no stored streak (runs written
    /// before streaks were stored). It exceeds the largest `consecutive` a configuration accepts (1,000), so the
    /// decision is exact; only a legacy streak longer than this is reported as this many windows.
    public static let legacyLookback = 1_001

    /// The state of the window before `window`, from the stored runs that end at or before its start, newest first.
    /// The run of the adjacent window gives the streak directly when it stored one; runs without a stored streak are
    /// counted backwards (drifted +1, insufficient data skipped) until a stored streak, a not-drifted run, a gap, or
    /// the end of `runs` (at most `legacyLookback` of them are needed).
    public static func previous(before window: TimeWindow, runs newestFirst: [StoredRun]) -> History.Previous {
        guard let first = newestFirst.first else { return .none }
        guard first.window.end == window.start else { return .notChecked }
        var counted = 0
        var expectedEnd = window.start
        for run in newestFirst {
            guard run.window.end == expectedEnd else { break }  // a gap before a legacy run: its streak started there
            if let stored = run.streak { return .checked(streak: counted + max(0, stored)) }
            switch run.status {
            case .drifted: counted += 1
            case .notDrifted: return .checked(streak: counted)
            case .insufficientData: break
            }
            expectedEnd = run.window.start
        }
        return .checked(streak: counted)
    }
}
