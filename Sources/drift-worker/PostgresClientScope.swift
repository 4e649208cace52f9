import DriftStore

/// Opens a pool with `settings`, runs `body` with it and closes the pool before returning, whether `body` returns
/// or throws (the error is rethrown unchanged, so exit statuses stay those of `body`). Every command that talks to
/// PostgreSQL opens its pool here; a service that hands the pool to a ServiceGroup also lists it there as
/// PostgresClientService (closing twice is harmless).
func withPostgresClient<T>(_ settings: ConnectionSettings, _ body: (PostgresClient) async throws -> T) async throws -> T {
    let client = PostgresClient(settings: settings)
    let result: T
    do {
        result = try await body(client)
    } catch {
        await client.shutdown()
        throw error
    }
    await client.shutdown()
    return result
}
