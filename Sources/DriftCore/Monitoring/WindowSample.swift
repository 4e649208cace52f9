import DriftStats
import DriftStore
import Foundation

/// The feature layout of a monitor's captured events: `capture_events.numeric` holds the monitor's
/// numeric features in configuration order, `capture_events.categorical` its categorical ones.
public struct FeatureLayout: Sendable, Equatable {
    public var numeric: [String]
    public var categorical: [String]

    public init(_ m: MonitorConfig) {
        numeric = m.features.filter { $0.kind == .numeric }.map(\.name)
        categorical = m.features.filter { $0.kind == .categorical }.map(\.name)
    }
}

/// A bounded uniform sample of one window's events: `ORDER BY sample_key LIMIT n` over the window
/// (an index range scan on (model, observed_at, sample_key) per partition), so memory is bounded by
/// sample size × features whatever the traffic, plus the window's total count.
public struct WindowSample: Sendable {
    public var total: Int
    public var numeric: [[Double]]      // per numeric feature, the sampled values (NaN = missing)
    public var categorical: [[String?]] // per categorical feature

    public var count: Int { numeric.first?.count ?? categorical.first?.count ?? 0 }

    public static func load(_ c: PGConnection, monitor m: MonitorConfig, window w: TimeWindow) throws -> WindowSample {
        let layout = FeatureLayout(m)
        let filters = "model = $1 AND observed_at >= $2 AND observed_at < $3 AND role = ANY ($4::text[]) AND (cardinality($5::text[]) = 0 OR model_version = ANY ($5::text[]))"
        let params: [(any PGEncodable)?] = [m.model, w.start, w.end, m.roles, m.versions]
        let total = try c.query("SELECT count(*) AS n FROM capture_events WHERE \(filters)", params, name: "check.count")[0].int("n")
        let rows = try c.query("""
            SELECT numeric, categorical FROM capture_events WHERE \(filters)
            ORDER BY sample_key LIMIT $6
            """, params + [m.sampleSize], name: "check.sample")
        var numeric = [[Double]](repeating: [], count: layout.numeric.count)
        var categorical = [[String?]](repeating: [], count: layout.categorical.count)
        for i in numeric.indices { numeric[i].reserveCapacity(rows.count) }
        for r in rows {
            let nums = try r.doubles("numeric"), cats = try r.strings("categorical")
            for i in numeric.indices { numeric[i].append(i < nums.count ? nums[i] : .nan) }
            for i in categorical.indices { categorical[i].append(i < cats.count ? cats[i] : nil) }
        }
        return WindowSample(total: total, numeric: numeric, categorical: categorical)
    }
}
