import DriftTriggers
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// A webhook receiver that does what a pipeline's endpoint should: it verifies the Standard Webhooks signature
/// (401 when it does not match or the timestamp is stale), starts one "run" per `webhook-id` and answers a
/// resend of the same id with the same run (200) instead of starting another (202 for a new one). `demo` starts
/// one on 127.0.0.1 to show the triggers end to end; its records say what arrived.
public final class WebhookReceiver: Sendable {
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
    /// What arrived, and the run started per webhook id.
    private struct Record {
        var deliveries: [Delivery] = []
        var runs: [String: String] = [:]
    }
    private let record = NIOLockedValueBox(Record())
    private let server = LocalHTTPServer()

    public init(secrets: [StandardWebhooks.Secret]) { self.secrets = secrets }

    public var deliveries: [Delivery] { record.withLockedValue { $0.deliveries } }
    /// Distinct runs started.
    public var runCount: Int { record.withLockedValue { $0.runs.count } }

    /// Starts on `host` and a free port; returns once listening.
    public func start(host: String = "127.0.0.1") async throws {
        let router = Router()
        router.post("/**") { [self] request, _ -> Response in
            let body = Data(try await request.body.collect(upTo: 8 << 20).readableBytesView)
            let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
            let timestamp = Int(request.headers[HTTPField.Name("webhook-timestamp")!] ?? "") ?? 0
            let signature = request.headers[HTTPField.Name("webhook-signature")!] ?? ""
            let verified = StandardWebhooks.verify(id: id, timestamp: timestamp, signatureHeader: signature, body: body, secrets: secrets)
            let path = request.uri.path
            let (status, runID, duplicate): (HTTPResponse.Status, String?, Bool) = record.withLockedValue { r in
                let decision: (HTTPResponse.Status, String?, Bool)
                if !verified || id.isEmpty {
                    decision = (.unauthorized, nil, false)
                } else if let run = r.runs[id] {
                    decision = (.ok, run, true)
                } else {
                    let run = "run-\(r.runs.count + 1)"
                    r.runs[id] = run
                    decision = (.accepted, run, false)
                }
                r.deliveries.append(
                    Delivery(
                        path: path, webhookID: id, verified: verified, runID: decision.1, duplicate: decision.2,
                        body: String(decoding: body, as: UTF8.self)))
                return decision
            }
            let answer = runID.map { #"{"run_id":"\#($0)","duplicate":\#(duplicate)}"# } ?? #"{"error":"invalid or missing webhook signature"}"#
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        try await server.start(router, host: host, label: "webhook-receiver")
    }

    public var port: Int { server.port }

    public func stop() async { await server.stop() }
}
