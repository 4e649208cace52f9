import DriftTriggers
import Foundation
import Testing

@Suite("Trigger signing and delivery decisions (no I/O)")
struct SigningAndPolicyTests {
    /// The Standard Webhooks specification's example, and GitHub's documented X-Hub-Signature-256 example
    /// (both cross-checked with Python's hmac).
    @Test func signaturesMatchThePublishedExamples() throws {
        let secret = try StandardWebhooks.Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Data(#"{"test": 2432232314}"#.utf8)
        let sig = StandardWebhooks.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body, secret: secret)
        #expect(sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(
            HubSignature.header(body: Data("Hello, World!".utf8), secret: "It's a Secret to Everybody")
                == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    }

    @Test func rotationSignsWithEverySecretAndReceiversVerify() throws {
        let old = try StandardWebhooks.Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let new = try StandardWebhooks.Secret("whsec_" + Data("another-secret-key-32-bytes-long".utf8).base64EncodedString())
        let body = Data(#"{"monitor":"fraud-scorer"}"#.utf8)
        let now = Date(timeIntervalSince1970: 1_795_964_000)
        let h = StandardWebhooks.headers(id: "fraud-scorer:2026-11-25T17:00:00Z:retrain", timestamp: 1_795_964_000, body: body, secrets: [old, new])
        #expect(h.map(\.0) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        let header = h[2].1
        #expect(header.split(separator: " ").count == 2 && header.split(separator: " ").allSatisfy { $0.hasPrefix("v1,") })
        #expect(StandardWebhooks.verify(id: h[0].1, timestamp: 1_795_964_000, signatureHeader: header, body: body, secrets: [new], now: now))
        #expect(StandardWebhooks.verify(id: h[0].1, timestamp: 1_795_964_000, signatureHeader: header, body: body, secrets: [old], now: now))
        #expect(
            !StandardWebhooks.verify(id: h[0].1, timestamp: 1_795_964_000, signatureHeader: header, body: Data("{}".utf8), secrets: [new], now: now),
            "a changed body fails")
        #expect(
            !StandardWebhooks.verify(
                id: h[0].1, timestamp: 1_795_964_000, signatureHeader: header, body: body, secrets: [new],
                now: now.addingTimeInterval(301)), "a replay after the tolerance fails")
        #expect(throws: StandardWebhooks.Secret.Invalid.self) { try StandardWebhooks.Secret("whsec_not base64!") }
    }

    @Test func deliveryDecisions() {
        let p = DeliveryPolicy(maxAttempts: 5, baseSeconds: 2, capSeconds: 60)
        let now = Date(timeIntervalSince1970: 1_795_964_000)
        func d(_ status: Int?, _ error: HTTPClientError? = nil, retryAfter: String? = nil, attempt: Int = 1, name: Bool = false, random: Double = 0.5)
            -> DeliveryPolicy.Outcome
        {
            p.decide(status: status, error: error, retryAfter: retryAfter, attempt: attempt, nameIsIdempotencyKey: name, now: now, random: random)
        }
        #expect(d(201) == .delivered(note: "HTTP 201"))
        #expect(d(409, name: true) == .delivered(note: "HTTP 409: already started by an earlier attempt"))
        #expect(d(409) == .dead(reason: "HTTP 409: the target refused the request; resending cannot help"))
        #expect(d(400) == .dead(reason: "HTTP 400: the target refused the request; resending cannot help"))
        #expect(d(503, attempt: 3) == .retry(afterSeconds: 4, reason: "HTTP 503"), "full jitter: 0.5 × 2·2²")
        #expect(d(500, attempt: 10, random: 0.999) == .dead(reason: "HTTP 500; gave up after 10 attempts"))
        #expect(d(429, retryAfter: "7") == .retry(afterSeconds: 7, reason: "HTTP 429, Retry-After 7"))
        #expect(d(429, retryAfter: "100000") == .retry(afterSeconds: 60, reason: "HTTP 429, Retry-After 100000"), "capped")
        let timeout = HTTPClientError(kind: .timeout, url: "http://x", message: "Operation timed out", curlCode: 28)
        #expect(d(nil, timeout, attempt: 1, random: 0) == .retry(afterSeconds: 0, reason: "timed out"))
        let bad = HTTPClientError(kind: .invalidURL, url: "x", message: "URL rejected", curlCode: 3)
        #expect(d(nil, bad) == .dead(reason: "the target URL is invalid: URL rejected"))
        let date = DeliveryPolicy.retryAfterSeconds("Sun, 29 Nov 2026 16:00:30 GMT", now: Date(timeIntervalSince1970: 1_795_968_000))
        #expect(date == 30, "an HTTP date 30 s after now")
    }
}
