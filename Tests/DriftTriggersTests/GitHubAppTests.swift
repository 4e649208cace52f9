import DriftTestSupport
import Foundation
import Testing
import _CryptoExtras

@testable import DriftTriggers

/// GitHub App authentication against a local server that plays GitHub: it checks the app's JWT as GitHub does
/// (RS256 against the app's public key, the iat/exp window, iss), hands out installation tokens with an
/// `expires_at`, and lets the workflow dispatch through only with `Bearer <that token>`.
@Suite("Credentials: GitHub App installation tokens")
struct GitHubAppTests {
    static let context = TriggerContext(
        actionID: "fraud-scorer:2026-11-25T17:00:00Z:retrain", action: "retrain", monitor: "fraud-scorer", model: "fraud",
        windowStart: "2026-11-25T17:00:00Z", windowEnd: "2026-11-25T18:00:00Z",
        driftedFeatures: ["amount"], runID: 41, reportPath: "/reports/r.html")

    /// A fake GitHub for one app and installation; `clock` is the server's now: the real time, until a test sets it
    /// (to move it along with the client's `now:`).
    final class FakeGitHub: @unchecked Sendable {
        let server = RecordingHTTPServer()
        let publicKey: _RSA.Signing.PublicKey
        let iss: JSONTemplate
        private let lock = NSLock()
        private var issued: [String] = []
        private var serverNow: Date?
        var clock: Date {
            get { lock.withLock { serverNow } ?? Date() }
            set { lock.withLock { serverNow = newValue } }
        }
        var tokens: [String] { lock.withLock { issued } }

        init(publicKey: _RSA.Signing.PublicKey, iss: JSONTemplate) {
            self.publicKey = publicKey
            self.iss = iss
        }

        func start() async throws {
            try await server.start { [self] r in
                if r.method == "POST", r.path == "/app/installations/7890/access_tokens" { return exchange(r) }
                if r.method == "POST", r.path == "/repos/acme/models/actions/workflows/retrain.yml/dispatches" {
                    guard let auth = r.headers["authorization"], tokens.contains(where: { "Bearer \($0)" == auth }) else {
                        return .init(status: 401, body: #"{"message":"Bad credentials"}"#)
                    }
                    return .init(status: 204)
                }
                return .init(status: 404, body: #"{"message":"Not Found"}"#)
            }
        }

        func exchange(_ r: RecordingHTTPServer.Recorded) -> RecordingHTTPServer.Reply {
            guard r.headers["accept"] == "application/vnd.github+json", r.headers["x-github-api-version"] == "2022-11-28" else {
                return .init(status: 415, body: #"{"message":"Unsupported"}"#)
            }
            guard let auth = r.headers["authorization"], auth.hasPrefix("Bearer "), verify(String(auth.dropFirst(7))) else {
                return .init(
                    status: 401, body: #"{"message":"A JSON web token could not be decoded","documentation_url":"https://docs.github.com/rest"}"#)
            }
            let token = "ghs_installation\(tokens.count + 1)"
            lock.withLock { issued.append(token) }
            let expires = clock.addingTimeInterval(3600).formatted(.iso8601)
            return .init(
                status: 201, headers: [("Content-Type", "application/json")],
                body: #"{"token":"\#(token)","expires_at":"\#(expires)","permissions":{"actions":"write"},"repository_selection":"selected"}"#)
        }

        /// GitHub's checks: three base64url parts, header RS256/JWT, a valid PKCS#1 v1.5 SHA-256 signature by the
        /// app's key, iat not in the future, exp after now and at most 10 minutes after iat, iss the app.
        func verify(_ jwt: String) -> Bool {
            let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, !parts.joined().contains("="),
                let h = Self.decode(parts[0]), let c = Self.decode(parts[1]), let sig = Self.decode(parts[2]),
                let header = JSONTemplate.parse(h), let claims = JSONTemplate.parse(c)
            else { return false }
            guard header.value(at: "alg") == .string("RS256"), header.value(at: "typ") == .string("JWT") else { return false }
            guard
                publicKey.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: sig), for: Data((parts[0] + "." + parts[1]).utf8),
                    padding: .insecurePKCS1v1_5)
            else { return false }
            guard case .number(let iat)? = claims.value(at: "iat"), case .number(let exp)? = claims.value(at: "exp") else { return false }
            let now = clock.timeIntervalSince1970
            return iat <= now + 1 && exp > now && exp - iat <= 600 && claims.value(at: "iss") == iss
        }

        static func decode(_ s: String) -> Data? {
            var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            b += String(repeating: "=", count: (4 - b.count % 4) % 4)
            return Data(base64Encoded: b)
        }
    }

    static func keyFile(_ key: _RSA.Signing.PrivateKey, pkcs8: Bool = false) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gh-app-\(UUID().uuidString).pem")
        try (pkcs8 ? key.pkcs8PEMRepresentation : key.pemRepresentation).write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test func theDispatchCarriesTheInstallationTokenWhichIsExchangedOnceAndCached() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let pem = try Self.keyFile(key)
        #expect(try String(contentsOfFile: pem, encoding: .utf8).hasPrefix("-----BEGIN RSA PRIVATE KEY-----"), "the PKCS#1 form GitHub downloads")
        let github = FakeGitHub(publicKey: key.publicKey, iss: .number(123456))
        try await github.start()
        let api = "http://127.0.0.1:\(github.server.port)"
        let action = TriggerAction(
            name: "retrain",
            target: .githubWorkflowDispatch(
                repository: "acme/models", workflow: "retrain.yml", apiURL: api,
                returnRunDetails: false),
            credential: .githubApp(appID: "123456", installationID: 7890, privateKey: .file(pem)))
        let sender = TriggerSender(environment: [:])
        let first = try await onBlockingPool { sender.attempt(action, Self.context, attempt: 1) }
        let second = try await onBlockingPool { sender.attempt(action, Self.context, attempt: 1) }
        #expect(
            first.outcome == .delivered(note: "HTTP 204") && second.outcome == .delivered(note: "HTTP 204"),
            "\(first.error ?? "") \(first.responseExcerpt)")
        let paths = github.server.requests.map(\.path)
        #expect(paths.filter { $0.hasSuffix("/access_tokens") }.count == 1, "the second send reuses the cached token: \(paths)")
        #expect(github.server.requests.last?.headers["authorization"] == "Bearer ghs_installation1")
        // the exchange is one more request an attempt may make; the token is a header `trigger test` masks
        #expect(action.requestsPerAttempt(Self.context, attempt: 1) == 1 + action.target.maxRedirects + 1)
        let (request, client) = try await onBlockingPool { try sender.prepare(action, Self.context) }
        #expect(
            client.options.sensitiveHeaders.contains("authorization")
                && request.headers.contains { $0 == ("Authorization", "Bearer ghs_installation1") })
        await github.server.stop()
    }

    @Test func aTokenNearItsExpiryIsExchangedAgainAndTheClientIDCanBeTheIssuer() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let pem = try Self.keyFile(key, pkcs8: true)
        let github = FakeGitHub(publicKey: key.publicKey, iss: .string("Iv23liExampleClient"))
        try await github.start()
        let api = "http://127.0.0.1:\(github.server.port)"
        let installations = GitHubAppInstallations()
        let start = Date()
        func token(at offset: Double) async throws -> String {
            github.clock = start.addingTimeInterval(offset)
            return try await onBlockingPool {
                try installations.token(
                    apiURL: api, appID: "Iv23liExampleClient", installationID: 7890, privateKey: .env("GH_APP_KEY"),
                    client: HTTPClient(), environment: ["GH_APP_KEY": try String(contentsOfFile: pem, encoding: .utf8)],
                    now: start.addingTimeInterval(offset))
            }
        }
        #expect(try await token(at: 0) == "ghs_installation1")
        #expect(try await token(at: 3000) == "ghs_installation1", "50 minutes in: still cached")
        #expect(installations.exchanges == 1)
        #expect(try await token(at: 3400) == "ghs_installation2", "within five minutes of expires_at: exchanged again")
        #expect(installations.exchanges == 2 && github.server.requests.count == 2)
        await github.server.stop()
    }

    @Test func aKeyThatIsNotTheAppsIsACredentialErrorThatShowsNoSecret() async throws {
        let appKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let pem = try Self.keyFile(otherKey)
        let github = FakeGitHub(publicKey: appKey.publicKey, iss: .number(123456))
        try await github.start()
        let api = "http://127.0.0.1:\(github.server.port)"
        let action = TriggerAction(
            name: "retrain", target: .githubWorkflowDispatch(repository: "acme/models", workflow: "retrain.yml", apiURL: api),
            credential: .githubApp(appID: "123456", installationID: 7890, privateKey: .file(pem)))
        let attempt = try await onBlockingPool { TriggerSender(environment: [:]).attempt(action, Self.context, attempt: 1) }
        let error = try #require(attempt.error)
        #expect(error.contains("GitHub App token exchange at \(api)/app/installations/7890/access_tokens answered HTTP 401"), "\(error)")
        #expect(error.contains("JSON web token could not be decoded") && error.contains("app_id"))
        #expect(!error.contains("PRIVATE KEY") && !error.contains("eyJ"), "neither the key nor the JWT is shown")
        #expect(github.server.requests.count == 1, "nothing is dispatched without a token")
        if case .retry = attempt.outcome {} else { Issue.record("a credential problem is retried with backoff: \(attempt.outcome)") }
        await github.server.stop()
    }

    @Test func keySourcesAndAPIRootsAreNamed() throws {
        #expect(throws: CredentialError("cannot read the secret file /nonexistent/app.pem")) {
            try GitHubAppJWT.make(appID: "1", privateKey: .file("/nonexistent/app.pem"))
        }
        do {
            _ = try GitHubAppJWT.make(
                appID: "1", privateKey: .env("K"), environment: ["K": "-----BEGIN RSA PRIVATE KEY-----\nbm9wZQ==\n-----END RSA PRIVATE KEY-----"])
            Issue.record("expected an invalid key to be refused")
        } catch let e as CredentialError {
            #expect(e.description.contains("environment variable K is not an RSA private key") && !e.description.contains("bm9wZQ"))
        }
        #expect(
            GitHubAppInstallations.apiURL(ofRequest: "https://api.github.com/repos/a/b/actions/workflows/w.yml/dispatches")
                == "https://api.github.com")
        #expect(
            GitHubAppInstallations.apiURL(ofRequest: "https://ghe.example.com/api/v3/repos/a/b/actions/workflows/w.yml/dispatches")
                == "https://ghe.example.com/api/v3")
        #expect(GitHubAppInstallations.apiURL(ofRequest: "https://hooks.example.com/x") == nil)
        // refresh: 5 minutes before expiry, never later than 55 minutes, half of a short life, now when expired
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(GitHubAppInstallations.refreshAt(expires: now.addingTimeInterval(3600), now: now) == now.addingTimeInterval(3300))
        #expect(GitHubAppInstallations.refreshAt(expires: now.addingTimeInterval(86_400 * 365), now: now) == now.addingTimeInterval(3300))
        #expect(GitHubAppInstallations.refreshAt(expires: now.addingTimeInterval(400), now: now) == now.addingTimeInterval(200))
        #expect(GitHubAppInstallations.refreshAt(expires: now.addingTimeInterval(-5), now: now) == now)
        #expect(Credential.githubApp(appID: "1", installationID: 2, privateKey: .env("K")).exchangesToken)
    }
}
