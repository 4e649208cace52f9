import DriftLocalPostgres
import DriftStore
import Foundation
import NIOPosix

/// The PostgreSQL the tests talk to: `DATABASE_URL` when set, else one throwaway local cluster for
/// the whole test process (a library target so that every test target shares the one cluster).
///
/// A test that wants migrated tables gets a database of its own, created from a template database that was migrated
/// once per process (`CREATE DATABASE … TEMPLATE`, a file-level copy: much cheaper than running every migration
/// again), and dropped afterwards. A test that wants an empty schema gets one in the shared database.
public enum TestDatabase {
    static let server: Result<String, Error> = {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty { return .success(url) }
        return Result { try LocalPostgres.start().conninfo }
    }()

    public static func conninfo() throws -> String { try server.get() }

    /// The schema the template database is migrated into (and so every database made from it has).
    static let templateSchema = "drift"
    static let databasePrefix = "drift_test_"

    /// The migrated template database, made once per process: nil when `DATABASE_URL` is a URI (its database cannot
    /// be replaced by appending `dbname=`), in which case every test migrates a schema of its own.
    static let template: Result<String?, Error> = Result {
        let base = try conninfo()
        guard !isURI(base) else { return nil }
        let name = "drift_template_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try PGConnection.connect(ConnectionSettings(conninfo: base, schema: "public"))
        try admin.run("CREATE DATABASE \(name)", name: "test.template")
        do {
            // the only connection to the template is closed before anything copies it (PostgreSQL requires that)
            let conn = try PGConnection.connect(ConnectionSettings(conninfo: base + " dbname=\(name)", schema: templateSchema))
            _ = try Migrator(schema: templateSchema).migrate(conn)
        }
        // a server of DATABASE_URL outlives the run: the template goes at exit (a local cluster goes whole)
        atexit { TestDatabase.dropTemplate() }
        return name
    }

    static func dropTemplate() {
        guard case .success(let name?) = template, let base = try? conninfo(),
            let admin = try? PGConnection.connect(ConnectionSettings(conninfo: base, schema: "public"))
        else { return }
        try? admin.run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", name: "test.template_drop")
    }

    static func isURI(_ conninfo: String) -> Bool { conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") }

    /// Runs `body` with a migrated database of its own (`migrate: false`: an empty schema of its own) and drops it.
    public static func withSchema<T>(
        migrate: Bool = true, poolSize: Int = 4,
        _ body: (PostgresClient, ConnectionSettings) async throws -> T
    ) async throws -> T {
        let settings = try await blocking.runIfActive { try fresh(migrate: migrate, poolSize: poolSize) }
        let client = PostgresClient(settings: settings)
        do {
            let value = try await body(client, settings)
            await client.shutdown()
            try await blocking.runIfActive { try drop(settings) }
            return value
        } catch {
            await client.shutdown()
            _ = try? await blocking.runIfActive { try drop(settings) }
            throw error
        }
    }

    /// Threads for the set-up's blocking libpq calls (CREATE DATABASE, migrations), so that a parallel run's set-ups do
    /// not hold the test process's few cooperative threads while other tests' servers and heartbeats need them.
    static let blocking: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    /// Settings for a new migrated database copied from the template (or, without one, a new migrated schema), or for
    /// a new empty schema when `migrate` is false.
    static func fresh(migrate: Bool, poolSize: Int) throws -> ConnectionSettings {
        let base = try conninfo()
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        if migrate, let template = try template.get() {
            let name = databasePrefix + id
            let admin = try PGConnection.connect(ConnectionSettings(conninfo: base, schema: "public"))
            try admin.run("CREATE DATABASE \(name) TEMPLATE \(template)", name: "test.create")
            return ConnectionSettings(conninfo: base + " dbname=\(name)", schema: templateSchema, poolSize: poolSize)
        }
        let settings = ConnectionSettings(conninfo: base, schema: "t_" + id, poolSize: poolSize)
        if migrate { _ = try Migrator(schema: settings.schema).migrate(PGConnection.connect(settings)) }
        return settings
    }

    /// Drops what `withSchema` made: the test's own database, or its schema in the shared one.
    public static func drop(_ settings: ConnectionSettings) throws {
        let base = try conninfo()
        let admin = try PGConnection.connect(ConnectionSettings(conninfo: base, schema: "public"))
        if let db = ownDatabase(settings) {
            try admin.run("DROP DATABASE IF EXISTS \(db) WITH (FORCE)", name: "test.drop")
        } else {
            let conn = try PGConnection.connect(ConnectionSettings(conninfo: settings.conninfo, schema: "public"))
            try conn.run("DROP SCHEMA IF EXISTS \(settings.quotedSchema) CASCADE", name: "test.drop")
        }
    }

    /// The database name `fresh` appended to the conninfo, when it made one.
    static func ownDatabase(_ settings: ConnectionSettings) -> String? {
        guard let range = settings.conninfo.range(of: " dbname=" + databasePrefix, options: .backwards) else { return nil }
        let name = settings.conninfo[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return databasePrefix + name
    }
}
