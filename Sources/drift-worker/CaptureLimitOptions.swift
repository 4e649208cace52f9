import ArgumentParser
import DriftCapture
import DriftServer
import Foundation

/// The capture boundary's limits as flags (`serve`, `ingest-server`); defaults are `CaptureLimits`'s, documented
/// in the README's *Limits* table.
struct CaptureLimitOptions: ParsableArguments {
    @Option(help: "Largest capture request body in bytes, as received (413 above).") var maxBodyBytes = CaptureLimits().maxBodyBytes
    @Option(help: "Largest body after Content-Encoding: gzip, in bytes (413 above).") var maxDecompressedBytes = CaptureLimits().maxDecompressedBytes
    @Option(help: "Largest ratio of decompressed to compressed size (413 above).") var maxDecompressionRatio = CaptureLimits().maxDecompressionRatio
    @Option(help: "Deepest nesting of JSON arrays and objects (400 above).") var maxJsonDepth = CaptureLimits().maxJSONDepth
    @Option(help: "Most JSON values (strings, numbers, arrays, objects) in one document (413 above).") var maxJsonValues = CaptureLimits()
        .maxJSONNodes
    @Option(help: "Most rows (inferences) in one request (413 above).") var maxRows = CaptureLimits().maxRowsPerRequest
    @Option(help: "Most elements in one tensor (413 above).") var maxTensorElements = CaptureLimits().maxElements
    @Option(help: "Most tensor elements in one request (413 above).") var maxRequestElements = CaptureLimits().maxElementsPerRequest
    @Option(help: "Longest request id, model name or version, in bytes (400 above).") var maxIdBytes = CaptureLimits().maxIDBytes
    @Option(help: "Longest categorical value stored, in bytes (400 above).") var maxValueBytes = CaptureLimits().maxStringBytes
    @Option(help: "Oldest event time accepted, in seconds before now (400 beyond).") var maxEventAge = CaptureLimits().maxEventAge
    @Option(help: "Furthest event time ahead of this server's clock, in seconds (400 beyond).") var maxEventLead = CaptureLimits().maxEventLead
    @Option(help: "Accept events from this time on (ISO 8601), instead of --max-event-age: for importing older traffic.")
    var acceptTimeFrom: String?
    @Option(help: "Most distinct UTC days the events of one request may fall on (413 above).") var maxDaysPerRequest = CaptureLimits()
        .maxDaysPerRequest
    @Option(help: "Largest total size of a request's header fields, in bytes (431 above).") var maxHeaderBytes = CaptureLimits().maxHeaderBytes
    @Option(help: "Most events waiting for the group commit (503 with Retry-After when full; a request with more gets 413).")
    var bufferCapacity = CaptureBuffer.Options().capacity
    @Option(help: "Seconds a request body may take to arrive (408 after); also the idle timeout of a connection.") var readTimeout: Double = 30

    func validate() throws {
        let positive: [(String, Int)] = [
            ("--max-body-bytes", maxBodyBytes), ("--max-decompressed-bytes", maxDecompressedBytes),
            ("--max-decompression-ratio", maxDecompressionRatio), ("--max-json-depth", maxJsonDepth),
            ("--max-json-values", maxJsonValues), ("--max-rows", maxRows), ("--max-tensor-elements", maxTensorElements),
            ("--max-request-elements", maxRequestElements), ("--max-id-bytes", maxIdBytes),
            ("--max-value-bytes", maxValueBytes), ("--max-days-per-request", maxDaysPerRequest),
            ("--max-header-bytes", maxHeaderBytes), ("--buffer-capacity", bufferCapacity)
        ]
        for (flag, v) in positive where v <= 0 { throw ValidationError("\(flag) must be a positive whole number, not \(v).") }
        if maxJsonDepth > 512 { throw ValidationError("--max-json-depth must be at most 512 (the parser recurses once per level).") }
        for (flag, v) in [("--max-event-age", maxEventAge), ("--max-event-lead", maxEventLead), ("--read-timeout", readTimeout)]
        where !(v > 0 && v.isFinite) {
            throw ValidationError("\(flag) must be a positive number of seconds, not \(v).")
        }
        if let t = acceptTimeFrom, RFC3339.parse(t) == nil {
            throw ValidationError("--accept-time-from '\(t)' is not an ISO 8601 time such as 2026-11-01T00:00:00Z.")
        }
    }

    var buffer: CaptureBuffer.Options {
        var o = CaptureBuffer.Options()
        o.capacity = bufferCapacity
        o.batchSize = min(o.batchSize, bufferCapacity)
        return o
    }

    var limits: CaptureLimits {
        var l = CaptureLimits()
        l.maxBodyBytes = maxBodyBytes
        l.maxDecompressedBytes = maxDecompressedBytes
        l.maxDecompressionRatio = maxDecompressionRatio
        l.maxJSONDepth = maxJsonDepth
        l.maxJSONNodes = maxJsonValues
        l.maxRowsPerRequest = maxRows
        l.maxElements = maxTensorElements
        l.maxElementsPerRequest = maxRequestElements
        l.maxIDBytes = maxIdBytes
        l.maxStringBytes = maxValueBytes
        l.maxEventAge = maxEventAge
        l.maxEventLead = maxEventLead
        l.acceptTimeFrom = acceptTimeFrom.flatMap(RFC3339.parse)
        l.maxDaysPerRequest = maxDaysPerRequest
        l.maxHeaderBytes = maxHeaderBytes
        return l
    }
}
