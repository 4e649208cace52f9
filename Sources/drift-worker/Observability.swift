import ArgumentParser
import DriftCore
import DriftServer
import DriftStore
import Foundation
import Logging
import ServiceLifecycle

/// Process-wide logging and metrics set-up for the worker commands (once per process).
enum Observability {
    private static let once: Void = {
        LogSetup.bootstrap()
        MetricsExporter.bootstrapMetricsSystem()
    }()

    static func bootstrap() { _ = once }
}

// MARK: traces

extension Observability {
    /// Traces (OpenTelemetry, off by default; see `TraceExport`): bootstraps the tracer and returns the exporter's
    /// service to run in the command's ServiceGroup, or nil when the environment leaves traces off. A bad `OTEL_*`
    /// variable is exit status 2 with a sentence naming it. Call once per process, after `bootstrap()`.
    static func tracing() throws -> (any Service)? {
        do { return try TraceExport.bootstrap(logger: Logger(label: "drift-worker.otel")) } catch let e as TraceExport.InvalidSetting {
            Terminal.fail(e.description)
            throw ExitStatus.badInput
        }
    }

    /// For batch commands: runs `body` with the trace exporter running beside it, then shuts the exporter down
    /// gracefully — which exports the buffered spans (bounded by the export timeout) — before returning or rethrowing.
    static func withTracing<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        guard let service = try tracing() else { return try await body() }
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Logger(label: "drift-worker.otel")))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()  // an export that failed was logged by the exporter; the command's outcome stands
            return try result.get()
        }
    }
}

/// `--pushgateway`: batch commands push their final metrics to a Prometheus Pushgateway.
struct PushOptions: ParsableArguments {
    @Option(help: "Push the final metrics to this Prometheus Pushgateway URL (default: $DRIFT_PUSHGATEWAY).")
    var pushgateway: String?
    @Option(help: "The job name of the push (default: drift-worker-<command>).")
    var pushgatewayJob: String?

    var url: String? {
        if let pushgateway, !pushgateway.isEmpty { return pushgateway }
        let env = ProcessInfo.processInfo.environment["DRIFT_PUSHGATEWAY"] ?? ""
        return env.isEmpty ? nil : env
    }

    /// Runs `body`, then — whatever its outcome — pushes the process's metrics and the stored drift state read
    /// through `client`, and returns or rethrows. A failed push is reported on stderr and does not change the
    /// exit status: the checks are done and stored either way.
    func around<T>(command: String, client: PostgresClient, monitors: [String], _ body: () async throws -> T) async throws -> T {
        guard let url else { return try await body() }
        let started = ContinuousClock.now
        let result: Result<T, Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        let exitCode: Int32
        switch result {
        case .success: exitCode = 0
        case .failure(let e as ExitCode): exitCode = e.rawValue
        case .failure: exitCode = 1
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let exporter = MetricsExporter(client: client, monitors: monitors)
        let gateway = Pushgateway(url: url, job: pushgatewayJob ?? "drift-worker-\(command)")
        do {
            let note = try await gateway.push(registry: exporter.registry, duration: seconds, exitCode: exitCode) { await exporter.pushExposition() }
            Terminal.info("pushed metrics to \(gateway.groupURL)" + (note.map { " (\($0))" } ?? ""))
        } catch {
            Terminal.fail("\(error)")
        }
        return try result.get()
    }
}
