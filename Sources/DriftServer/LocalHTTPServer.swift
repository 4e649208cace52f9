import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// A Hummingbird application on a host and any free port, run in the background until `stop()`: what the demo's
/// webhook receiver and the tests' recording servers are built on.
public final class LocalHTTPServer: @unchecked Sendable {
    private var group: ServiceGroup?
    private var runner: Task<Void, Error>?
    public private(set) var port = 0

    public init() {}

    /// Starts serving `router`; returns once the port is known.
    public func start(_ router: Router<BasicRequestContext>, host: String = "127.0.0.1", label: String) async throws {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: label)
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        runner = Task { try await group.run() }
        for await p in stream {
            port = p
            break
        }
    }

    public func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await runner?.value
    }
}
