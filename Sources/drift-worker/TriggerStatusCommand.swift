import ArgumentParser
import DriftCore
import DriftStore
import Foundation

/// `drift-worker trigger status`: what became of the actions in `trigger_outbox` — delivered or not, and how the
/// runs they started ended.
struct TriggerStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List the latest outbox actions: delivery state, attempts, the run each started and how it ended.",
        discussion: """
            One line per action, newest first: action id, action, delivery state (pending, sending, delivered, dead), \
            attempts, run state (running, succeeded, failed, timed_out; '-' when the run is not followed), the target's \
            run id and the run's URL, then the last thing the target said. Actions fired by a run's end \
            (on_success / on_failure) name the action that fired them. --json prints one JSON object per line instead. \
            Exit status: 0; 1 when any listed action is dead or its run failed or timed out, or PostgreSQL cannot be \
            reached; 2 on a usage error or bad database settings.
            """)

    @Option(help: "Only this monitor's actions.") var monitor: String?
    @Option(help: "Only this action id (and the actions its run's end fired).") var actionId: String?
    @Option(help: "How many actions to list (1–10000).") var limit = 50
    @Flag(help: "One JSON object per line.") var json = false
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000 (got \(limit)).") }
    }

    func run() async throws {
        let rows = try await withPostgresClient(database.settings) { client in
            try await withDatabaseErrors {
                try await client.withConnection { c in try TriggerStatus.list(c, monitor: monitor, actionID: actionId, limit: limit) }
            }
        }
        if json {
            for r in rows { print(r.json.rendered()) }
        } else if rows.isEmpty {
            print("no actions in trigger_outbox" + (monitor.map { " for monitor '\($0)'" } ?? ""))
        } else {
            print(TriggerStatus.table(rows), terminator: "")
        }
        if rows.contains(where: { $0.state == .dead || $0.runState == .failed || $0.runState == .timedOut }) { throw ExitStatus.failed }
    }
}
