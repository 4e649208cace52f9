import Foundation

/// Every limit of the capture boundary, in one place. Each is a flag of `serve` / `ingest-server` (and of
/// `ingest` where it applies), documented in the README's *Limits* table, and each refusal is a 4xx naming the
/// limit: 413 for sizes and counts, 400 for malformed values. Sizes that come from the input (shapes, lengths,
/// counts) are checked with overflow-reporting arithmetic before anything is allocated for them.
public struct CaptureLimits: Sendable, Equatable {
    /// Largest request body as received (413 above).
    public var maxBodyBytes = 16 << 20
    /// Largest body after `Content-Encoding: gzip` (413 above).
    public var maxDecompressedBytes = 64 << 20
    /// Largest ratio of decompressed to compressed bytes (a gzip bomb is refused with 413 long before it expands).
    public var maxDecompressionRatio = 200
    /// Deepest nesting of JSON arrays and objects (400 above).
    public var maxJSONDepth = 64
    /// Largest number of JSON strings, arrays and objects in one document (numbers are stored packed and
    /// are bounded by the body size); bounds the memory a parsed body takes (413 above).
    public var maxJSONNodes = 1_000_000
    /// Largest number of rows (inferences) in one request or one capture record (413 above).
    public var maxRowsPerRequest = 10_000
    /// Largest number of elements in one tensor (413 above).
    public var maxElements = 1_000_000
    /// Largest number of tensor elements in one request, all tensors together (413 above).
    public var maxElementsPerRequest = 2_000_000
    /// Longest request id, model name, model version, component and other identifier, in UTF-8 bytes (400 above).
    public var maxIDBytes = 256
    /// Longest categorical value or BYTES element that is stored, in UTF-8 bytes (400 above).
    public var maxStringBytes = 4_096
    /// How far in the past an event's time may lie (seconds; 400 above), unless `acceptTimeFrom` is set.
    public var maxEventAge: TimeInterval = 7 * 86_400
    /// How far in the future an event's time may lie (seconds of clock skew; 400 above).
    public var maxEventLead: TimeInterval = 86_400
    /// When set, the earliest event time accepted (a backfill import of older traffic); replaces `maxEventAge`.
    public var acceptTimeFrom: Date?
    /// Largest number of distinct UTC days the events of one request fall on (each day is a partition; 413 above).
    public var maxDaysPerRequest = 8
    /// Largest total size of the request's header fields, in bytes (431 above).
    public var maxHeaderBytes = 64 << 10

    public init() {}

    /// The limits of `drift-worker ingest` (a backfill import of files): any time from 1970 to a day ahead of now
    /// (older data is the point of a backfill; what PostgreSQL and the partitions cannot hold is still refused).
    public static var fileImport: CaptureLimits {
        var l = CaptureLimits()
        l.acceptTimeFrom = Date(timeIntervalSince1970: 0)
        return l
    }

    /// Checks an event time against the accepted range at `now`; nil when it is accepted, else the problem.
    public func timeProblem(_ t: Date, now: Date) -> String? {
        guard t.timeIntervalSince1970.isFinite else { return "is not a finite time" }
        let earliest = acceptTimeFrom ?? now.addingTimeInterval(-maxEventAge)
        let latest = now.addingTimeInterval(maxEventLead)
        if t < earliest {
            return "is \(RFC3339.format(t)), before the earliest time accepted (\(RFC3339.format(earliest)); "
                + (acceptTimeFrom == nil
                    ? "--max-event-age \(Int(maxEventAge)) s; import older traffic with --accept-time-from" : "--accept-time-from") + ")"
        }
        if t > latest { return "is \(RFC3339.format(t)), more than \(Int(maxEventLead)) s ahead of this server's clock (--max-event-lead)" }
        return nil
    }
}
