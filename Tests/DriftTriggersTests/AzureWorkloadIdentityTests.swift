import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// The Azure workload-identity exchange against a local token endpoint that checks the client assertion the way
/// Entra does (the federated token must be the one the kubelet projected), and credentials read on every use.
@Suite("Credentials: Azure workload identity, tokens from files and the environment")
struct AzureWorkloadIdentityTests {
    static func form(_ body: Data) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            out[kv[0]] = kv.count > 1 ? kv[1] : ""
        }
        return out
    }

    @Test func exchangesTheFederatedTokenCachesTheAccessTokenAndRereadsTheFileWhenItRotates() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tokenFile = dir.appendingPathComponent("azure-identity-token")
        try "eyJhbGciOi.federated-1.sig\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let expected = LockedBox("eyJhbGciOi.federated-1.sig")
        let server = RecordingHTTPServer()
        try await server.start { r in
            let f = Self.form(r.body)
            guard r.method == "POST", r.path == "/tenant-1/oauth2/v2.0/token",
                r.headers["content-type"] == "application/x-www-form-urlencoded",
                f["grant_type"] == "client_credentials", f["client_id"] == "client-1",
                f["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                f["scope"] == "https://management.azure.com/.default"
            else {
                return .init(status: 400, body: #"{"error":"invalid_request","error_description":"AADSTS900144: malformed"}"#)
            }
            guard f["client_assertion"] == expected.value else {
                return .init(
                    status: 401, body: #"{"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found"}"#)
            }
            let n = f["client_assertion"]!.contains("-2") ? 2 : 1
            return .init(
                status: 200, headers: [("Content-Type", "application/json")],
                body: #"{"token_type":"Bearer","expires_in":3599,"access_token":"entra-access-\#(n)"}"#)
        }
        let env = [
            "AZURE_CLIENT_ID": "client-1", "AZURE_TENANT_ID": "tenant-1", "AZURE_AUTHORITY_HOST": "http://127.0.0.1:\(server.port)/",
            "AZURE_FEDERATED_TOKEN_FILE": tokenFile.path
        ]
        let identity = AzureWorkloadIdentity()
        let settings = try AzureWorkloadIdentity.Settings.fromEnvironment(env)
        let scope = "https://management.azure.com/.default"
        let start = Date()
        let t1 = try await onBlockingPool { try identity.token(scope: scope, settings: settings, client: HTTPClient(), now: start) }
        #expect(t1 == "entra-access-1")
        // cached: no second exchange within the token's life
        let t2 = try await onBlockingPool {
            try identity.token(scope: scope, settings: settings, client: HTTPClient(), now: start.addingTimeInterval(1800))
        }
        #expect(t2 == "entra-access-1" && server.requests.count == 1 && identity.exchanges == 1)
        // the kubelet rotates the projected token; near expiry the new one is read and exchanged
        try "eyJhbGciOi.federated-2.sig".write(to: tokenFile, atomically: true, encoding: .utf8)
        expected.value = "eyJhbGciOi.federated-2.sig"
        let t3 = try await onBlockingPool {
            try identity.token(scope: scope, settings: settings, client: HTTPClient(), now: start.addingTimeInterval(3400))
        }
        #expect(t3 == "entra-access-2" && server.requests.count == 2)

        // through a credential, as a trigger uses it: the header carries the access token
        let credential = Credential.azureWorkloadIdentity(scope: scope)
        let applied = try await onBlockingPool { try credential.apply(client: HTTPClient(), environment: env, azure: identity) }
        #expect(applied.headers.first?.0 == "Authorization" && applied.headers.first?.1 == "Bearer entra-access-2")

        // a token Entra does not accept: the error says what Entra said, and never shows a token
        expected.value = "something-else"
        let fresh = AzureWorkloadIdentity()
        do {
            _ = try await onBlockingPool { try fresh.token(scope: scope, settings: settings, client: HTTPClient()) }
            Issue.record("expected the exchange to fail")
        } catch let e as CredentialError {
            #expect(e.description.contains("HTTP 401") && e.description.contains("AADSTS700213"))
            #expect(!e.description.contains("federated-2") && !e.description.contains("entra-access"))
        }
        await server.stop()
    }

    @Test func missingWorkloadIdentitySettingsAreNamed() {
        #expect(throws: CredentialError.self) { try AzureWorkloadIdentity.Settings.fromEnvironment(["AZURE_CLIENT_ID": "x"]) }
        do { _ = try AzureWorkloadIdentity.Settings.fromEnvironment(["AZURE_CLIENT_ID": "x"]) } catch {
            #expect("\(error)".contains("AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE"))
        }
    }

    @Test func tokenFilesAreReadOnEveryUse() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try "first\n".write(to: file, atomically: true, encoding: .utf8)
        let c = Credential.token(source: .file(file.path))
        #expect(try c.apply(client: HTTPClient()).headers.first?.1 == "Bearer first")
        try "second".write(to: file, atomically: true, encoding: .utf8)
        #expect(try c.apply(client: HTTPClient()).headers.first?.1 == "Bearer second")
        let custom = Credential.token(source: .env("API_KEY"), header: "X-Api-Key", scheme: "")
        #expect(try custom.apply(client: HTTPClient(), environment: ["API_KEY": "k"]).headers.first! == ("X-Api-Key", "k"))
        #expect(throws: CredentialError("environment variable API_KEY is not set or empty")) {
            try custom.apply(client: HTTPClient(), environment: [:])
        }
    }
}

final class LockedBox: @unchecked Sendable {
    private let lock = NSLock()
    private var v: String
    init(_ v: String) { self.v = v }
    var value: String {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}
