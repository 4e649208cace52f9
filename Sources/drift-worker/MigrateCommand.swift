import ArgumentParser
import DriftStore

/// Database options shared by every command that talks to PostgreSQL.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Schema that holds drift-worker's tables (default: $DRIFT_SCHEMA or drift).", transform: SchemaName.parse)
    var schema: SchemaName?

    var settings: ConnectionSettings { ConnectionSettings.fromEnvironment(schema: schema?.name, poolSize: 2) }

    /// Settings are checked before anything starts (a server included): a bad schema name or a malformed
    /// `DATABASE_URL` is exit 2 with a sentence naming the setting, not a process that answers 503.
    /// (`--schema` itself is checked while parsing, by `SchemaName`.)
    func validate() throws {
        let s = settings
        do { try ConnectionSettings.validate(schema: s.schema) } catch let e as PostgresError {
            Terminal.fail("DRIFT_SCHEMA: \(e.message).")
            throw ExitStatus.badInput
        }
        do { try ConnectionSettings.validate(conninfo: s.conninfo) } catch let e as PostgresError {
            Terminal.fail(e.description)
            throw ExitStatus.badInput
        }
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade drift-worker's tables in PostgreSQL.",
        discussion: """
            Connects with DATABASE_URL, or libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGPASSFILE, PGSSLMODE, \
            PGSERVICE… when it is not set. Safe to run from many replicas at once: an advisory lock serialises \
            migrators and each migration is applied once. Exit status: 0 applied or already up to date; 1 PostgreSQL \
            cannot be reached or refused a migration; 2 bad input (a usage error, a bad --schema, DRIFT_SCHEMA or \
            DATABASE_URL).
            """)

    @Flag(help: "Print the SQL that would run, without connecting.") var dryRun = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let settings = database.settings
        let migrator = Migrator(schema: settings.schema)
        if dryRun {
            print(migrator.plan(), terminator: "")
            return
        }
        do {
            let outcome = try await withPostgresClient(settings) { client in try await client.withConnection { c in try migrator.migrate(c) } }
            if outcome.applied.isEmpty {
                print("schema \"\(settings.schema)\" is up to date (\(outcome.alreadyApplied.count) migrations)")
            } else {
                print("schema \"\(settings.schema)\": applied migration(s) \(outcome.applied.map(String.init).joined(separator: ", "))")
            }
        } catch let e as PostgresError {
            Terminal.fail(e.description)
            throw e.kind == .invalidSettings ? ExitStatus.badInput : ExitStatus.failed
        }
    }
}
