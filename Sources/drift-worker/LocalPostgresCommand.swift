import ArgumentParser
import DriftLocalPostgres
import DriftStore
import Foundation

struct LocalPostgresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local-postgres",
        abstract: "Run a throwaway PostgreSQL for trying drift-worker locally; Ctrl-C stops and deletes it.",
        discussion: """
            Prints a DATABASE_URL to use from another terminal. The server listens only on a Unix socket in a \
            private temporary directory, runs with fsync off, and is deleted when this command ends. Exit status: 130 after \
            Ctrl-C and 143 after SIGTERM (128 + the signal, once the cluster is deleted); 1 when PostgreSQL cannot be \
            started (initdb/postgres missing); 2 on a usage error.
            """)

    @Flag(help: "Also create drift-worker's tables in the default schema.") var migrate = false

    func run() async throws {
        let pg: LocalPostgres
        do {
            pg = try LocalPostgres.start()
        } catch {
            Terminal.fail("\(error)")
            throw ExitStatus.failed
        }
        LocalPostgres.stopOnSignals()
        if migrate {
            let settings = ConnectionSettings(conninfo: pg.conninfo, poolSize: 1)
            _ = try await withPostgresClient(settings) { client in
                try await client.withConnection { c in try Migrator(schema: settings.schema).migrate(c) }
            }
        }
        // Written unbuffered: a script reads the first line while this keeps running.
        let banner = "DATABASE_URL='\(pg.conninfo)'\nPostgreSQL is running in \(pg.directory); press Ctrl-C to stop and delete it.\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }
}
