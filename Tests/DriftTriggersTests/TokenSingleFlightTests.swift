import DriftTestSupport
import Foundation
import Testing
import _CryptoExtras

@testable import DriftTriggers

/// Two callers with an empty token cache: one token exchange, whose result both get. Against a token endpoint that
/// holds its answer half a second (the second caller starts once the first exchange has reached it), and against
/// `TokenCache` alone, where the first exchange ends only once the second caller waits for it.
@Suite("Credentials: one token exchange for concurrent callers")
struct TokenSingleFlightTests {
    /// Waits (at most 10 s) until `server` holds a request.
    static func untilHeld(_ server: RecordingHTTPServer) async throws {
        for _ in 0..<1000 where server.inFlight == 0 { try await Task.sleep(for: .milliseconds(10)) }
        try #require(server.inFlight > 0, "the first exchange never reached the token endpoint")
    }

    static func azure() async throws -> (RecordingHTTPServer, AzureWorkloadIdentity.Settings) {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("wi-\(UUID().uuidString)")
        try "eyJ.federated.sig".write(to: tokenFile, atomically: true, encoding: .utf8)
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(body: #"{"token_type":"Bearer","expires_in":3599,"access_token":"entra-access-1"}"#, delay: 0.5) }
        let settings = AzureWorkloadIdentity.Settings(
            clientID: "client-1", tenantID: "tenant-1", authorityHost: "http://127.0.0.1:\(server.port)/", tokenFile: tokenFile.path)
        return (server, settings)
    }

    @Test func concurrentAzureCallersShareOneExchange() async throws {
        let (server, settings) = try await Self.azure()
        let identity = AzureWorkloadIdentity()
        let scope = "https://management.azure.com/.default"
        let threads = BlockingPool(threads: 2)
        async let first = threads.run { try identity.token(scope: scope, settings: settings, client: HTTPClient()) }
        try await Self.untilHeld(server)
        let second = try await threads.run { try identity.token(scope: scope, settings: settings, client: HTTPClient()) }
        #expect(try await first == "entra-access-1" && second == "entra-access-1")
        #expect(server.requests.count == 1 && identity.exchanges == 1)
        await server.stop()
    }

    /// `TokenCache` itself, made deterministic: the first exchange ends only once the second caller is waiting for it.
    static func twoCallers(outcome: Result<String, CredentialError>) async throws -> (first: String, second: String, exchanges: Int) {
        let cache = TokenCache()
        let threads = BlockingPool(threads: 2)
        let calls = LockedBox("")  // one character per exchange
        let ask: @Sendable () async throws -> String = {
            try await threads.run {
                do {
                    return try cache.token("k", now: Date()) {
                        calls.value += "x"
                        // bounded: a second caller that never comes fails the expectations below, not the suite
                        for _ in 0..<10_000 where cache.waiting(for: "k") == 0 { usleep(1000) }
                        return TokenCache.Fresh(token: try outcome.get(), refreshAt: Date().addingTimeInterval(3600))
                    }
                } catch { return "error: \(error)" }
            }
        }
        async let first = ask()
        for _ in 0..<1000 where calls.value.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let second = try await ask()
        return (try await first, second, calls.value.count)
    }

    @Test func aCallerArrivingDuringAnExchangeTakesItsTokenOrItsError() async throws {
        let ok = try await Self.twoCallers(outcome: .success("t-1"))
        #expect(ok.first == "t-1" && ok.second == "t-1" && ok.exchanges == 1)
        let failed = try await Self.twoCallers(outcome: .failure(CredentialError("the exchange answered HTTP 401")))
        #expect(failed.first == "error: the exchange answered HTTP 401" && failed.second == failed.first && failed.exchanges == 1)
    }

    @Test func concurrentGitHubAppCallersShareOneExchange() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let server = RecordingHTTPServer()
        try await server.start { r in
            guard r.path == "/app/installations/7890/access_tokens" else { return .init(status: 404) }
            let expires = Date().addingTimeInterval(3600).formatted(.iso8601)
            return .init(status: 201, body: #"{"token":"ghs_shared","expires_at":"\#(expires)"}"#, delay: 0.5)
        }
        let installations = GitHubAppInstallations()
        let api = "http://127.0.0.1:\(server.port)"
        let pem = key.pemRepresentation
        let threads = BlockingPool(threads: 2)
        let ask: @Sendable () async throws -> String = {
            try await threads.run {
                try installations.token(apiURL: api, appID: "123456", installationID: 7890, privateKey: .literal(pem), client: HTTPClient())
            }
        }
        async let first = ask()
        try await Self.untilHeld(server)
        let second = try await ask()
        #expect(try await first == "ghs_shared" && second == "ghs_shared")
        #expect(server.requests.count == 1 && installations.exchanges == 1)
        await server.stop()
    }
}
