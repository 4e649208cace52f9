import Crypto
import DriftCommon
import Foundation

/// Standard Webhooks signatures (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (Unix seconds) and
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, with `whsec_<base64>` secrets; during a
/// rotation several secrets sign at once and the header lists every signature, space-separated. HMAC from
/// swift-crypto.
public enum StandardWebhooks {
    /// A signing secret: `whsec_` followed by the base64 key (the prefix is optional); the key must have at least
    /// 16 bytes (the specification recommends 24 to 64).
    public struct Secret: Sendable, Equatable {
        public let key: Data

        public struct Invalid: Error, CustomStringConvertible {
            public var description: String {
                "a Standard Webhooks secret must be whsec_ followed by the base64 of at least 16 random bytes (the value is not shown)"
            }
        }

        public init(_ text: String) throws {
            let b64 = text.hasPrefix("whsec_") ? String(text.dropFirst(6)) : text
            guard let key = Data(base64Encoded: b64), key.count >= 16 else { throw Invalid() }
            self.key = key
        }
    }

    /// `v1,<base64 signature>` of one secret.
    public static func signature(id: String, timestamp: Int, body: Data, secret: Secret) -> String {
        var message = Data("\(id).\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret.key))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The three headers for a delivery, signed with every secret (rotation).
    public static func headers(id: String, timestamp: Int, body: Data, secrets: [Secret]) -> [(String, String)] {
        [
            ("webhook-id", id), ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", secrets.map { signature(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " "))
        ]
    }

    /// What a receiver checks: one listed signature matches one of its secrets, and the timestamp is within
    /// `tolerance` seconds of `now` (replay protection). Comparison in constant time.
    public static func verify(
        id: String, timestamp: Int, signatureHeader: String, body: Data, secrets: [Secret],
        now: Date = Date(), tolerance: Double = 300
    ) -> Bool {
        guard abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let given = signatureHeader.split(separator: " ").map(String.init)
        for secret in secrets {
            let expected = signature(id: id, timestamp: timestamp, body: body, secret: secret)
            if given.contains(where: { ConstantTime.equal($0, expected) }) { return true }
        }
        return false
    }

}

/// GitHub-style `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` (optional, for receivers that expect it).
public enum HubSignature {
    public static func header(body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
