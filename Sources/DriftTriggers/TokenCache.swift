import Foundation
import NIOConcurrencyHelpers

/// Access tokens cached per key until their refresh time, filled single-flight: while one caller exchanges a token
/// for a key, other callers for that key wait (blocking their thread, at most as long as the exchange's HTTP
/// timeouts) and take its result — the token, or the error — instead of exchanging again. A caller that arrives
/// after a failed exchange tries once more itself; failures are not cached.
final class TokenCache: Sendable {
    /// A fresh exchange's answer: the token and when to exchange again.
    struct Fresh: Sendable {
        var token: String
        var refreshAt: Date
    }

    private struct State: Sendable {
        var cached: Fresh?
        /// Exchanges finished, successful or not; a waiter compares it with what it saw on arrival.
        var finished = 0
        var last: Result<String, any Error>?
        /// Callers waiting for the exchange in flight (for tests).
        var waiting = 0
    }

    /// One key's state, and the lock held for the length of its exchange.
    private final class Slot: Sendable {
        let flight = NIOLock()
        let state = NIOLockedValueBox(State())
    }

    private let slots = NIOLockedValueBox<[String: Slot]>([:])
    private let made = NIOLockedValueBox(0)

    /// Successful exchanges so far.
    var exchanges: Int { made.withLockedValue { $0 } }

    /// Callers for `key` waiting for an exchange to finish.
    func waiting(for key: String) -> Int { slots.withLockedValue { $0[key] }?.state.withLockedValue { $0.waiting } ?? 0 }

    /// The cached token for `key` when `now` is before its refresh time; else the result of an exchange in flight,
    /// or of `exchange()` run by this caller.
    func token(_ key: String, now: Date, exchange: () throws -> Fresh) throws -> String {
        let slot = slots.withLockedValue { slots in
            if let s = slots[key] { return s }
            let s = Slot()
            slots[key] = s
            return s
        }
        let cached: String?
        let arrived: Int
        (cached, arrived) = slot.state.withLockedValue { s in
            if let c = s.cached, now < c.refreshAt { return (c.token, s.finished) }
            s.waiting += 1
            return (nil, s.finished)
        }
        if let cached { return cached }
        return try slot.flight.withLock {
            let seen = slot.state.withLockedValue { s in
                s.waiting -= 1
                return s
            }
            if seen.finished != arrived, let last = seen.last { return try last.get() }
            if let c = seen.cached, now < c.refreshAt { return c.token }
            let result = Result { try exchange() }
            slot.state.withLockedValue { s in
                s.finished += 1
                s.last = result.map(\.token)
                if case .success(let fresh) = result { s.cached = fresh }
            }
            if case .success = result { made.withLockedValue { $0 += 1 } }
            return try result.get().token
        }
    }
}
