import DriftTestSupport
import Foundation
import Testing

@testable import DriftTriggers

/// Easy handles kept between requests: connections reused, options reset, every libcurl option checked.
@Suite("HTTP client: pooled libcurl handles and checked options")
struct ConnectionReuseTests {
    @Test func aSecondRequestToTheSameOriginReusesTheConnectionAndStartsFromDefaultOptions() async throws {
        let server = RecordingHTTPServer()
        try await server.start { r in .init(body: "\(r.method) \(r.body.count)") }
        let other = RecordingHTTPServer()
        try await other.start()
        let client = HTTPClient(handles: CurlHandlePool(capacity: 2))
        let base = "http://127.0.0.1:\(server.port)"
        let post = try await client.send(HTTPRequest(method: "POST", url: "\(base)/a", headers: [("X-Once", "1")], body: Data("abc".utf8)))
        #expect(post.status == 200 && post.text == "POST 3" && post.newConnections == 1)
        let get = try await client.send(HTTPRequest(url: "\(base)/b"))
        #expect(get.text == "GET 0" && get.newConnections == 0, "the open connection to \(base) is reused")
        #expect(server.requests.last?.headers["x-once"] == nil, "the reused handle keeps no header, body or method of the last request")
        let elsewhere = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(other.port)/c"))
        #expect(elsewhere.status == 200 && elsewhere.newConnections == 1, "another origin needs its own connection")
        #expect(client.handles.idleCount == 1, "one request at a time needs one handle")
        await server.stop()
        await other.stop()
    }

    @Test func idleHandlesBeyondThePoolSizeAreFreed() throws {
        let pool = CurlHandlePool(capacity: 2)
        let handles = try (0..<3).map { _ in try #require(pool.checkOut()) }
        #expect(Set(handles.map { ObjectIdentifier($0) }).count == 3, "a busy pool makes new handles")
        for h in handles { pool.checkIn(h) }
        #expect(pool.idleCount == 2)
        let again = try #require(pool.checkOut())
        #expect(again === handles[1], "the most recently returned handle goes out first")
        #expect(pool.idleCount == 1)
    }

    @Test func anOptionLibcurlRefusesIsAnErrorNamingIt() async throws {
        // libcurl refuses strings longer than CURL_MAX_INPUT_LENGTH (8 MB)
        let url = "http://127.0.0.1:9/" + String(repeating: "a", count: 9_000_000)
        do {
            _ = try await HTTPClient(handles: CurlHandlePool(capacity: 1)).send(HTTPRequest(url: url))
            Issue.record("an 9 MB URL must be refused")
        } catch let e as HTTPClientError {
            #expect(e.kind == .other && e.message.hasPrefix("libcurl refused CURLOPT_URL: "), "\(e.message)")
            #expect(e.curlCode == 43, "CURLE_BAD_FUNCTION_ARGUMENT")
        }
    }

    @Test(arguments: [
        ("caBundle", "CA bundle (ca_bundle)"), ("clientCertificate", "client certificate (client_cert)"),
        ("clientKey", "client key (client_key)")
    ])
    func aMissingCAOrClientCertificateFileIsAnErrorNamingThePath(_ field: String, _ named: String) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString).pem").path
        var options = HTTPClient.Options()
        switch field {
        case "caBundle": options.caBundle = path
        case "clientCertificate": options.clientCertificate = path
        default: options.clientKey = path
        }
        for url in ["http://127.0.0.1:9/hook", "https://127.0.0.1:9/hook"] {
            do {
                _ = try await HTTPClient(options: options).send(HTTPRequest(method: "POST", url: url, body: Data("{}".utf8)))
                Issue.record("a missing \(named) must fail the request to \(url)")
            } catch let e as HTTPClientError {
                #expect(e.kind == .tls)
                #expect(e.message == "the \(named) file \(path) does not exist", "\(e.message)")
                #expect(e.description.hasPrefix("POST request to \(url) failed: the \(named) file"), "\(e)")
            }
        }
    }

    @Test func millisecondsAreClampedForLibcurl() {
        #expect(HTTPClient.milliseconds(0.25) == 250)
        #expect(HTTPClient.milliseconds(-3) == 1 && HTTPClient.milliseconds(0) == 1 && HTTPClient.milliseconds(.nan) == 1)
        #expect(HTTPClient.milliseconds(.infinity) == 86_400_000 && HTTPClient.milliseconds(1e300) == 86_400_000)
    }
}
