import Foundation

/// When a monitor fires its actions: after `consecutive` adjacent drifted windows (default 2),
/// not again within `cooldown` (default P1D) of the last firing, measured on window ends so that
/// backfills decide exactly as live checks do. A window that is not drifted resets the streak;
/// a window with insufficient data neither extends nor resets it (it is skipped over).
public struct DriftPolicy: Sendable, Equatable {
    public var consecutive: Int
    public var cooldown: ISODuration
    public var actions: [String]

    public init(consecutive: Int = 2, cooldown: ISODuration = ISODuration(seconds: 86_400), actions: [String] = ["retrain", "shadow_eval"]) {
        self.consecutive = max(1, consecutive)
        self.cooldown = cooldown
        self.actions = actions
    }

    /// A checked window's verdict, as the policy sees it.
    public struct Verdict: Sendable, Equatable {
        public enum Status: String, Sendable { case drifted, notDrifted = "not_drifted", insufficientData = "insufficient_data" }
        public var window: TimeWindow
        public var status: Status
        /// Whether the policy fired at this window.
        public var fired: Bool

        public init(window: TimeWindow, status: Status, fired: Bool = false) {
            self.window = window
            self.status = status
            self.fired = fired
        }
    }

    /// The decision for one window, recorded with its reason.
    public enum Decision: Sendable, Equatable, CustomStringConvertible {
        case fired(actions: [String], streak: Int)
        case suppressedByCooldown(streak: Int, until: Date)
        case streak(Int, of: Int)
        case notDrifted
        case insufficientData

        public var fired: Bool { if case .fired = self { return true } else { return false } }

        public var description: String {
            switch self {
            case let .fired(actions, streak):
                return actions.isEmpty ? "drift confirmed after \(streak) consecutive drifted windows (no actions configured)"
                    : "fired \(actions.joined(separator: ", ")) after \(streak) consecutive drifted windows"
            case let .suppressedByCooldown(streak, until): return "drifted \(streak) windows in a row, suppressed by cooldown until \(PGTimeText.iso(until))"
            case let .streak(n, k): return "drifted: streak \(n) of \(k)"
            case .notDrifted: return "not drifted: streak reset"
            case .insufficientData: return "insufficient data: no decision, streak unchanged"
            }
        }
    }

    /// Decides for `current`, given the earlier verdicts of the same monitor (any order, any
    /// number; only adjacent windows count for the streak).
    public func decide(current: Verdict, history: [Verdict]) -> Decision {
        switch current.status {
        case .insufficientData: return .insufficientData
        case .notDrifted: return .notDrifted
        case .drifted: break
        }
        let earlier = history.filter { $0.window.end <= current.window.start }.sorted { $0.window.start > $1.window.start }
        var streak = 1
        var expectedEnd = current.window.start
        for v in earlier {
            if v.status == .insufficientData {
                if v.window.end == expectedEnd { expectedEnd = v.window.start }
                continue
            }
            guard v.window.end == expectedEnd, v.status == .drifted else { break }
            streak += 1
            expectedEnd = v.window.start
        }
        guard streak >= consecutive else { return .streak(streak, of: consecutive) }
        if let last = history.filter({ $0.fired && $0.window.end <= current.window.end }).map(\.window.end).max() {
            let until = last.addingTimeInterval(cooldown.seconds)
            if current.window.end < until { return .suppressedByCooldown(streak: streak, until: until) }
        }
        return .fired(actions: actions, streak: streak)
    }
}
