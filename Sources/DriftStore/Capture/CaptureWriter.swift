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

    /// Encodes events in the binary COPY format into one buffer sized from the first event (exposed for benchmarks and tests).
    public static func encode(_ events: some Collection<CaptureEvent>) -> [UInt8] {
        var enc = CopyBinaryEncoder(capacity: 64 + events.count * (events.first.map(estimatedRowBytes) ?? 0))
        // sample keys drawn from a generator seeded once per batch by the system's: one getrandom call per batch, not per event
        var keys = SampleKeyGenerator(seed: UInt64.random(in: .min ... .max))
        for e in events {
            enc.beginRow(fields: 10)
            enc.text(e.model)
            enc.text(e.modelVersion)
            enc.text(e.role.rawValue)
            enc.text(e.requestID)
            enc.text(e.kind.rawValue)
            enc.timestamptz(e.observedAt)
            enc.float8(e.sampleKey ?? Double.random(in: 0..<1, using: &keys))
            enc.float8Array(e.numeric)
            enc.textArray(e.categorical)
            if let p = e.payload { enc.jsonb(p) } else { enc.null() }
        }
        enc.finish()
        return enc.bytes
    }

    /// A row's size in the COPY stream, plus slack for longer texts in later rows (a sizing hint, not a bound).
    static func estimatedRowBytes(_ e: CaptureEvent) -> Int {
        var n = 2 + 10 * 4 + e.model.utf8.count + e.modelVersion.utf8.count + 18 + e.requestID.utf8.count + 8 + 8 + 8
        n += 20 + 12 * e.numeric.count + 20 + e.categorical.reduce(0) { $0 + 4 + ($1?.utf8.count ?? 0) }
        n += e.payload.map { $0.utf8.count + 1 } ?? 0
        return n + n / 4
    }

    /// Writes and commits one batch; returns the number of rows stored.
    @discardableResult
    public func write(_ events: some Collection<CaptureEvent>) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let data = Self.encode(events)
        let days = Set(events.lazy.map { CapturePartitions.day($0.observedAt) })
        let partitions = self.partitions
        return try await client.withConnection { c in
            try partitions.ensure(days: days, on: c)
            return try c.transaction { c in try c.copyIn(Self.copySQL, data: data, name: "capture.copy") }
        }
    }

    /// Writes `events` in transactions of at most `batchSize`, up to `inFlight` of them at once on separate pooled
    /// connections (so PostgreSQL loads one batch while the next is encoded and sent). Each batch commits on its own:
    /// when one fails, this throws its error; batches already committed stay. Returns the number of rows stored.
    @discardableResult
    public func write(_ events: [CaptureEvent], batchSize: Int, inFlight: Int = 2) async throws -> Int {
        let batchSize = max(1, batchSize)
        let inFlight = max(1, inFlight)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            var written = 0
            var running = 0
            for start in stride(from: 0, to: events.count, by: batchSize) {
                if running == inFlight, let n = try await group.next() {
                    written += n
                    running -= 1
                }
                let batch = events[start..<min(start + batchSize, events.count)]
                group.addTask { try await self.write(batch) }
                running += 1
            }
            for try await n in group { written += n }
            return written
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): the sample keys of one batch, uniform in [0, 1) through
/// `Double.random(in:using:)`; seeded per batch from the system generator.
struct SampleKeyGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
