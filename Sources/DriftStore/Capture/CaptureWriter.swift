import Foundation

/// Writes batches of capture events with binary `COPY … FROM STDIN`, inside a transaction:
/// `write` returns only after the batch has committed, so an acknowledged event is durable.
/// The day partitions a batch needs are created first.
public final class CaptureWriter: Sendable {
    public let client: PostgresClient
    public let partitions: CapturePartitions

    public init(client: PostgresClient) {
        self.client = client
        self.partitions = CapturePartitions(schema: client.settings.schema)
    }

    static let copySQL =
        "COPY capture_events (model, model_version, role, request_id, kind, observed_at, sample_key, numeric, categorical, payload) FROM STDIN (FORMAT binary)"

    /// Encodes events in the binary COPY format (exposed for benchmarks and tests).
    public static func encode(_ events: [CaptureEvent]) -> Data {
        var enc = CopyBinaryEncoder(capacity: 64 + events.count * (120 + 12 * (events.first?.numeric.count ?? 0)))
        for e in events {
            enc.beginRow(fields: 10)
            enc.text(e.model)
            enc.text(e.modelVersion)
            enc.text(e.role.rawValue)
            enc.text(e.requestID)
            enc.text(e.kind.rawValue)
            enc.timestamptz(e.observedAt)
            enc.float8(e.sampleKey ?? Double.random(in: 0..<1))
            enc.float8Array(e.numeric)
            enc.textArray(e.categorical)
            if let p = e.payload { enc.jsonb(p) } else { enc.null() }
        }
        return enc.finish()
    }

    /// Writes and commits one batch; returns the number of rows stored.
    @discardableResult
    public func write(_ events: [CaptureEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let data = Self.encode(events)
        let dates = events.map(\.observedAt)
        let partitions = self.partitions
        return try await client.withConnection { c in
            try partitions.ensure(covering: dates, on: c)
            return try c.transaction { c in try c.copyIn(Self.copySQL, data: data, name: "capture.copy") }
        }
    }
}
