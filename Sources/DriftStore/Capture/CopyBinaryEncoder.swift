import Foundation

/// Builds PostgreSQL's binary COPY format: the signature header, then per row a field count and
/// each field as a 32-bit length (−1 for NULL) and its binary value, then the −1 trailer.
/// All integers are big-endian. Writes into one growable byte buffer without per-field allocation; each
/// fixed-size value is one append (the encoder runs once per captured event, on the capture hot path).
struct CopyBinaryEncoder {
    private(set) var bytes: [UInt8]

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

    /// Appends the trailer; `bytes` is then a complete COPY stream.
    mutating func finish() { int16(-1) }

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
        arrayHeader(bodyBytes: 12 * xs.count, hasNull: false, elementOID: Self.float8OID, count: xs.count)
        for x in xs {
            // element length 8, then the value: 12 bytes in one append
            let bits = x.bitPattern
            let element = (UInt32(8).bigEndian, UInt32(bits >> 32).bigEndian, UInt32(truncatingIfNeeded: bits).bigEndian)
            withUnsafeBytes(of: element) { bytes.append(contentsOf: $0) }
        }
    }

    /// A one-dimensional array's field length and header: ndim 1, has-null flag, element type, count, lower bound 1.
    private mutating func arrayHeader(bodyBytes: Int, hasNull: Bool, elementOID: Int32, count: Int) {
        let header: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
            UInt32(bitPattern: Int32(20 + bodyBytes)).bigEndian, UInt32(1).bigEndian, UInt32(hasNull ? 1 : 0).bigEndian,
            UInt32(bitPattern: elementOID).bigEndian, UInt32(bitPattern: Int32(count)).bigEndian, UInt32(1).bigEndian
        )
        withUnsafeBytes(of: header) { bytes.append(contentsOf: $0) }
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
        arrayHeader(bodyBytes: body, hasNull: hasNull, elementOID: Self.textOID, count: xs.count)
        for x in xs {
            if let x { text(x) } else { int32(-1) }
        }
    }

    @inline(__always) private mutating func int16(_ v: Int16) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) private mutating func int32(_ v: Int32) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) private mutating func uint64(_ u: UInt64) {
        withUnsafeBytes(of: u.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
