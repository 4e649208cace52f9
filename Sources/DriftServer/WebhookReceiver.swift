import DriftTriggers
import Foundation
import HTTPTypes
import Hummingbird

/// A webhook receiver that does what a pipeline's endpoint should: it verifies the Standard Webhooks signature
/// (401 when it does not match or the timestamp is stale), starts one "run" per `webhook-id` and answers a
/// resend of the same id with the same run (200) instead of starting another (202 for a new one). `demo` starts
/// one on 127.0.0.1 to show the triggers end to end; its records say what arrived.
public final class WebhookReceiver: @unchecked Sendable {
    public struct Delivery: Sendable {
        public var path: String
        public var webhookID: String
        public var verified: Bool
        /// The run this delivery started or found (nil when refused).
        public var runID: String?
        public var duplicate: Bool
        public var body: String
    }

    private let secrets: [StandardWebhooks.Secret]
    private let lock = NSLock()
    private var recorded: [Delivery] = []
    private var runs: [String: String] = [:]
    private let server = LocalHTTPServer()

    public init(secrets: [StandardWebhooks.Secret]) { self.secrets = secrets }

    public var deliveries: [Delivery] { lock.withLock { recorded } }
    /// Distinct runs started.
    public var runCount: Int { lock.withLock { runs.count } }

    /// Starts on `host` and a free port; returns once listening.
    public func start(host: String = "127.0.0.1") async throws {
        let router = Router()
        router.post("/**") { [self] request, _ -> Response in
            let body = Data(try await request.body.collect(upTo: 8 << 20).readableBytesView)
            let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
            let timestamp = Int(request.headers[HTTPField.Name("webhook-timestamp")!] ?? "") ?? 0
            let signature = request.headers[HTTPField.Name("webhook-signature")!] ?? ""
            let verified = StandardWebhooks.verify(id: id, timestamp: timestamp, signatureHeader: signature, body: body, secrets: secrets)
            let (status, runID, duplicate): (HTTPResponse.Status, String?, Bool) = lock.withLock {
                guard verified, !id.isEmpty else { return (.unauthorized, nil, false) }
                if let run = runs[id] { return (.ok, run, true) }
                let run = "run-\(runs.count + 1)"
                runs[id] = run
                return (.accepted, run, false)
            }
            lock.withLock {
                recorded.append(
                    Delivery(
                        path: request.uri.path, webhookID: id, verified: verified, runID: runID, duplicate: duplicate,
                        body: String(decoding: body, as: UTF8.self)))
            }
            let answer = runID.map { #"{"run_id":"\#($0)","duplicate":\#(duplicate)}"# } ?? #"{"error":"invalid or missing webhook signature"}"#
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        try await server.start(router, host: host, label: "webhook-receiver")
    }

    public var port: Int { server.port }

    public func stop() async { await server.stop() }
}
