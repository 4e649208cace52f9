import Foundation

/// Builds PostgreSQL's binary COPY format: the signature header, then per row a field count and
/// each field as a 32-bit length (−1 for NULL) and its binary value, then the −1 trailer.
/// All integers are big-endian. Writes into a growable byte buffer without per-field allocation.
struct CopyBinaryEncoder {
    private var bytes: [UInt8]

    static let float8OID: Int32 = 701
    static let textOID: Int32 = 25

    init(capacity: Int = 1 << 16) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(contentsOf: Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00])
        int32(0)  // flags
        int32(0)  // header extension length
    }

    mutating func beginRow(fields: Int) { int16(Int16(fields)) }

    mutating func finish() -> Data {
        int16(-1)
        return Data(bytes)
    }

    mutating func null() { int32(-1) }

    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            int32(Int32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func float8(_ x: Double) {
        int32(8)
        uint64(x.bitPattern)
    }

    /// timestamptz: microseconds since 2000-01-01 UTC.
    mutating func timestamptz(_ d: Date) {
        int32(8)
        uint64(UInt64(bitPattern: PGTime.binary(d)))
    }

    /// jsonb: version byte 1, then the JSON text.
    mutating func jsonb(_ json: String) {
        var json = json
        json.withUTF8 { utf8 in
            int32(Int32(utf8.count + 1))
            bytes.append(1)
            bytes.append(contentsOf: utf8)
        }
    }

    /// float8[] (one dimension, lower bound 1).
    mutating func float8Array(_ xs: [Double]) {
        int32(Int32(20 + 12 * xs.count))
        int32(1)
        int32(0)
        int32(Self.float8OID)
        int32(Int32(xs.count))
        int32(1)
        for x in xs {
            int32(8)
            uint64(x.bitPattern)
        }
    }

    /// text[] with NULL elements allowed.
    mutating func textArray(_ xs: [String?]) {
        var body = 0
        var hasNull = false
        for x in xs {
            if let x {
                body += 4 + x.utf8.count
            } else {
                body += 4
                hasNull = true
            }
        }
        int32(Int32(20 + body))
        int32(1)
        int32(hasNull ? 1 : 0)
        int32(Self.textOID)
        int32(Int32(xs.count))
        int32(1)
        for x in xs {
            if let x { text(x) } else { int32(-1) }
        }
    }

    @inline(__always) private mutating func int16(_ v: Int16) {
        let u = UInt16(bitPattern: v)
        bytes.append(UInt8(u >> 8))
        bytes.append(UInt8(u & 0xFF))
    }

    @inline(__always) private mutating func int32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        bytes.append(UInt8(u >> 24))
        bytes.append(UInt8((u >> 16) & 0xFF))
        bytes.append(UInt8((u >> 8) & 0xFF))
        bytes.append(UInt8(u & 0xFF))
    }

    @inline(__always) private mutating func uint64(_ u: UInt64) {
        withUnsafeBytes(of: u.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
