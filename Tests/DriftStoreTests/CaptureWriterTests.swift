import DriftStore
import DriftTestSupport
import Foundation
import Testing

@Suite("Bulk capture writes with binary COPY")
struct CaptureWriterTests {
    @Test func writesCommitAndReadBackExactly() async throws {
        try await TestDatabase.withSchema { client, settings in
            let writer = CaptureWriter(client: client)
            let base = Date(timeIntervalSince1970: 1_764_374_400)  // 2025-11-29 00:00 UTC
            var events: [CaptureEvent] = []
            for i in 0..<3000 {
                events.append(
                    CaptureEvent(
                        model: "fraud", modelVersion: i % 2 == 0 ? "v1" : "v2", role: i % 10 == 0 ? .challenger : .champion,
                        requestID: "req-\(i)", kind: .paired, observedAt: base.addingTimeInterval(Double(i) * 86.4 + 0.123456),
                        numeric: [Double(i), -1.5e-300, i % 7 == 0 ? .nan : 0.1 * Double(i), .infinity],
                        categorical: ["m\(i % 5)", i % 3 == 0 ? nil : "DE", "quote\"and,comma"],
                        payload: i % 100 == 0 ? #"{"instances":[[1,2]]}"# : nil))
            }
            let n1 = try await writer.write(Array(events[..<1500]))
            let n2 = try await writer.write(Array(events[1500...]))
            #expect(n1 + n2 == 3000)
            let rows = try await client.withConnection { c in
                try c.query(
                    "SELECT request_id, model_version, role, observed_at, numeric, categorical, payload::text AS payload, sample_key FROM capture_events ORDER BY observed_at",
                    name: "t.read")
            }
            #expect(rows.count == 3000)
            for (i, r) in rows.enumerated() where i % 97 == 0 || i == 2999 {
                let e = events[i]
                #expect(try r.string("request_id") == e.requestID)
                #expect(try r.string("role") == e.role.rawValue)
                #expect(abs(try r.date("observed_at").timeIntervalSince(e.observedAt)) < 1e-6)
                let nums = try r.doubles("numeric")
                #expect(nums.count == 4 && nums[0] == e.numeric[0] && nums[1] == e.numeric[1] && nums[3] == .infinity)
                #expect(e.numeric[2].isNaN ? nums[2].isNaN : nums[2] == e.numeric[2])
                #expect(try r.strings("categorical") == e.categorical)
                #expect(try r.optionalString("payload").map { $0.replacingOccurrences(of: " ", with: "") } == e.payload)
                let key = try r.double("sample_key")
                #expect(key >= 0 && key < 1)
            }
            let conn = try PGConnection.connect(settings)
            let days = try writer.partitions.list(on: conn)
            #expect(days.count == 3, "3000 events × 86.4 s span three days")
            // A uniform sample of one day's window, bounded by the limit.
            let sample = try conn.query(
                """
                SELECT count(*) AS n FROM (SELECT 1 FROM capture_events WHERE model = 'fraud'
                AND observed_at >= $1 AND observed_at < $2 ORDER BY sample_key LIMIT 200) s
                """, [base, base.addingTimeInterval(86_400)], name: "t.sample")
            #expect(try sample[0].int("n") == 200)
        }
    }

    /// Batches in flight at once on separate connections (creating the same day partitions concurrently) store
    /// every event once, with empty arrays and NULL elements intact.
    @Test func batchesInFlightStoreEveryEventOnce() async throws {
        try await TestDatabase.withSchema { client, _ in
            let writer = CaptureWriter(client: client)
            let base = Date(timeIntervalSince1970: 1_764_374_400)
            let events = (0..<25_000).map { (i: Int) -> CaptureEvent in
                let numeric: [Double] = i % 2 == 0 ? [] : [Double(i), -0.0]
                let categorical: [String?] = i % 3 == 0 ? [] : [nil, "x\(i % 7)"]
                return CaptureEvent(
                    model: "fraud", requestID: "r\(i)", observedAt: base.addingTimeInterval(Double(i) * 10), numeric: numeric,
                    categorical: categorical)
            }
            let n = try await writer.write(events, batchSize: 4_000, inFlight: 3)
            #expect(n == 25_000)
            let r = try await client.withConnection { c in
                try c.query(
                    """
                    SELECT count(*) AS n, count(DISTINCT request_id) AS ids, sum(cardinality(numeric)) AS nums,
                    sum(cardinality(categorical)) AS cats, count(*) FILTER (WHERE categorical[1] IS NULL AND cardinality(categorical) = 2) AS nulls,
                    count(DISTINCT sample_key) AS keys, avg(sample_key) AS mean_key, min(sample_key) AS min_key, max(sample_key) AS max_key
                    FROM capture_events
                    """, name: "t.count")[0]
            }
            #expect(try r.int("n") == 25_000)
            #expect(try r.int("ids") == 25_000)
            #expect(try r.int("nums") == 2 * events.filter { !$0.numeric.isEmpty }.count)
            #expect(try r.int("cats") == 2 * events.filter { !$0.categorical.isEmpty }.count)
            #expect(try r.int("nulls") == events.filter { !$0.categorical.isEmpty }.count)
            // sample keys drawn at write time: distinct, in [0, 1), mean 0.5 (±0.01 is over 5 standard errors at n = 25,000)
            #expect(try r.int("keys") == 25_000)
            #expect(try r.double("min_key") >= 0 && r.double("max_key") < 1)
            #expect(try abs(r.double("mean_key") - 0.5) < 0.01)
            #expect(try writer.partitions.list(on: PGConnection.connect(client.settings)).count == 3, "250,000 s span three days")
        }
    }

    /// A batch PostgreSQL refuses (a NUL in a text field) fails the write with the server's error; each batch commits
    /// whole or not at all.
    @Test func aRefusedBatchThrowsAndNoBatchIsPartlyStored() async throws {
        try await TestDatabase.withSchema { client, _ in
            let writer = CaptureWriter(client: client)
            let base = Date(timeIntervalSince1970: 1_764_374_400)
            let events = (0..<3_000).map { i in
                CaptureEvent(model: "fraud", requestID: i == 1_500 ? "bad\u{0}id" : "r\(i)", observedAt: base, numeric: [1])
            }
            await #expect(throws: PostgresError.self) { try await writer.write(events, batchSize: 1_000, inFlight: 3) }
            let n = try await client.withConnection { c in try c.query("SELECT count(*) AS n FROM capture_events", name: "t.count")[0].int("n") }
            #expect(n % 1_000 == 0 && n <= 2_000)
        }
    }

    @Test func partitionsAreCreatedAheadAndDroppedAfterRetention() async throws {
        try await TestDatabase.withSchema { client, settings in
            let conn = try PGConnection.connect(settings)
            let parts = CapturePartitions(schema: settings.schema)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            try parts.createAhead(days: 2, now: now, on: conn)
            try parts.ensure(covering: [now.addingTimeInterval(-10 * 86_400)], on: conn)
            #expect(try parts.list(on: conn).count == 4)
            let dropped = try parts.dropExpired(retentionDays: 7, now: now, on: conn)
            #expect(dropped.count == 1)
            #expect(try parts.list(on: conn).count == 3)
            // Writers in several processes create the same partition without conflict.
            try await withThrowingTaskGroup(of: Void.self) { g in
                for _ in 0..<4 {
                    g.addTask {
                        let c = try PGConnection.connect(settings)
                        try CapturePartitions(schema: settings.schema).ensure(covering: [now.addingTimeInterval(30 * 86_400)], on: c)
                    }
                }
                try await g.waitForAll()
            }
            #expect(try parts.list(on: conn).count == 4)
        }
    }

    @Test func aFailedBatchLeavesNothing() async throws {
        try await TestDatabase.withSchema { client, _ in
            let writer = CaptureWriter(client: client)
            let ok = CaptureEvent(model: "m", observedAt: Date(), numeric: [1])
            var bad = ok
            bad.payload = "{not json"
            await #expect(throws: PostgresError.self) { try await writer.write([ok, ok, bad]) }
            let n = try await client.withConnection { c in try c.query("SELECT count(*) AS n FROM capture_events", name: "t")[0].int("n") }
            #expect(n == 0, "the batch is one transaction")
            #expect(try await writer.write([ok, ok]) == 2)
        }
    }
}
