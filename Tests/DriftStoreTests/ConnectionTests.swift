import DriftStore
import DriftTestSupport
import Foundation
import Testing

@Suite("libpq connection, values and errors")
struct ConnectionTests {
    @Test func roundTripsTypedValues() async throws {
        try await TestDatabase.withSchema(migrate: false) { client, _ in
            let when = Date(timeIntervalSince1970: 1_764_417_600.123456)
            let row = try await client.withConnection { c in
                try c.query(
                    "SELECT $1::int8 AS i, $2::float8 AS d, $3::text AS s, $4::bool AS b, $5::timestamptz AS t, $6::float8[] AS xs, $7::text[] AS ss, $8::bytea AS raw, NULL::text AS n",
                    [Int64(-42), 0.1 + 0.2, "quote ' and \" and \\", true, when, [1.5, -2.25, 1e-300], ["a", "b c", "d\"e"], Data([0, 1, 254, 255])],
                    name: "test.values")[0]
            }
            #expect(try row.int("i") == -42)
            #expect(try row.double("d") == 0.1 + 0.2, "extra_float_digits = 3 prints doubles exactly")
            #expect(try row.string("s") == "quote ' and \" and \\")
            #expect(try row.bool("b"))
            #expect(abs(try row.date("t").timeIntervalSince1970 - when.timeIntervalSince1970) < 1e-6)
            #expect(try row.doubles("xs") == [1.5, -2.25, 1e-300])
            #expect(try row.strings("ss") == ["a", "b c", "d\"e"])
            #expect(try row.bytes("raw") == Data([0, 1, 254, 255]))
            #expect(try row.optionalString("n") == nil)
            #expect(throws: PostgresError.self) { try row.int("s") }
        }
    }

    /// Every session is named and bounded: our sessions are found in pg_stat_activity, a statement cannot run for
    /// ever, a stalled transaction is ended by the server, and the connection string's own application_name wins.
    @Test func sessionsAreNamedAndBounded() async throws {
        try await TestDatabase.withSchema(migrate: false) { client, settings in
            let row = try await client.withConnection { c in
                try c.query(
                    """
                    SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st,
                           current_setting('idle_in_transaction_session_timeout') AS idle,
                           (SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() AND application_name = 'drift-worker') AS seen
                    """, name: "t")[0]
            }
            #expect(try row.string("app") == "drift-worker" && row.string("st") == "5min" && row.string("idle") == "1min")
            #expect(try row.int("seen") == 1)
            var named = settings
            named.conninfo += " application_name=nightly-backfill"
            let own = try PGConnection.connect(named).query("SELECT current_setting('application_name') AS app", name: "t")[0]
            #expect(try own.string("app") == "nightly-backfill")
        }
    }

    @Test func transactionsCommitOrRollBack() async throws {
        try await TestDatabase.withSchema(migrate: false) { client, settings in
            try await client.withConnection { c in
                try c.run("CREATE SCHEMA \(settings.quotedSchema); CREATE TABLE \(settings.quotedSchema).t (x int PRIMARY KEY)", name: "test.ddl")
            }
            struct Boom: Error {}
            _ = try await client.transaction { c in try c.query("INSERT INTO t VALUES (1)", name: "t.ins") }
            await #expect(throws: Boom.self) {
                try await client.transaction { c in
                    try c.query("INSERT INTO t VALUES (2)", name: "t.ins")
                    throw Boom()
                }
            }
            let n = try await client.withConnection { c in try c.query("SELECT count(*) AS n FROM t", name: "t.count")[0].int("n") }
            #expect(n == 1)
            let dup = await #expect(throws: PostgresError.self) {
                try await client.transaction { c in try c.query("INSERT INTO t VALUES (1)", name: "t.insert_duplicate") }
            }
            #expect(dup?.sqlState == "23505")
            #expect(dup?.description.contains("(statement t.insert_duplicate)") == true)
        }
    }

    @Test func badSettingsUnreachableServerAndMissingSchemaAreOneSentenceEach() throws {
        func failure(_ conninfo: String, schema: String = "drift", requireSchema: Bool = false) -> PostgresError? {
            do {
                _ = try PGConnection.connect(ConnectionSettings(conninfo: conninfo, schema: schema), requireSchema: requireSchema)
                return nil
            } catch let e as PostgresError { return e } catch { return nil }
        }
        let bad = failure("postgresql://user:s3cret@localhost:notaport/db")
        #expect(bad?.kind == .invalidSettings)
        #expect(bad.map { !$0.description.contains("s3cret") } == true)
        let option = failure("host=localhost bogus_option=1 password=s3cret")
        #expect(option?.kind == .invalidSettings && option?.description.contains("bogus_option") == true)
        let unreachable = failure("host=127.0.0.1 port=1 user=x password=s3cret connect_timeout=2")
        #expect(unreachable?.kind == .unreachable)
        #expect(unreachable.map { $0.description.hasPrefix("cannot reach PostgreSQL:") && !$0.description.contains("s3cret") } == true)
        let schema = failure(try TestDatabase.conninfo(), schema: "no_such_schema_here", requireSchema: true)
        #expect(schema?.kind == .schemaMissing)
        #expect(
            schema?.description
                == "the schema \"no_such_schema_here\" does not exist in this database; run `drift-worker migrate` (or start with --migrate) to create it."
        )
        let badName = failure(try TestDatabase.conninfo(), schema: "Robert'); DROP")
        #expect(badName?.kind == .invalidSettings)
        let reserved = failure(try TestDatabase.conninfo(), schema: "pg_drift")
        #expect(reserved?.kind == .invalidSettings && reserved?.description.contains("reserves for system schemas") == true)
    }

    @Test func wrongPasswordIsAnAuthenticationErrorWithoutThePassword() async throws {
        try await TestDatabase.withSchema(migrate: false) { client, settings in
            let role = "pw_\(settings.schema)"
            try await client.withConnection { c in
                try c.run("CREATE ROLE \(role) LOGIN PASSWORD 'right-password'", name: "test.role")
            }
            defer {
                _ = try? PGConnection.connect(ConnectionSettings(conninfo: settings.conninfo, schema: "public")).run(
                    "DROP ROLE IF EXISTS \(role)", name: "test.droprole")
            }
            // Only the local test cluster can be told to require passwords (pg_hba); an external DATABASE_URL server is left alone.
            guard ProcessInfo.processInfo.environment["DATABASE_URL"] == nil else { return }
            let admin = try PGConnection.connect(ConnectionSettings(conninfo: settings.conninfo, schema: "public"))
            let hba = try admin.query("SHOW hba_file", name: "test.hba")[0].string("hba_file")
            let original = try String(contentsOfFile: hba, encoding: .utf8)
            if !original.contains(role) {
                try ("local all \(role) scram-sha-256\n" + original).write(toFile: hba, atomically: false, encoding: .utf8)
                try admin.query("SELECT pg_reload_conf()", name: "test.reload")
            }
            defer {
                try? original.write(toFile: hba, atomically: false, encoding: .utf8)
                _ = try? admin.query("SELECT pg_reload_conf()", name: "test.reload")
            }
            try await Task.sleep(for: .milliseconds(300))
            let base = settings.conninfo.replacingOccurrences(of: #"user=\S+"#, with: "user=\(role)", options: .regularExpression)
            do {
                _ = try PGConnection.connect(ConnectionSettings(conninfo: base + " password=wrong-password", schema: "public"))
                Issue.record("a wrong password must be refused")
            } catch let e as PostgresError {
                #expect(e.kind == .authentication)
                #expect(e.description.contains("password authentication failed"))
                #expect(!e.description.contains("wrong-password") && !e.description.contains("right-password"))
            }
            let ok = try PGConnection.connect(ConnectionSettings(conninfo: base + " password=right-password", schema: "public"))
            #expect(ok.isHealthy)
        }
    }

    @Test func redactsPasswords() {
        #expect(ConnectionSettings.redact("postgresql://bob:hunter2@db:5432/x") == "postgresql://bob:***@db:5432/x")
        #expect(ConnectionSettings.redact("host=db password='a b' user=x") == "host=db password=*** user=x")
        #expect(ConnectionSettings.redact("host=db PASSWORD=abc") == "host=db PASSWORD=***")
    }
}
