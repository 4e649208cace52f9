import ArgumentParser
import DriftCore
import DriftServer
import DriftStore
import Foundation

/// Process-wide logging and metrics set-up for the worker commands (once per process).
enum Observability {
    private static let once: Void = {
        LogSetup.bootstrap()
        MetricsExporter.bootstrapMetricsSystem()
    }()

    static func bootstrap() { _ = once }
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
