import DriftStore
import Foundation
import Testing

/// Connection settings are checked before any connection, and no password reaches a message, however it is written.
@Suite("Connection settings: validation and redaction")
struct ConnectionSettingsTests {
    @Test(arguments: [
        ("postgresql://bob:hunter2@db:5432/x", "postgresql://bob:***@db:5432/x"),
        ("postgresql://bob:p@ss@db/x", "postgresql://bob:***@db/x"),  // unencoded '@': everything up to the last '@'
        ("postgres://bob:p/s:s@w@db:5432/x?sslmode=require", "postgres://bob:***@db:5432/x?sslmode=require"),
        ("error for POSTGRESQL://bob:secret@h/db here", "error for POSTGRESQL://bob:***@h/db here"),
        ("host=db password='a b' user=x", "host=db password=*** user=x"),
        ("host=db password='a\\' b' user=x", "host=db password=*** user=x"),  // an escaped quote does not end the value
        ("host=db password=a\\ b user=x", "host=db password=*** user=x"),  // neither does an escaped space
        ("host=db password='unterminated and more", "host=db password=***"),
        ("host=db PASSWORD = abc", "host=db PASSWORD = ***"),
        (
            "connection settings are invalid: invalid percent-encoded token: \"Sup3r%Secret!\"",
            "connection settings are invalid: invalid percent-encoded token: \"***\""
        )
    ])
    func redactsPasswords(text: String, expected: String) {
        #expect(ConnectionSettings.redact(text) == expected)
    }

    @Test(arguments: [
        ("postgresql://user:p@zz@127.0.0.1/db", "zz@"),  // libpq would show "zz@127.0.0.1" as a host name
        ("postgresql://user:q/zz@127.0.0.1/db", "q/zz"),  // … "q" as a port
        ("postgresql://user:s3cr3t/127.0.0.1", "s3cr3t"),  // a password without '@': "s3cr3t" as a port
        ("postgresql://user:pa%zzx@127.0.0.1/db", "%zzx"),  // libpq shows the bad percent token
        ("postgresql://user:pa%00x@127.0.0.1/db", "%00x"),
        ("postgresql://user:pa zz@127.0.0.1/db", "pa zz"),
        ("POSTGRESQL://user:passw0rd@127.0.0.1/db", "passw0rd"),  // not a URI to libpq: it would echo it as a key
        ("postgresql://u@127.0.0.1:5432/app?password=Sup3r%Secret!", "Sup3r"),  // a bad escape in a ?parameter, quoted whole by libpq
        ("postgresql://u@127.0.0.1/app?sslmode=require&password=100%25ok%", "100%25ok")
    ])
    func malformedURIsAreRefusedWithoutShowingThem(uri: String, secret: String) {
        do {
            try ConnectionSettings(conninfo: uri).validate()
            Issue.record("\(uri) must be refused")
        } catch let e as PostgresError {
            #expect(e.kind == .invalidSettings)
            #expect(e.message.hasPrefix("DATABASE_URL is not a usable postgresql:// URI"), "\(e.message)")
            #expect(!e.description.contains(secret) && !e.description.contains("127.0.0.1"), "\(e.description)")
        } catch { Issue.record("\(error)") }
    }

    @Test(arguments: [
        "", "host=db user=x password='a@b/c'", "postgresql://", "postgresql:///db", "postgresql://db", "postgresql://user@db:5432/x",
        "postgresql://user:p%40ss%2Fw@db:5432/x?sslmode=verify-full&application_name=a@b", "postgresql://u:p@[::1]:5432,h2:5433/x",
        "postgresql://u:p?q@h/db"
    ])
    func wellFormedSettingsPass(conninfo: String) throws {
        try ConnectionSettings(conninfo: conninfo).validate()
    }

    @Test func badSchemaNamesAreRefused() {
        for schema in ["", "Drift", "a-b", "1st", "pg_x", String(repeating: "a", count: 61)] {
            #expect(throws: PostgresError.self) { try ConnectionSettings(conninfo: "", schema: schema).validate() }
        }
    }
}
