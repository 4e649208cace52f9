import DriftServer
import Foundation
import HTTPTypes
import Hummingbird

/// A real HTTP server on 127.0.0.1 (`LocalHTTPServer`, any free port) for tests: it records every request and
/// answers with what `respond` returns, after the reply's `delay` (the request is recorded on arrival, so a test
/// sees requests the server is still holding: `inFlight`).
public final class RecordingHTTPServer: @unchecked Sendable {
    public struct Recorded: Sendable {
        public var method: String
        public var path: String
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: Data
    }

    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: String
        public var delay: Double
        public init(status: Int = 200, headers: [(String, String)] = [], body: String = "", delay: Double = 0) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }
    }

    private let lock = NSLock()
    private var recorded: [Recorded] = []
    private var holding = 0
    private var mostHeld = 0
    private let server = LocalHTTPServer()

    public var requests: [Recorded] { lock.withLock { recorded } }
    /// Requests received and not yet answered (held for their reply's `delay`).
    public var inFlight: Int { lock.withLock { holding } }
    /// The most requests held at once so far.
    public var maxInFlight: Int { lock.withLock { mostHeld } }

    public init() {}

    /// Starts serving; returns once the port is known.
    public func start(_ respond: @escaping @Sendable (Recorded) -> Reply = { _ in Reply() }) async throws {
        let router = Router()
        let record: @Sendable (Recorded) -> Void = { [weak self] r in
            guard let self else { return }
            self.lock.withLock {
                self.recorded.append(r)
                self.holding += 1
                self.mostHeld = max(self.mostHeld, self.holding)
            }
        }
        let release: @Sendable () -> Void = { [weak self] in
            guard let self else { return }
            self.lock.withLock { self.holding -= 1 }
        }
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = try await request.body.collect(upTo: 64 << 20)
            var headers: [String: String] = [:]
            for f in request.headers { headers[f.name.canonicalName.lowercased()] = f.value }
            let r = Recorded(
                method: request.method.rawValue, path: request.uri.string, headers: headers,
                body: Data(body.readableBytesView))
            record(r)
            let reply = respond(r)
            defer { release() }
            if reply.delay > 0 { try await Task.sleep(for: .milliseconds(Int64(reply.delay * 1000))) }
            var fields = HTTPFields()
            for (k, v) in reply.headers { if let name = HTTPField.Name(k) { fields[name] = v } }
            return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
        }
        router.on("/**", method: .get, use: handler)
        router.on("/**", method: .post, use: handler)
        router.on("/**", method: .put, use: handler)
        router.on("/**", method: .delete, use: handler)
        try await server.start(router, label: "test-http")
    }

    public var port: Int { server.port }

    public func stop() async { await server.stop() }
}
