/// A worker's view of one task it holds: when to send heartbeats, when the lease is lost, and what
/// to do when the work ends. A plain value: the consumer feeds it events and performs the actions.
public struct TaskLease: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case held(expiresAt: Double)
        case lost
        case finished
    }

    public enum Action: Sendable, Equatable {
        case none
        case sendHeartbeat
        /// The lease expired or was taken over: stop the work; its result must not be recorded.
        case cancelWork
        case complete
        case fail(String)
        /// Record the failure and discard the task now, whatever attempts it has left.
        case discard(String)
        /// The work ended after the lease was lost: record nothing (another worker owns the task).
        case abandon
        /// The work was cancelled by shutdown while the lease was held: hand the task back.
        case release
    }

    public private(set) var state: State
    public let heartbeatInterval: Double
    private var lastHeartbeat: Double

    /// `now` and `expiresAt` are seconds on one clock; heartbeats go out every `heartbeatInterval`.
    public init(now: Double, expiresAt: Double, heartbeatInterval: Double) {
        state = .held(expiresAt: expiresAt)
        self.heartbeatInterval = heartbeatInterval
        lastHeartbeat = now
    }

    public mutating func tick(now: Double) -> Action {
        guard case .held(let expiresAt) = state else { return .none }
        if now >= expiresAt {
            state = .lost
            return .cancelWork
        }
        if now - lastHeartbeat >= heartbeatInterval {
            lastHeartbeat = now
            return .sendHeartbeat
        }
        return .none
    }

    /// The server's answer to a heartbeat: the new expiry, or nil when the task is no longer ours.
    public mutating func heartbeatAnswered(newExpiry: Double?) -> Action {
        guard case .held = state else { return .none }
        guard let newExpiry else {
            state = .lost
            return .cancelWork
        }
        state = .held(expiresAt: newExpiry)
        return .none
    }

    public enum WorkResult: Sendable, Equatable {
        case succeeded
        case failed(String)
        /// The work failed in a way no retry can fix (`PermanentTaskFailure`).
        case failedPermanently(String)
        case cancelled
    }

    public mutating func workEnded(_ result: WorkResult) -> Action {
        guard case .held = state else {
            state = .finished
            return .abandon
        }
        state = .finished
        switch result {
        case .succeeded: return .complete
        case .failed(let message): return .fail(message)
        case .failedPermanently(let message): return .discard(message)
        case .cancelled: return .release
        }
    }
}
