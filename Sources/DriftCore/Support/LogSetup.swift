import DriftCommon
import Foundation
import Logging

/// How the process logs: JSON lines for log collectors, readable lines for people.
///
/// `LOG_FORMAT=json|text` chooses; unset, it is `text` when standard error is a terminal and `json`
/// otherwise (a pod's logs). `LOG_LEVEL` (trace, debug, info, notice, warning, error, critical; default
/// info) sets the threshold. Data goes in metadata (`monitor`, `window.start`, `task.id`, …), never in the
/// message text; nothing that is logged carries a password (connection errors are redacted where made).
public enum LogSetup {
    public enum Format: String, Sendable { case json, text }

    public static func format(environment: [String: String] = ProcessInfo.processInfo.environment) -> Format {
        if let f = environment["LOG_FORMAT"].flatMap({ Format(rawValue: $0.lowercased()) }) { return f }
        return isatty(STDERR_FILENO) == 1 ? .text : .json
    }

    /// `LOG_LEVEL`, else `defaultLevel`.
    public static func level(environment: [String: String] = ProcessInfo.processInfo.environment, defaultLevel: Logger.Level = .info) -> Logger.Level
    {
        environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? defaultLevel
    }

    /// A metadata value the JSON log writes as `null` (text logs: `null`), for a field that has no value.
    public static let null = Logger.MetadataValue.stringConvertible(Null())
    public struct Null: CustomStringConvertible, Sendable { public var description: String { "null" } }

    /// Installs the process-wide log handler; call once, first thing. `defaultLevel`: the threshold when `LOG_LEVEL`
    /// is unset (the demo, which tells its story on standard output, keeps the workers' info records out of it).
    public static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment, defaultLevel: Logger.Level = .info) {
        let format = format(environment: environment)
        let level = level(environment: environment, defaultLevel: defaultLevel)
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .json: handler = JSONLogHandler(label: label)
            case .text: handler = StreamLogHandler.standardError(label: label)
            }
            handler.logLevel = level
            return handler
        }
    }
}

/// One JSON object per line on standard error: `time` (RFC 3339, UTC, milliseconds), `level`, `logger`,
/// `message`, then the metadata as top-level keys (nested metadata as JSON objects/arrays). One `write(2)`
/// per line, so lines from several threads never interleave.
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let m = event.metadata { merged.merge(m) { _, new in new } }
        let line = Self.render(
            time: Date(), level: event.level, label: label, message: "\(event.message)", metadata: merged,
            source: event.level >= .error ? "\(event.file):\(event.line)" : nil)
        line.withCString { p in _ = write(STDERR_FILENO, p, strlen(p)) }
    }

    /// The line for one record (ending in a newline); keys in a fixed order, metadata sorted by key.
    public static func render(
        time: Date, level: Logger.Level, label: String, message: String,
        metadata: Logger.Metadata, source: String? = nil
    ) -> String {
        var fields: [(String, JSONValue)] = [
            ("time", .string(timestamp(time))), ("level", .string(level.rawValue)),
            ("logger", .string(label)), ("message", .string(message))
        ]
        if let source { fields.append(("source", .string(source))) }
        let reserved: Set<String> = ["time", "level", "logger", "message", "source"]
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) where !reserved.contains(k) {
            fields.append((k, value(v)))
        }
        return JSONValue.object(fields).rendered() + "\n"
    }

    static func value(_ v: Logger.MetadataValue) -> JSONValue {
        switch v {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return typed(c)
        case .array(let a): return .array(a.map(value))
        case .dictionary(let d): return .object(d.sorted { $0.key < $1.key }.map { ($0.key, value($0.value)) })
        }
    }

    /// Numbers and booleans logged with `.stringConvertible` stay numbers and booleans (a non-finite number is a
    /// string, as JSON has none); `LogSetup.null` is null; anything else is its description.
    static func typed(_ c: any CustomStringConvertible & Sendable) -> JSONValue {
        switch c {
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(i)
        case let i as Int64: return .int(Int(i))
        case let i as Int32: return .int(Int(i))
        case let i as UInt32: return .int(Int(i))
        case let i as UInt64 where i <= UInt64(Int.max): return .int(Int(i))
        case let d as Double where d.isFinite: return .double(d)
        case is LogSetup.Null: return .null
        default: return .string(c.description)
        }
    }

    static func timestamp(_ d: Date) -> String {
        let ms = Int64((d.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
            Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), Int(ms % 1000))
    }
}
