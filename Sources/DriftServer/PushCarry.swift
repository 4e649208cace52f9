import DriftCommon
import Foundation

/// Keeps pushed counters monotonic across batch runs, so `increase()` and `rate()` work for CronJob deployments.
///
/// A Pushgateway PUT replaces its group: each `run-once` would push counters that count its own run only, and a
/// series that reads 3, then 3 again after the next run's three checks, shows no increase at all. Before a push, the
/// group's current values are read from the Pushgateway's JSON API (`GET /api/v1/metrics`, Pushgateway ≥ 0.10) and
/// added to this run's counters and histograms (buckets, `_sum`, `_count`): the pushed series then behave like
/// those of one long-running process, and a Pushgateway restart (its groups gone) is a counter reset, which
/// Prometheus handles. Gauges are never carried. Series of the previous push that this run does not produce are
/// not carried (a monitor or action removed from the configuration). Two runs of one job pushing at the same time
/// can lose one run's counts (the CronJob's `concurrencyPolicy: Forbid` rules that out).
public enum PushCarry {
    /// The previous values of the group whose grouping labels are exactly `group`, by series key (`key(name:labels:)`),
    /// from a `GET /api/v1/metrics` answer: its counters and histograms, and the gauges named in `gauges`; empty when
    /// the group is not there. Throws when the answer is not the API's shape.
    public static func previous(apiAnswer: JSONValue, group: [String: String], gauges: Set<String> = []) throws -> [String: Double] {
        guard apiAnswer["status"]?.string == "success", let groups = apiAnswer["data"]?.array else {
            throw Problem(description: "the Pushgateway's /api/v1/metrics answer has no \"status\": \"success\" and \"data\" array")
        }
        let target = group
        guard
            let found = groups.first(where: { g in
                guard let labels = g["labels"]?.object else { return false }
                return labels.count == target.count && target.allSatisfy { labels[$0.key]?.string == $0.value }
            }), let families = found.members
        else { return [:] }
        var out: [String: Double] = [:]
        let grouping = Set(group.keys).union(["instance"])
        for (name, family) in families {
            guard let type = family["type"]?.string, type == "COUNTER" || type == "HISTOGRAM" || (type == "GAUGE" && gauges.contains(name)),
                let metrics = family["metrics"]?.array
            else { continue }
            for m in metrics {
                var labels: [String: String] = [:]
                for (k, v) in m["labels"]?.members ?? [] where !grouping.contains(k) { labels[k] = v.string ?? "" }
                if type != "HISTOGRAM" {
                    if let v = m["value"]?.string.flatMap(Double.init) { out[key(name: name, labels: labels)] = v }
                    continue
                }
                for (le, count) in m["buckets"]?.members ?? [] {
                    guard let bound = Double(le == "+Inf" ? "inf" : le), let v = count.string.flatMap(Double.init) else { continue }
                    var withLE = labels
                    withLE["le"] = canonical(bound)
                    out[key(name: name + "_bucket", labels: withLE)] = v
                }
                if let v = m["count"]?.string.flatMap(Double.init) { out[key(name: name + "_count", labels: labels)] = v }
                if let v = m["sum"]?.string.flatMap(Double.init) { out[key(name: name + "_sum", labels: labels)] = v }
            }
        }
        return out
    }

    /// `exposition` (text format 0.0.4, as swift-prometheus writes it) with `previous` added to the samples of its
    /// counter and histogram families; every other line unchanged.
    public static func carry(_ exposition: String, previous: [String: Double]) -> String {
        guard !previous.isEmpty else { return exposition }
        var type = ""
        var lines: [Substring] = []
        var rewritten: [String] = []
        lines = exposition.split(separator: "\n", omittingEmptySubsequences: false)
        rewritten.reserveCapacity(lines.count)
        for line in lines {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                type = parts.count == 4 ? String(parts[3]) : ""
                rewritten.append(String(line))
                continue
            }
            guard type == "counter" || type == "histogram", !line.hasPrefix("#"), let sample = parse(line), let add = previous[sample.key]
            else {
                rewritten.append(String(line))
                continue
            }
            rewritten.append(sample.head + " " + format(sample.value + add))
        }
        return rewritten.joined(separator: "\n")
    }

    /// The series key: the name and the labels sorted by name (a `le` bound in canonical form).
    public static func key(name: String, labels: [String: String]) -> String {
        var parts = [name]
        for (k, v) in labels.sorted(by: { $0.key < $1.key }) {
            let value = k == "le" ? (Double(v == "+Inf" ? "inf" : v).map(canonical) ?? v) : v
            parts.append(k + "=" + value)
        }
        return parts.joined(separator: "\u{1}")
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func canonical(_ bound: Double) -> String { bound.isInfinite ? "+Inf" : "\(bound)" }

    static func format(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A sample line `name{k="v",…} value`: its key, the text before the value, and the value; nil when it is not one.
    static func parse(_ line: Substring) -> (key: String, head: String, value: Double)? {
        guard let space = line.lastIndex(of: " ") else { return nil }
        let head = line[..<space]
        let valueText = line[line.index(after: space)...]
        guard let value = Double(valueText == "+Inf" ? "inf" : valueText == "-Inf" ? "-inf" : String(valueText)) else { return nil }
        guard let open = head.firstIndex(of: "{") else { return (key(name: String(head), labels: [:]), String(head), value) }
        guard head.last == "}" else { return nil }
        let name = String(head[..<open])
        var labels: [String: String] = [:]
        var i = head.index(after: open)
        let end = head.index(before: head.endIndex)
        while i < end {
            guard let eq = head[i..<end].firstIndex(of: "="), head.index(after: eq) < end, head[head.index(after: eq)] == "\"" else { return nil }
            let label = String(head[i..<eq])
            var j = head.index(eq, offsetBy: 2)
            var value = ""
            var closed = false
            while j < end {
                let c = head[j]
                if c == "\\" {
                    let n = head.index(after: j)
                    guard n < end else { return nil }
                    switch head[n] {
                    case "n": value.append("\n")
                    case "\\": value.append("\\")
                    case "\"": value.append("\"")
                    default: value.append(head[n])
                    }
                    j = head.index(after: n)
                } else if c == "\"" {
                    closed = true
                    j = head.index(after: j)
                    break
                } else {
                    value.append(c)
                    j = head.index(after: j)
                }
            }
            guard closed else { return nil }
            labels[label] = value
            if j < end, head[j] == "," { j = head.index(after: j) }
            i = j
        }
        return (key(name: name, labels: labels), String(head), value)
    }
}
