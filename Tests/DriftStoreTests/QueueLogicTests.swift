import DriftCommon
import DriftStore
import Testing

/// The queue's pure logic, without a database.
@Suite("Retry policy and lease state machine")
struct QueueLogicTests {
    @Test func backoffIsExponentialWithFullJitterAndCapped() {
        let p = RetryPolicy(base: 2, cap: 60)
        #expect(p.afterFailure(attempt: 1, maxAttempts: 5, random: 0.999_999) == .retry(after: 2 * 0.999_999))
        #expect(p.afterFailure(attempt: 3, maxAttempts: 5, random: 0.5) == .retry(after: 4))
        #expect(p.afterFailure(attempt: 4, maxAttempts: 5, random: 0) == .retry(after: 0))
        #expect(p.afterFailure(attempt: 5, maxAttempts: 5, random: 0.5) == .discard)
        #expect(p.afterFailure(attempt: 9, maxAttempts: 5, random: 0.5) == .discard)
        #expect(RetryPolicy(base: 2, cap: 60).afterFailure(attempt: 30, maxAttempts: 99, random: 1) == .retry(after: 60))
        #expect(Backoff.fullJitter(attempt: 200, base: 1, cap: 10, random: 0.5) == 5)
    }

    @Test func heartbeatsAreDueEveryInterval() {
        var l = TaskLease(now: 0, expiresAt: 30, heartbeatInterval: 10)
        #expect(l.tick(now: 5) == .none)
        #expect(l.tick(now: 10) == .sendHeartbeat)
        #expect(l.heartbeatAnswered(newExpiry: 40) == .none)
        #expect(l.tick(now: 15) == .none)
        #expect(l.tick(now: 20) == .sendHeartbeat)
        #expect(l.state == .held(expiresAt: 40))
        #expect(l.workEnded(.succeeded) == .complete)
        #expect(l.state == .finished)
    }

    @Test func aLostLeaseCancelsTheWorkAndItsResultIsAbandoned() {
        var l = TaskLease(now: 0, expiresAt: 30, heartbeatInterval: 10)
        #expect(l.tick(now: 31) == .cancelWork)
        #expect(l.state == .lost)
        #expect(l.tick(now: 40) == .none)
        #expect(l.workEnded(.succeeded) == .abandon, "a late success must not be recorded")

        var taken = TaskLease(now: 0, expiresAt: 30, heartbeatInterval: 10)
        _ = taken.tick(now: 10)
        #expect(taken.heartbeatAnswered(newExpiry: nil) == .cancelWork, "another owner took the task")
        #expect(taken.workEnded(.failed("x")) == .abandon)
    }

    @Test func failureAndShutdownOutcomes() {
        var f = TaskLease(now: 0, expiresAt: 30, heartbeatInterval: 10)
        #expect(f.workEnded(.failed("boom")) == .fail("boom"))
        var c = TaskLease(now: 0, expiresAt: 30, heartbeatInterval: 10)
        #expect(c.workEnded(.cancelled) == .release)
    }
}
