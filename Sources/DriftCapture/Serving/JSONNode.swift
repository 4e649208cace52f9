import Foundation

/// A parsed JSON value for the serving-path decoders, produced by `JSONParser` (a bounded parser of our own:
/// total on any bytes, limits on depth and on the number of values). Object keys keep no order (the formats read
/// here never depend on it); a repeated key keeps its last value.
public enum JSONNode: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONNode])
    case object([String: JSONNode])

    /// Parses `data` with the default limits (depth 64, 1,000,000 values); any problem becomes a
    /// `CaptureDecodeError` at `path` naming the byte offset and what is wrong.
    public static func parse(_ data: Data, path: String = "body") throws -> JSONNode {
        try parse(data, path: path, limits: CaptureLimits())
    }

    /// Parses `data` within `limits.maxJSONDepth` and `limits.maxJSONNodes`.
    public static func parse(_ data: Data, path: String = "body", limits: CaptureLimits) throws -> JSONNode {
        try data.withUnsafeBytes { raw in
            var p = JSONParser(bytes: raw.bindMemory(to: UInt8.self), maxDepth: limits.maxJSONDepth, maxValues: limits.maxJSONNodes, path: path)
            return try p.document()
        }
    }

    /// Parses the JSON value at the start of `data` and returns it with the offset just after it (white space after
    /// the value is not consumed): for a body whose JSON header is followed by binary data.
    public static func parsePrefix(_ data: Data, path: String = "body", limits: CaptureLimits) throws -> (JSONNode, Int) {
        try data.withUnsafeBytes { raw in
            var p = JSONParser(bytes: raw.bindMemory(to: UInt8.self), maxDepth: limits.maxJSONDepth, maxValues: limits.maxJSONNodes, path: path)
            let v = try p.prefix()
            return (v, p.pos)
        }
    }

    public subscript(key: String) -> JSONNode? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var number: Double? { if case .number(let d) = self { return d } else { return nil } }
    public var array: [JSONNode]? { if case .array(let a) = self { return a } else { return nil } }
    public var object: [String: JSONNode]? { if case .object(let o) = self { return o } else { return nil } }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
