import DriftCore
import DriftServer

/// Process-wide logging and metrics set-up for the worker commands (once per process).
enum Observability {
    private static let once: Void = {
        LogSetup.bootstrap()
        MetricsExporter.bootstrapMetricsSystem()
    }()

    static func bootstrap() { _ = once }
}
