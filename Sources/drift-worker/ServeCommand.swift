import ArgumentParser
import DriftCore
import DriftServer
import DriftStore
import Foundation
import Logging
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The queue consumer service: a scheduler tick enqueues due windows, N workers check them.",
        discussion: """
            SIGTERM or SIGINT stops taking work and drains within --grace seconds, then exits 0. Exit status 2 before \
            starting on bad input (a usage error such as --lookback P1M, a missing or invalid monitors file, bad TLS files \
            or database settings, an unusable OTEL_* variable); 1 when it cannot start (the port is taken, PostgreSQL \
            refuses a migration).
            """)

    @Option(help: "Concurrent checks.") var concurrency = 2
    @Option(help: "Seconds between scheduler ticks.") var tick: Double = 60
    @Option(
        help: "How far back the scheduler looks for unchecked windows: an ISO 8601 duration in weeks, days, hours… (default: P1D).",
        transform: ISODuration.parse)
    var lookback = ISODuration(seconds: 86_400)
    @Option(help: "Seconds to drain on SIGTERM before cancelling.") var grace: Double = 25
    @Option(help: "Address for /healthz, /readyz and /metrics.") var httpHost = "0.0.0.0"
    @Option(help: "Port for /healthz, /readyz and /metrics (0: any free port, logged).") var httpPort = 8080
    @Option(help: "Seconds between dispatcher passes over the trigger outbox.") var dispatchInterval: Double = 5
    @Option(
        help: ArgumentHelp(
            "Seconds the scheduler loop may go without a heartbeat before /healthz answers 503 (default: 3 × --tick + 60).",
            discussion: "The loop beats every tick and every 5 s while it waits on the database: a slow or hung database never fails liveness."))
    var livenessAllowance: Double?
    @OptionGroup var queueOptions: QueueOptions
    @OptionGroup var dispatch: DispatchOptions
    @OptionGroup var ingest: IngestServerOptions
    @Flag(help: "Create or upgrade the tables first.") var migrate = false
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if let a = livenessAllowance, !(a.isFinite && a >= 10 && a <= 86_400 && a > 1.1 * tick + 5) {
            throw ValidationError(
                "--liveness-allowance \(a) must be between 10 and 86400 seconds and more than 1.1 × --tick + 5 (the loop beats every tick, and every 5 s while it waits on the database)."
            )
        }
    }

    func run() async throws {
        Observability.bootstrap()
        let tracing = try Observability.tracing()
        let look = lookback
        let monitors = try configOptions.load()
        do { try DriftTasks.validate(lookback: look, monitors: monitors) } catch {
            Terminal.fail("\(error)")
            throw ExitStatus.badInput
        }
        let tls = try ingest.tls()
        var settings = database.settings
        settings.poolSize = max(2, concurrency + 4)
        try await withPostgresClient(settings) { client in
            try await serve(client: client, settings: settings, monitors: monitors, lookback: look, tls: tls, tracing: tracing)
        }
    }

    /// Runs the services until SIGTERM/SIGINT; the pools close last (PostgresClientService), after the workers drained.
    private func serve(
        client: PostgresClient, settings: ConnectionSettings, monitors: [MonitorConfig], lookback look: ISODuration, tls: ServerTLS?,
        tracing: (any Service)?
    ) async throws {
        if migrate {
            let schema = settings.schema
            try await withDatabaseErrors { _ = try await client.withConnection { c in try Migrator(schema: schema).migrate(c) } }
        }
        let logger = Logger(label: "drift-worker")
        let liveness = Liveness()
        // the scheduler beats every tick and every 5 s while it waits on the database: missed beats mean the process is stuck
        liveness.register(SchedulerService.loopName, allowance: livenessAllowance ?? 3 * tick + 60)
        let buffer = CaptureBuffer(client: client, options: ingest.limits.buffer, logger: logger)
        let capture = try ingest.routes(monitors: monitors, buffer: buffer, client: client)
        WorkerMetrics.initialise(monitors: monitors, capture: true)
        let exporter = MetricsExporter(
            client: client, monitors: monitors.map(\.name), labelDelays: PerformanceConfig.labelDelays(monitors), logger: logger)
        let readiness = ReadinessProbe(settings: settings, logger: logger)
        let http: any Service
        do {
            http = try ObservabilityServer.application(
                host: httpHost, port: httpPort, liveness: liveness, readiness: readiness, metrics: exporter, capture: capture,
                runs: RunCallbackRoutes(
                    callback: RunCallback(client: client, monitors: monitors, logger: logger), readTimeout: ingest.limits.readTimeout),
                tls: tls, idleTimeout: ingest.limits.readTimeout, logger: logger,
                onListening: { port in
                    logger.info(
                        "http listening",
                        metadata: ["http.host": "\(httpHost)", "http.port": .stringConvertible(port), "http.tls": .stringConvertible(tls != nil)])
                })
        } catch {
            await readiness.shutdown()  // PostgresClientService closes it from here on
            throw error
        }
        let tasks = DriftTasks(
            client: client, monitors: monitors, references: configOptions.references, lookback: look,
            pageSize: queueOptions.pageSize, lockTimeout: queueOptions.lockTimeout, logger: logger)
        var options = QueueConsumer.Options()
        options.concurrency = max(1, concurrency)
        queueOptions.apply(to: &options)
        options.kinds = DriftTasks.kinds + [ShadowEvalTasks.kind]
        let shadow = ShadowEvalTasks(client: client, monitors: monitors, logger: logger)
        let consumer = QueueConsumer(queue: TaskQueue(client: client), options: options) { task in
            task.kind == ShadowEvalTasks.kind ? try await shadow.handle(task) : try await tasks.handle(task)
        }
        let dispatcher = TriggerDispatcher(client: client, monitors: monitors, options: dispatch.options(), logger: logger)
        // the trace exporter stops last, so the spans of everything that drained before it are exported
        let traces: [ServiceGroupConfiguration.ServiceConfiguration] = tracing.map { [.init(service: $0)] } ?? []
        var config = ServiceGroupConfiguration(
            services: traces + [
                .init(service: PostgresClientService(client: client, readiness: readiness)),
                .init(service: SchedulerService(tasks: tasks, interval: tick, liveness: liveness, logger: logger)),
                .init(service: DispatcherService(dispatcher: dispatcher, interval: dispatchInterval, logger: logger)),
                .init(service: ConsumerService(consumer: consumer)),
                // shut down in reverse order: HTTP stops accepting and answers what it holds, then the
                // capture buffer commits the rest, then the workers drain, then the pools close; the same
                // order when HTTP or the buffer fails (the port is taken): the group drains instead of cancelling
                .init(service: buffer, failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: http, failureTerminationBehavior: .gracefullyShutdownGroup)
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        config.maximumGracefulShutdownDuration = .milliseconds(Int64(grace * 1000))
        logger.info("serving", metadata: ["monitors": .stringConvertible(monitors.count), "concurrency": .stringConvertible(concurrency)])
        do { try await ServiceGroup(configuration: config).run() } catch {
            await readiness.shutdown()
            throw error
        }
        await readiness.shutdown()  // already closed after a graceful shutdown; closing twice is fine
        let c = consumer.counters
        logger.info("stopped", metadata: ["completed": .stringConvertible(c.completed), "released": .stringConvertible(c.released)])
    }
}
