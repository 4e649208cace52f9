import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

@Suite("HTTP client on libcurl, against a real server on 127.0.0.1")
struct HTTPClientTests {
    func send(_ r: HTTPRequest, _ options: HTTPClient.Options = .init()) async throws -> HTTPResponse {
        try await HTTPClient(options: options).send(r)
    }

    @Test func methodsHeadersAndBodiesGoBothWays() async throws {
        let server = RecordingHTTPServer()
        try await server.start { r in
            .init(
                status: r.method == "PUT" ? 202 : 200, headers: [("X-Run-Id", "run-42"), ("Content-Type", "application/json")],
                body: "{\"echo\": \(r.body.count)}")
        }
        let base = "http://127.0.0.1:\(server.port)"
        let get = try await send(HTTPRequest(url: "\(base)/a?x=1", headers: [("Authorization", "Bearer t0k3n")]))
        #expect(get.status == 200 && get.text == "{\"echo\": 0}")
        #expect(get.header("x-run-id") == "run-42" && get.header("Content-Type") == "application/json")
        let body = Data(String(repeating: "é", count: 5000).utf8)
        let put = try await send(HTTPRequest(method: "PUT", url: "\(base)/b", headers: [("Content-Type", "text/plain")], body: body))
        #expect(put.status == 202 && put.text == "{\"echo\": \(body.count)}")
        let post = try await send(HTTPRequest(method: "POST", url: "\(base)/c", body: Data()))
        #expect(post.status == 200)
        let reqs = server.requests
        #expect(reqs.map(\.method) == ["GET", "PUT", "POST"])
        #expect(reqs[0].path == "/a?x=1" && reqs[0].headers["authorization"] == "Bearer t0k3n")
        #expect(reqs[1].body == body && reqs[1].headers["expect"] == nil, "the body arrives whole, without 100-continue")
        await server.stop()
    }

    @Test func timeoutsRefusalsAndCapsAreErrorsThatSayWhat() async throws {
        let server = RecordingHTTPServer()
        try await server.start { r in r.path.hasPrefix("/slow") ? .init(body: "late", delay: 3) : .init(body: String(repeating: "x", count: 10_000)) }
        var quick = HTTPClient.Options()
        quick.timeout = 0.5
        quick.maxBodyBytes = 1000
        do {
            _ = try await send(HTTPRequest(url: "http://127.0.0.1:\(server.port)/slow"), quick)
            Issue.record("a 3 s answer must time out after 0.5 s")
        } catch let e as HTTPClientError {
            #expect(e.kind == .timeout, "\(e)")
            #expect(e.description.hasPrefix("GET request to http://127.0.0.1:\(server.port)/slow failed: "), "\(e)")
        }
        // The cap is checked with a generous timeout: on a loaded CI machine a 0.5 s budget can run out before the
        // first byte arrives, which is the timeout case above, not the cap.
        var capOnly = HTTPClient.Options()
        capOnly.timeout = 30
        capOnly.maxBodyBytes = 1000
        let capped = try await send(HTTPRequest(url: "http://127.0.0.1:\(server.port)/big"), capOnly)
        #expect(capped.status == 200 && capped.body.count == 1000)
        let port = server.port
        await server.stop()
        do {
            _ = try await send(HTTPRequest(url: "http://127.0.0.1:\(port)/gone"))
            Issue.record("a stopped server must refuse")
        } catch let e as HTTPClientError {
            #expect(e.kind == .unreachable, "\(e)")
        }
        do {
            _ = try await send(HTTPRequest(url: "ftp://127.0.0.1/x"))
            Issue.record("only http and https")
        } catch let e as HTTPClientError {
            #expect(e.kind == .invalidURL, "\(e)")
        }
    }

    @Test func urlsAreRedactedInErrors() {
        #expect(HTTPClient.redact("https://user:s3cret@hooks.example.com/p?token=abc") == "https://hooks.example.com/p?…")
        #expect(!HTTPClient.redact("https://user:s3cret@h/").contains("s3cret"))
    }
}
