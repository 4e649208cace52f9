import CLibPQ

/// Facts about the linked libpq. The connection layer arrives with the store (issue 3).
public enum LibPQ {
    /// libpq's version as MAJOR.MINOR (from `PQlibVersion`, e.g. "15.18").
    public static var version: String {
        let v = Int(PQlibVersion())
        return v >= 100_000 ? "\(v / 10_000).\(v % 10_000)" : "\(v / 10_000).\(v / 100 % 100).\(v % 100)"
    }

    /// Whether libpq was built thread-safe (required for a connection pool on several threads).
    public static var isThreadSafe: Bool { PQisthreadsafe() == 1 }
}
