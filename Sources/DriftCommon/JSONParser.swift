/// Why a JSON text was refused: what is wrong, in words that follow "The JSON document" (`problem`), and the byte
/// offset where it was found.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not JSON (RFC 8259): a syntax error, invalid UTF-8, a raw control character, an unpaired surrogate.
        case malformed
        /// Arrays and objects nested deeper than the limit.
        case tooDeep(limit: Int)
        /// More values (member names included) than the limit.
        case tooManyValues(limit: Int)
        /// A number that is not a finite double.
        case numberOutOfRange
    }

    public var kind: Kind
    /// Byte offset into the parsed bytes (from 0) where the problem was found.
    public var offset: Int
    /// What is wrong, naming the byte: "ends inside an array at byte 4", "is nested deeper than 64 levels at byte 64".
    public var problem: String

    public init(kind: Kind, offset: Int, problem: String) {
        self.kind = kind
        self.offset = offset
        self.problem = problem
    }

    public var description: String { "The JSON document \(problem)." }
}

/// A JSON parser (RFC 8259) for hostile input: total — every byte sequence gives a value or a `JSONParseError` that
/// names the byte offset — with explicit bounds: nesting depth (the recursion depth, so the stack is bounded too) and
/// the number of values, member names included (so the memory a document takes is bounded by a count the caller
/// sets, not by how small each value can be written). Strings must be valid UTF-8 without raw control characters;
/// `\u` escapes must pair surrogates; numbers follow the JSON grammar: an integer literal (no fraction, no exponent)
/// that fits in 64 bits is `.int`, any other number a finite, correctly rounded `.double` (small mantissas and
/// short exponents by Clinger's exact fast path, the rest by `strtod`). A UTF-8 byte-order mark is skipped.
///
/// It replaced Foundation's JSONDecoder at the capture boundary, whose error reporting traps on some inputs (an
/// unclosed array at the 513th level as the last byte) and whose per-value allocations made small bodies expand.
public struct JSONParser {
    public struct Limits: Sendable, Equatable {
        /// Deepest nesting of arrays and objects.
        public var maxDepth: Int
        /// Most values (scalars, arrays, objects and member names) in one document.
        public var maxValues: Int

        public init(maxDepth: Int = 64, maxValues: Int = 1_000_000) {
            self.maxDepth = maxDepth
            self.maxValues = maxValues
        }
    }

    /// Parses `bytes` as one JSON document (white space around the value allowed, nothing else).
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes, limits: Limits = .init()) throws(JSONParseError) -> JSONValue {
        try withBuffer(bytes) { (buffer) throws(JSONParseError) in
            var p = JSONParser(bytes: buffer, limits: limits)
            return try p.document()
        }
    }

    /// Parses the JSON value at the start of `bytes` and returns it with the offset just after its last byte (white
    /// space after the value is not consumed): for a body whose JSON header is followed by binary data.
    public static func parsePrefix<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, limits: Limits = .init()
    ) throws(JSONParseError) -> (value: JSONValue, end: Int) {
        try withBuffer(bytes) { (buffer) throws(JSONParseError) in
            var p = JSONParser(bytes: buffer, limits: limits)
            let v = try p.prefix()
            return (v, p.pos)
        }
    }

    private static func withBuffer<Bytes: Collection<UInt8>, T>(
        _ bytes: Bytes, _ body: (UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> T
    ) throws(JSONParseError) -> T {
        if let result = bytes.withContiguousStorageIfAvailable({ b in Result { () throws(JSONParseError) -> T in try body(b) } }) {
            return try result.get()
        }
        return try Array(bytes).withUnsafeBufferPointer { b in Result { () throws(JSONParseError) -> T in try body(b) } }.get()
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let limits: Limits
    var pos = 0
    var depth = 0
    var values = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func document() throws(JSONParseError) -> JSONValue {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { pos = 3 }
        skipSpace()
        guard pos < bytes.count else { throw fail("is empty") }
        let v = try value()
        skipSpace()
        if pos < bytes.count { throw fail("has \(describe(bytes[pos])) after the JSON value at byte \(pos)") }
        return v
    }

    mutating func prefix() throws(JSONParseError) -> JSONValue {
        skipSpace()
        guard pos < bytes.count else { throw fail("is empty") }
        return try value()
    }

    func fail(_ problem: String, kind: JSONParseError.Kind = .malformed, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(kind: kind, offset: offset ?? pos, problem: problem)
    }

    func describe(_ b: UInt8) -> String {
        if (0x21...0x7E).contains(b) { return "'\(Character(UnicodeScalar(b)))'" }
        let hex = Array("0123456789ABCDEF")
        return "byte 0x\(hex[Int(b >> 4)])\(hex[Int(b & 0xF)])"
    }

    @inline(__always) mutating func skipSpace() {
        while pos < bytes.count {
            let b = bytes[pos]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    mutating func count() throws(JSONParseError) {
        values += 1
        if values > limits.maxValues {
            throw fail("has more than the \(limits.maxValues) JSON values allowed in one document", kind: .tooManyValues(limit: limits.maxValues))
        }
    }

    mutating func value() throws(JSONParseError) -> JSONValue {
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
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case let b: throw fail("unexpected \(describe(b)) at byte \(pos)")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard bytes.count - pos >= n else { throw fail("ends early at byte \(pos)") }
        for i in 0..<n where bytes[pos + i] != word.utf8Start[i] {
            throw fail("unexpected \(describe(bytes[pos + i])) at byte \(pos + i)", at: pos + i)
        }
        pos += n
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > limits.maxDepth {
            throw fail("is nested deeper than \(limits.maxDepth) levels at byte \(pos)", kind: .tooDeep(limit: limits.maxDepth))
        }
    }

    mutating func array() throws(JSONParseError) -> JSONValue {
        try enter()
        pos += 1
        var items: [JSONValue] = []
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
            throw fail("expected ',' or ']' but found \(describe(b)) at byte \(pos - 1)", at: pos - 1)
        }
        depth -= 1
        return .array(items)
    }

    mutating func object() throws(JSONParseError) -> JSONValue {
        try enter()
        pos += 1
        var members: [(String, JSONValue)] = []
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
            members.append((key, try value()))
            skipSpace()
            guard pos < bytes.count else { throw fail("ends inside an object at byte \(pos)") }
            let b = bytes[pos]
            pos += 1
            if b == UInt8(ascii: ",") { continue }
            if b == UInt8(ascii: "}") { break }
            throw fail("expected ',' or '}' but found \(describe(b)) at byte \(pos - 1)", at: pos - 1)
        }
        depth -= 1
        return .object(members)
    }

    mutating func string() throws(JSONParseError) -> String {
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
            guard pos < bytes.count else { throw fail("has a string that never ends (it opens at byte \(open))", at: open) }
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
                        throw fail("has an unpaired surrogate \\u\(String(scalar, radix: 16)) at byte \(pos - 6)", at: pos - 6)
                    }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw fail("has an unpaired surrogate \\u\(String(scalar, radix: 16)) at byte \(pos - 12)", at: pos - 12)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("has an unpaired surrogate \\u\(String(scalar, radix: 16)) at byte \(pos - 6)", at: pos - 6)
                }
                // UnicodeScalar(UInt32) is nil only for surrogates, excluded above
                for u in String(Character(UnicodeScalar(scalar)!)).utf8 { out.append(u) }
            default: throw fail("has an unknown escape \\\(describe(e)) at byte \(pos - 2)", at: pos - 2)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw fail("has a string that is not valid UTF-8 (it opens at byte \(open))", at: open)
        }
        return s
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
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

    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = pos
        var negative = false
        if bytes[pos] == UInt8(ascii: "-") {
            negative = true
            pos += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits gathered into mantissa (exact while ≤ 19)
        var exponent = 0
        var isInteger = true
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("has a '-' without digits at byte \(start)", at: start) }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count && isDigit(bytes[pos]) { throw fail("has a number with a leading zero at byte \(start)", at: start) }
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
            isInteger = false
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("has a number without digits after '.' at byte \(start)", at: start) }
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
            isInteger = false
            pos += 1
            var expNegative = false
            if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) {
                expNegative = bytes[pos] == UInt8(ascii: "-")
                pos += 1
            }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("has a number without exponent digits at byte \(start)", at: start) }
            while pos < bytes.count && isDigit(bytes[pos]) {
                if explicitExponent < 100_000 { explicitExponent = explicitExponent * 10 + Int(bytes[pos] - 0x30) }
                pos += 1
            }
            if expNegative { explicitExponent = -explicitExponent }
        }
        // an integer literal of at most 19 digits is its mantissa exactly; it is an Int when it fits in 64 bits
        // (-0 stays a double: an Int has no negative zero)
        if isInteger && exponent == 0 && !(negative && mantissa == 0) {
            if !negative, mantissa <= UInt64(Int64.max) { return .int(Int(mantissa)) }
            if negative, mantissa <= UInt64(Int64.max) { return .int(-Int(mantissa)) }
            if negative, mantissa == UInt64(Int64.max) + 1 { return .int(Int(Int64.min)) }
        }
        // Clinger's fast path: an exactly representable mantissa times an exact power of ten is correctly rounded
        let e = exponent + explicitExponent
        if digits <= 15 && mantissa <= (1 << 53) && e >= -22 && e <= 22 {
            let m = Double(mantissa)
            let v = e >= 0 ? m * Self.exactPowers[e] : m / Self.exactPowers[-e]
            return .double(negative ? -v : v)
        }
        if mantissa == 0 { return .double(negative ? -0.0 : 0) }
        let token = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<pos]))
        guard let v = FastFloat.parse(token), v.isFinite else {
            let text = String(decoding: token, as: UTF8.self)
            throw fail("\(text.prefix(40)) at byte \(start) is outside the range of a double", kind: .numberOutOfRange, at: start)
        }
        return .double(v)
    }
}
