import Foundation
import NIOConcurrencyHelpers

/// Daily range partitions of `capture_events`: created before rows for a day are written (and a few
/// days ahead), dropped after the retention period. Partition names carry their day:
/// `capture_events_pYYYYMMDD`, bounds [day 00:00 UTC, next day 00:00 UTC).
public final class CapturePartitions: Sendable {
    private let known = NIOLockedValueBox(Set<Int>())  // days since 1970-01-01 known to exist
    public let schema: String

    public init(schema: String) { self.schema = schema }

    static func day(_ d: Date) -> Int { Int((d.timeIntervalSince1970 / 86_400).rounded(.down)) }

    static func name(day: Int) -> String {
        var t = time_t(day * 86_400)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "capture_events_p%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }

    private var lockKey: Int64 { StableHash.lockKey("drift-worker-partitions:\(schema)") }

    /// Makes sure the partitions for these instants exist (one short transaction, serialised across
    /// writers by an advisory lock; days already seen by this process cost nothing).
    public func ensure(covering dates: [Date], on c: PGConnection) throws {
        let days = Set(dates.map(Self.day))
        try ensure(days: days, on: c)
    }

    public func ensure(days: Set<Int>, on c: PGConnection) throws {
        let missing = known.withLockedValue { days.subtracting($0) }
        guard !missing.isEmpty else { return }
        try c.transaction { c in
            try c.query("SELECT pg_advisory_xact_lock($1)", [lockKey], name: "partitions.lock")
            for day in missing.sorted() {
                let from = PGTime.format(Date(timeIntervalSince1970: Double(day) * 86_400))
                let to = PGTime.format(Date(timeIntervalSince1970: Double(day + 1) * 86_400))
                try c.run(
                    """
                    CREATE TABLE IF NOT EXISTS "\(schema)".\(Self.name(day: day))
                    PARTITION OF "\(schema)".capture_events FOR VALUES FROM ('\(from)') TO ('\(to)')
                    """, name: "partitions.create")
            }
        }
        known.withLockedValue { $0.formUnion(missing) }
    }

    /// Creates today's partition and the next `days` days'.
    public func createAhead(days: Int, now: Date = Date(), on c: PGConnection) throws {
        let today = Self.day(now)
        try ensure(days: Set(today...(today + max(0, days))), on: c)
    }

    /// The existing partitions' days, ascending.
    public func list(on c: PGConnection) throws -> [Int] {
        try c.query(
            """
            SELECT child.relname AS name FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            JOIN pg_namespace ns ON ns.oid = parent.relnamespace
            WHERE ns.nspname = $1 AND parent.relname = 'capture_events'
            """, [schema], name: "partitions.list"
        ).compactMap { r -> Int? in
            let name = try r.string("name")
            guard name.hasPrefix("capture_events_p"), let d = PGTime.parse(String(name.dropFirst(16)).dayStamp) else { return nil }
            return Self.day(d)
        }.sorted()
    }

    /// Drops the partitions whose whole day is older than `retentionDays` before `now`.
    /// Returns the names dropped.
    @discardableResult
    public func dropExpired(retentionDays: Int, now: Date = Date(), on c: PGConnection) throws -> [String] {
        let cutoff = Self.day(now) - retentionDays
        var dropped: [String] = []
        for day in try list(on: c) where day < cutoff {
            let name = Self.name(day: day)
            try c.run("DROP TABLE IF EXISTS \"\(schema)\".\(name)", name: "partitions.drop")
            dropped.append(name)
            known.withLockedValue { _ = $0.remove(day) }
        }
        return dropped
    }
}

extension String {
    /// "20261129" → "2026-11-29 00:00:00+00"
    fileprivate var dayStamp: String {
        guard count == 8 else { return "" }
        let c = Array(self)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8])) 00:00:00+00"
    }
}
