import DriftTriggers

/// A JSON value whose objects keep their key order, rendered compactly. Doubles are written in
/// Swift's shortest round-trip form, so parsing them back gives the same bits; NaN and ±Inf,
/// which JSON cannot hold, become null.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered() == b.rendered() }

    public static func number(_ x: Double?) -> JSONValue {
        guard let x, x.isFinite else { return .null }
        return .double(x)
    }

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

    /// A JSON string literal (the one escaper of the project, `JSONTemplate.escape`).
    static func escape(_ s: String, into out: inout String) { JSONTemplate.escape(s, into: &out) }
}
