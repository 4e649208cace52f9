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
    @OptionGroup var limits: CaptureLimitOptions
    @Option(help: "PEM certificate chain (server certificate first): serve HTTPS only. Needs --tls-key.") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert (unencrypted).") var tlsKey: String?
    @Option(help: "PEM CA certificates: require a client certificate signed by one of them (mutual TLS). Needs --tls-cert.")
    var tlsClientCa: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together: give both, or neither for plain HTTP.")
        }
        if tlsClientCa != nil && tlsCert == nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS first.") }
    }

    /// The listener's TLS, read from the files now (nil: plain HTTP); a file that cannot be used is exit 2
    /// with a sentence naming its flag.
    func tls() throws -> ServerTLS? {
        guard let tlsCert, let tlsKey else { return nil }
        do { return try ServerTLS.load(certificate: tlsCert, key: tlsKey, clientCA: tlsClientCa) } catch {
            Terminal.fail("\(error)")
            throw ExitStatus.badInput
        }
    }

    func routes(monitors: [MonitorConfig], buffer: CaptureBuffer, client: PostgresClient) throws -> CaptureRoutes {
        var options = CaptureRoutes.Options()
        options.limits = limits.limits
        options.readTimeout = limits.readTimeout
        if let path = ingestTokenFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                Terminal.fail("--ingest-token-file \(path) cannot be read or is empty.")
                throw ExitStatus.badInput
            }
            options.token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let env = ProcessInfo.processInfo.environment["DRIFT_INGEST_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !env.isEmpty {
            options.token = env
        }
        return CaptureRoutes(
            capture: ServingCapture(monitors: monitors, limits: options.limits), buffer: buffer, options: options,
            labels: GroundTruthWriter(client: client), logger: Logger(label: "drift-worker"))
    }
}

struct IngestServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-server",
        abstract: "Only the HTTP capture endpoints (POST /v1/capture, /v1/capture/batch, /v1/labels) with /healthz, /readyz and /metrics.",
        discussion: """
            serve includes the same endpoints; run this to scale capture apart from the checks. SIGTERM stops accepting, \
            commits what was acknowledged and exits 0. Exit status 2 before starting on bad input (a usage error, a \
            missing or invalid monitors file, bad TLS files or database settings, an unusable OTEL_* variable); 1 when it \
            cannot start (the port is taken, PostgreSQL refuses a migration).
            """)

    @Option(help: "Address to listen on.") var httpHost = "0.0.0.0"
    @Option(help: "Port (0: any free port, logged).") var httpPort = 8080
    @Flag(help: "Create or upgrade the tables first.") var migrate = false
    @OptionGroup var ingest: IngestServerOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        Observability.bootstrap()
        let tracing = try Observability.tracing()
        let monitors = try configOptions.load()
        let tls = try ingest.tls()
        var settings = database.settings
        settings.poolSize = 4
        try await withPostgresClient(settings) { client in
            try await serve(client: client, settings: settings, monitors: monitors, tls: tls, tracing: tracing)
        }
    }

    /// Runs the capture endpoints until SIGTERM/SIGINT; the pools close last (PostgresClientService), after the buffer committed.
    private func serve(client: PostgresClient, settings: ConnectionSettings, monitors: [MonitorConfig], tls: ServerTLS?, tracing: (any Service)?)
        async throws
    {
        if migrate {
            let schema = settings.schema
            try await withDatabaseErrors { _ = try await client.withConnection { c in try Migrator(schema: schema).migrate(c) } }
        }
        let logger = Logger(label: "drift-worker")
        let buffer = CaptureBuffer(client: client, options: ingest.limits.buffer, logger: logger)
        let capture = try ingest.routes(monitors: monitors, buffer: buffer, client: client)
        WorkerMetrics.initialise(monitors: monitors, capture: true)
        let readiness = ReadinessProbe(settings: settings, logger: logger)
        let app: any Service
        do {
            app = try ObservabilityServer.application(
                host: httpHost, port: httpPort, liveness: Liveness(), readiness: readiness,
                metrics: MetricsExporter(
                    client: client, monitors: monitors.map(\.name), labelDelays: PerformanceConfig.labelDelays(monitors), logger: logger),
                capture: capture, tls: tls, idleTimeout: ingest.limits.readTimeout, logger: logger,
                onListening: { port in
                    logger.info(
                        "http listening",
                        metadata: ["http.host": "\(httpHost)", "http.port": .stringConvertible(port), "http.tls": .stringConvertible(tls != nil)])
                })
        } catch {
            await readiness.shutdown()  // PostgresClientService closes it from here on
            throw error
        }
        // shut down in reverse order: HTTP stops accepting, the buffer commits what was acknowledged, then the pools close,
        // then the trace exporter sends the last spans; the same order when HTTP or the buffer fails (the port is taken):
        // the group drains instead of cancelling
        let traces: [ServiceGroupConfiguration.ServiceConfiguration] = tracing.map { [.init(service: $0)] } ?? []
        let group = ServiceGroup(
            configuration: .init(
                services: traces + [
                    .init(service: PostgresClientService(client: client, readiness: readiness)),
                    .init(service: buffer, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: app, failureTerminationBehavior: .gracefullyShutdownGroup)
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await group.run() } catch {
            await readiness.shutdown()
            throw error
        }
        await readiness.shutdown()  // already closed after a graceful shutdown; closing twice is fine
        let committed = await buffer.committedEvents
        logger.info("stopped", metadata: ["committed_events": .stringConvertible(committed)])
    }
}
