import Foundation
import Hummingbird
import Logging

/// The HTTP endpoints every long-running drift-worker process serves:
///
/// - `GET /healthz` — 200 `ok` while every registered loop beats within its allowance, else 503 naming the
///   stale loops (the liveness probe: restart me);
/// - `GET /readyz` — 200 when the database answers and the migrations are current, else 503 with the reason
///   (the readiness probe: do not count me);
/// - `GET /metrics` — the Prometheus text exposition format;
/// - with `capture`, `POST /v1/capture` and `POST /v1/capture/batch` (see `CaptureRoutes`).
public enum ObservabilityServer {
    public static func application(host: String, port: Int, liveness: Liveness, readiness: ReadinessProbe,
                                   metrics: MetricsExporter, capture: CaptureRoutes? = nil, logger: Logger,
                                   onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        router.get("/healthz") { _, _ -> Response in
            let stale = liveness.stale()
            return stale.isEmpty ? text("ok\n")
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
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "drift-worker"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
