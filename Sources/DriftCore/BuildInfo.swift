import DriftStats
import DriftStore
import DriftTriggers

/// Versions of drift-worker and the native libraries it is linked with.
public enum BuildInfo {
    public static let version = "0.1.0"

    public static func describe() -> String {
        """
        drift-worker \(version)
        libpq \(LibPQ.version)
        libcurl \(LibCurl.version)
        \(openBLAS(config: LinearAlgebra.openBLASConfig))
        """
    }

    /// OpenBLAS's own config string ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH … MAX_THREADS=64") as one line that
    /// names the library once: "OpenBLAS 0.3.21 (NO_LAPACKE DYNAMIC_ARCH … MAX_THREADS=64)".
    public static func openBLAS(config: String) -> String {
        var words = config.split(whereSeparator: \.isWhitespace).map(String.init)
        if words.first == "OpenBLAS" { words.removeFirst() }
        guard let version = words.first else { return "OpenBLAS (version unknown)" }
        let options = words.dropFirst()
        return "OpenBLAS \(version)" + (options.isEmpty ? "" : " (\(options.joined(separator: " ")))")
    }
}
