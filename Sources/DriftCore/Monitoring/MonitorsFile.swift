import DriftStats
import DriftStore
import Foundation
import Yams

/// Loads `monitors.yaml`. The YAML is parsed first; then `${VAR}` inside a value (a mapping value or a list item,
/// never a key) is replaced by the environment variable (for secrets), `${VAR:-default}` by the default when VAR is
/// unset or empty, and `$${` stands for a literal `${`. A substituted value is only data: quotes, `#`, `:` and
/// newlines in it change nothing around it, and a plain value is typed after substitution (`alpha: ${ALPHA}` is a
/// number when ALPHA=0.01). Every problem is reported with its line and column, not only the first.
///
/// Limits (hostile input): the file is at most `maxFileBytes`; a value after substitution at most
/// `maxSubstitutedValueBytes`; all substituted values together at most `maxSubstitutedTotalBytes`; the document at
/// most `maxNodes` values (aliases count each time they are used).
public enum MonitorsFile {
    /// 1 MiB.
    public static let maxFileBytes = 1 << 20
    /// 64 KiB: one value after `${VAR}` substitution.
    public static let maxSubstitutedValueBytes = 64 << 10
    /// 8 MiB: every substituted value together.
    public static let maxSubstitutedTotalBytes = 8 << 20
    /// Values (scalars, lists, mappings) in the document, aliases expanded.
    public static let maxNodes = 200_000

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [MonitorConfig] {
        try loadDocument(path: path, environment: environment).monitors
    }

    /// Like `load`, keeping where each monitor, feature, reference and action stands (for `ConfigValidator`).
    public static func loadDocument(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MonitorsDocument {
        let text = try read(path)
        return try parseDocument(text, file: path, environment: environment)
    }

    public static func parse(_ text: String, file: String, environment: [String: String] = [:]) throws -> [MonitorConfig] {
        try parseDocument(text, file: file, environment: environment).monitors
    }

    /// The file's text, refused when unreadable, larger than `maxFileBytes` or not UTF-8.
    static func read(_ path: String) throws -> String {
        func fail(_ m: String) -> ConfigError { ConfigError(issues: [ConfigIssue(file: path, line: 1, column: 1, message: m)]) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("cannot read the file (no such file)") }
        guard !isDirectory.boolValue else { throw fail("cannot read the file (it is a directory)") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw fail("cannot read the file (permission denied)") }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maxFileBytes + 1) ?? Data() } catch {
            throw fail("cannot read the file (\(error.localizedDescription))")
        }
        guard data.count <= maxFileBytes else { throw fail("the file is larger than \(maxFileBytes) bytes (1 MiB), the most a monitors file may be") }
        guard let text = String(data: data, encoding: .utf8) else { throw fail("the file is not UTF-8 text") }
        return text
    }

    public static func parseDocument(_ text: String, file: String, environment: [String: String] = [:]) throws -> MonitorsDocument {
        var reader = Reader(file: file)
        guard text.utf8.count <= maxFileBytes else {
            reader.issue(at: nil, "the file is larger than \(maxFileBytes) bytes (1 MiB), the most a monitors file may be")
            throw ConfigError(issues: reader.issues)
        }
        let parsed: Node?
        do {
            parsed = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            reader.issue(at: Self.mark(of: e), Self.problem(of: e))
            throw ConfigError(issues: reader.issues)
        }
        var budget = Reader.SubstitutionBudget()
        let root = parsed.map { reader.substitute($0, environment: environment, budget: &budget) }
        if budget.exhausted { throw ConfigError(issues: reader.issues) }
        guard let root, let monitors = reader.sequence(root["monitors"], at: root, "monitors") else {
            if reader.issues.isEmpty { reader.issue(at: root?.mark, "expected a top-level `monitors:` list") }
            throw ConfigError(issues: reader.issues)
        }
        var out: [MonitorConfig] = []
        var names = Set<String>()
        for node in monitors {
            if let m = reader.monitor(node) {
                if !names.insert(m.name).inserted { reader.issue(at: node["name"]?.mark, "monitor name '\(m.name)' is used twice") }
                out.append(m)
            }
        }
        if !reader.issues.isEmpty { throw ConfigError(issues: reader.issues) }
        return MonitorsDocument(file: file, monitors: out, places: reader.places, templateUses: reader.templateUses)
    }

    /// Monitor names become file names (`--report-dir`), metric labels and URL parts: 1–128 ASCII letters, digits,
    /// `.`, `_` or `-`, starting with a letter or digit, without `..`.
    public static func isValidMonitorName(_ name: String) -> Bool {
        let u = Array(name.unicodeScalars)
        guard (1...128).contains(u.count), !name.contains("..") else { return false }
        func alnum(_ c: Unicode.Scalar) -> Bool { c.isASCII && (CharacterSet.alphanumerics.contains(c)) }
        return alnum(u[0]) && u.allSatisfy { alnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// Model names come from serving systems (KServe, Triton, Seldon, SageMaker, Azure ML; `org/name` for Hugging
    /// Face models), so any text is allowed except: empty, more than 256 characters, control or line-separator
    /// characters, or leading/trailing whitespace. Wherever a model name becomes part of a URL it is percent-encoded.
    public static func isValidModelName(_ name: String) -> Bool {
        let u = Array(name.unicodeScalars)
        guard (1...256).contains(u.count) else { return false }
        if u.contains(where: {
            $0.properties.generalCategory == .control || $0.properties.generalCategory == .lineSeparator
                || $0.properties.generalCategory == .paragraphSeparator || $0.properties.generalCategory == .format
        }) {
            return false
        }
        return !u[0].properties.isWhitespace && !u[u.count - 1].properties.isWhitespace
    }

    /// A hostile name shown in a message: control characters escaped, at most 80 characters.
    static func shown(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars.prefix(80) {
            if u.properties.generalCategory == .control || u.properties.generalCategory == .format {
                out += "\\u{\(String(u.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return s.unicodeScalars.count > 80 ? out + "…" : out
    }

    /// A hash of everything in a monitor's configuration that shapes its results (stored with each run as
    /// `drift_runs.config_hash`): 64-bit FNV-1a, in hex, of the canonical JSON `CanonicalMonitorConfig` writes —
    /// explicit keys, so renaming a Swift property never changes it, and the order of keys in the YAML never matters.
    public static func configHash(_ m: MonitorConfig) -> String {
        StableHash.hex(CanonicalMonitorConfig(monitor: m).json())
    }

    static func mark(of e: YamlError) -> Mark? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark
        default: return nil
        }
    }

    static func problem(of e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): return "invalid YAML: \(problem)"
        default: return "invalid YAML: \(e)"
        }
    }
}

/// A loaded monitors file with where its parts stand, for checks made after loading (`ConfigValidator`).
public struct MonitorsDocument: Sendable {
    public var file: String
    public var monitors: [MonitorConfig]
    /// Positions by key: `MONITOR` (its mapping), `MONITOR/reference`, `MONITOR/feature/NAME`, `MONITOR/action/NAME`,
    /// `MONITOR/performance`.
    var places: [String: Mark]
    /// Template variables each trigger action uses, by `MONITOR/ACTION`.
    var templateUses: [String: [TemplateUse]]

    /// One `{{variable}}` in an action's setting `key`, at `mark`.
    struct TemplateUse: Sendable {
        var variable: String
        var key: String
        var mark: Mark?
    }

    /// An issue at the position recorded under `key` (the file's start when unknown).
    func issue(_ key: String, _ message: String) -> ConfigIssue {
        let m = places[key]
        return ConfigIssue(file: file, line: m?.line ?? 1, column: m?.column ?? 1, message: message)
    }
}

/// Walks the YAML tree, collecting issues instead of stopping at the first.
struct Reader {
    let file: String
    var issues: [ConfigIssue] = []
    /// Values whose substitution failed (a variable unset, the value too large): that issue is the one reported
    /// there, not "must be non-empty" as well.
    var substitutionFailedAt: Set<[Int]> = []
    /// The monitor being read (its name), for `places` keys.
    var scope = ""
    var places: [String: Mark] = [:]
    var templateUses: [String: [MonitorsDocument.TemplateUse]] = [:]
    /// The action names written under the current monitor's `actions:`, loaded or not.
    var attemptedActions: Set<String> = []

    init(file: String) { self.file = file }

    mutating func issue(at mark: Mark?, _ message: String) {
        if let mark, substitutionFailedAt.contains([mark.line, mark.column]) { return }
        issues.append(ConfigIssue(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    mutating func place(_ key: String, _ mark: Mark?) {
        if let mark, !scope.isEmpty { places[scope + key] = mark }
    }

    /// What substitution may still spend (`MonitorsFile` limits).
    struct SubstitutionBudget {
        var nodes = 0
        var bytes = 0
        var exhausted = false
    }

    /// The tree with `${VAR}` replaced inside every scalar value (mapping values and list items, not keys). A plain
    /// scalar stays plain, so its type is resolved from the substituted text; a quoted one stays a string.
    mutating func substitute(_ node: Node, environment: [String: String], budget: inout SubstitutionBudget) -> Node {
        guard !budget.exhausted else { return node }
        budget.nodes += 1
        if budget.nodes > MonitorsFile.maxNodes {
            budget.exhausted = true
            issue(at: node.mark, "the document has more than \(MonitorsFile.maxNodes) values (aliases count each time they are used)")
            return node
        }
        switch node {
        case .scalar(let s):
            guard s.string.contains("${") else { return node }
            let (text, unset) = Self.expand(s.string, environment: environment)
            if !unset.isEmpty {
                for name in unset { issue(at: s.mark, "environment variable \(name) is not set (set it, or write ${\(name):-default})") }
                if let m = s.mark { substitutionFailedAt.insert([m.line, m.column]) }
            }
            let size = text.utf8.count
            if size > MonitorsFile.maxSubstitutedValueBytes {
                issue(
                    at: s.mark,
                    "the value is \(size) bytes after substituting environment variables; at most \(MonitorsFile.maxSubstitutedValueBytes) (64 KiB)")
                if let m = s.mark { substitutionFailedAt.insert([m.line, m.column]) }
                return .scalar(Node.Scalar("", s.tag, s.style, s.mark))
            }
            budget.bytes += size
            if budget.bytes > MonitorsFile.maxSubstitutedTotalBytes {
                budget.exhausted = true
                issue(at: s.mark, "substituted environment variables add up to more than \(MonitorsFile.maxSubstitutedTotalBytes) bytes (8 MiB)")
                return node
            }
            return .scalar(Node.Scalar(text, s.tag, s.style, s.mark))
        case .mapping(let m):
            let pairs = m.map { ($0.key, substitute($0.value, environment: environment, budget: &budget)) }
            return .mapping(Node.Mapping(pairs, m.tag, m.style, m.mark))
        case .sequence(let seq):
            return .sequence(Node.Sequence(seq.map { substitute($0, environment: environment, budget: &budget) }, seq.tag, seq.style, seq.mark))
        case .alias:
            return node
        }
    }

    /// `${NAME}` → the variable, `${NAME:-default}` → the default when NAME is unset or empty, `$${` → `${`.
    /// NAME is letters, digits and `_`, not starting with a digit; anything else (`${1}`, `${a b}`, no `}`) is kept
    /// as written. Returns the text and the names that were unset without a default.
    static func expand(_ text: String, environment: [String: String]) -> (String, unset: [String]) {
        var out = ""
        var unset: [String] = []
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[dollar...]
            if after.hasPrefix("$${") {
                out += "${"
                rest = after.dropFirst(3)
                continue
            }
            guard after.hasPrefix("${"), let close = after.firstIndex(of: "}") else {
                out += "$"
                rest = after.dropFirst()
                continue
            }
            let spec = after[after.index(after.startIndex, offsetBy: 2)..<close]
            let name: Substring
            let fallback: Substring?
            if let sep = spec.range(of: ":-") {
                name = spec[..<sep.lowerBound]
                fallback = spec[sep.upperBound...]
            } else {
                name = spec
                fallback = nil
            }
            guard isVariableName(name) else {
                out += "$"
                rest = after.dropFirst()
                continue
            }
            if let value = environment[String(name)], !(value.isEmpty && fallback != nil) {
                out += value
            } else if let fallback {
                out += fallback
            } else {
                unset.append(String(name))
            }
            rest = after[after.index(after: close)...]
        }
        return (out + rest, unset)
    }

    static func isVariableName(_ s: Substring) -> Bool {
        guard let first = s.unicodeScalars.first, !(first.value >= 0x30 && first.value <= 0x39) else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }

    mutating func sequence(_ node: Node?, at parent: Node, _ key: String) -> [Node]? {
        guard let node else {
            issue(at: parent.mark, "missing `\(key)`")
            return nil
        }
        guard case .sequence(let seq) = node else {
            issue(at: node.mark, "`\(key)` must be a list")
            return nil
        }
        return Array(seq)
    }

    mutating func string(_ parent: Node, _ key: String, required: Bool = true) -> String? {
        guard let node = parent[key] else {
            if required { issue(at: parent.mark, "missing `\(key)`") }
            return nil
        }
        guard let s = node.string, !s.isEmpty else {
            issue(at: node.mark, "`\(key)` must be a non-empty string")
            return nil
        }
        return s
    }

    mutating func int(_ parent: Node, _ key: String, default value: Int, range: ClosedRange<Int>) -> Int {
        guard let node = parent[key] else { return value }
        guard let i = node.int, range.contains(i) else {
            issue(at: node.mark, "`\(key)` must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            return value
        }
        return i
    }

    mutating func double(_ parent: Node, _ key: String, default value: Double, range: ClosedRange<Double>) -> Double {
        guard let node = parent[key] else { return value }
        guard let d = node.float, range.contains(d) else {
            issue(at: node.mark, "`\(key)` must be a number from \(range.lowerBound) to \(range.upperBound)")
            return value
        }
        return d
    }

    mutating func duration(_ parent: Node, _ key: String, default value: String?) -> ISODuration? {
        guard let node = parent[key] else { return value.flatMap { try? ISODuration(parsing: $0) } }
        guard let s = node.string else {
            issue(at: node.mark, "`\(key)` must be an ISO 8601 duration")
            return nil
        }
        do { return try ISODuration(parsing: s) } catch let e as ISODuration.ParseError {
            issue(at: node.mark, "`\(key)`: \(e.description)")
        } catch { issue(at: node.mark, "`\(key)`: \(error)") }
        return nil
    }

    mutating func strings(_ parent: Node, _ key: String, default value: [String]) -> [String] {
        guard let node = parent[key] else { return value }
        guard case .sequence(let seq) = node else {
            issue(at: node.mark, "`\(key)` must be a list of strings")
            return value
        }
        return seq.compactMap { n in
            guard let s = n.string else {
                issue(at: n.mark, "`\(key)` entries must be strings")
                return nil
            }
            return s
        }
    }

    mutating func unknownKeys(_ node: Node, allowed: Set<String>, in what: String) {
        guard case .mapping(let m) = node else { return }
        for (k, _) in m where !allowed.contains(k.string ?? "") {
            issue(at: k.mark, "unknown key `\(k.string ?? "?")` in \(what) (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    mutating func monitor(_ node: Node) -> MonitorConfig? {
        guard case .mapping = node else {
            issue(at: node.mark, "each monitor must be a mapping")
            return nil
        }
        unknownKeys(
            node,
            allowed: [
                "name", "model", "namespace", "versions", "roles", "window", "alignment", "lateness",
                "sample_size", "min_sample", "features", "reference", "statistics", "overrides", "dataset", "policy", "capture",
                "actions", "performance"
            ],
            in: "a monitor")
        let before = issues.count
        var name = string(node, "name")
        if let n = name, !MonitorsFile.isValidMonitorName(n) {
            issue(
                at: node["name"]?.mark,
                "monitor name '\(MonitorsFile.shown(n))' must be 1–128 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit, without '..' (it becomes part of file names and URLs)"
            )
            name = nil
        }
        scope = name ?? ""
        attemptedActions = []
        defer { scope = "" }
        place("", node.mark)
        var model = string(node, "model")
        if let m = model, !MonitorsFile.isValidModelName(m) {
            issue(
                at: node["model"]?.mark,
                "model name '\(MonitorsFile.shown(m))' must be 1–256 characters without control characters or surrounding spaces")
            model = nil
        }
        let namespace = string(node, "namespace", required: false)
        let versions = strings(node, "versions", default: [])
        let roles = strings(node, "roles", default: ["champion"])
        for r in roles where !["champion", "challenger", "unknown"].contains(r) {
            issue(at: node["roles"]?.mark, "role '\(r)' must be champion, challenger or unknown")
        }
        let window = duration(node, "window", default: "PT1H")
        let alignment = duration(node, "alignment", default: "PT0S")
        let lateness = duration(node, "lateness", default: "PT5M")
        if let w = window, w.seconds < 60 { issue(at: node["window"]?.mark, "`window` must be at least one minute") }
        let sampleSize = int(node, "sample_size", default: 10_000, range: 100...5_000_000)
        let minSample = int(node, "min_sample", default: min(500, sampleSize), range: 1...5_000_000)
        if minSample > sampleSize { issue(at: node["min_sample"]?.mark, "`min_sample` (\(minSample)) exceeds `sample_size` (\(sampleSize))") }
        let features = featureList(node)
        let reference = referenceSpec(node)
        var settings = DriftSettings()
        if let s = node["statistics"] { statistics(s, into: &settings) }
        if let d = node["dataset"] {
            unknownKeys(d, allowed: ["drift_share"], in: "dataset")
            settings.datasetDriftShare = double(d, "drift_share", default: settings.datasetDriftShare, range: 0.0001...1)
        }
        var overrides: [String: DriftSettings] = [:]
        if let o = node["overrides"], case .mapping(let m) = o {
            for (k, v) in m {
                guard let feature = k.string else { continue }
                if !features.contains(where: { $0.name == feature }) { issue(at: k.mark, "override for unknown feature '\(feature)'") }
                var s = settings
                statistics(v, into: &s)
                overrides[feature] = s
            }
        }
        var policy = DriftPolicy()
        var policyOn: Node? = nil
        if let p = node["policy"] {
            unknownKeys(p, allowed: ["consecutive", "cooldown", "actions", "on"], in: "policy")
            policy.consecutive = int(p, "consecutive", default: 2, range: 1...1000)
            if let c = duration(p, "cooldown", default: "P1D") { policy.cooldown = c }
            policy.actions = strings(p, "actions", default: [])
            policyOn = Self.value(p, key: "on")
            if let n = policyOn {
                if let t = n.string.flatMap(PolicyTrigger.init(rawValue:)) {
                    policy.trigger = t
                } else {
                    let allowed = PolicyTrigger.allCases.map(\.rawValue).joined(separator: ", ")
                    issue(at: n.mark, "`policy.on` must be one of \(allowed), not '\(MonitorsFile.shown(n.string ?? "?"))'")
                }
            }
        } else {
            policy.actions = []
        }
        let actions = node["actions"].map { actionDefinitions($0, features: features) } ?? [:]
        checkActionNames(policy.actions, defined: actions, at: node["policy"]?["actions"]?.mark ?? node["policy"]?.mark, what: "policy action")
        var capture = CaptureOptions()
        if let c = node["capture"] {
            unknownKeys(c, allowed: ["keep", "max_events_per_second", "roles", "component"], in: "capture")
            capture.keep = double(c, "keep", default: 1, range: 0.000001...1)
            capture.component = string(c, "component", required: false)
            if c["max_events_per_second"] != nil {
                capture.maxEventsPerSecond = double(c, "max_events_per_second", default: 1, range: 1...10_000_000)
            }
            for rule in (c["roles"] == nil ? [] : sequence(c["roles"], at: c, "roles") ?? []) {
                unknownKeys(rule, allowed: ["role", "service", "model_version", "source_prefix"], in: "a capture role rule")
                let role = string(rule, "role") ?? "champion"
                if !["champion", "challenger", "unknown"].contains(role) {
                    issue(at: rule["role"]?.mark, "role '\(role)' must be champion, challenger or unknown")
                }
                let r = CaptureOptions.RoleRule(
                    role: role, service: string(rule, "service", required: false),
                    modelVersion: string(rule, "model_version", required: false),
                    sourcePrefix: string(rule, "source_prefix", required: false))
                if r.service == nil && r.modelVersion == nil && r.sourcePrefix == nil {
                    issue(at: rule.mark, "a role rule needs at least one of service, model_version, source_prefix")
                }
                capture.roles.append(r)
            }
        }
        let performance = node["performance"].flatMap { performanceConfig($0, features: features, minSample: minSample) }
        if let n = policyOn, policy.trigger != .drift {
            if node["performance"] == nil {
                issue(
                    at: n.mark,
                    "`policy.on: \(policy.trigger.rawValue)` needs the monitor's `performance:` block (what the model predicts and which metrics)")
            } else if policy.trigger == .driftAndEstimatedDrop,
                // the task as written, so that this is reported even when the block has other problems
                let task = node["performance"]?["task"]?.string.flatMap(PerformanceTask.init(rawValue:)), task != .binaryClassification
            {
                issue(
                    at: n.mark,
                    "`policy.on: drift_and_estimated_drop` needs `performance.task: binary_classification` (only binary classifiers have "
                        + "estimated performance); this monitor's task is \(task.rawValue), use `on: performance_drop`")
            }
        }
        if case .file? = reference, let t = features.first(where: { $0.kind == .tensor }) {
            issue(
                at: node["reference"]?.mark,
                "tensor feature '\(t.name)' needs a reference of captured traffic (`window` or `rolling`); reference files hold scalar columns")
        }
        for f in features where f.kind == .tensor && f.tensor.mmdSampleSize > 1 {
            let alpha = (overrides[f.name] ?? settings).alpha / 2
            if 1 / Double(f.tensor.mmdPermutations + 1) >= alpha {
                issue(
                    at: node["features"]?.mark,
                    "tensor feature '\(f.name)': \(f.tensor.mmdPermutations) MMD permutations cannot give p < α/2 = \(alpha); use at least \(Int((1 / alpha).rounded(.up))) or a larger alpha"
                )
            }
        }
        guard issues.count == before, let name, let model, let window, let alignment, let lateness, let reference else { return nil }
        var config = MonitorConfig(
            name: name, model: model, namespace: namespace, versions: versions, roles: roles,
            schedule: WindowSchedule(length: window, alignment: alignment, lateness: lateness),
            sampleSize: sampleSize, minSample: minSample, features: features, reference: reference,
            settings: settings, overrides: overrides, policy: policy)
        config.capture = capture
        config.actions = actions
        config.performance = performance
        return config
    }

    mutating func statistics(_ node: Node, into s: inout DriftSettings) {
        unknownKeys(
            node,
            allowed: [
                "bins", "epsilon", "binning", "ks_method", "alternative", "alpha", "correction",
                "ks_threshold", "psi_threshold", "js_threshold", "missing_rate_increase", "distribution_test", "share_threshold",
                "unseen_share_threshold"
            ], in: "statistics")
        s.bins = int(node, "bins", default: s.bins, range: 2...10_000)
        s.epsilon = double(node, "epsilon", default: s.epsilon, range: 1e-12...0.5)
        s.alpha = double(node, "alpha", default: s.alpha, range: 1e-12...0.5)
        s.ksMinStatistic = double(node, "ks_threshold", default: s.ksMinStatistic, range: 0...1)
        s.psiThreshold = double(node, "psi_threshold", default: s.psiThreshold, range: 0...100)
        s.jensenShannonMin = double(node, "js_threshold", default: s.jensenShannonMin, range: 0...1)
        s.missingRateIncrease = double(node, "missing_rate_increase", default: s.missingRateIncrease, range: 0.0001...1)
        s.shareThreshold = double(node, "share_threshold", default: s.shareThreshold, range: 0.0001...1)
        s.unseenShareThreshold = double(node, "unseen_share_threshold", default: s.unseenShareThreshold, range: 0.0001...1)
        if let n = node["distribution_test"] {
            switch n.string {
            case "true", "on", "yes": s.distributionTest = true
            case "false", "off", "no": s.distributionTest = false
            default: issue(at: n.mark, "`distribution_test` must be true or false (got '\(n.string ?? "?")')")
            }
        }
        func choice<T: RawRepresentable>(_ key: String, _ current: T) -> T where T.RawValue == String {
            guard let n = node[key] else { return current }
            guard let raw = n.string, let v = T(rawValue: raw) else {
                issue(at: n.mark, "`\(key)` has an unknown value '\(n.string ?? "?")'")
                return current
            }
            return v
        }
        s.binning = choice("binning", s.binning)
        s.ksMethod = choice("ks_method", s.ksMethod)
        s.alternative = choice("alternative", s.alternative)
        s.correction = choice("correction", s.correction)
    }

    mutating func featureList(_ node: Node) -> [MonitorConfig.Feature] {
        guard let list = sequence(node["features"], at: node, "features") else { return [] }
        if list.isEmpty { issue(at: node["features"]?.mark, "`features` must name at least one feature") }
        var out: [MonitorConfig.Feature] = []
        var seen = Set<String>()
        for f in list {
            guard case .mapping = f else {
                issue(at: f.mark, "each feature must be a mapping with `name` and `kind`")
                continue
            }
            unknownKeys(f, allowed: ["name", "kind", "source", "key", "index", "shape", "tensor"], in: "a feature")
            guard let name = string(f, "name") else { continue }
            place("/feature/\(name)", f.mark)
            if !seen.insert(name).inserted { issue(at: f["name"]?.mark, "feature '\(name)' is listed twice") }
            let kindText = string(f, "kind") ?? "numeric"
            guard let kind = FeatureKind(rawValue: kindText) else {
                issue(at: f["kind"]?.mark, "feature kind must be numeric, categorical or tensor, not '\(kindText)'")
                continue
            }
            let key = f["key"]?.string
            let index = f["index"]?.int
            if let n = f["index"], index == nil || index! < 0 { issue(at: n.mark, "`index` must be a whole number ≥ 0") }
            let sourceText = f["source"]?.string ?? "input"
            let source: MonitorConfig.Feature.Source
            switch sourceText {
            case "input": source = .input(key: key ?? (index == nil ? name : nil), index: index)
            case "output": source = .output(key: key ?? (index == nil ? name : nil), index: index)
            default:
                issue(at: f["source"]?.mark, "feature source must be input or output, not '\(sourceText)'")
                continue
            }
            var feature = MonitorConfig.Feature(name: name, kind: kind, source: source)
            if kind == .tensor {
                guard let shape = tensorShape(f, name) else { continue }
                feature.shape = shape
                if let t = f["tensor"] { feature.tensor = tensorSettings(t, name) }
            } else if f["shape"] != nil || f["tensor"] != nil {
                issue(at: (f["shape"] ?? f["tensor"])?.mark, "feature '\(name)': `shape` and `tensor` belong to `kind: tensor` features")
            }
            out.append(feature)
        }
        return out
    }

    mutating func tensorShape(_ f: Node, _ name: String) -> [Int]? {
        guard let n = f["shape"], case .sequence(let seq) = n, !seq.isEmpty else {
            issue(at: f["shape"]?.mark ?? f.mark, "tensor feature '\(name)' needs a `shape`, e.g. [128] (the elements per event)")
            return nil
        }
        let dims = seq.compactMap { $0.int }
        let size = dims.reduce(1) { $0 &* $1 }
        guard dims.count == seq.count, dims.allSatisfy({ $0 >= 1 }), size >= 2, size <= 65_536 else {
            issue(at: n.mark, "tensor feature '\(name)': `shape` must be whole numbers ≥ 1 with 2 to 65,536 elements in all")
            return nil
        }
        return dims
    }

    mutating func tensorSettings(_ t: Node, _ name: String) -> TensorSettings {
        unknownKeys(
            t,
            allowed: [
                "method", "variance_share", "max_components", "seed", "reconstruction_chunks", "mmd_sample_size",
                "mmd_permutations", "component_sample_size"
            ], in: "tensor settings of '\(name)'")
        var s = TensorSettings()
        if let m = t["method"] {
            if let v = m.string.flatMap(Projection.Method.init(rawValue:)) {
                s.method = v
            } else {
                issue(at: m.mark, "`method` must be pca or random")
            }
        }
        s.varianceShare = double(t, "variance_share", default: s.varianceShare, range: 0.01...1)
        s.maxComponents = int(t, "max_components", default: s.maxComponents, range: 1...512)
        s.seed = UInt64(int(t, "seed", default: 0, range: 0...Int.max))
        s.reconstructionChunks = int(t, "reconstruction_chunks", default: s.reconstructionChunks, range: 2...1000)
        s.mmdSampleSize = int(t, "mmd_sample_size", default: s.mmdSampleSize, range: 0...20_000)
        s.mmdPermutations = int(t, "mmd_permutations", default: s.mmdPermutations, range: 10...100_000)
        s.componentSampleSize = int(t, "component_sample_size", default: s.componentSampleSize, range: 100...1_000_000)
        return s
    }

    mutating func referenceSpec(_ node: Node) -> MonitorConfig.Reference? {
        guard let r = node["reference"] else {
            issue(at: node.mark, "missing `reference` (file, window or rolling)")
            return nil
        }
        place("/reference", r["file"]?.mark ?? r.mark)
        unknownKeys(r, allowed: ["file", "window", "rolling"], in: "reference")
        let given = ["file", "window", "rolling"].filter { r[$0] != nil }
        guard given.count == 1 else {
            issue(
                at: r.mark,
                "`reference` needs exactly one of file, window or rolling (found \(given.isEmpty ? "none" : given.joined(separator: ", ")))")
            return nil
        }
        if let file = string(r, "file", required: false) { return .file(file) }
        if let w = r["window"] {
            guard let startText = string(w, "start"), let endText = string(w, "end") else { return nil }
            let iso = ISO8601DateFormatter()
            guard let start = iso.date(from: startText), let end = iso.date(from: endText), end > start else {
                issue(at: w.mark, "`reference.window` needs ISO 8601 `start` < `end` (e.g. 2026-11-01T00:00:00Z)")
                return nil
            }
            return .window(TimeWindow(start: start, end: end))
        }
        if let roll = r["rolling"] {
            guard let offset = duration(roll, "offset", default: nil) else {
                issue(at: roll.mark, "`reference.rolling` needs an `offset` such as P7D")
                return nil
            }
            return .rolling(offset: offset)
        }
        return nil
    }
}

extension Reader {
    /// The value under `key`, its key compared as written. YAML 1.1 resolves a plain `on`, `off`, `yes` or `no` key
    /// as a boolean, and `node[key]` compares resolved tags: it finds a plain `on:` but not a quoted `"on":`. This
    /// finds both (the last one when a key is repeated, as `node[key]` does).
    static func value(_ node: Node, key: String) -> Node? {
        guard case .mapping(let m) = node else { return nil }
        var found: Node? = nil
        for (k, v) in m where k.string == key { found = v }
        return found
    }

    /// A class label written in the YAML, as text the way ground truth stores a label (`GroundTruthLabel`), so that
    /// the two compare: surrounding white space dropped; a plain (unquoted) number as its digits when integral below
    /// 2⁵³ (`1.0` is `"1"`), else in Swift's shortest round-trip form; a plain `true` / `false` in any case as
    /// `"true"` / `"false"`. Anything else as written — `yes`, `no`, `on` and `off` included, which YAML 1.1 would
    /// read as booleans but which here are more likely class names; a quoted value is always taken as written.
    static func labelText(_ node: Node) -> String? {
        guard case .scalar(let s) = node else { return nil }
        let text = s.string.trimmingCharacters(in: .whitespacesAndNewlines)
        guard s.style == .plain || s.style == .any else { return text }
        if let x = Double(text), x.isFinite {
            if x == x.rounded(), abs(x) < 9_007_199_254_740_992 { return String(Int64(x)) }
            return "\(x)"
        }
        switch text.lowercased() {
        case "true": return "true"
        case "false": return "false"
        default: return text
        }
    }

    /// `performance:` of a monitor (`PerformanceConfig`); nil when it has a problem, each one reported with its place.
    mutating func performanceConfig(_ p: Node, features: [MonitorConfig.Feature], minSample: Int? = nil) -> PerformanceConfig? {
        guard case .mapping = p else {
            issue(at: p.mark, "`performance` must be a mapping with at least `task` and `prediction`")
            return nil
        }
        place("/performance", p.mark)
        unknownKeys(
            p,
            allowed: [
                "task", "prediction", "threshold", "label_positive", "classes", "metrics", "min_labels", "label_delay",
                "reference_label", "reference_file", "chunk_size", "max_rows", "bounds"
            ], in: "performance")
        let before = issues.count
        var task: PerformanceTask? = nil
        if let t = string(p, "task") {
            task = PerformanceTask(rawValue: t)
            if task == nil {
                let allowed = PerformanceTask.allCases.map(\.rawValue).joined(separator: ", ")
                issue(at: p["task"]?.mark, "`performance.task` must be one of \(allowed), not '\(MonitorsFile.shown(t))'")
            }
        }
        let prediction = string(p, "prediction")
        if let prediction {
            let wanted: FeatureKind? = task.map { $0 == .multiclass ? .categorical : .numeric }
            let what: String
            switch task {
            case .binaryClassification?: what = "a binary_classification prediction is a numeric feature (the score of the positive class)"
            case .regression?: what = "a regression prediction is a numeric feature (the predicted value)"
            case .multiclass?: what = "a multiclass prediction is a categorical feature (the predicted class)"
            case nil: what = "numeric for binary_classification and regression, categorical for multiclass"
            }
            if let f = features.first(where: { $0.name == prediction }) {
                if let wanted, f.kind != wanted {
                    issue(
                        at: p["prediction"]?.mark,
                        "`performance.prediction`: feature '\(MonitorsFile.shown(prediction))' is \(f.kind.rawValue), but \(what)")
                }
            } else {
                issue(
                    at: p["prediction"]?.mark,
                    "`performance.prediction` must name a feature of this monitor, not '\(MonitorsFile.shown(prediction))' (\(what))")
            }
        }
        var config = PerformanceConfig(task: task ?? .binaryClassification, prediction: prediction ?? "")
        if let task {
            func onlyFor(_ key: String, _ only: PerformanceTask) {
                if task != only, let n = p[key] {
                    issue(at: n.mark, "`performance.\(key)` applies to task \(only.rawValue) only (this task is \(task.rawValue))")
                }
            }
            onlyFor("threshold", .binaryClassification)
            onlyFor("label_positive", .binaryClassification)
            onlyFor("classes", .multiclass)
        }
        config.threshold = double(p, "threshold", default: config.threshold, range: 0...1)
        if let n = p["label_positive"] {
            if let label = Self.labelText(n), !label.isEmpty {
                config.labelPositive = label
            } else {
                issue(at: n.mark, "`performance.label_positive` must be a non-empty label (a string, a number or true/false)")
            }
        }
        if let n = p["classes"] { config.classes = performanceClasses(n) }
        if let n = p["metrics"] { config.metrics = performanceMetrics(n, task: task) ?? config.metrics }
        config.minLabels = int(p, "min_labels", default: config.minLabels, range: 1...PerformanceConfig.maxRowsLimit)
        if p["label_delay"] != nil, let d = duration(p, "label_delay", default: nil) {
            if d.seconds < 60 || d.seconds > 90 * 86_400 {
                issue(at: p["label_delay"]?.mark, "`label_delay` must be from PT1M to P90D (got \(d.text))")
            } else {
                config.labelDelay = d
            }
        }
        if p["reference_label"] != nil, let r = string(p, "reference_label") { config.referenceLabel = r }
        if p["reference_file"] != nil, let f = string(p, "reference_file"), !f.isEmpty { config.referenceFile = f }
        if p["chunk_size"] != nil { config.chunkSize = int(p, "chunk_size", default: 10, range: 10...5_000_000) }
        config.maxRows = int(p, "max_rows", default: config.maxRows, range: 100...PerformanceConfig.maxRowsLimit)
        if task == .binaryClassification, let s = minSample, s > config.maxRows {
            issue(
                at: p["max_rows"]?.mark ?? p.mark,
                "`performance.max_rows` (\(config.maxRows)) is below the monitor's `min_sample` (\(s)): a window's estimates would never appear")
        }
        if config.minLabels > config.maxRows {
            issue(
                at: p["min_labels"]?.mark ?? p.mark,
                "`performance.min_labels` (\(config.minLabels)) exceeds `max_rows` (\(config.maxRows)): a window's realized figures would never appear"
            )
        }
        if let n = p["bounds"] { config.bounds = performanceBounds(n, metrics: config.metrics, task: task) }
        guard issues.count == before, task != nil, prediction != nil else { return nil }
        return config
    }

    /// `performance.classes`: 2 to 1,000 distinct, non-empty labels (as `labelText` reads them).
    mutating func performanceClasses(_ n: Node) -> [String]? {
        guard case .sequence(let seq) = n else {
            issue(at: n.mark, "`performance.classes` must be a list of class labels")
            return nil
        }
        guard (2...1000).contains(seq.count) else {
            issue(at: n.mark, "`performance.classes` must list from 2 to 1000 classes (it lists \(seq.count))")
            return nil
        }
        var out: [String] = []
        var seen = Set<String>()
        for item in seq {
            guard let label = Self.labelText(item), !label.isEmpty else {
                issue(at: item.mark, "`performance.classes` entries must be non-empty labels (strings, numbers or true/false)")
                continue
            }
            if !seen.insert(label).inserted {
                issue(at: item.mark, "`performance.classes` lists '\(MonitorsFile.shown(label))' twice")
            }
            out.append(label)
        }
        return out
    }

    /// `performance.metrics`: at least one, each allowed for the task (`PerformanceConfig.allowedMetrics`), none twice.
    mutating func performanceMetrics(_ n: Node, task: PerformanceTask?) -> [PerformanceMetric]? {
        guard case .sequence(let seq) = n else {
            issue(at: n.mark, "`performance.metrics` must be a list of metric names")
            return nil
        }
        if seq.isEmpty { issue(at: n.mark, "`performance.metrics` must name at least one metric (or be left out for the task's defaults)") }
        var out: [PerformanceMetric] = []
        for item in seq {
            let allowed = task.map(PerformanceConfig.allowedMetrics) ?? PerformanceMetric.allCases
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            guard let raw = item.string, let metric = PerformanceMetric(rawValue: raw) else {
                issue(at: item.mark, "`performance.metrics`: unknown metric '\(MonitorsFile.shown(item.string ?? "?"))' (one of: \(names))")
                continue
            }
            if let task, !allowed.contains(metric) {
                issue(
                    at: item.mark,
                    "`performance.metrics`: '\(raw)' does not apply to task \(task.rawValue) (allowed for \(task.rawValue): \(names))")
                continue
            }
            if out.contains(metric) {
                issue(at: item.mark, "`performance.metrics` lists '\(raw)' twice")
                continue
            }
            out.append(metric)
        }
        return out
    }

    /// `performance.bounds`: metric → `{lower, upper}`, finite, at least one side, lower ≤ upper, the metric configured.
    mutating func performanceBounds(_ n: Node, metrics: [PerformanceMetric], task: PerformanceTask?) -> [PerformanceMetric: PerformanceConfig.Bound] {
        guard case .mapping(let m) = n else {
            issue(at: n.mark, "`performance.bounds` must be a mapping of metric to {lower, upper}, e.g. {f1: {lower: 0.6}}")
            return [:]
        }
        var out: [PerformanceMetric: PerformanceConfig.Bound] = [:]
        for (k, v) in m {
            let name = MonitorsFile.shown(k.string ?? "?")
            guard let raw = k.string, let metric = PerformanceMetric(rawValue: raw) else {
                issue(at: k.mark, "`performance.bounds`: unknown metric '\(name)'")
                continue
            }
            if task != nil, !metrics.contains(metric) {
                let configured = metrics.map(\.rawValue).joined(separator: ", ")
                issue(at: k.mark, "`performance.bounds`: '\(raw)' is not one of this monitor's metrics (\(configured))")
            }
            if out[metric] != nil { issue(at: k.mark, "`performance.bounds` gives '\(raw)' twice") }
            guard case .mapping = v else {
                issue(at: v.mark, "`performance.bounds.\(raw)` must be a mapping with `lower`, `upper` or both, e.g. {lower: 0.6}")
                continue
            }
            unknownKeys(v, allowed: ["lower", "upper"], in: "performance.bounds.\(raw)")
            func side(_ key: String) -> Double? {
                guard let s = v[key] else { return nil }
                guard let x = s.float, x.isFinite else {
                    issue(at: s.mark, "`performance.bounds.\(raw).\(key)` must be a finite number")
                    return nil
                }
                return x
            }
            let bound = PerformanceConfig.Bound(lower: side("lower"), upper: side("upper"))
            if v["lower"] == nil && v["upper"] == nil {
                issue(at: v.mark, "`performance.bounds.\(raw)` needs `lower`, `upper` or both")
            }
            if let lo = bound.lower, let hi = bound.upper, lo > hi {
                issue(at: v.mark, "`performance.bounds.\(raw)`: `lower` (\(lo)) exceeds `upper` (\(hi))")
            }
            out[metric] = bound
        }
        return out
    }
}
