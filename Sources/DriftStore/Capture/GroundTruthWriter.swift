import Foundation

/// Writes ground-truth labels into `ground_truth`, one row per (model, request id), in one transaction per call:
/// `write` returns only after the labels have committed, so an acknowledged label is durable.
///
/// What happens to each label is its `Outcome`:
/// - `stored`: the first label for its request id;
/// - `replaced`: the id had a label with another truth (or reward); the new one replaces it (a corrected label) and the
///   row's `revisions` counts the replacement. What a label leaves out is kept: a Seldon reward without a truth keeps
///   the stored truth, a truth without a reward keeps the stored reward;
/// - `duplicate`: the id already has this very truth (a client retrying), or the same id comes again later in the same
///   call (the last one counts): nothing changes.
public final class GroundTruthWriter: Sendable {
    public enum Source: String, Sendable { case http, seldonFeedback = "seldon_feedback", file }
    public enum Outcome: String, Sendable, CaseIterable { case stored, replaced, duplicate }

    /// A label as stored: `value` is the truth as a number when it is one; `reward` a Seldon feedback's reward. At
    /// least one of `label` and `reward` is present.
    public struct Row: Sendable, Equatable {
        public var model: String
        public var requestID: String
        public var label: String?
        public var value: Double?
        public var reward: Double?
        public var labelledAt: Date
        public init(model: String, requestID: String, label: String?, value: Double?, reward: Double? = nil, labelledAt: Date) {
            self.model = model
            self.requestID = requestID
            self.label = label
            self.value = value
            self.reward = reward
            self.labelledAt = labelledAt
        }
    }

    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let upsertSQL = """
        WITH input AS (
            SELECT * FROM unnest($2::text[], $3::text[], $4::bool[], $5::float8[], $6::bool[], $7::float8[], $8::bool[], $9::timestamptz[])
                AS t(request_id, label, has_label, value, has_value, reward, has_reward, labelled_at)
        )
        INSERT INTO ground_truth AS g (model, request_id, label, value, reward, labelled_at, source, received_at)
        SELECT $1, request_id, CASE WHEN has_label THEN label END, CASE WHEN has_value THEN value END, CASE WHEN has_reward THEN reward END,
               labelled_at, $10, clock_timestamp()
          FROM input
        ON CONFLICT (model, request_id) DO UPDATE
            SET label = COALESCE(EXCLUDED.label, g.label),
                value = CASE WHEN EXCLUDED.label IS NULL THEN g.value ELSE EXCLUDED.value END,
                reward = COALESCE(EXCLUDED.reward, g.reward),
                labelled_at = EXCLUDED.labelled_at, received_at = clock_timestamp(), source = EXCLUDED.source, revisions = g.revisions + 1
            WHERE (EXCLUDED.label IS NOT NULL AND (g.label, g.value) IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.value))
               OR (EXCLUDED.reward IS NOT NULL AND g.reward IS DISTINCT FROM EXCLUDED.reward)
        RETURNING request_id, (xmax = 0) AS inserted
        """

    /// Writes and commits `rows`; returns each row's outcome, in the order given.
    public func write(_ rows: [Row], source: Source) async throws -> [Outcome] {
        guard !rows.isEmpty else { return [] }
        let plan = Self.plan(rows)
        let found: [String: [String: Bool]] = try await client.withConnection { c in
            try c.transaction { c in
                var found: [String: [String: Bool]] = [:]
                for (model, indices) in plan.byModel {
                    let batch = indices.map { rows[$0] }
                    let result = try c.query(
                        Self.upsertSQL,
                        [
                            model, batch.map(\.requestID), batch.map { $0.label ?? "" }, batch.map { $0.label != nil }, batch.map { $0.value ?? 0 },
                            batch.map { $0.value != nil }, batch.map { $0.reward ?? 0 }, batch.map { $0.reward != nil }, batch.map(\.labelledAt),
                            source.rawValue
                        ], name: "ground_truth.upsert")
                    var m: [String: Bool] = [:]
                    for r in result { m[try r.string("request_id")] = try r.bool("inserted") }
                    found[model] = m
                }
                return found
            }
        }
        return rows.indices.map { i in
            if plan.superseded.contains(i) { return .duplicate }
            switch found[rows[i].model]?[rows[i].requestID] {
            case true?: return .stored
            case false?: return .replaced
            case nil: return .duplicate
            }
        }
    }

    /// The rows to send per model, each (model, request id) once — its last occurrence — and the indices of the
    /// earlier occurrences (one statement cannot update a row twice).
    static func plan(_ rows: [Row]) -> (byModel: [(String, [Int])], superseded: Set<Int>) {
        var last: [String: [String: Int]] = [:]
        var order: [String] = []
        for (i, r) in rows.enumerated() {
            if last[r.model] == nil { order.append(r.model) }
            last[r.model, default: [:]][r.requestID] = i
        }
        var superseded = Set<Int>()
        for (i, r) in rows.enumerated() where last[r.model]?[r.requestID] != i { superseded.insert(i) }
        // each model's rows in request-id order: two concurrent writers lock shared rows in the same order (no deadlock)
        return (order.map { m in (m, (last[m] ?? [:]).sorted { $0.key < $1.key }.map(\.value)) }, superseded)
    }
}
