import DriftLocalPostgres
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// `drift-worker migrate` against a throwaway PostgreSQL, and its errors.
@Suite("drift-worker migrate", .serialized)
struct MigrateCommandTests {
    @Test func migratesOnceThenReportsUpToDate() throws {
        let url = try TestDatabase.conninfo()
        let schema = "cli_" + UUID().uuidString.lowercased().prefix(8)
        let first = try CLI.run(["migrate", "--schema", String(schema)], environment: ["DATABASE_URL": url])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "schema \"\(schema)\": applied migration(s) 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11\n")
        let again = try CLI.run(["migrate"], environment: ["DATABASE_URL": url, "DRIFT_SCHEMA": String(schema)])
        #expect(again.stdout == "schema \"\(schema)\" is up to date (11 migrations)\n")
        try PGConnection.connect(ConnectionSettings(conninfo: url, schema: "public")).run("DROP SCHEMA \"\(schema)\" CASCADE", name: "t.drop")
    }

    @Test func dryRunPrintsTheSQLWithoutConnecting() throws {
        let r = try CLI.run(["migrate", "--dry-run", "--schema", "monitoring"], environment: ["DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("CREATE SCHEMA IF NOT EXISTS \"monitoring\";"))
        #expect(r.stdout.contains("CREATE TABLE \"monitoring\".tasks"))
    }

    @Test func connectionErrorsAreOneSentenceWithoutThePassword() throws {
        let bad = try CLI.run(["migrate"], environment: ["DATABASE_URL": "postgresql://drift:Sup3rSecret@localhost:notaport/drift"])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("drift-worker: error: PostgreSQL connection settings are invalid:"))
        #expect(!bad.stderr.contains("Sup3rSecret") && bad.stderr.split(separator: "\n").count == 1)

        let down = try CLI.run(["migrate"], environment: ["DATABASE_URL": "postgresql://drift:Sup3rSecret@127.0.0.1:1/drift?connect_timeout=2"])
        #expect(down.status == 1)
        #expect(down.stderr.hasPrefix("drift-worker: error: cannot reach PostgreSQL:"))
        #expect(!down.stderr.contains("Sup3rSecret") && down.stderr.split(separator: "\n").count == 1)

        let schema = try CLI.run(["migrate", "--schema", "Bad-Name"])
        #expect(schema.status != 0 && schema.stderr.contains("lowercase letters, digits or underscores"))
    }
}

@Suite("drift-worker local-postgres")
struct LocalPostgresCommandTests {
    @Test func startsServesAndIsDeletedOnCtrlC() async throws {
        let p = CLI.process(["local-postgres", "--migrate"])
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Read the first line: DATABASE_URL='…'
        var text = ""
        let handle = out.fileHandleForReading
        while !text.contains("\n") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let line = try #require(text.split(separator: "\n").first)
        #expect(line.hasPrefix("DATABASE_URL='host=/tmp/drift-pg-"))
        let conninfo = String(line.dropFirst("DATABASE_URL='".count).dropLast())
        let dir = String(conninfo.split(separator: " ")[0].dropFirst("host=".count))
        let conn = try PGConnection.connect(ConnectionSettings(conninfo: conninfo), requireSchema: true)
        #expect(try Migrator(schema: "drift").isCurrent(conn))
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 128 + SIGINT)
        #expect(!FileManager.default.fileExists(atPath: dir), "the cluster's directory is deleted")
        #expect(throws: PostgresError.self) { try PGConnection.connect(ConnectionSettings(conninfo: conninfo)) }
    }
}
