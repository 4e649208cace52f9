import Crypto
import Foundation
import _CryptoExtras

/// GitHub App authentication ("Authenticating as a GitHub App installation"): a JSON Web Token signed with the
/// app's private key (RS256) is exchanged at `POST {api}/app/installations/{id}/access_tokens` for an installation
/// access token (`ghs_…`, valid one hour), which then authenticates the request as `Authorization: Bearer …`.
/// Tokens are cached per (API, app, installation) until five minutes before their `expires_at`; the private key is
/// re-read on every exchange (a rotated Secret takes effect at the next one) and never leaves this process.
/// Concurrent callers with no fresh token share one exchange (`TokenCache`).
public final class GitHubAppInstallations: Sendable {
    /// One cache for the process.
    public static let shared = GitHubAppInstallations()

    private let cache = TokenCache()
    /// How many exchanges succeeded (for tests and logs).
    public var exchanges: Int { cache.exchanges }

    public init() {}

    /// An installation access token for `installationID` of app `appID` (the numeric app ID or the client ID
    /// `Iv…`), from the cache or a new exchange at `apiURL` (`https://api.github.com`, or `https://HOST/api/v3`
    /// for GitHub Enterprise Server). Errors name the key's source or the exchange URL and status, never a secret.
    public func token(
        apiURL: String, appID: String, installationID: Int, privateKey: SecretSource, client: HTTPClient,
        environment: [String: String] = ProcessInfo.processInfo.environment, now: Date = Date()
    ) throws -> String {
        let api = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        return try cache.token("\(api)|\(appID)|\(installationID)", now: now) {
            try exchange(
                api: api, appID: appID, installationID: installationID, privateKey: privateKey, client: client, environment: environment, now: now)
        }
    }

    /// One exchange at `api`: a new installation token and when to exchange again.
    private func exchange(
        api: String, appID: String, installationID: Int, privateKey: SecretSource, client: HTTPClient, environment: [String: String], now: Date
    ) throws -> TokenCache.Fresh {
        let jwt = try GitHubAppJWT.make(appID: appID, privateKey: privateKey, environment: environment, now: now)
        let url = "\(api)/app/installations/\(installationID)/access_tokens"
        let response: HTTPResponse
        do {
            response = try client.sendBlocking(
                HTTPRequest(
                    method: "POST", url: url,
                    headers: [
                        ("Authorization", "Bearer \(jwt)"), ("Accept", "application/vnd.github+json"),
                        ("X-GitHub-Api-Version", "2022-11-28")
                    ]))
        } catch let e as HTTPClientError {
            throw CredentialError("the GitHub App token exchange at \(HTTPClient.redact(url)) failed: \(e.message)")
        }
        let json = JSONTemplate.parse(response.body)
        guard response.status == 201 || response.status == 200,
            let token = json?.value(at: "token")?.scalarText, Self.isHeaderSafe(token)
        else {
            let said = json?.value(at: "message")?.scalarText.map { ": " + String($0.prefix(300)) } ?? ""
            let hint =
                [401, 403, 404].contains(response.status)
                ? " (check app_id, installation_id — the installation must be of this app, on the repository's owner — and that the private key is one of the app's)"
                : ""
            throw CredentialError("the GitHub App token exchange at \(HTTPClient.redact(url)) answered HTTP \(response.status)\(said)\(hint)")
        }
        let expires = json?.value(at: "expires_at")?.scalarText.flatMap { try? Date($0, strategy: .iso8601) }
        return TokenCache.Fresh(token: token, refreshAt: Self.refreshAt(expires: expires, now: now))
    }

    /// When to exchange again: five minutes before `expires` (GitHub's tokens live one hour, so never later than
    /// 55 minutes from now); half the remaining life when that is under ten minutes; now when it has passed.
    static func refreshAt(expires: Date?, now: Date) -> Date {
        let life = min(expires.map { $0.timeIntervalSince(now) } ?? 3600, 3600)
        guard life > 0 else { return now }
        return now.addingTimeInterval(life > 600 ? life - 300 : life / 2)
    }

    /// The GitHub REST API root of a request URL: everything before `/repos/` (`https://api.github.com`,
    /// `https://HOST/api/v3`); nil when the URL has no `/repos/` after its host.
    public static func apiURL(ofRequest url: String) -> String? {
        guard let scheme = url.range(of: "://"), let r = url.range(of: "/repos/", range: scheme.upperBound..<url.endIndex) else { return nil }
        return String(url[..<r.lowerBound])
    }

    static func isHeaderSafe(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 4096 && s.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }
    }
}

/// The JSON Web Token a GitHub App authenticates with ("Generating a JSON Web Token (JWT) for a GitHub App"):
/// header `{"alg":"RS256","typ":"JWT"}`, claims `iat` = now − 60 s (clock drift), `exp` = now + 9 min (GitHub allows
/// at most 10), `iss` = the app ID (a JSON number) or client ID (a string); each part base64url without padding;
/// signed with RSASSA-PKCS1-v1_5 over SHA-256 with the app's private key (PKCS#1 `BEGIN RSA PRIVATE KEY`, as GitHub
/// downloads it, or PKCS#8 `BEGIN PRIVATE KEY`).
public enum GitHubAppJWT {
    public static func make(
        appID: String, privateKey: SecretSource, environment: [String: String] = ProcessInfo.processInfo.environment,
        now: Date = Date()
    ) throws -> String {
        let pem = try privateKey.read(environment: environment)
        let key: _RSA.Signing.PrivateKey
        do { key = try _RSA.Signing.PrivateKey(pemRepresentation: pem) } catch {
            throw CredentialError(
                "the GitHub App private key from \(privateKey) is not an RSA private key of at least 2048 bits in PEM "
                    + "(-----BEGIN RSA PRIVATE KEY----- as GitHub downloads it, or -----BEGIN PRIVATE KEY-----)")
        }
        let t = Int(now.timeIntervalSince1970)
        let iss: JSONTemplate = !appID.isEmpty && appID.allSatisfy({ $0.isASCII && $0.isNumber }) ? .number(Double(appID) ?? 0) : .string(appID)
        let header = JSONTemplate.object([("alg", .string("RS256")), ("typ", .string("JWT"))])
        let claims = JSONTemplate.object([("iat", .number(Double(t - 60))), ("exp", .number(Double(t + 540))), ("iss", iss)])
        let input = base64URL(header.data) + "." + base64URL(claims.data)
        let signature: _RSA.Signing.RSASignature
        do { signature = try key.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5) } catch {
            throw CredentialError("cannot sign the GitHub App token with the private key from \(privateKey)")
        }
        return input + "." + base64URL(signature.rawRepresentation)
    }

    /// Base64url without padding (RFC 7515 §2).
    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
