import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// Template variables in URLs are data: percent-encoded for where they stand, never URL structure.
@Suite("URL templates escape their variables")
struct URLTemplateTests {
    static func context(monitor: String = "fraud-scorer", model: String = "fraud", challenger: String = "v4") -> TriggerContext {
        TriggerContext(
            actionID: "fraud-scorer:2026-11-25T17:00:00Z:retrain", action: "retrain", monitor: monitor, model: model,
            windowStart: "2026-11-25T17:00:00Z", windowEnd: "2026-11-25T18:00:00Z", driftedFeatures: ["amount", "score"],
            extra: ["challenger": challenger])
    }

    @Test func pathSegmentsAndQueryValuesAreEncoded() throws {
        let url = "https://hooks.example.com/models/{{model}}/retrain?monitor={{monitor}}&features={{drifted_features}}#{{challenger}}"
        #expect(
            try JSONTemplate.substituteURL(url, Self.context())
                == "https://hooks.example.com/models/fraud/retrain?monitor=fraud-scorer&features=amount%2Cscore#v4")
        let hostile = Self.context(monitor: "/etc/passwd", model: "../../admin?x=1#y", challenger: "a&b=c d+e")
        #expect(try JSONTemplate.substituteURL("http://h/hooks/{{monitor}}", hostile) == "http://h/hooks/%2Fetc%2Fpasswd")
        #expect(
            try JSONTemplate.substituteURL("http://h/{{model}}/x?c={{challenger}}", hostile)
                == "http://h/..%2F..%2Fadmin%3Fx%3D1%23y/x?c=a%26b%3Dc%20d%2Be")
        #expect(try JSONTemplate.substituteURL("http://h/{{model}}", Self.context(model: "..")) == "http://h/%2E%2E", "a dot segment stays a name")
        #expect(
            try JSONTemplate.substituteURL("http://h/{{model}}", Self.context(model: "meta-llama/Llama-3 8B é"))
                == "http://h/meta-llama%2FLlama-3%208B%20%C3%A9")
        #expect(
            try JSONTemplate.substituteURL("http://h/{{model}}", Self.context(model: "a\r\nX-Injected: 1")) == "http://h/a%0D%0AX-Injected%3A%201")
        // the template's own text is kept as written (an operator's %20 or ${VAR} result included)
        #expect(
            try JSONTemplate.substituteURL("https://user:p%40ss@h:8443/a%20b/{{model}}?k=v", Self.context())
                == "https://user:p%40ss@h:8443/a%20b/fraud?k=v")
    }

    @Test func theHostTakesOnlyLabelCharacters() throws {
        #expect(try JSONTemplate.substituteURL("http://{{model}}-predictor.ml.svc/v2", Self.context()) == "http://fraud-predictor.ml.svc/v2")
        #expect(throws: JSONTemplate.URLPartError(name: "model", part: "host")) {
            try JSONTemplate.substituteURL("http://{{model}}.ml.svc/v2", Self.context(model: "evil.com#"))
        }
        #expect(throws: JSONTemplate.UnknownVariable(name: "nope")) { try JSONTemplate.substituteURL("http://h/{{nope}}", Self.context()) }
    }

    @Test func aWebhookSendsToTheEscapedPath() async throws {
        let server = RecordingHTTPServer()
        try await server.start { _ in .init(status: 200, body: "{}") }
        let action = TriggerAction(
            name: "retrain", target: .webhook(url: "http://127.0.0.1:\(server.port)/hooks/{{monitor}}?model={{model}}"), credential: .none)
        let context = Self.context(monitor: "/etc/passwd", model: "a b&c")
        let attempt = try await onBlockingPool { TriggerSender().attempt(action, context, attempt: 1) }
        await server.stop()
        let r = try #require(server.requests.first)
        #expect(r.path == "/hooks/%2Fetc%2Fpasswd?model=a%20b%26c", "\(r.path)")
        #expect(attempt.status == 200)
    }

    @Test func targetExpressionsAreKeptAndNeverHideAPlaceholder() throws {
        let c = TriggerContext(actionID: "m:t:a", action: "a", monitor: "m", model: "fraud", windowStart: "s", windowEnd: "e")
        #expect(try JSONTemplate.substitute("--since ${{inputs.since}} --model {{model}}", c) == "--since ${{inputs.since}} --model fraud")
        #expect(JSONTemplate.placeholders(in: "--since ${{inputs.since}} --model {{model}}") == ["model"])
        // an unclosed `${{` is text; the placeholder after it is still one (and still checked)
        #expect(try JSONTemplate.substitute("cost ${{ {{model}}", c) == "cost ${{ fraud")
        #expect(JSONTemplate.placeholders(in: "cost ${{ {{nope}}") == ["nope"])
        #expect(try JSONTemplate.substitute("$${{x}} and ${{", c) == "$${{x}} and ${{")
    }
}
