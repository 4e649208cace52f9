import CCurl

/// Facts about the linked libcurl. The HTTP client for triggers arrives with issue 6.
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
}
