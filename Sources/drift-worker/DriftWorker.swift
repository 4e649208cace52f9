import ArgumentParser
import DriftCore
import DriftLocalPostgres
import Foundation

@main
struct DriftWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift-worker",
        abstract: "Measure data and prediction drift of served models against a reference.",
        discussion: """
            Exit status of every command: 0 success; 1 an operation failed (database unreachable, a statement refused; \
            retrying later may help); 2 bad input (a usage error such as an unknown option or a bad value, a missing or \
            invalid monitors file, an unreadable data file); 3 drift found where a command was asked to fail on it. Each \
            command's --help lists its own.
            """,
        version: BuildInfo.version,
        subcommands: [
            DemoCommand.self, CompareCommand.self, ProfileCommand.self, ValidateConfigCommand.self, IngestCommand.self, RunOnceCommand.self,
            ServeCommand.self, BackfillCommand.self, DispatchCommand.self, TriggerCommand.self, ShadowEvalCommand.self, ReportCommand.self,
            IngestServerCommand.self, MigrateCommand.self, LocalPostgresCommand.self, VersionCommand.self
        ])

    /// ArgumentParser's entry point, except that its usage errors (unknown option, missing or bad value, a
    /// `ValidationError`) exit 2 — bad input, as everywhere else — instead of EX_USAGE (64). `--help` and
    /// `--version` still exit 0; any other error keeps its own status.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            let message = fullMessage(for: error)
            if !message.isEmpty {
                // ArgumentParser's text on a terminal (and LOG_FORMAT=text); one JSON record in JSON log mode
                if LogSetup.format() == .json { Terminal.fail(message) } else { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            }
            Foundation.exit(ExitStatus.badInput.rawValue)
        }
    }
}

/// Exit codes shared by every command.
enum ExitStatus {
    /// Bad input: a file, a value or a configuration the user must fix; also every usage error.
    static let badInput = ExitCode(2)
    /// `--fail-on-drift` and drift was found.
    static let driftFound = ExitCode(3)
    /// An operation failed (database unreachable, a statement refused): retrying later may help.
    static let failed = ExitCode(1)
}
