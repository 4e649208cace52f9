import DriftCommon
import DriftCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/runs/{action id}/status`: a webhook receiver reports how the run it started is going (see
/// `RunCallback` for the body, the signature and the answers). The action id is one percent-encoded path segment
/// (`fraud-scorer%3A2026-11-25T17%3A00%3A00Z%3Aretrain`; `:` may also stay as it is). Bodies over
/// `RunCallback.maxBodyBytes` are refused with 413 before they are read whole; a body that does not arrive within
/// `readTimeout` seconds gets 408. Answers are JSON `{"message": "…"}`.
public struct RunCallbackRoutes: Sendable {
    public static let path = "/v1/runs/{action_id}/status"

    let callback: RunCallback
    let readTimeout: Double

    public init(callback: RunCallback, readTimeout: Double = 30) {
        self.callback = callback
        self.readTimeout = readTimeout
    }

    public func add(to router: Router<BasicRequestContext>) {
        router.post("/v1/runs/:action_id/status") { request, context -> Response in
            let raw = context.parameters.get("action_id") ?? ""
            return await self.handle(request, actionID: raw.removingPercentEncoding ?? raw)
        }
    }

    func handle(_ request: Request, actionID: String) async -> Response {
        let max = RunCallback.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), length > max {
            return Self.answer(.init(413, "the body is larger than \(max) bytes"))
        }
        let timeout = readTimeout
        let body: Data?
        do { body = try await CaptureRoutes.collect(request, upTo: max, within: timeout) } catch {
            return Self.answer(.init(413, "the body is larger than \(max) bytes"))
        }
        guard let body else { return Self.answer(.init(408, "the body did not arrive within \(Int(timeout)) s")) }
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        let answer = await callback.handle(
            actionID: actionID, body: body, webhookID: header("webhook-id"), timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"))
        return Self.answer(answer)
    }

    static func answer(_ a: RunCallback.Answer) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let s = a.retryAfter { headers[.retryAfter] = String(s) }
        let text = JSONValue.object([("message", .string(a.message))]).rendered()
        return Response(status: .init(code: a.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
