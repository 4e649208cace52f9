import DriftStats
import DriftStore
import Foundation

/// The feature layout of a monitor's captured events: `capture_events.numeric` holds the monitor's
/// numeric features in configuration order, `capture_events.categorical` its categorical ones.
public struct FeatureLayout: Sendable, Equatable {
    /// A tensor's elements in `capture_events.numeric`: `size` slots from `offset`, after every numeric scalar.
    public struct TensorSlots: Sendable, Equatable {
        public var name: String
        public var offset: Int
        public var size: Int
        public var output: Bool
    }

    public var numeric: [String]
    public var categorical: [String]
    public var tensors: [TensorSlots]
    /// Slots of `capture_events.numeric`: the numeric scalars, then each tensor's elements.
    public var numericWidth: Int

    public init(_ m: MonitorConfig) {
        numeric = m.features.filter { $0.kind == .numeric }.map(\.name)
        categorical = m.features.filter { $0.kind == .categorical }.map(\.name)
        var offset = numeric.count
        tensors = m.features.filter { $0.kind == .tensor }.map { f in
            defer { offset += f.size }
            return TensorSlots(name: f.name, offset: offset, size: f.size, output: { if case .output = f.source { true } else { false } }())
        }
        numericWidth = offset
    }
}

/// A bounded uniform sample of one window's events: `ORDER BY sample_key LIMIT n` over the window
/// (an index range scan on (model, observed_at, sample_key) per partition), so memory is bounded by
/// sample size × features whatever the traffic, plus the window's total count.
public struct WindowSample: Sendable {
    public var total: Int
    public var numeric: [[Double]]  // per numeric feature, the sampled values (NaN = missing)
    public var categorical: [[String?]]  // per categorical feature
    /// Per tensor feature, the sampled events' tensors (rows), and how many sampled events lacked one.
    public var tensors: [Matrix] = []
    public var tensorMissing: [Int] = []

    /// Events in the sample: the longest feature column (inputs and outputs may come from different events).
    public var count: Int { max(numeric.map(\.count).max() ?? 0, categorical.map(\.count).max() ?? 0, tensors.map(\.rows).max() ?? 0) }

    public static func load(_ c: PGConnection, monitor m: MonitorConfig, window w: TimeWindow) throws -> WindowSample {
        let layout = FeatureLayout(m)
        let filters =
            "model = $1 AND observed_at >= $2 AND observed_at < $3 AND role = ANY ($4::text[]) AND (cardinality($5::text[]) = 0 OR model_version = ANY ($5::text[]))"
        let params: [(any PGEncodable)?] = [m.model, w.start, w.end, m.roles, m.versions]
        // index-only on (model, observed_at, sample_key) INCLUDE (kind); FILTER instead of GROUP BY: no hashing
        let counts = try c.query(
            """
            SELECT count(*) AS n, count(*) FILTER (WHERE kind = 'request') AS requests,
                   count(*) FILTER (WHERE kind = 'response') AS responses
            FROM capture_events WHERE \(filters)
            """, params, name: "check.count")[0]
        let requests = try counts.int("requests")
        let responses = try counts.int("responses")
        let paired = try counts.int("n") - requests - responses
        // Captured from the serving path, a request and its response are separate events: inputs are sampled
        // from requests (and paired events), outputs from responses (and paired events), so a response that
        // never came still counts for input drift and an orphan response for prediction drift.
        let total = paired + max(requests, responses)
        let outputs = Set(m.features.filter { if case .output = $0.source { return true } else { return false } }.map(\.name))
        var numeric = [[Double]](repeating: [], count: layout.numeric.count)
        var categorical = [[String?]](repeating: [], count: layout.categorical.count)
        var tensorValues = [[Double]](repeating: [], count: layout.tensors.count)
        var tensorRows = [Int](repeating: 0, count: layout.tensors.count)
        var tensorMissing = tensorRows
        func sample(_ kindFilter: String, output: Bool?) throws {
            let rows = try c.query(
                """
                SELECT numeric, categorical FROM capture_events WHERE \(filters)\(kindFilter)
                ORDER BY sample_key LIMIT $6
                """, params + [m.sampleSize], name: "check.sample")
            let takeN = layout.numeric.map { name in output.map { outputs.contains(name) == $0 } ?? true }
            let takeC = layout.categorical.map { name in output.map { outputs.contains(name) == $0 } ?? true }
            for i in numeric.indices where takeN[i] { numeric[i].reserveCapacity(rows.count) }
            let takeT = layout.tensors.map { t in output.map { t.output == $0 } ?? true }
            for r in rows {
                let nums = try r.doubles("numeric")
                let cats = try r.strings("categorical")
                for i in numeric.indices where takeN[i] { numeric[i].append(i < nums.count ? nums[i] : .nan) }
                for i in categorical.indices where takeC[i] { categorical[i].append(i < cats.count ? cats[i] : nil) }
                for (t, slots) in layout.tensors.enumerated() where takeT[t] {
                    // an event without the whole tensor counts as missing
                    guard slots.offset + slots.size <= nums.count, nums[slots.offset..<(slots.offset + slots.size)].allSatisfy(\.isFinite) else {
                        tensorMissing[t] += 1
                        continue
                    }
                    tensorValues[t].append(contentsOf: nums[slots.offset..<(slots.offset + slots.size)])
                    tensorRows[t] += 1
                }
            }
        }
        if requests == 0 && responses == 0 {
            try sample("", output: nil)
        } else {
            try sample(" AND kind <> 'response'", output: false)
            if !outputs.isEmpty { try sample(" AND kind <> 'request'", output: true) }
        }
        var s = WindowSample(total: total, numeric: numeric, categorical: categorical)
        s.tensors = layout.tensors.indices.map { Matrix(rows: tensorRows[$0], cols: layout.tensors[$0].size, values: tensorValues[$0]) }
        s.tensorMissing = tensorMissing
        return s
    }
}
