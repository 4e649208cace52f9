import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// A Hummingbird application on a host and any free port, run in the background until `stop()`: what the demo's
/// webhook receiver and the tests' recording servers are built on. Start it once; `stop()` is safe to call more than once.
public final class LocalHTTPServer: Sendable {
    private struct Running {
        var group: ServiceGroup?
        var runner: Task<Void, Error>?
        var port = 0
    }

    private let running = NIOLockedValueBox(Running())

    /// The port it listens on (0 before `start` returned).
    public var port: Int { running.withLockedValue { $0.port } }

    public init() {}

    /// Starts serving `router`; returns once the port is known (throws when the server cannot start, e.g. the host is not an address here).
    public func start(_ router: Router<BasicRequestContext>, host: String = "127.0.0.1", label: String) async throws {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: label)
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        // the background run is the one unstructured task: the server outlives this call by design, until stop()
        let runner = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        running.withLockedValue {
            $0.group = group
            $0.runner = runner
        }
        var port: Int?
        for await p in stream {
            port = p
            break
        }
        guard let port else {
            // the server ended before it listened: its error says why
            try await runner.value
            throw NotListening(label: label, host: host)
        }
        running.withLockedValue { $0.port = port }
    }

    /// The server ended without an error before it listened.
    public struct NotListening: Error, CustomStringConvertible {
        public var label: String
        public var host: String
        public var description: String { "the \(label) HTTP server stopped before it listened on \(host)" }
    }

    /// Stops accepting, lets the requests in flight finish and waits until the server has stopped.
    public func stop() async {
        let (group, runner) = running.withLockedValue { ($0.group, $0.runner) }
        await group?.triggerGracefulShutdown()
        _ = try? await runner?.value
    }
}
