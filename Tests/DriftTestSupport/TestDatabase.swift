import DriftStore
import Foundation

/// The PostgreSQL the tests talk to: `DATABASE_URL` when set, else one throwaway local cluster for
/// the whole test process. Every test works in its own schema, dropped afterwards.
/// (A library target so that every test target shares the one cluster.)
public enum TestDatabase {
    static let server: Result<String, Error> = {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty { return .success(url) }
        return Result { try LocalPostgres.start().conninfo }
    }()

    public static func conninfo() throws -> String { try server.get() }

    /// Runs `body` with a migrated schema of its own (`migrate: false` leaves it empty) and drops it.
    public static func withSchema<T>(
        migrate: Bool = true, poolSize: Int = 4,
        _ body: (PostgresClient, ConnectionSettings) async throws -> T
    ) async throws -> T {
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let settings = ConnectionSettings(conninfo: try conninfo(), schema: String(schema), poolSize: poolSize)
        if migrate {
            let conn = try PGConnection.connect(settings)
            _ = try Migrator(schema: settings.schema).migrate(conn)
        }
        let client = PostgresClient(settings: settings)
        do {
            let value = try await body(client, settings)
            await client.shutdown()
            try drop(settings)
            return value
        } catch {
            await client.shutdown()
            try? drop(settings)
            throw error
        }
    }

    public static func drop(_ settings: ConnectionSettings) throws {
        let conn = try PGConnection.connect(ConnectionSettings(conninfo: settings.conninfo, schema: "public"))
        try conn.run("DROP SCHEMA IF EXISTS \(settings.quotedSchema) CASCADE", name: "test.drop")
    }
}
