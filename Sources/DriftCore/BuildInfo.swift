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
        OpenBLAS \(LinearAlgebra.openBLASConfig)
        """
    }
}
