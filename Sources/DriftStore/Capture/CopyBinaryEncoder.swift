import Foundation

/// Builds PostgreSQL's binary COPY format: the signature header, then per row a field count and
/// each field as a 32-bit length (−1 for NULL) and its binary value, then the −1 trailer.
/// All integers are big-endian.
struct CopyBinaryEncoder {
    private(set) var data = Data()

    static let float8OID: Int32 = 701
    static let textOID: Int32 = 25

    init(capacity: Int = 1 << 16) {
        data.reserveCapacity(capacity)
        data.append(contentsOf: Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00])
        int32(0)  // flags
        int32(0)  // header extension length
    }

    mutating func beginRow(fields: Int) { int16(Int16(fields)) }

    mutating func finish() -> Data {
        int16(-1)
        return data
    }

    mutating func null() { int32(-1) }

    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { bytes in
            int32(Int32(bytes.count))
            data.append(bytes.baseAddress!, count: bytes.count)
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
        let bytes = Array(json.utf8)
        int32(Int32(bytes.count + 1))
        data.append(1)
        data.append(contentsOf: bytes)
    }

    /// float8[] (one dimension, lower bound 1).
    mutating func float8Array(_ xs: [Double]) {
        int32(Int32(20 + 12 * xs.count))
        int32(1); int32(0); int32(Self.float8OID)
        int32(Int32(xs.count)); int32(1)
        for x in xs { int32(8); uint64(x.bitPattern) }
    }

    /// text[] with NULL elements allowed.
    mutating func textArray(_ xs: [String?]) {
        let encoded = xs.map { $0.map { Array($0.utf8) } }
        let body = encoded.reduce(0) { $0 + 4 + ($1?.count ?? 0) }
        int32(Int32(20 + body))
        int32(1); int32(encoded.contains { $0 == nil } ? 1 : 0); int32(Self.textOID)
        int32(Int32(xs.count)); int32(1)
        for e in encoded {
            if let e { int32(Int32(e.count)); data.append(contentsOf: e) } else { int32(-1) }
        }
    }

    private mutating func int16(_ v: Int16) { withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) } }
    private mutating func int32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) } }
    private mutating func uint64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) } }
}
