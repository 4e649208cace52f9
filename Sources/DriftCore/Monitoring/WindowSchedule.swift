import Foundation

/// A half-open time window [start, end), UTC.
public struct TimeWindow: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    public func contains(_ t: Date) -> Bool { t >= start && t < end }
    public static func < (a: Self, b: Self) -> Bool { a.start < b.start }

    public var description: String {
        "[\(PGTimeText.iso(start)), \(PGTimeText.iso(end)))"
    }
}

/// How a monitor cuts time into windows: fixed length, aligned so that windows start at
/// epoch + alignment + k·length (UTC), and checked only once `lateness` has passed after their end.
public struct WindowSchedule: Sendable, Equatable {
    public var length: ISODuration
    public var alignment: ISODuration
    public var lateness: ISODuration

    public init(length: ISODuration, alignment: ISODuration = ISODuration(seconds: 0), lateness: ISODuration = ISODuration(seconds: 0)) {
        self.length = length
        self.alignment = alignment
        self.lateness = lateness
    }

    /// The window containing `t`.
    public func window(containing t: Date) -> TimeWindow {
        let l = length.seconds
        let a = alignment.seconds
        let k = ((t.timeIntervalSince1970 - a) / l).rounded(.down)
        let start = Date(timeIntervalSince1970: k * l + a)
        return TimeWindow(start: start, end: start.addingTimeInterval(l))
    }

    /// Whether a window is closed and past the lateness allowance at `now`.
    public func isDue(_ w: TimeWindow, now: Date) -> Bool {
        now >= w.end.addingTimeInterval(lateness.seconds)
    }

    /// Every window that starts at or after the window containing `from` and ends at or before `to`
    /// (for backfills), ascending.
    public func windows(from: Date, to: Date) -> [TimeWindow] {
        var out: [TimeWindow] = []
        var w = window(containing: from)
        if w.start < from { w = next(w) }
        while w.end <= to {
            out.append(w)
            w = next(w)
        }
        return out
    }

    /// How many windows `windows(from:to:)` would return, without building them (for limits).
    public func windowCount(from: Date, to: Date) -> Int {
        var w = window(containing: from)
        if w.start < from { w = next(w) }
        guard w.end <= to else { return 0 }
        let n = ((to.timeIntervalSince1970 - w.start.timeIntervalSince1970) / length.seconds).rounded(.down)
        return n >= Double(Int.max) ? Int.max : Int(n)
    }

    /// Every window due at `now` (closed and past the lateness) that starts at or after `since`, ascending —
    /// all of them: a backlog is paged by the scheduler, never cut.
    public func dueWindows(now: Date, since: Date) -> [TimeWindow] {
        windows(from: since, to: now.addingTimeInterval(-lateness.seconds))
    }

    public func next(_ w: TimeWindow) -> TimeWindow {
        TimeWindow(start: w.end, end: w.end.addingTimeInterval(length.seconds))
    }

    public func previous(_ w: TimeWindow) -> TimeWindow {
        TimeWindow(start: w.start.addingTimeInterval(-length.seconds), end: w.start)
    }
}

/// ISO 8601 text for timestamps in messages and keys (UTC, second precision: `2026-11-29T10:00:00Z`).
public enum PGTimeText {
    public static func iso(_ d: Date) -> String {
        var t = time_t(d.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
