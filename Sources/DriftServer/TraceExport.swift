import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// OpenTelemetry traces, exported over OTLP/HTTP by swift-otel: off unless the standard `OTEL_*` variables ask
/// for them. Only the tracer is bootstrapped (`InstrumentationSystem`); the log handler and the metrics factory
/// stay ours.
///
/// On when `OTEL_TRACES_EXPORTER=otlp`, or when it is unset and `OTEL_EXPORTER_OTLP_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; off when `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`.
/// swift-otel reads the variables itself and, as the OpenTelemetry specification asks of SDKs, ignores a value it
/// cannot use with a warning (and stops the process on a few it cannot serve: gRPC without its trait, the B3 or
/// Jaeger propagators, the Jaeger sampler). `configuration(environment:)` checks every variable swift-otel reads
/// for traces first, so that a bad value is a sentence naming it (exit status 2) instead.
public enum TraceExport {
    /// A variable whose value cannot be used; `description` names it and says what it accepts (never the value of
    /// a variable that may hold a secret: the headers).
    public struct InvalidSetting: Error, CustomStringConvertible, Equatable {
        public let variable: String
        public let description: String
    }

    /// The service name when neither `OTEL_SERVICE_NAME` nor `service.name` in `OTEL_RESOURCE_ATTRIBUTES` names one.
    public static let defaultServiceName = "drift-worker"

    /// The traces configuration the environment asks for, checked; nil when traces are off. swift-otel applies the
    /// same variables over this configuration when it builds the exporter.
    public static func configuration(environment: [String: String]) throws -> OTel.Configuration? {
        // the specification treats an empty value as unset
        func value(_ name: String) -> String? {
            let v = environment[name]?.trimmingCharacters(in: .whitespaces) ?? ""
            return v.isEmpty ? nil : v
        }
        func invalid(_ name: String, _ problem: String) -> InvalidSetting {
            InvalidSetting(variable: name, description: "\(name) \(problem)")
        }
        /// The traces-specific variable if set, else the shared one (the specification's precedence).
        func signal(_ suffix: String) -> (name: String, value: String)? {
            for name in ["OTEL_EXPORTER_OTLP_TRACES_\(suffix)", "OTEL_EXPORTER_OTLP_\(suffix)"] {
                if let v = value(name) { return (name, v) }
            }
            return nil
        }
        if let disabled = value("OTEL_SDK_DISABLED") {
            switch disabled.lowercased() {
            case "true": return nil
            case "false": break
            default: throw invalid("OTEL_SDK_DISABLED", "must be true or false, not '\(disabled)'.")
            }
        }
        let endpoints = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"].compactMap { n in value(n).map { (n, $0) } }
        switch value("OTEL_TRACES_EXPORTER") {
        case nil: if endpoints.isEmpty { return nil }
        case let e? where e.lowercased() == "none": return nil
        case let e? where e.lowercased() == "otlp": break
        case let e?:
            throw invalid("OTEL_TRACES_EXPORTER", "is '\(e)'; drift-worker exports traces with otlp only (or none to turn them off).")
        }
        for (name, endpoint) in endpoints {
            guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = url.host, !host.isEmpty
            else {
                throw invalid(name, "must be an http:// or https:// URL such as http://otel-collector:4318, not '\(endpoint)'.")
            }
        }
        if let (name, p) = signal("PROTOCOL") {
            switch p {
            case "http/protobuf", "http/json": break
            case "grpc": throw invalid(name, "is grpc, which this build does not include: use http/protobuf (the collector's port 4318).")
            default: throw invalid(name, "must be http/protobuf or http/json, not '\(p)'.")
            }
        }
        if let (name, h) = signal("HEADERS"), !isKeyValueList(h) {
            // the value is not repeated: it usually holds a credential
            throw invalid(name, "must be comma-separated key=value pairs (such as api-key=KEY,x-tenant=T), each with a key and a value.")
        }
        if let (name, c) = signal("COMPRESSION"), !["gzip", "none"].contains(c) {
            throw invalid(name, "must be gzip or none, not '\(c)'.")
        }
        if let (name, t) = signal("TIMEOUT"), !isMilliseconds(t) {
            throw invalid(name, "must be a whole number of milliseconds, not '\(t)'.")
        }
        for suffix in ["CERTIFICATE", "CLIENT_KEY", "CLIENT_CERTIFICATE"] {
            if let (name, path) = signal(suffix), !FileManager.default.isReadableFile(atPath: path) {
                throw invalid(name, "names \(path), which cannot be read.")
            }
        }
        for name in ["OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] {
            if let v = value(name), !isMilliseconds(v) { throw invalid(name, "must be a whole number (0 or more), not '\(v)'.") }
        }
        let sampler = value("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on"
        let samplers = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"]
        guard samplers.contains(sampler) else {
            throw invalid("OTEL_TRACES_SAMPLER", "must be one of \(samplers.joined(separator: ", ")), not '\(sampler)'.")
        }
        if sampler.hasSuffix("traceidratio"), let arg = value("OTEL_TRACES_SAMPLER_ARG") {
            guard let ratio = Double(arg), ratio >= 0, ratio <= 1 else {
                throw invalid("OTEL_TRACES_SAMPLER_ARG", "must be a sampling probability from 0 to 1 (such as 0.25), not '\(arg)'.")
            }
        }
        if let p = value("OTEL_PROPAGATORS") {
            for item in p.split(separator: ",") where !["tracecontext", "none"].contains(item.trimmingCharacters(in: .whitespaces)) {
                throw invalid("OTEL_PROPAGATORS", "may name tracecontext (W3C Trace Context) or none only, not '\(item)'.")
            }
        }
        if let level = value("OTEL_LOG_LEVEL"), !["error", "warning", "info", "debug", "trace"].contains(level) {
            throw invalid("OTEL_LOG_LEVEL", "must be error, warning, info, debug or trace, not '\(level)'.")
        }
        var resourceNamesService = false
        if let attributes = value("OTEL_RESOURCE_ATTRIBUTES") {
            guard isKeyValueList(attributes) else {
                throw invalid("OTEL_RESOURCE_ATTRIBUTES", "must be comma-separated key=value pairs (such as deployment.environment=prod,team=ml).")
            }
            resourceNamesService = attributes.split(separator: ",").contains {
                $0.split(separator: "=", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces) == "service.name"
            }
        }
        var configuration = OTel.Configuration.default
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        if value("OTEL_SERVICE_NAME") == nil && !resourceNamesService { configuration.serviceName = defaultServiceName }
        return configuration
    }

    /// Bootstraps the process's tracer from the environment and returns the service that exports the spans (run
    /// it in the ServiceGroup; its graceful shutdown flushes what is buffered); nil when traces are off. Throws
    /// `InvalidSetting` on a bad variable. Call once per process.
    public static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) throws -> (any Service)? {
        guard var configuration = try configuration(environment: environment) else { return nil }
        configuration.diagnosticLogger = .custom(logger)
        // makeTracingBackend applies the process's OTEL_* variables over the configuration, as checked above
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        return backend.service
    }

    /// `k=v,k=v` as swift-otel parses it: every item has a non-empty key and a non-empty value.
    static func isKeyValueList(_ text: String) -> Bool {
        text.split(separator: ",").allSatisfy { item in
            let pair = item.split(separator: "=", maxSplits: 1)
            return pair.count == 2 && !pair[0].trimmingCharacters(in: .whitespaces).isEmpty && !pair[1].trimmingCharacters(in: .whitespaces).isEmpty
        }
    }

    static func isMilliseconds(_ text: String) -> Bool { Int(text).map { $0 >= 0 } ?? false }
}
