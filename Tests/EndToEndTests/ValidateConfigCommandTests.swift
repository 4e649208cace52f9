import DriftCore
import DriftStore
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// `validate-config`, `trigger test` and the database commands' start-up checks, as a user runs them.
@Suite("validate-config and start-up checks in the binary")
struct ValidateConfigCommandTests {
    @Test func validateConfigCommand() throws {
        let ok = try CLI.run(["validate-config", repoRoot.appendingPathComponent("sample-data/monitors.yaml").path])
        #expect(ok.status == 0 && ok.stdout.contains("1 monitor(s), no problems"))
        let s = try Scratch()
        let bad = try CLI.run(["validate-config", s.write("m.yaml", "monitors:\n  - name: a\n    model: m\n    window: PT1X\n")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("m.yaml:4:13: `window`: 'PT1X' is not an ISO 8601 duration"))
        #expect(bad.stderr.contains("missing `features`") && bad.stderr.contains("missing `reference`"))
    }

    @Test func triggerTestSendsAShadowFiredActionWithSampleShadowVariables() async throws {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 200, body: "{}") }
        let sample = repoRoot.appendingPathComponent("sample-data/monitors.yaml").path
        let r = try await onBlockingPool {
            try CLI.run(
                ["trigger", "test", "--monitor", "fraud-scorer", "--action", "promote", "--config", sample],
                environment: ["DRIFT_PROMOTE_URL": "http://127.0.0.1:\(server.port)/hooks/promote"])
        }
        await server.stop()
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let body = try #require(server.requests.first).body
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(json["candidate"] as? String == "v4" && json["verdict"] as? String == "promote" && json["evaluation"] as? String == "0", "\(json)")
    }

    @Test func validateConfigCommandNamesAMissingReference() throws {
        let s = try Scratch()
        let file = s.write(
            "monitors.yaml",
            """
            monitors:
              - name: m
                model: fraud
                features: [{name: amount, kind: numeric}]
                reference: {file: /nonexistent/reference.csv}
            """)
        let r = try CLI.run(["validate-config", file])
        #expect(r.status == 2)
        #expect(
            r.stderr == "drift-worker: error: \(file):5:23: monitor 'm': the reference file /nonexistent/reference.csv does not exist\n",
            "\(r.stderr)")
        #expect(!r.stdout.contains("no problems"))
    }

    @Test func checkDatabaseReportsMissingMigrations() async throws {
        try await TestDatabase.withSchema(migrate: false) { client, settings in
            let none = try await client.withConnection { c in try ConfigValidator.checkDatabase(c, schema: settings.schema) }
            #expect(none == ["the schema \"\(settings.schema)\" does not exist in this database; run `drift-worker migrate`"])
            _ = try await client.withConnection { c in try Migrator(schema: settings.schema).migrate(c) }
            #expect(try await client.withConnection { c in try ConfigValidator.checkDatabase(c, schema: settings.schema) } == [])
            let last = try #require(Migrations.all.last)
            _ = try await client.withConnection { c in
                try c.query("DELETE FROM \(settings.quotedSchema).schema_migrations WHERE version = $1", [last.version], name: "test.unapply")
            }
            let missing = try await client.withConnection { c in try ConfigValidator.checkDatabase(c, schema: settings.schema) }
            #expect(missing == ["schema \"\(settings.schema)\": migration(s) \(last.version) (\(last.name)) not applied; run `drift-worker migrate`"])
        }
        // the command: exit 2 naming the problem, 0 with "no problems"
        let url = try TestDatabase.conninfo()
        let schema = "v_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let sample = repoRoot.appendingPathComponent("sample-data/monitors.yaml").path
        let bad = try CLI.run(["validate-config", sample, "--check-db"], environment: ["DATABASE_URL": url, "DRIFT_SCHEMA": String(schema)])
        #expect(bad.status == 2 && bad.stderr.contains("database: the schema \"\(schema)\" does not exist"), "\(bad.stderr)")
        #expect(try CLI.run(["migrate"], environment: ["DATABASE_URL": url, "DRIFT_SCHEMA": String(schema)]).status == 0)
        let ok = try CLI.run(["validate-config", sample, "--check-db"], environment: ["DATABASE_URL": url, "DRIFT_SCHEMA": String(schema)])
        try? TestDatabase.drop(ConnectionSettings(conninfo: url, schema: String(schema)))
        #expect(ok.status == 0 && ok.stdout.contains("no problems"), "\(ok.stderr)")
    }

    @Test func badSettingsStopEveryDatabaseCommandAtStart() throws {
        let config = repoRoot.appendingPathComponent("sample-data/monitors.yaml").path
        // ingest-server would otherwise start and answer every capture with 503
        let r = try CLI.run(
            ["ingest-server", "--http-port", "0", "--config", config],
            environment: ["DRIFT_SCHEMA": "Bad-Schema", "DATABASE_URL": "postgresql://127.0.0.1:1/none"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("drift-worker: error: DRIFT_SCHEMA: schema name 'Bad-Schema' must be"), "\(r.stderr)")
        let flag = try CLI.run(["migrate", "--schema", "pg_mine"])
        #expect(
            flag.status == 2 && flag.stderr.contains("The value 'pg_mine' is invalid for '--schema <schema>': schema name 'pg_mine' starts with pg_"),
            "\(flag.stderr)")
        // a password with an unencoded '@' never reaches libpq, and no part of it is shown
        let url = try CLI.run(["migrate"], environment: ["DATABASE_URL": "postgresql://drift:hunter@2secret@127.0.0.1:1/db"])
        #expect(url.status == 2 && url.stderr.contains("DATABASE_URL is not a usable postgresql:// URI"), "\(url.stderr)")
        #expect(!url.stderr.contains("2secret") && !url.stderr.contains("hunter"), "\(url.stderr)")
    }
}
