import ArgumentParser
import DriftCore
import DriftServer
import DriftStore
import Foundation
import Logging
import ServiceLifecycle

/// Options of the HTTP capture endpoints, shared by `serve` and `ingest-server`.
struct IngestServerOptions: ParsableArguments {
    @Option(help: "File holding the bearer token clients must send (default: $DRIFT_INGEST_TOKEN; none: no authentication).")
    var ingestTokenFile: String?
    @Option(help: "Largest capture request body in bytes (413 above).") var maxBodyBytes = 16 << 20
    @Option(help: "Largest number of elements in one tensor.") var maxTensorElements = 1_000_000

    func routes(monitors: [MonitorConfig], buffer: CaptureBuffer) throws -> CaptureRoutes {
        var options = CaptureRoutes.Options()
        options.maxBodyBytes = maxBodyBytes
        if let path = ingestTokenFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                Terminal.fail("--ingest-token-file \(path) cannot be read or is empty.")
                throw ExitStatus.badInput
            }
            options.token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let env = ProcessInfo.processInfo.environment["DRIFT_INGEST_TOKEN"], !env.isEmpty {
            options.token = env
        }
        var capture = ServingCapture(monitors: monitors)
        capture.limits.maxElements = maxTensorElements
        return CaptureRoutes(capture: capture, buffer: buffer, options: options)
    }
}

struct IngestServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-server",
        abstract: "Only the HTTP capture endpoints (POST /v1/capture, /v1/capture/batch) with /healthz, /readyz and /metrics.",
        discussion: "serve includes the same endpoints; run this to scale capture apart from the checks. SIGTERM stops accepting, commits what was acknowledged and exits 0.")

    @Option(help: "Address to listen on.") var httpHost = "0.0.0.0"
    @Option(help: "Port (0: any free port, logged).") var httpPort = 8080
    @Flag(help: "Create or upgrade the tables first.") var migrate = false
    @OptionGroup var ingest: IngestServerOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        Observability.bootstrap()
        let monitors = try configOptions.load()
        var settings = database.settings
        settings.poolSize = 4
        let client = PostgresClient(settings: settings)
        if migrate {
            let schema = settings.schema
            try await withDatabaseErrors { _ = try await client.withConnection { c in try Migrator(schema: schema).migrate(c) } }
        }
        let logger = Logger(label: "drift-worker")
        let buffer = CaptureBuffer(client: client, logger: logger)
        let readiness = ReadinessProbe(settings: settings)
        let app = ObservabilityServer.application(
            host: httpHost, port: httpPort, liveness: Liveness(), readiness: readiness,
            metrics: MetricsExporter(client: client, monitors: monitors.map(\.name)),
            capture: try ingest.routes(monitors: monitors, buffer: buffer), logger: logger,
            onListening: { port in logger.info("http listening", metadata: ["http.host": "\(httpHost)", "http.port": "\(port)"]) })
        let group = ServiceGroup(configuration: .init(services: [.init(service: buffer), .init(service: app)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        let committed = await buffer.committedEvents
        logger.info("stopped", metadata: ["committed_events": "\(committed)"])
        await readiness.shutdown()
        await client.shutdown()
    }
}
