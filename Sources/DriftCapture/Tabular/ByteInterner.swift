import Foundation

/// Distinct byte strings numbered in order of first appearance, each stored once (an open-addressing table over one
/// byte arena): a text column's cells become `Int32` codes without building a `String` per cell.
struct ByteInterner: Sendable {
    private var arena: [UInt8] = []
    /// Label i is `arena[starts[i]..<starts[i + 1]]`.
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Slot → label index, −1 empty; its size is a power of two kept at most half full.
    private var slots = [Int32](repeating: -1, count: 64)

    var count: Int { hashes.count }

    /// The code of `bytes`, adding it when new.
    mutating func intern(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let h = Self.hash(bytes)
        var mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let code = slots[i]
            if code < 0 { break }
            if hashes[Int(code)] == h && equals(Int(code), bytes) { return code }
            i = (i + 1) & mask
        }
        let code = Int32(hashes.count)
        hashes.append(h)
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        slots[i] = code
        if hashes.count * 2 > slots.count {
            slots = [Int32](repeating: -1, count: slots.count * 2)
            mask = slots.count - 1
            for (c, h) in hashes.enumerated() {
                var j = Int(truncatingIfNeeded: h) & mask
                while slots[j] >= 0 { j = (j + 1) & mask }
                slots[j] = Int32(c)
            }
        }
        return code
    }

    /// Label `i` as a String (UTF-8; invalid sequences become U+FFFD, as `String(decoding:)` does).
    func label(_ i: Int) -> String { String(decoding: arena[starts[i]..<starts[i + 1]], as: UTF8.self) }

    /// Every label in code order.
    var labels: [String] { (0..<count).map(label) }

    /// Label `i`'s bytes, for merging one interner into another.
    func withBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        arena.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[starts[i]..<starts[i + 1]])) }
    }

    private func equals(_ code: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let s = starts[code]
        let n = starts[code + 1] - s
        guard n == bytes.count else { return false }
        return arena.withUnsafeBytes { a in n == 0 || memcmp(a.baseAddress! + s, bytes.baseAddress!, n) == 0 }
    }

    /// FNV-1a over the bytes, then a final mix so that the low bits (the slot) depend on every byte.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        return h ^ (h >> 33)
    }
}
