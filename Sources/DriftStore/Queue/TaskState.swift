import DriftCommon
import Foundation

/// The life of a task, as River defines it. `completed`, `cancelled` and `discarded` are final.
public enum TaskState: String, Sendable, CaseIterable, Codable {
    case available, scheduled, running, retryable, completed, cancelled, discarded

    public var isFinal: Bool { self == .completed || self == .cancelled || self == .discarded }
}

/// A task as fetched from the queue.
public struct QueueTask: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var uniqueKey: String?
    /// Arguments as JSON text.
    public var args: String
    public var state: TaskState
    public var priority: Int
    public var attempt: Int
    public var maxAttempts: Int
    public var scheduledAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    /// Error history as JSON text: [{"attempt","at","error"}, …].
    public var errors: String
}

/// Thrown by a task handler when retrying cannot help: the consumer discards the task at once (the error is
/// recorded like any other) instead of spending its remaining attempts.
public struct PermanentTaskFailure: Error, CustomStringConvertible {
    public var underlying: Error
    public init(_ underlying: Error) { self.underlying = underlying }
    public var description: String { String(describing: underlying) }
}

/// What happens after a failed attempt: retry after a delay, or discard (errors kept).
public struct RetryPolicy: Sendable, Equatable {
    /// Delay scale in seconds: attempt k waits U(0,1)·min(cap, base·2^(k−1)).
    public var base: Double
    public var cap: Double

    public init(base: Double = 2, cap: Double = 600) {
        self.base = base
        self.cap = cap
    }

    public enum Outcome: Sendable, Equatable {
        case retry(after: Double)
        case discard
    }

    /// `attempt` is the attempt that just failed (1-based); `random` ∈ [0, 1).
    public func afterFailure(attempt: Int, maxAttempts: Int, random: Double) -> Outcome {
        attempt >= maxAttempts ? .discard : .retry(after: Backoff.fullJitter(attempt: attempt, base: base, cap: cap, random: random))
    }
}
