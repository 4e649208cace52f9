import DriftCore
import DriftTriggers
import Testing

/// Status columns are read and written through their enums; the stored strings stay those of earlier releases.
@Suite("Stored statuses")
struct StoredStatusTests {
    @Test func theStoredStringsAreUnchanged() {
        #expect(OutboxState.allCases.map(\.rawValue) == ["pending", "sending", "delivered", "dead"])
        #expect(RunState.allCases.map(\.rawValue) == ["running", "succeeded", "failed", "timed_out"])
        #expect(DriftCheck.Status.allCases.map(\.rawValue) == ["completed", "insufficient_data"])
        #expect(OutboxState.pending.sql == "'pending'")
    }

    @Test func unknownTextIsAnErrorNamingTheColumn() throws {
        #expect(try OutboxState.stored("dead", column: "trigger_outbox.state") == .dead)
        #expect(try RunState.stored("timed_out", column: "trigger_outbox.run_state") == .timedOut)
        let error = #expect(throws: UnknownStoredStatus.self) { try OutboxState.stored("paused", column: "trigger_outbox.state") }
        #expect(
            error?.description
                == "trigger_outbox.state holds 'paused', which this drift-worker does not know (expected one of: pending, sending, delivered, dead); "
                + "was the row written by a newer version? Upgrade drift-worker")
    }
}
