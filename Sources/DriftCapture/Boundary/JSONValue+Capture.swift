import DriftCommon
import Foundation

/// The capture boundary's JSON entry points: DriftCommon's bounded `JSONParser` within the `CaptureLimits` the
/// operator set, its refusals as `CaptureDecodeError`s at `path` that name the byte offset and the flag of the limit.
extension JSONValue {
    /// Parses `data` with the default limits (depth 64, 1,000,000 values).
    public static func parse(_ data: Data, path: String = "body") throws -> JSONValue {
        try parse(data, path: path, limits: CaptureLimits())
    }

    /// Parses `data` within `limits.maxJSONDepth` and `limits.maxJSONNodes`.
    public static func parse(_ data: Data, path: String = "body", limits: CaptureLimits) throws -> JSONValue {
        do {
            return try JSONParser.parse(data, limits: limits.jsonParserLimits)
        } catch {
            throw CaptureDecodeError(json: error, path: path)
        }
    }

    /// Parses the JSON value at the start of `data` and returns it with the offset just after it (white space after
    /// the value is not consumed): for a body whose JSON header is followed by binary data.
    public static func parsePrefix(_ data: Data, path: String = "body", limits: CaptureLimits) throws -> (JSONValue, Int) {
        do {
            let (value, end) = try JSONParser.parsePrefix(data, limits: limits.jsonParserLimits)
            return (value, end)
        } catch {
            throw CaptureDecodeError(json: error, path: path)
        }
    }
}

extension CaptureLimits {
    var jsonParserLimits: JSONParser.Limits { JSONParser.Limits(maxDepth: maxJSONDepth, maxValues: maxJSONNodes) }
}

extension CaptureDecodeError {
    /// A parser refusal at `path`: syntax and depth as malformed ("is not valid JSON (…)"), too many values as too
    /// large, a number beyond a double as an invalid value; each naming its byte and, for a limit, its flag.
    init(json e: JSONParseError, path: String) {
        switch e.kind {
        case .malformed: self.init(path: path, problem: "is not valid JSON (\(e.problem))", reason: .malformed)
        case .tooDeep: self.init(path: path, problem: "is not valid JSON (\(e.problem) (--max-json-depth))", reason: .malformed)
        case .tooManyValues: self.init(path: path, problem: "\(e.problem) (--max-json-values)", reason: .tooLarge)
        case .numberOutOfRange: self.init(path: path, problem: e.problem, reason: .invalidValue)
        }
    }
}
