import CCurl
import NIOConcurrencyHelpers

/// Facts about the linked libcurl.
public enum LibCurl {
    /// The libcurl version string, e.g. "7.88.1".
    public static var version: String {
        guard let info = drift_curl_version_info() else { return "unknown" }
        return String(cString: info.pointee.version)
    }

    /// Whether this libcurl was built with TLS support (needed for HTTPS trigger targets).
    public static var supportsTLS: Bool {
        guard let info = drift_curl_version_info() else { return false }
        return (Int32(info.pointee.features) & CURL_VERSION_SSL) != 0
    }

    /// libcurl's sentence for `code`.
    static func message(_ code: CURLcode) -> String { String(cString: curl_easy_strerror(code)) }
}

/// libcurl refused an option or could not report a fact about a transfer: the option's name and libcurl's reason.
struct CurlOptionError: Error {
    var message: String
    var code: CURLcode
}

/// One libcurl easy handle, freed in `deinit`. It is used by one request at a time: `CurlHandlePool` hands it out
/// to one caller and takes it back after the exchange. Every option set and fact read is checked.
// @unchecked: it wraps a C pointer, which is only touched by the one caller that checked the handle out.
final class CurlEasyHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    init?() {
        guard let h = curl_easy_init() else { return nil }
        raw = h
    }

    deinit { curl_easy_cleanup(raw) }

    /// Back to libcurl's default options, keeping the connection cache, DNS cache and TLS session ids.
    func reset() { curl_easy_reset(raw) }

    /// Throws `CurlOptionError` naming `name` (e.g. "CURLOPT_CAINFO") when `code` is not CURLE_OK.
    func check(_ code: CURLcode, _ name: String) throws {
        guard code == CURLE_OK else { throw CurlOptionError(message: "libcurl refused \(name): \(LibCurl.message(code))", code: code) }
    }

    func set(_ option: CURLoption, _ name: String, _ value: Int) throws { try check(drift_curl_setopt_long(raw, option, value), name) }

    func set(_ option: CURLoption, _ name: String, _ value: String) throws { try check(drift_curl_setopt_string(raw, option, value), name) }

    func set(_ option: CURLoption, _ name: String, pointer: UnsafeMutableRawPointer?) throws {
        try check(drift_curl_setopt_pointer(raw, option, pointer), name)
    }

    func info(_ info: CURLINFO, _ name: String) throws -> Int {
        var value = 0
        let code = drift_curl_getinfo_long(raw, info, &value)
        guard code == CURLE_OK else { throw CurlOptionError(message: "libcurl could not report \(name): \(LibCurl.message(code))", code: code) }
        return value
    }

    func info(_ info: CURLINFO, _ name: String) throws -> Double {
        var value = 0.0
        let code = drift_curl_getinfo_double(raw, info, &value)
        guard code == CURLE_OK else { throw CurlOptionError(message: "libcurl could not report \(name): \(LibCurl.message(code))", code: code) }
        return value
    }
}

/// Idle libcurl easy handles kept between requests, so that the next request to an origin reuses the open
/// connection (and its DNS answer and TLS session) instead of opening a new one. A request checks a handle out
/// (a new one when none is idle) and returns it after the exchange, reset to default options; at most `capacity`
/// handles stay idle, the rest are freed. libcurl reuses a cached connection only when the TLS settings (CA bundle,
/// client certificate) match, so requests with different settings may share a handle safely.
public final class CurlHandlePool: Sendable {
    /// The pool every `HTTPClient` uses unless given another: as many idle handles as `BlockingPool.shared` has threads (4).
    public static let shared = CurlHandlePool(capacity: 4)

    /// Most handles kept idle.
    public let capacity: Int
    private let idle: NIOLockedValueBox<[CurlEasyHandle]>

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        idle = NIOLockedValueBox([])
    }

    /// Handles idle now (for tests and metrics).
    public var idleCount: Int { idle.withLockedValue { $0.count } }

    /// The most recently returned idle handle (its connections are the warmest), or a new one; nil when libcurl
    /// cannot make one.
    func checkOut() -> CurlEasyHandle? {
        if let h = idle.withLockedValue({ $0.popLast() }) { return h }
        return CurlEasyHandle()
    }

    /// Takes `handle` back, reset to default options; when `capacity` handles are idle already it is not kept, and
    /// is freed (closing its connections) when the caller lets go of it, outside the lock.
    func checkIn(_ handle: CurlEasyHandle) {
        handle.reset()
        idle.withLockedValue { handles in
            if handles.count < capacity { handles.append(handle) }
        }
    }
}
