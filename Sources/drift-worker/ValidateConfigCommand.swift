import ArgumentParser
import DriftCore
import DriftStore
import Foundation

struct ValidateConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-config",
        abstract: "Check a monitors.yaml file and what it refers to; report every problem with its line and column.",
        discussion: """
            Loads the file as the worker does (${VAR} in values replaced by the environment variable VAR), then checks what \
            would fail at run time: reference files exist, are readable and hold every configured feature with a compatible \
            kind (relative paths resolve against the current directory), and action templates use only the variables their \
            trigger gives. With --check-db it also connects and checks that the schema exists with every migration applied. \
            The file is FILE, else --config, else $DRIFT_CONFIG, else monitors.yaml, as for every other command. \
            Exit status: 0 with "no problems"; 2 when there are problems (a missing file included) or on a usage error; \
            1 when the database cannot be reached.
            """)

    @Argument(help: "The monitors file (default: --config, $DRIFT_CONFIG or monitors.yaml).") var file: String?
    @Flag(help: "Also connect to PostgreSQL and check that the schema exists and every migration is applied.") var checkDb = false
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if let file, let config = configOptions.config, file != config {
            throw ValidationError("give the monitors file once: FILE '\(file)' or --config '\(config)', not both.")
        }
    }

    func run() async throws {
        let file = self.file ?? configOptions.path
        try ConfigOptions.requireFile(file)
        let document: MonitorsDocument
        do { document = try MonitorsFile.loadDocument(path: file) } catch let e as ConfigError {
            for issue in e.issues { Terminal.fail(issue.description) }
            throw ExitStatus.badInput
        }
        let issues = ConfigValidator.check(document, baseDirectory: FileManager.default.currentDirectoryPath)
        for issue in issues { Terminal.fail(issue.description) }
        var problems = issues.count
        if checkDb {
            let settings = database.settings
            let found = try await withPostgresClient(settings) { client in
                try await withDatabaseErrors {
                    try await client.withConnection { c in try ConfigValidator.checkDatabase(c, schema: settings.schema) }
                }
            }
            for p in found { Terminal.fail("database: \(p)") }
            problems += found.count
        }
        if problems > 0 { throw ExitStatus.badInput }
        for m in document.monitors {
            print(
                "\(m.name): model \(m.model), \(m.features.count) features, windows \(m.schedule.length) (lateness \(m.schedule.lateness)), sample \(m.sampleSize) (min \(m.minSample)), policy \(m.policy.consecutive) windows / cooldown \(m.policy.cooldown)"
            )
            if !m.actions.isEmpty {
                let fired = Set(m.policy.actions)
                print(
                    "  actions: "
                        + m.actions.keys.sorted().map { "\($0) (\(m.actions[$0]!.preset)\(fired.contains($0) ? ", fired by the policy" : ""))" }
                        .joined(separator: ", "))
            }
        }
        print("\(file): \(document.monitors.count) monitor(s)\(checkDb ? " and the database schema" : ""), no problems")
    }
}
