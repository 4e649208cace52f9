import DriftServer
import OTel
import Testing

@Suite("Trace export settings (no I/O)")
struct TraceExportTests {
    @Test func tracesAreOffUnlessTheEnvironmentAsksForThem() throws {
        #expect(try TraceExport.configuration(environment: [:]) == nil, "off by default")
        #expect(try TraceExport.configuration(environment: ["OTEL_SERVICE_NAME": "x"]) == nil, "a service name alone exports nothing")
        #expect(try TraceExport.configuration(environment: ["OTEL_TRACES_EXPORTER": "otlp"]) != nil)
        #expect(try TraceExport.configuration(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]) != nil)
        #expect(try TraceExport.configuration(environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://c:4318/v1/traces"]) != nil)
        #expect(try TraceExport.configuration(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": ""]) == nil, "empty is unset")
        let endpoint = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]
        #expect(try TraceExport.configuration(environment: endpoint.merging(["OTEL_TRACES_EXPORTER": "none"]) { $1 }) == nil)
        #expect(try TraceExport.configuration(environment: endpoint.merging(["OTEL_SDK_DISABLED": "TRUE"]) { $1 }) == nil)
        #expect(try TraceExport.configuration(environment: endpoint.merging(["OTEL_SDK_DISABLED": "false"]) { $1 }) != nil)
    }

    @Test func theServiceNameDefaultsToDriftWorkerUnlessNamed() throws {
        let endpoint = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]
        #expect(try TraceExport.configuration(environment: endpoint)?.serviceName == "drift-worker")
        // swift-otel applies OTEL_SERVICE_NAME over the configuration; service.name in the resource attributes is
        // kept only while the configuration carries swift-otel's own default
        let named = try TraceExport.configuration(environment: endpoint.merging(["OTEL_RESOURCE_ATTRIBUTES": "service.name=cron,team=ml"]) { $1 })
        #expect(named?.serviceName != "drift-worker")
        #expect(named?.logs.enabled == false && named?.metrics.enabled == false, "traces only: our logs and metrics stay ours")
    }

    @Test(arguments: [
        ("OTEL_SDK_DISABLED", "yes"), ("OTEL_TRACES_EXPORTER", "console"), ("OTEL_TRACES_EXPORTER", "otlp,console"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c/"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/xml"), ("OTEL_EXPORTER_OTLP_HEADERS", "Authorization"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=1,=2"), ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"), ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
        ("OTEL_BSP_SCHEDULE_DELAY", "-1"), ("OTEL_TRACES_SAMPLER", "xray"), ("OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote"),
        ("OTEL_PROPAGATORS", "tracecontext,baggage"), ("OTEL_LOG_LEVEL", "verbose"), ("OTEL_RESOURCE_ATTRIBUTES", "team")
    ])
    func aBadValueNamesItsVariable(variable: String, value: String) {
        var env = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]
        env[variable] = value
        #expect(throws: TraceExport.InvalidSetting.self) { try TraceExport.configuration(environment: env) }
        do {
            _ = try TraceExport.configuration(environment: env)
        } catch let e as TraceExport.InvalidSetting {
            #expect(e.variable == variable && e.description.hasPrefix(variable), "\(e)")
            if variable.hasSuffix("HEADERS") { #expect(!e.description.contains(value), "a header value is never repeated: \(e)") }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func theSamplerArgumentIsAProbabilityForRatioSamplers() throws {
        let env = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio"]
        #expect(try TraceExport.configuration(environment: env.merging(["OTEL_TRACES_SAMPLER_ARG": "0.25"]) { $1 }) != nil)
        #expect(throws: TraceExport.InvalidSetting.self) {
            try TraceExport.configuration(environment: env.merging(["OTEL_TRACES_SAMPLER_ARG": "1.5"]) { $1 })
        }
        #expect(
            try TraceExport.configuration(environment: ["OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"]) != nil)
    }
}
