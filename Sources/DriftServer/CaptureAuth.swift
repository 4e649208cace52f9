import DriftCommon

/// Who may post to the capture endpoints: a pure decision over the credentials a request carries, so serving
/// loggers that cannot set headers (KServe's and Seldon's payload loggers only take a URL) can still authenticate.
///
/// A request may present the token in any of three places; it is allowed when one of them equals the token:
/// - `Authorization: Bearer T` — the scheme is matched case-insensitively (`bearer`, `BEARER`), RFC 9110 §11.1;
///   other schemes (`Basic …`, a mesh's JWT under another scheme) are ignored rather than refused;
/// - the query parameter `token`: `/v1/capture?token=T`, `/v1/capture/batch?token=T` (percent-decoded by the router);
/// - a path segment: `/v1/capture/t/T` and `/v1/capture/t/T/batch` (see `Paths`).
///
/// Every presented value is trimmed of surrounding whitespace, as the configured token is; the comparison
/// takes a time that depends only on the configured token's length, not on where a guess first differs.
/// With no token configured every request is allowed and presented credentials are ignored.
/// The token never appears in a log line or a metric label: the routes are registered as patterns
/// (`/v1/capture/t/{token}` is the `http.route` label) and nothing logs a request's path or query.
public struct CaptureAuth: Sendable, Equatable {
    /// The token clients must present; nil: no authentication.
    public let token: String?

    /// `token` trimmed of surrounding whitespace; an empty or all-whitespace token means no authentication.
    public init(token: String?) {
        let trimmed = token.map(Self.trim) ?? ""
        self.token = trimmed.isEmpty ? nil : trimmed
    }

    /// The URL forms of the capture endpoints.
    public enum Paths {
        public static let single = "/v1/capture"
        public static let batch = "/v1/capture/batch"
        /// Ground-truth labels (JSON Lines); the token goes in the Authorization header or ?token=.
        public static let labels = "/v1/labels"
        /// The router patterns of the path-token forms; `{token}` is the parameter `token`.
        public static let singleWithToken = "/v1/capture/t/:token"
        public static let batchWithToken = "/v1/capture/t/:token/batch"
        static let tokenPrefix = "/v1/capture/t/"
    }

    /// What a request carries that may be a token.
    public struct Credentials: Sendable, Equatable {
        /// The `Authorization` header's value, if any.
        public var authorization: String?
        /// The percent-decoded `token` query parameter, if any.
        public var query: String?
        /// The token path segment of `/v1/capture/t/T[/batch]`, if the request used that form.
        public var path: String?

        public init(authorization: String? = nil, query: String? = nil, path: String? = nil) {
            self.authorization = authorization
            self.query = query
            self.path = path
        }
    }

    public enum Decision: Sendable, Equatable {
        case allowed
        /// No credential was presented.
        case missing
        /// Credentials were presented and none is the token.
        case wrong
    }

    public func decide(_ credentials: Credentials) -> Decision {
        guard let token else { return .allowed }
        let presented = [credentials.authorization.flatMap(Self.bearer), credentials.query, credentials.path]
            .compactMap { $0.map(Self.trim) }
            .filter { !$0.isEmpty }
        if presented.isEmpty { return .missing }
        var matched = false
        // every candidate is compared in full, so the time does not say which form matched
        for candidate in presented where ConstantTime.equal(candidate, token) { matched = true }
        return matched ? .allowed : .wrong
    }

    /// The token of a `Bearer` credential (`Bearer T`, scheme in any case, one or more spaces or tabs), or nil
    /// for another scheme or a bare value.
    public static func bearer(_ header: String) -> String? {
        let value = trim(header)
        let scheme = "bearer"
        guard value.utf8.count > scheme.utf8.count,
            value.utf8.prefix(scheme.utf8.count).map({ $0 | 0x20 }).elementsEqual(scheme.utf8)
        else { return nil }
        let rest = value.utf8.dropFirst(scheme.utf8.count)
        guard let first = rest.first, first == 0x20 || first == 0x09 else { return nil }
        return trim(String(decoding: rest, as: UTF8.self))
    }

    /// The token segment of a request path of the form `/v1/capture/t/T` or `/v1/capture/t/T/batch`,
    /// percent-decoded; nil for any other path. `path` excludes the query.
    public static func pathToken(_ path: String) -> String? {
        guard path.hasPrefix(Paths.tokenPrefix) else { return nil }
        var rest = Substring(path.dropFirst(Paths.tokenPrefix.count))
        if rest.hasSuffix("/batch") { rest = rest.dropLast("/batch".count) }
        guard !rest.isEmpty, !rest.contains("/") else { return nil }
        return percentDecoded(rest) ?? String(rest)
    }

    /// `s` without leading and trailing spaces, tabs, CR and LF.
    static func trim(_ s: String) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let bytes = s.utf8
        guard let start = bytes.firstIndex(where: { !isSpace($0) }), let end = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: bytes[start...end], as: UTF8.self)
    }

    /// `%XX` sequences decoded as UTF-8; nil when a sequence is malformed or the result is not UTF-8.
    static func percentDecoded(_ s: Substring) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        while let c = it.next() {
            if c == 0x25 {
                guard let h = it.next().flatMap(hex), let l = it.next().flatMap(hex) else { return nil }
                out.append(h << 4 | l)
            } else {
                out.append(c)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
