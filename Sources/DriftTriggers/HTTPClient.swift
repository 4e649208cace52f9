import CCurl
import Foundation

/// One HTTP request.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: Data?

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The answer to a request.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased, in arrival order (repeated headers kept).
    public var headers: [(String, String)]
    public var body: Data
    /// Total time of the exchange in seconds (libcurl's CURLINFO_TOTAL_TIME), summed over followed redirects.
    public var seconds: Double
    /// The URL that gave this answer: the request's, or where followed redirects led.
    public var url = ""
    /// How many redirects were followed to get here.
    public var redirects = 0
    /// True when the body was cut at `Options.maxBodyBytes`.
    public var truncated = false
    /// Connections opened for this answer (libcurl's CURLINFO_NUM_CONNECTS), summed over followed redirects: 0 when
    /// an open connection to the origin was reused.
    public var newConnections = 0

    public init(
        status: Int, headers: [(String, String)] = [], body: Data = Data(), seconds: Double = 0, url: String = "",
        redirects: Int = 0, truncated: Bool = false, newConnections: Int = 0
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds
        self.url = url
        self.redirects = redirects
        self.truncated = truncated
        self.newConnections = newConnections
    }

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0 == n }?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A request that got no HTTP answer: the host could not be resolved or reached, TLS failed, a timeout.
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable { case invalidURL, unreachable, timeout, tls, other }
    public var kind: Kind
    public var url: String
    /// libcurl's message (from CURLOPT_ERRORBUFFER, else curl_easy_strerror).
    public var message: String
    public var curlCode: Int

    public var description: String { "\(method) request to \(url) failed: \(message)" }
    var method: String = "HTTP"

    public init(kind: Kind, url: String, message: String, curlCode: Int) {
        self.kind = kind
        self.url = url
        self.message = message
        self.curlCode = curlCode
    }
}

/// An HTTP client on libcurl: TLS peer and host verification always on, the proxy environment (`https_proxy`,
/// `http_proxy`, `no_proxy`) honoured as libcurl does by default. Each exchange takes an easy handle from
/// `handles` and returns it afterwards, so a later request to the same origin reuses the open connection.
/// `send` runs the blocking exchange on `BlockingPool`; `sendBlocking` runs it on the calling thread.
public struct HTTPClient: Sendable {
    public struct Options: Sendable {
        /// Seconds to establish the connection (TCP + TLS).
        public var connectTimeout: Double = 5
        /// Seconds for the whole exchange.
        public var timeout: Double = 30
        /// A CA bundle file to verify servers with (default: the system's).
        public var caBundle: String?
        /// A client certificate and key (PEM files) for mutual TLS.
        public var clientCertificate: String?
        public var clientKey: String?
        /// Largest response body kept, in bytes; the rest is read and dropped.
        public var maxBodyBytes = 1 << 20
        /// Redirects (301, 302, 307, 308 with a `Location`) followed per request, at most 10; 0 (the default):
        /// none, the 3xx is the answer. A followed redirect repeats the request verbatim — same method, body and
        /// headers (GitHub's "Follow redirects"; RFC 9110 for 307/308) — to the same origin (scheme, host, port);
        /// never from https to http. 303 and redirects elsewhere are not followed: the 3xx is the answer.
        public var maxRedirects = 0
        /// Other origins (`https://host[:port]`) a redirect may lead to; there the `sensitiveHeaders` are dropped.
        public var redirectOrigins: [String] = []
        /// Header names (any case) never sent to an origin other than the request's: credentials.
        public var sensitiveHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie"]
        public init() {}
    }

    public var options: Options
    /// Where easy handles (and so open connections) come from and go back to.
    public let handles: CurlHandlePool

    public init(options: Options = Options(), handles: CurlHandlePool = .shared) {
        _ = Self.globalInit
        self.options = options
        self.handles = handles
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends on `BlockingPool.shared` (libcurl blocks), so no Swift concurrency thread waits on the network.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await BlockingPool.shared.run { try self.sendBlocking(request) }
    }

    /// Sends on the calling thread, blocking it until the exchange ends, following redirects as `options` allow
    /// (done here rather than by libcurl's CURLOPT_FOLLOWLOCATION, whose CURLOPT_UNRESTRICTED_AUTH=0 drops only
    /// `Authorization` and `Cookie` on another host — not e.g. an `X-Api-Key` — and which cannot limit the hosts).
    public func sendBlocking(_ request: HTTPRequest) throws -> HTTPResponse {
        var current = request
        var total = 0.0
        var connections = 0
        var hops = 0
        while true {
            var response = try sendOnce(current)
            total += response.seconds
            connections += response.newConnections
            response.seconds = total
            response.newConnections = connections
            response.url = current.url
            response.redirects = hops
            guard hops < min(options.maxRedirects, 10), let next = redirect(from: current, response) else { return response }
            current = next
            hops += 1
        }
    }

    /// The request a redirect answer leads to, when `options` allow following it; nil otherwise.
    func redirect(from request: HTTPRequest, _ response: HTTPResponse) -> HTTPRequest? {
        guard [301, 302, 307, 308].contains(response.status), let location = response.header("location"),
            let base = URL(string: request.url), let target = URL(string: location, relativeTo: base)?.absoluteURL,
            let from = Self.origin(base.absoluteString), let to = Self.origin(target.absoluteString)
        else { return nil }
        if from.hasPrefix("https:") && !to.hasPrefix("https:") { return nil }
        var next = request
        next.url = target.absoluteString
        if to != from {
            guard options.redirectOrigins.compactMap(Self.origin).contains(to) else { return nil }
            let sensitive = Set(options.sensitiveHeaders.map { $0.lowercased() })
            next.headers.removeAll { sensitive.contains($0.0.lowercased()) }
        }
        return next
    }

    /// `scheme://host:port` of an http(s) URL, lowercased, the port explicit (80/443 by default); nil for others.
    public static func origin(_ url: String) -> String? {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = c.host?.lowercased(), !host.isEmpty
        else { return nil }
        return "\(scheme)://\(host):\(c.port ?? (scheme == "https" ? 443 : 80))"
    }

    /// One exchange, no redirects followed. Options that name files are checked first, so that a missing CA bundle
    /// or client certificate is an error naming the file (libcurl would ignore it for http:// and give a vaguer
    /// message for https://).
    func sendOnce(_ request: HTTPRequest) throws -> HTTPResponse {
        try checkFiles(request)
        let sink = ResponseSink(limit: options.maxBodyBytes)
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        // owned memory (not an array's temporary pointer): the handle keeps the pointer until checkIn resets it
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        guard let handle = handles.checkOut() else {
            throw HTTPClientError(kind: .other, url: Self.redact(request.url), message: "libcurl could not create a handle", curlCode: -1)
        }
        defer { handles.checkIn(handle) }  // first of the defers: the handle lets go of the buffers below before they go

        let code: CURLcode
        do {
            try configure(handle, request, errorBuffer: errorBuffer, sink: box.toOpaque(), headerList: &headerList)
            code = curl_easy_perform(handle.raw)
        } catch let e as CurlOptionError {
            throw failure(request, kind: .other, message: e.message, code: e.code)
        }
        guard code == CURLE_OK else {
            let buffered = String(cString: errorBuffer)
            throw failure(request, kind: Self.kind(code), message: buffered.isEmpty ? LibCurl.message(code) : buffered, code: code)
        }
        do {
            let status: Int = try handle.info(CURLINFO_RESPONSE_CODE, "CURLINFO_RESPONSE_CODE")
            let seconds: Double = try handle.info(CURLINFO_TOTAL_TIME, "CURLINFO_TOTAL_TIME")
            let connections: Int = try handle.info(CURLINFO_NUM_CONNECTS, "CURLINFO_NUM_CONNECTS")
            return HTTPResponse(
                status: status, headers: sink.headers, body: sink.body, seconds: seconds, truncated: sink.truncated, newConnections: connections)
        } catch let e as CurlOptionError {
            throw failure(request, kind: .other, message: e.message, code: e.code)
        }
    }

    /// Sets every option of one exchange on `handle`; a refused option throws `CurlOptionError` naming it.
    private func configure(
        _ handle: CurlEasyHandle, _ request: HTTPRequest, errorBuffer: UnsafeMutablePointer<CChar>?, sink: UnsafeMutableRawPointer,
        headerList: inout UnsafeMutablePointer<curl_slist>?
    ) throws {
        let h = handle.raw
        try handle.set(CURLOPT_ERRORBUFFER, "CURLOPT_ERRORBUFFER", pointer: errorBuffer)
        try handle.set(CURLOPT_URL, "CURLOPT_URL", request.url)
        try handle.set(CURLOPT_NOSIGNAL, "CURLOPT_NOSIGNAL", 1)
        try handle.set(CURLOPT_CONNECTTIMEOUT_MS, "CURLOPT_CONNECTTIMEOUT_MS", Self.milliseconds(options.connectTimeout))
        try handle.set(CURLOPT_TIMEOUT_MS, "CURLOPT_TIMEOUT_MS", Self.milliseconds(options.timeout))
        try handle.set(CURLOPT_SSL_VERIFYPEER, "CURLOPT_SSL_VERIFYPEER", 1)
        try handle.set(CURLOPT_SSL_VERIFYHOST, "CURLOPT_SSL_VERIFYHOST", 2)
        try handle.set(CURLOPT_FOLLOWLOCATION, "CURLOPT_FOLLOWLOCATION", 0)
        try handle.set(CURLOPT_PROTOCOLS_STR, "CURLOPT_PROTOCOLS_STR", "http,https")
        if let ca = options.caBundle { try handle.set(CURLOPT_CAINFO, "CURLOPT_CAINFO", ca) }
        if let cert = options.clientCertificate { try handle.set(CURLOPT_SSLCERT, "CURLOPT_SSLCERT", cert) }
        if let key = options.clientKey { try handle.set(CURLOPT_SSLKEY, "CURLOPT_SSLKEY", key) }
        let method = request.method.uppercased()
        if let body = request.body {
            if body.isEmpty {
                try handle.set(CURLOPT_COPYPOSTFIELDS, "CURLOPT_COPYPOSTFIELDS", "")
            } else {
                try handle.set(CURLOPT_POSTFIELDSIZE, "CURLOPT_POSTFIELDSIZE", body.count)
                try body.withUnsafeBytes { raw in
                    try handle.set(CURLOPT_COPYPOSTFIELDS, "CURLOPT_COPYPOSTFIELDS", pointer: UnsafeMutableRawPointer(mutating: raw.baseAddress!))
                }
            }
            if method != "POST" { try handle.set(CURLOPT_CUSTOMREQUEST, "CURLOPT_CUSTOMREQUEST", method) }
        } else if method == "HEAD" {
            try handle.set(CURLOPT_NOBODY, "CURLOPT_NOBODY", 1)
        } else if method != "GET" {
            try handle.set(CURLOPT_CUSTOMREQUEST, "CURLOPT_CUSTOMREQUEST", method)
        }
        // no "Expect: 100-continue" round trip for bodies
        headerList = curl_slist_append(headerList, "Expect:")
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        try handle.check(drift_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList), "CURLOPT_HTTPHEADER")
        let write = drift_curl_setopt_write_function(h) { ptr, size, count, user in
            let sink = Unmanaged<ResponseSink>.fromOpaque(user!).takeUnretainedValue()
            sink.append(body: UnsafeRawBufferPointer(start: ptr, count: size * count))
            return size * count
        }
        try handle.check(write, "CURLOPT_WRITEFUNCTION")
        try handle.set(CURLOPT_WRITEDATA, "CURLOPT_WRITEDATA", pointer: sink)
        let header = drift_curl_setopt_header_function(h) { ptr, size, count, user in
            let sink = Unmanaged<ResponseSink>.fromOpaque(user!).takeUnretainedValue()
            sink.append(headerLine: UnsafeRawBufferPointer(start: ptr, count: size * count))
            return size * count
        }
        try handle.check(header, "CURLOPT_HEADERFUNCTION")
        try handle.set(CURLOPT_HEADERDATA, "CURLOPT_HEADERDATA", pointer: sink)
    }

    /// A CA bundle, client certificate or key that cannot be read fails the request before it is sent, naming the
    /// setting and the path.
    private func checkFiles(_ request: HTTPRequest) throws {
        let files = [
            ("CA bundle (ca_bundle)", options.caBundle, CURLE_SSL_CACERT_BADFILE),
            ("client certificate (client_cert)", options.clientCertificate, CURLE_SSL_CERTPROBLEM),
            ("client key (client_key)", options.clientKey, CURLE_SSL_CERTPROBLEM)
        ]
        for case (let what, let path?, let code) in files where !FileManager.default.isReadableFile(atPath: path) {
            let why = FileManager.default.fileExists(atPath: path) ? "cannot be read by this process" : "does not exist"
            throw failure(request, kind: .tls, message: "the \(what) file \(path) \(why)", code: code)
        }
    }

    private func failure(_ request: HTTPRequest, kind: HTTPClientError.Kind, message: String, code: CURLcode) -> HTTPClientError {
        var e = HTTPClientError(kind: kind, url: Self.redact(request.url), message: message, curlCode: Int(code.rawValue))
        e.method = request.method.uppercased()
        return e
    }

    /// Seconds as whole milliseconds for libcurl, clamped to 1 ms … 24 h (a NaN or huge value cannot trap the conversion;
    /// 0, which libcurl reads as "no timeout", is never passed).
    static func milliseconds(_ seconds: Double) -> Int {
        guard !seconds.isNaN else { return 1 }
        return Int(min(max(seconds * 1000, 1), 86_400_000))
    }

    static func kind(_ code: CURLcode) -> HTTPClientError.Kind {
        switch code {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .invalidURL
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_PROXY: return .unreachable
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE: return .tls
        default: return .other
        }
    }

    /// The URL without user info (`https://user:secret@host` → `https://host`) and without a query string.
    public static func redact(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return "(an invalid URL)" }
        c.user = nil
        c.password = nil
        let hadQuery = c.query != nil
        c.query = nil
        return (c.string ?? "(an invalid URL)") + (hadQuery ? "?…" : "")
    }
}

/// Collects a response's headers and (capped) body from libcurl's callbacks.
final class ResponseSink {
    let limit: Int
    var body = Data()
    var headers: [(String, String)] = []
    var truncated = false

    init(limit: Int) { self.limit = limit }

    func append(body chunk: UnsafeRawBufferPointer) {
        let room = limit - body.count
        if room > 0 { body.append(contentsOf: chunk.prefix(room)) }
        if chunk.count > max(room, 0) { truncated = true }
    }

    func append(headerLine chunk: UnsafeRawBufferPointer) {
        let line = String(decoding: chunk, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }  // a new response (after 1xx or a redirect)
        guard let colon = line.firstIndex(of: ":") else { return }
        headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
}
