import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore

/// The HTTP endpoints every long-running drift-worker process serves:
///
/// - `GET /healthz` — 200 `ok` while every registered loop beats within its allowance, else 503 naming the
///   stale loops (the liveness probe: restart me);
/// - `GET /readyz` — 200 when the database answers and the migrations are current, else 503 with the reason
///   (the readiness probe: do not count me);
/// - `GET /metrics` — the Prometheus text exposition format;
/// - with `capture`, `POST /v1/capture` and `POST /v1/capture/batch` (see `CaptureRoutes`);
/// - with `runs`, `POST /v1/runs/{action id}/status`: webhook receivers' reports on their runs (see `RunCallbackRoutes`).
///
/// With `tls`, every endpoint is served over HTTPS only (see `ServerTLS`).
public enum ObservabilityServer {
    public static func application(
        host: String, port: Int, liveness: Liveness, readiness: ReadinessProbe,
        metrics: MetricsExporter, capture: CaptureRoutes? = nil, runs: RunCallbackRoutes? = nil, tls: ServerTLS? = nil, idleTimeout: Double = 60,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = Router()
        // labels by route pattern, never the raw path (a capture token may ride in it); no request logging
        // middleware for the same reason
        router.add(middleware: MetricsMiddleware())
        router.get("/healthz") { _, _ -> Response in
            let stale = liveness.stale()
            return stale.isEmpty
                ? text("ok\n")
                : text("not alive: no heartbeat from \(stale.joined(separator: ", "))\n", status: .serviceUnavailable)
        }
        router.get("/readyz") { _, _ -> Response in
            let r = await readiness.check()
            return text((r.ready ? "ready: " : "not ready: ") + r.reason + "\n", status: r.ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ -> Response in
            text(await metrics.scrape(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        capture?.add(to: router)
        runs?.add(to: router)
        let http1 = HTTP1Channel.Configuration(idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))
        return Application(
            router: router,
            // a connection that sends nothing for `idleTimeout` seconds is closed (slow clients hold no connection)
            server: try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0.configuration) } ?? .http1(configuration: http1),
            configuration: .init(address: .hostname(host, port: port), serverName: "drift-worker"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
