import Foundation

/// FNV-1a (64-bit): a hash that is the same in every process and on every machine (Swift's own
/// hashing is seeded per process), for advisory-lock keys, checksums and version stamps.
public enum StableHash {
    public static func fnv1a<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    public static func fnv1a(_ text: String) -> UInt64 { fnv1a(text.utf8) }

    /// A PostgreSQL advisory-lock key for a name.
    public static func lockKey(_ name: String) -> Int64 { Int64(bitPattern: fnv1a(name)) }

    public static func hex(_ data: Data) -> String { String(fnv1a(data), radix: 16) }
    public static func hex(_ text: String) -> String { String(fnv1a(text), radix: 16) }
}
