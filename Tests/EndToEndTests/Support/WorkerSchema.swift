import DriftStore
import DriftTestSupport
import Foundation

/// A schema of its own on the test PostgreSQL for one CLI test, dropped at the end.
struct WorkerSchema {
    let name: String
    let url: String
    static let config = "sample-data/monitors.yaml"

    init(name: String, url: String) {
        self.name = name
        self.url = url
    }

    init(prefix: String) throws {
        name = prefix + "_" + UUID().uuidString.lowercased().prefix(8)
        url = try TestDatabase.conninfo()
    }

    var env: [String: String] { ["DATABASE_URL": url, "DRIFT_SCHEMA": name] }

    func connect() throws -> PGConnection { try PGConnection.connect(ConnectionSettings(conninfo: url, schema: name)) }

    func count(_ sql: String) throws -> Int { try connect().query(sql, name: "t")[0].int("n") }

    func drop() {
        _ = try? PGConnection.connect(ConnectionSettings(conninfo: url, schema: "public")).run("DROP SCHEMA IF EXISTS \"\(name)\" CASCADE", name: "t")
    }

    /// Loads sample-data/fraud/traffic.csv.gz (creating the tables).
    func ingestSampleTraffic() throws -> Int32 {
        try CLI.run(["ingest", "sample-data/fraud/traffic.csv.gz", "--model", "fraud", "--config", Self.config, "--migrate"], environment: env).status
    }
}
