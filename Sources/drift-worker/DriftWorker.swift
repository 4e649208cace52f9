import ArgumentParser
import DriftCore

@main
struct DriftWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift-worker",
        abstract: "Measure data and prediction drift of served models against a reference.",
        subcommands: [DemoCommand.self, CompareCommand.self, ProfileCommand.self, ValidateConfigCommand.self, IngestCommand.self, RunOnceCommand.self, ServeCommand.self, BackfillCommand.self, DispatchCommand.self, TriggerCommand.self, ShadowEvalCommand.self, ReportCommand.self, IngestServerCommand.self, MigrateCommand.self, LocalPostgresCommand.self, VersionCommand.self])
}

/// Exit codes shared by every command.
enum ExitStatus {
    /// Bad input: a file, a value or a configuration the user must fix.
    static let badInput = ExitCode(2)
    /// `--fail-on-drift` and drift was found.
    static let driftFound = ExitCode(3)
    /// An operation failed (database unreachable, a statement refused): retrying later may help.
    static let failed = ExitCode(1)
}
