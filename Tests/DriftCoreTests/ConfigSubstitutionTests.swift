import DriftCore
import DriftStats
import DriftTestSupport
import DriftTriggers
import Foundation
import Testing

/// `${VAR}` substitution happens on parsed values, so a value is only data; names are validated at load.
@Suite("monitors.yaml: ${VAR} substitution and names")
struct ConfigSubstitutionTests {
    /// One monitor whose webhook `url` (line 14, column 14) and `alpha` (line 7, column 14) come from the environment.
    /// (Block style: in flow style, `{…}` and `[…]`, a value with `${…}` must be quoted, as YAML reads `{` there.)
    static func load(
        url: String = "${HOOK}", alpha: String = "0.01", name: String = "m", model: String = "fraud", policy: String = "consecutive: 2",
        environment: [String: String]
    ) throws -> MonitorConfig {
        let yaml = """
            monitors:
              - name: \(name)
                model: \(model)
                features: [{name: amount, kind: numeric}]
                reference: {file: ref.csv}
                statistics:
                  alpha: \(alpha)
                policy:
                  \(policy)
                  actions: [hook]
                actions:
                  hook:
                    preset: webhook
                    url: \(url)
            """
        return try MonitorsFile.parse(yaml, file: "monitors.yaml", environment: environment)[0]
    }

    static func url(_ m: MonitorConfig) -> String? {
        if case .trigger(let t)? = m.actions["hook"], case .webhook(let url, _, _, _, _) = t.target { return url }
        return nil
    }

    static func problems(_ body: () throws -> Any) -> [String] {
        do {
            _ = try body()
            return []
        } catch let e as ConfigError { return e.issues.map(\.description) } catch { return ["\(error)"] }
    }

    @Test(arguments: [
        "https://h/x?sig=a #b",  // ` #` is not a comment inside a value
        "https://h/x#frag",
        "https://h/x?q=\"quoted\"",  // a double quote does not end anything
        "https://h/x?q='single'",
        "https://h/x?a=1: b",  // `: ` is not a mapping inside a value
        "https://h/x\n  injected: true",  // a newline does not start a key
        "https://h/{x}[y],z",  // flow indicators are data
        "https://h/${NOT_EXPANDED_AGAIN}"  // a value is substituted once, not re-read
    ])
    func hostileValuesAreData(value: String) throws {
        let m = try Self.load(environment: ["HOOK": value])
        #expect(Self.url(m) == value)
        // the same inside a quoted value
        let q = try Self.load(url: "\"${HOOK}\"", environment: ["HOOK": value])
        #expect(Self.url(q) == value)
    }

    @Test func severalVariablesDefaultsAndLiteralDollars() throws {
        #expect(Self.url(try Self.load(url: "${A}${B}/p", environment: ["A": "https://", "B": "h"])) == "https://h/p")
        #expect(Self.url(try Self.load(url: "${A:-https://d}/x", environment: [:])) == "https://d/x")
        #expect(Self.url(try Self.load(url: "${A:-https://d}/x", environment: ["A": ""])) == "https://d/x", "an empty variable takes the default")
        #expect(Self.url(try Self.load(url: "${A:-https://d:-e}/x", environment: [:])) == "https://d:-e/x", "the default runs to the first }")
        #expect(Self.url(try Self.load(url: "${A}", environment: ["A": "https://h/$${B}"])) == "https://h/$${B}", "values are not re-read")
        #expect(
            Self.url(try Self.load(url: "https://h/$${B}/${1}/$x", environment: ["B": "no"])) == "https://h/${B}/${1}/$x",
            "$${ is a literal ${; ${1} and a lone $ are kept as written")
    }

    @Test func typedValuesAreResolvedAfterSubstitution() throws {
        let m = try Self.load(alpha: "${ALPHA}", policy: "consecutive: ${N}", environment: ["HOOK": "https://h", "ALPHA": "0.001", "N": "5"])
        #expect(m.settings.alpha == 0.001)
        #expect(m.policy.consecutive == 5)
        let d = try Self.load(alpha: "${ALPHA:-0.02}", policy: "consecutive: ${N:-3}", environment: ["HOOK": "https://h"])
        #expect(d.settings.alpha == 0.02 && d.policy.consecutive == 3)
        // a value that is not a number is named as such, at the value
        let p = Self.problems { try Self.load(alpha: "${ALPHA}", environment: ["HOOK": "https://h", "ALPHA": "0.01 # tiny"]) }
        #expect(p == ["monitors.yaml:7:14: `alpha` must be a number from 1e-12 to 0.5"], "\(p)")
    }

    @Test func anUnsetVariableIsNamedWithItsLineOnce() {
        let p = Self.problems { try Self.load(url: "${RETRAIN_HOOK_URL}", environment: [:]) }
        #expect(
            p == ["monitors.yaml:14:14: environment variable RETRAIN_HOOK_URL is not set (set it, or write ${RETRAIN_HOOK_URL:-default})"],
            "only the variable is reported, not the empty url it leaves: \(p)")
        let two = Self.problems { try Self.load(url: "\"${A}/${B}\"", alpha: "${C}", environment: ["B": "x"]) }
        #expect(two.contains { $0.hasPrefix("monitors.yaml:14:") && $0.contains("environment variable A is not set") }, "\(two)")
        #expect(two.contains { $0.hasPrefix("monitors.yaml:7:") && $0.contains("environment variable C is not set") }, "\(two)")
        #expect(!two.contains { $0.contains(" B ") })
    }

    @Test func keysAreNotSubstituted() {
        let yaml = """
            monitors:
              - name: m
                model: fraud
                features: [{name: amount, kind: numeric}]
                reference: {file: ref.csv}
                ${KEY}: 1
            """
        let p = Self.problems { try MonitorsFile.parse(yaml, file: "f.yaml", environment: ["KEY": "sample_size"]) }
        #expect(p.count == 1 && p[0].hasPrefix("f.yaml:6:5: unknown key `${KEY}`"), "\(p)")
    }

    @Test func substitutionIsBounded() throws {
        let big = String(repeating: "a", count: MonitorsFile.maxSubstitutedValueBytes)
        let p = Self.problems { try Self.load(url: "https://h/${BIG}", environment: ["BIG": big]) }
        #expect(
            p.count == 1 && p[0].hasPrefix("monitors.yaml:14:14: the value is 65546 bytes after substituting environment variables; at most 65536"),
            "\(p)")
        // many references to one large variable: the total is bounded too
        let items = (0..<200).map { _ in "      - \"${BIG}\"" }.joined(separator: "\n")
        let yaml = "monitors:\n  - name: m\n    versions:\n\(items)\n"
        let many = Self.problems { try MonitorsFile.parse(yaml, file: "f.yaml", environment: ["BIG": String(repeating: "b", count: 60_000)]) }
        #expect(many.count == 1 && many[0].contains("add up to more than 8388608 bytes"), "\(many)")
        // aliases that expand exponentially are stopped by the value budget
        var laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<8 { laughs += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let bomb = Self.problems { try MonitorsFile.parse(laughs + "monitors: *a7\n", file: "f.yaml") }
        #expect(bomb.count == 1 && bomb[0].contains("more than 200000 values"), "\(bomb)")
        // the file itself
        let s = try Scratch()
        let path = s.write("huge.yaml", "# " + String(repeating: "x", count: MonitorsFile.maxFileBytes) + "\n")
        #expect(
            Self.problems { try MonitorsFile.load(path: path) } == [
                "\(path):1:1: the file is larger than 1048576 bytes (1 MiB), the most a monitors file may be"
            ])
    }

    @Test(arguments: ["../escape", "a/b", "", ".hidden", "a..b", "fraud scorer", "naïve", "x\ny", String(repeating: "a", count: 129)])
    func monitorNamesOutsideTheCharacterSetAreRefused(name: String) {
        let p = Self.problems { try Self.load(name: "\"\(name.replacingOccurrences(of: "\n", with: "\\n"))\"", environment: ["HOOK": "https://h"]) }
        #expect(p.count == 1 && p[0].hasPrefix("monitors.yaml:2:"), "\(p)")
        #expect(
            p.first?.contains(name.isEmpty ? "`name` must be a non-empty string" : "must be 1–128 ASCII letters, digits, '.', '_' or '-'") == true,
            "\(p)")
    }

    @Test func monitorAndModelNamesThatAreAllowed() throws {
        for name in ["fraud-scorer", "a", "v1.2_b", String(repeating: "a", count: 128)] {
            #expect(try Self.load(name: name, environment: ["HOOK": "https://h"]).name == name)
        }
        // model names come from serving systems: broader, escaped where they become URL parts
        for model in ["meta-llama/Llama-3-8B", "fraud model", "..", "モデル", "a@b:c?d#e"] {
            #expect(try Self.load(model: "\"\(model)\"", environment: ["HOOK": "https://h"]).model == model)
        }
        for model in ["\"a\\tb\"", "\"a\\u0000\"", "\" padded\"", "\"\(String(repeating: "m", count: 257))\""] {
            let p = Self.problems { try Self.load(model: model, environment: ["HOOK": "https://h"]) }
            #expect(p.count == 1 && p[0].hasPrefix("monitors.yaml:3:") && p[0].contains("model name"), "\(model): \(p)")
        }
    }
}
