import DriftCapture
import DriftStore
import Foundation

/// The last check of a captured event before it joins a group commit: everything PostgreSQL would refuse, or
/// that would cost more than the limits allow, is found here, per event, so that one event's content can never
/// fail the COPY of its neighbours. Text must hold no NUL (PostgreSQL `text` cannot store U+0000; such an event
/// is refused, not altered, so what is stored is what was sent); identifiers are at most `maxIDBytes` and values
/// at most `maxStringBytes` UTF-8 bytes; the time must lie in the accepted range (which also keeps partitions
/// to the days around now).
public enum CaptureEventCheck {
    /// nil when `event` may be written; else why not, with the field named.
    /// `categoricalNames` names the categorical values in messages (else "categorical value i").
    public static func problem(_ event: CaptureEvent, limits: CaptureLimits, now: Date, categoricalNames: [String] = []) -> CaptureDecodeError? {
        for (name, value) in [("request id", event.requestID), ("model", event.model), ("model version", event.modelVersion)] {
            if let p = textProblem(value, max: limits.maxIDBytes) {
                return CaptureDecodeError(path: name, problem: p.0, reason: p.1)
            }
        }
        for (i, v) in event.categorical.enumerated() {
            if let v, let p = textProblem(v, max: limits.maxStringBytes) {
                let name = i < categoricalNames.count ? "feature '\(categoricalNames[i])'" : "categorical value \(i + 1)"
                return CaptureDecodeError(path: name, problem: p.0, reason: p.1)
            }
        }
        if let p = limits.timeProblem(event.observedAt, now: now) {
            return CaptureDecodeError(path: "time", problem: p, reason: .time)
        }
        return nil
    }

    static func textProblem(_ s: String, max: Int) -> (String, CaptureDecodeError.Reason)? {
        let n = s.utf8.count
        if n > max { return ("is \(n) bytes long; at most \(max) are accepted", .tooLarge) }
        if s.utf8.contains(0) { return ("contains a NUL character (U+0000), which PostgreSQL text cannot store", .invalidValue) }
        return nil
    }

    /// The UTC days (partitions) `events` fall on.
    public static func days(_ events: [CaptureEvent]) -> Set<Int64> {
        Set(events.map { Int64(($0.observedAt.timeIntervalSince1970 / 86_400).rounded(.down)) })
    }
}
