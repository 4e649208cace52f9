import DriftCommon
import Foundation

/// What a trigger's templates can use: `{{monitor}}`, `{{model}}`, `{{window_start}}`, `{{window_end}}`,
/// `{{drifted_features}}`, `{{run_id}}`, `{{action_id}}`, `{{report_path}}` (plus whatever `extra` holds, e.g.
/// a shadow evaluation's `{{challenger}}` and `{{verdict}}`).
public struct TriggerContext: Sendable, Equatable {
    public var actionID: String
    public var action: String
    public var monitor: String
    public var model: String
    public var windowStart: String
    public var windowEnd: String
    public var driftedFeatures: [String]
    public var runID: Int?
    public var reportPath: String
    /// Further string values, by name.
    public var extra: [String: String]
    /// A request sent by `drift-worker trigger test`: marked so receivers can tell it from a real one.
    public var test: Bool

    public init(
        actionID: String, action: String, monitor: String, model: String, windowStart: String, windowEnd: String,
        driftedFeatures: [String] = [], runID: Int? = nil, reportPath: String = "", extra: [String: String] = [:], test: Bool = false
    ) {
        self.actionID = actionID
        self.action = action
        self.monitor = monitor
        self.model = model
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.driftedFeatures = driftedFeatures
        self.runID = runID
        self.reportPath = reportPath
        self.extra = extra
        self.test = test
    }

    /// The names a template may use.
    public static let names = ["monitor", "model", "window_start", "window_end", "drifted_features", "run_id", "action_id", "action", "report_path"]

    /// A variable's value as JSON (`drifted_features` is an array, `run_id` a number or null), nil when unknown.
    public func json(_ name: String) -> JSONTemplate? {
        switch name {
        case "drifted_features": return .array(driftedFeatures.map { .string($0) })
        case "run_id": return runID.map { .number(Double($0)) } ?? .null
        default: return text(name).map { .string($0) }
        }
    }

    /// A variable's value inside a string (`drifted_features` joined by commas), nil when unknown.
    public func text(_ name: String) -> String? {
        switch name {
        case "monitor": return monitor
        case "model": return model
        case "window_start": return windowStart
        case "window_end": return windowEnd
        case "drifted_features": return driftedFeatures.joined(separator: ",")
        case "run_id": return runID.map(String.init) ?? ""
        case "action_id": return actionID
        case "action": return action
        case "report_path": return reportPath
        default: return extra[name]
        }
    }

    /// The default webhook body: every variable, plus `test: true` for a test request.
    public var defaultBody: JSONTemplate {
        var pairs: [(String, JSONTemplate)] = [
            ("action_id", .string(actionID)), ("action", .string(action)), ("monitor", .string(monitor)),
            ("model", .string(model)), ("window_start", .string(windowStart)), ("window_end", .string(windowEnd)),
            ("drifted_features", json("drifted_features")!), ("run_id", json("run_id")!),
            ("report_path", .string(reportPath))
        ]
        for k in extra.keys.sorted() { pairs.append((k, .string(extra[k]!))) }
        if test { pairs.append(("test", .bool(true))) }
        return .object(pairs)
    }

    public static func == (a: TriggerContext, b: TriggerContext) -> Bool {
        a.actionID == b.actionID && a.action == b.action && a.monitor == b.monitor && a.model == b.model && a.windowStart == b.windowStart
            && a.windowEnd == b.windowEnd && a.driftedFeatures == b.driftedFeatures && a.runID == b.runID && a.reportPath == b.reportPath
            && a.extra == b.extra && a.test == b.test
    }
}

/// Where a target's schema takes only strings (Kubernetes `env[].value`, `args`, labels; …): dotted path patterns
/// in which `*` stands for any one object key or array index and `**` for any number of them
/// (`**.env.*.value`). A preset states its own (`TriggerTarget.stringFields`).
public struct StringFields: Sendable, Equatable {
    public var patterns: [[String]]
    public init(_ patterns: [String]) { self.patterns = patterns.map { $0.split(separator: ".").map(String.init) } }
    public static let none = StringFields([])

    /// Whether the value at `path` (keys and array indexes, from the template's root) must be a string.
    public func contains(_ path: [String]) -> Bool { patterns.contains { Self.match($0[...], path[...]) } }

    static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            // `**` takes zero or more segments
            return path.indices.contains { match(pattern.dropFirst(), path[$0...]) } || match(pattern.dropFirst(), path[path.endIndex...])
        }
        guard let first = path.first, head == "*" || head == first else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }
}

/// A JSON document whose strings may hold `{{variable}}` placeholders; its scalars keep their YAML type (an
/// unquoted `10` is a number, `true` a bool, a quoted `"10"` a string). A string that is exactly one placeholder
/// becomes the variable's JSON value (`"{{drifted_features}}"` → `["amount","score"]`, `"{{run_id}}"` → `41`) —
/// except where the target takes only strings (`StringFields`): there every placeholder renders as its text
/// (`drifted_features` comma-joined: `"amount,score"`, `run_id` as digits, empty when unknown) and a number or
/// bool as its text (`10` → `"10"`). Placeholders inside a longer string are replaced by their text. Object keys
/// keep their order.
public indirect enum JSONTemplate: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONTemplate])
    case object([(String, JSONTemplate)])

    public static func == (a: JSONTemplate, b: JSONTemplate) -> Bool { a.serialized() == b.serialized() }

    /// An unknown placeholder, named with where it stands.
    public struct UnknownVariable: Error, CustomStringConvertible, Equatable {
        public var name: String
        public init(name: String) { self.name = name }
        public var description: String {
            "unknown template variable {{\(name)}} (known: \(TriggerContext.names.map { "{{\($0)}}" }.joined(separator: ", ")))"
        }
    }

    /// The placeholders used anywhere in the template.
    public var variables: [String] {
        switch self {
        case .string(let s): return Self.placeholders(in: s)
        case .array(let items): return items.flatMap(\.variables)
        case .object(let pairs): return pairs.flatMap { Self.placeholders(in: $0.0) + $0.1.variables }
        default: return []
        }
    }

    /// The template with every placeholder replaced; values at `strings` paths render as strings (see the type).
    /// With `placeholdersAsText`, every placeholder renders as its text while literal numbers and bools keep their
    /// type (Kubeflow parameters: `epochs: 10` stays 10, `"{{run_id}}"` becomes `"41"` — a pipeline input fed from
    /// the drift context is declared `str`, and a typed literal is what the pipeline author wrote).
    public func rendered(_ context: TriggerContext, strings: StringFields = .none, placeholdersAsText: Bool = false) throws -> JSONTemplate {
        try rendered(context, strings, placeholdersAsText, path: [])
    }

    private func rendered(_ context: TriggerContext, _ strings: StringFields, _ placeholdersAsText: Bool, path: [String]) throws -> JSONTemplate {
        let textOnly = !strings.patterns.isEmpty && strings.contains(path)
        switch self {
        case .string(let s):
            let names = Self.placeholders(in: s)
            if !textOnly, !placeholdersAsText, names.count == 1, s.trimmingCharacters(in: .whitespaces) == "{{\(names[0])}}" {
                guard let v = context.json(names[0]) else { throw UnknownVariable(name: names[0]) }
                return v
            }
            return .string(try Self.substitute(s, context))
        case .number, .bool: return textOnly ? .string(scalarText!) : self
        case .array(let items):
            return .array(
                try items.enumerated().map { try $0.element.rendered(context, strings, placeholdersAsText, path: path + [String($0.offset)]) })
        case .object(let pairs):
            return .object(
                try pairs.map { (try Self.substitute($0.0, context), try $0.1.rendered(context, strings, placeholdersAsText, path: path + [$0.0])) })
        case .null: return self
        }
    }

    /// The dotted paths of values at `strings` paths that cannot become strings (lists and mappings), for
    /// `validate-config`: a target that takes only strings there would refuse the request.
    public func nonStrings(_ strings: StringFields, path: [String] = []) -> [String] {
        switch self {
        case .array(let items):
            if !path.isEmpty, strings.contains(path) { return [path.joined(separator: ".")] }
            return items.enumerated().flatMap { $0.element.nonStrings(strings, path: path + [String($0.offset)]) }
        case .object(let pairs):
            if !path.isEmpty, strings.contains(path) { return [path.joined(separator: ".")] }
            return pairs.flatMap { $0.1.nonStrings(strings, path: path + [$0.0]) }
        default: return []
        }
    }

    /// Replaces `{{name}}` in text with the variable's text.
    public static func substitute(_ text: String, _ context: TriggerContext) throws -> String {
        var out = ""
        for segment in segments(text) {
            switch segment {
            case .text(let t): out += t
            case .placeholder(let name):
                guard let value = context.text(name) else { throw UnknownVariable(name: name) }
                out += value
            }
        }
        return out
    }

    /// A template text cut into literal text and `{{name}}` placeholders. `${{ … }}` is not a placeholder but
    /// literal text — the expression syntax of Azure ML jobs (`${{inputs.since}}`) and GitHub Actions, which the
    /// target evaluates — and so is a `{{` without a closing `}}`.
    enum Segment: Equatable { case text(Substring), placeholder(String) }

    static func segments(_ text: String) -> [Segment] {
        var out: [Segment] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            if open.lowerBound > rest.startIndex, rest[rest.index(before: open.lowerBound)] == "$" {
                // `${{ … }}` ends at the first `}}`; a `{{` before it means the `${{` is not closed: it is text, and the
                // placeholder after it is one
                if rest[open.upperBound..<close.lowerBound].contains("{{") {
                    out.append(.text(rest[..<open.upperBound]))
                    rest = rest[open.upperBound...]
                    continue
                }
                out.append(.text(rest[..<close.upperBound]))
            } else {
                out.append(.text(rest[..<open.lowerBound]))
                out.append(.placeholder(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)))
            }
            rest = rest[close.upperBound...]
        }
        out.append(.text(rest))
        return out
    }

    /// A value that cannot stand where a URL template puts it.
    public struct URLPartError: Error, CustomStringConvertible, Equatable {
        public var name: String
        public var part: String
        public init(name: String, part: String) {
            self.name = name
            self.part = part
        }
        public var description: String {
            "{{\(name)}} cannot stand in the \(part) of a URL\(part == "host" ? " unless its value is letters, digits and '-' only" : "")"
        }
    }

    /// Replaces `{{name}}` in a URL template with the variable's text percent-encoded for where it stands, so a value
    /// is always data, never URL structure: in the path, one segment (`/` → `%2F`, a value of only dots → `%2E…`);
    /// in the query or fragment, one value (`&`, `=`, `+`, `#` encoded). Everything but RFC 3986 unreserved
    /// characters (letters, digits, `-._~`) is encoded, as UTF-8. In the host a value must be letters, digits and
    /// `-` (a DNS label part); in the scheme no variable may stand. The template's own text is kept as written.
    public static func substituteURL(_ text: String, _ context: TriggerContext) throws -> String {
        enum Part { case scheme, host, path, query }
        var part = Part.scheme
        var out = ""
        for segment in segments(text) {
            let name: String
            switch segment {
            case .text(let t):
                // the template's own text: copied, and it says where the next variable stands
                for c in t {
                    out.append(c)
                    switch (part, c) {
                    case (.scheme, "/") where out.hasSuffix("://"): part = .host
                    case (.host, "/"): part = .path
                    case (.host, "?"), (.host, "#"), (.path, "?"), (.path, "#"): part = .query
                    default: break
                    }
                }
                continue
            case .placeholder(let n): name = n
            }
            guard let value = context.text(name) else { throw UnknownVariable(name: name) }
            switch part {
            case .scheme: throw URLPartError(name: name, part: "scheme")
            case .host:
                guard value.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }) else {
                    throw URLPartError(name: name, part: "host")
                }
                out += value
            case .path:
                let encoded = percentEncoded(value)
                out += !encoded.isEmpty && encoded.allSatisfy({ $0 == "." }) ? String(repeating: "%2E", count: encoded.count) : encoded
            case .query: out += percentEncoded(value)
            }
        }
        return out
    }

    /// UTF-8 percent-encoding of everything but RFC 3986 unreserved characters.
    public static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default: out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// The `{{name}}` placeholders in a text, in order (not `${{ … }}`: see `segments`).
    public static func placeholders(in text: String) -> [String] {
        segments(text).compactMap { if case .placeholder(let n) = $0 { n } else { nil } }
    }

    /// The value at a dotted path (`metadata.name`, `runs.0.run_id`), for reading ids out of responses.
    public func value(at path: String) -> JSONTemplate? {
        var node = self
        for part in path.split(separator: ".") {
            switch node {
            case .object(let pairs):
                guard let v = pairs.first(where: { $0.0 == part })?.1 else { return nil }
                node = v
            case .array(let items):
                guard let i = Int(part), items.indices.contains(i) else { return nil }
                node = items[i]
            default: return nil
            }
        }
        return node
    }

    /// A scalar as text (numbers without a trailing `.0` when whole), nil for objects, arrays and null.
    public var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .number(let d): return Self.number(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// Parses JSON with Foundation's decoder (object key order is not kept). Nil when the data is not JSON.
    public static func parse(_ data: Data) -> JSONTemplate? { try? JSONDecoder().decode(JSONTemplate.self, from: data) }

    /// A number as JSON writes it: whole numbers without a fraction, others in Swift's shortest round-trip form.
    static func number(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)" }

    /// Compact JSON text.
    public func serialized() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    public var data: Data { Data(serialized().utf8) }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += d.isFinite ? Self.number(d) : "null"
        case .string(let s): Self.escape(s, into: &out)
        case .array(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                v.write(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += "," }
                Self.escape(k, into: &out)
                out += ":"
                v.write(into: &out)
            }
            out += "}"
        }
    }

    /// Appends `s` as a JSON string literal: the project's one escaper, `JSONValue.escape`.
    public static func escape(_ s: String, into out: inout String) { JSONValue.escape(s, into: &out) }
}

extension JSONTemplate: Decodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            self = .object(try object.allKeys.map { ($0.stringValue, try object.decode(JSONTemplate.self, forKey: $0)) })
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSONTemplate] = []
            while !array.isAtEnd { items.append(try array.decode(JSONTemplate.self)) }
            self = .array(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else {
            self = .string(try c.decode(String.self))
        }
    }
}
