import Foundation

/// A JSON parser (RFC 8259) for hostile input: total — every byte sequence gives a value or a
/// `CaptureDecodeError` that names the byte offset — with explicit bounds: nesting depth (the recursion depth,
/// so the stack is bounded too) and the number of values (so the memory a body takes is bounded by a count the
/// operator sets, not by how small each value can be written). Strings must be valid UTF-8 without raw control
/// characters; `\\u` escapes must pair surrogates; numbers follow the JSON grammar and must be finite doubles
/// (correctly rounded: small integers and short decimals by Clinger's exact fast path, the rest by `strtod`).
///
/// It replaces Foundation's JSONDecoder at the boundary, whose error reporting traps on some inputs (an
/// unclosed array at the 513th level as the last byte) and whose per-value allocations made small bodies expand.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    let maxValues: Int
    let path: String
    var pos = 0
    var depth = 0
    var values = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, maxValues: Int, path: String) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.maxValues = maxValues
        self.path = path
    }

    mutating func document() throws -> JSONNode {
        // a UTF-8 byte-order mark is tolerated, as JSONDecoder did
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { pos = 3 }
        skipSpace()
        guard pos < bytes.count else { throw fail("is empty", reason: .malformed) }
        let v = try value()
        skipSpace()
        if pos < bytes.count { throw fail("has \(describe(bytes[pos])) after the JSON value at byte \(pos)") }
        return v
    }

    /// The value at the start; `pos` is then just after its last byte (white space after it is not taken: in a
    /// body with binary data after the JSON, those bytes are data).
    mutating func prefix() throws -> JSONNode {
        skipSpace()
        guard pos < bytes.count else { throw fail("is empty", reason: .malformed) }
        return try value()
    }

    func fail(_ problem: String, reason: CaptureDecodeError.Reason = .malformed) -> CaptureDecodeError {
        CaptureDecodeError(path: path, problem: reason == .malformed ? "is not valid JSON (\(problem))" : problem, reason: reason)
    }

    func describe(_ b: UInt8) -> String {
        (0x21...0x7E).contains(b) ? "'\(Character(UnicodeScalar(b)))'" : String(format: "byte 0x%02X", b)
    }

    @inline(__always) mutating func skipSpace() {
        while pos < bytes.count {
            let b = bytes[pos]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    mutating func count() throws {
        values += 1
        if values > maxValues {
            throw fail("has more than the \(maxValues) JSON values allowed in one document (--max-json-values)", reason: .tooLarge)
        }
    }

    mutating func value() throws -> JSONNode {
        guard pos < bytes.count else { throw fail("ends early at byte \(pos)") }
        try count()
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case let b: throw fail("unexpected \(describe(b)) at byte \(pos)")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard bytes.count - pos >= n else { throw fail("ends early at byte \(pos)") }
        for i in 0..<n where bytes[pos + i] != word.utf8Start[i] { throw fail("unexpected \(describe(bytes[pos + i])) at byte \(pos + i)") }
        pos += n
    }

    mutating func enter() throws {
        depth += 1
        if depth > maxDepth { throw fail("is nested deeper than \(maxDepth) levels at byte \(pos) (--max-json-depth)") }
    }

    mutating func array() throws -> JSONNode {
        try enter()
        pos += 1
        var items: [JSONNode] = []
        skipSpace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard pos < bytes.count else { throw fail("ends inside an array at byte \(pos)") }
            let b = bytes[pos]
            pos += 1
            if b == UInt8(ascii: ",") { continue }
            if b == UInt8(ascii: "]") { break }
            throw fail("expected ',' or ']' but found \(describe(b)) at byte \(pos - 1)")
        }
        depth -= 1
        return .array(items)
    }

    mutating func object() throws -> JSONNode {
        try enter()
        pos += 1
        var members: [String: JSONNode] = [:]
        skipSpace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard pos < bytes.count else { throw fail("ends inside an object at byte \(pos)") }
            guard bytes[pos] == UInt8(ascii: "\"") else {
                throw fail("expected a member name in quotes but found \(describe(bytes[pos])) at byte \(pos)")
            }
            try count()
            let key = try string()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
                throw fail(
                    pos < bytes.count ? "expected ':' but found \(describe(bytes[pos])) at byte \(pos)" : "ends inside an object at byte \(pos)")
            }
            pos += 1
            skipSpace()
            members[key] = try value()
            skipSpace()
            guard pos < bytes.count else { throw fail("ends inside an object at byte \(pos)") }
            let b = bytes[pos]
            pos += 1
            if b == UInt8(ascii: ",") { continue }
            if b == UInt8(ascii: "}") { break }
            throw fail("expected ',' or '}' but found \(describe(b)) at byte \(pos - 1)")
        }
        depth -= 1
        return .object(members)
    }

    mutating func string() throws -> String {
        let open = pos
        pos += 1
        let start = pos
        // fast path: plain ASCII without escapes
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if b == UInt8(ascii: "\\") || b >= 0x80 || b < 0x20 { break }
            pos += 1
        }
        var out: [UInt8] = Array(bytes[start..<pos])
        while true {
            guard pos < bytes.count else { throw fail("has a string that never ends (it opens at byte \(open))") }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                break
            }
            if b < 0x20 { throw fail("has a raw control character (\(describe(b))) in a string at byte \(pos)") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                pos += 1
                continue
            }
            guard pos + 1 < bytes.count else { throw fail("ends inside an escape at byte \(pos)") }
            let e = bytes[pos + 1]
            pos += 2
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw fail("has an unpaired surrogate \\u\(String(scalar, radix: 16)) at byte \(pos - 6)")
                    }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw fail("has an unpaired surrogate \\u\(String(scalar, radix: 16)) at byte \(pos - 12)")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("has an unpaired surrogate \\u\(String(scalar, radix: 16)) at byte \(pos - 6)")
                }
                // UnicodeScalar(UInt32) is nil only for surrogates, excluded above
                for u in String(Character(UnicodeScalar(scalar)!)).utf8 { out.append(u) }
            default: throw fail("has an unknown escape \\\(describe(e)) at byte \(pos - 2)")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw fail("has a string that is not valid UTF-8 (it opens at byte \(open))")
        }
        return s
    }

    mutating func hex4() throws -> UInt32 {
        guard bytes.count - pos >= 4 else { throw fail("ends inside a \\u escape at byte \(pos)") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw fail("has \(describe(b)) in a \\u escape at byte \(pos)")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    static let exactPowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
    ]

    mutating func number() throws -> Double {
        let start = pos
        var negative = false
        if bytes[pos] == UInt8(ascii: "-") {
            negative = true
            pos += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits gathered into mantissa (exact while ≤ 19)
        var exponent = 0
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("has a '-' without digits at byte \(start)") }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count && isDigit(bytes[pos]) { throw fail("has a number with a leading zero at byte \(start)") }
        } else {
            while pos < bytes.count && isDigit(bytes[pos]) {
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(bytes[pos] - 0x30)
                    if mantissa != 0 { digits += 1 }
                } else {
                    exponent += 1
                }
                pos += 1
            }
        }
        if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("has a number without digits after '.' at byte \(start)") }
            while pos < bytes.count && isDigit(bytes[pos]) {
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(bytes[pos] - 0x30)
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                }
                pos += 1
            }
        }
        var explicitExponent = 0
        if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
            pos += 1
            var expNegative = false
            if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) {
                expNegative = bytes[pos] == UInt8(ascii: "-")
                pos += 1
            }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("has a number without exponent digits at byte \(start)") }
            while pos < bytes.count && isDigit(bytes[pos]) {
                if explicitExponent < 100_000 { explicitExponent = explicitExponent * 10 + Int(bytes[pos] - 0x30) }
                pos += 1
            }
            if expNegative { explicitExponent = -explicitExponent }
        }
        // Clinger's fast path: an exactly representable mantissa times an exact power of ten is correctly rounded
        let e = exponent + explicitExponent
        if digits <= 15 && mantissa <= (1 << 53) && e >= -22 && e <= 22 {
            let m = Double(mantissa)
            let v = e >= 0 ? m * Self.exactPowers[e] : m / Self.exactPowers[-e]
            return negative ? -v : v
        }
        if mantissa == 0 { return negative ? -0.0 : 0 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        guard let v = Double(text), v.isFinite else {
            throw fail("\(text.prefix(40)) at byte \(start) is outside the range of a double", reason: .invalidValue)
        }
        return v
    }
}
