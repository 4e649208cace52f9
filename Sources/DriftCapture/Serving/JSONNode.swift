import Foundation

/// A parsed JSON value for the serving-path decoders. Numbers are parsed by JSONDecoder (exact doubles);
/// object keys keep no order (the formats read here never depend on it).
public indirect enum JSONNode: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONNode])
    case object([String: JSONNode])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        // Most values of a payload are numbers (tensor data), then strings: try those first, since every failed
        // attempt costs a thrown DecodingError. (JSONDecoder never turns true/false into a Double.)
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let o = try? c.decode([String: JSONNode].self) { self = .object(o); return }
        if let a = try? c.decode([JSONNode].self) { self = .array(a); return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    /// Parses `data`; a syntax error becomes a `CaptureDecodeError` at `path` naming what is wrong.
    public static func parse(_ data: Data, path: String = "body") throws -> JSONNode {
        do {
            return try JSONDecoder().decode(JSONNode.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
            throw CaptureDecodeError(path: path, problem: "is not valid JSON (\(detail))")
        } catch {
            throw CaptureDecodeError(path: path, problem: "is not valid JSON")
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

/// A payload that cannot be decoded: where (a JSON path such as `inputs[0].data`) and what is wrong.
public struct CaptureDecodeError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// e.g. `inputs[0].data has 5 values, shape [2,3] needs 6`.
    public var description: String { "\(path) \(problem)" }
}
