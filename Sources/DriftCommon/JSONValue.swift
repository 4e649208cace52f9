/// A JSON value: the one JSON type of the project, for what the capture decoders parse (`JSONParser`) and for what
/// the worker renders (reports, logs, HTTP answers). Integers stay exact: the parser gives `.int` for an integer
/// literal that fits in 64 bits and `.double` for every other number. Objects keep their members in document order,
/// repeated keys included; a lookup by key gives the LAST member of that name (as JSON parsers commonly do).
///
/// Rendering is compact: doubles in Swift's shortest round-trip form (parsing them back gives the same bits), NaN and
/// ±Inf, which JSON cannot hold, as null.
///
/// Equality is structural: same case, same payload, members in the same order. `.int(1)` and `.double(1)` differ
/// (they render differently); two NaN doubles are equal (both render as null).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.double(let x), .double(let y)): x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// A double, or null when `x` is nil or not finite.
    public static func number(_ x: Double?) -> JSONValue {
        guard let x, x.isFinite else { return .null }
        return .double(x)
    }

    /// The value of the last member named `key`; nil when this is not an object or has no such member.
    /// Linear in the number of members (the parser's value limit bounds it); to look up many keys of one large
    /// object, take `object` once.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for (k, v) in members.reversed() where k == key { return v }
        return nil
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The number as a double (an `.int` beyond 2^53 rounded to the nearest double); nil for other values.
    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    /// The members in document order, repeated keys included.
    public var members: [(String, JSONValue)]? { if case .object(let m) = self { m } else { nil } }
    /// The members by key (a repeated key gives its last value), built in one pass: for many lookups in one object.
    public var object: [String: JSONValue]? {
        guard case .object(let m) = self else { return nil }
        return Dictionary(m, uniquingKeysWith: { _, last in last })
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Compact JSON text.
    public func rendered() -> String {
        var out = ""
        render(into: &out)
        return out
    }

    private func render(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? "\(d)" : "null"
        case .string(let s): JSONValue.escape(s, into: &out)
        case .array(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                v.render(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += "," }
                JSONValue.escape(k, into: &out)
                out += ":"
                v.render(into: &out)
            }
            out += "}"
        }
    }

    /// Appends `s` as a JSON string literal: `"` and `\` escaped, \n \r \t by name, every other control character
    /// (U+0000–U+001F, U+007F) and the line and paragraph separators U+2028/U+2029 (line breaks to JavaScript) as
    /// `\uXXXX`; everything else as is (UTF-8). The one escaper of the project.
    public static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F, 0x2028, 0x2029: appendUnicodeEscape(u.value, into: &out)
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }

    /// `s` as a JSON string literal (see `escape(_:into:)`).
    public static func escaped(_ s: String) -> String {
        var out = ""
        escape(s, into: &out)
        return out
    }

    private static func appendUnicodeEscape(_ v: UInt32, into out: inout String) {
        let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        out += "\\u"
        for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int((v >> UInt32(shift)) & 0xF)]) }
    }
}
