import DriftCapture
import DriftCore
import DriftStore
import Foundation
import Hummingbird

/// The HTTP capture endpoints, for a KServe InferenceService's `logger.url` (or a Knative trigger):
///
/// - `POST /v1/capture` — one CloudEvent in binary mode (`ce-*` headers, the payload as body), structured mode
///   (`Content-Type: application/cloudevents+json`) or a batch (`application/cloudevents-batch+json`);
///   `?model=M` overrides the model the event names.
/// - `POST /v1/capture/batch` — JSON Lines, answered per line: structured KServe/Seldon CloudEvents, Azure ML
///   data collector records or SageMaker capture records (each line's format is detected).
///
/// Answers: 200 `{"accepted": n, "rejected": [...]}` once the events are committed; 400 with
/// `{"error": "<path> <problem>"}` for a malformed event; 401 without the bearer token (when one is set);
/// 404 with the configured models for an unknown model; 413 for a body over the limit; 503 with
/// `Retry-After` when the buffer is full or the database fails. Good events of a batch are kept when a
/// neighbour is bad.
public struct CaptureRoutes: Sendable {
    public struct Options: Sendable {
        public var maxBodyBytes = 16 << 20
        /// Bearer token required from clients (nil: no authentication).
        public var token: String?
        public init() {}
    }

    let capture: ServingCapture
    let buffer: CaptureBuffer
    let options: Options

    public init(capture: ServingCapture, buffer: CaptureBuffer, options: Options) {
        self.capture = capture
        self.buffer = buffer
        self.options = options
    }

    public func add(to router: Router<BasicRequestContext>) {
        router.post("/v1/capture") { request, _ in await self.single(request) }
        router.post("/v1/capture/batch") { request, _ in await self.lines(request) }
    }

    // MARK: handlers

    func single(_ request: Request) async -> Response {
        if let denied = authorize(request) { return denied }
        let body: Data
        switch await read(request) { case .success(let b): body = b; case .failure(let r): return r }
        let model = request.uri.queryParameters.get("model")
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        var events: [Result<InferenceCloudEvent, CaptureDecodeError>] = []
        do {
            if contentType.hasPrefix("application/cloudevents-batch+json") {
                events = try InferenceCloudEvent.batch(body)
            } else if contentType.hasPrefix("application/cloudevents+json") {
                events = [.success(try InferenceCloudEvent.structured(body))]
            } else {
                events = [.success(try InferenceCloudEvent.binary(headers: request.headers.map { ($0.name.rawName, $0.value) }, body: body))]
            }
        } catch let e as CaptureDecodeError {
            return json(.badRequest, .object([("error", .string(e.description)), ("path", .string(e.path))]))
        } catch {
            return json(.badRequest, .object([("error", .string("\(error)"))]))
        }
        var accepted: [CaptureEvent] = []
        var rejected: [JSONValue] = []
        var keys: [String] = []
        var sampledOut = 0, duplicates = 0
        var unknown: ServingCapture.UnknownModel?
        var perModel: [String: (Int, Int, String)] = [:]
        for (i, item) in events.enumerated() {
            let label = events.count == 1 ? nil : "[\(i)]"
            switch item {
            case .failure(let e):
                rejected.append(.object([("event", .string(label ?? "")), ("error", .string(e.description))]))
            case .success(let ce):
                do {
                    let r = try capture.events(from: ce, model: model)
                    accepted += r.events
                    keys.append(r.dedupeKey)
                    sampledOut += r.sampledOut
                    if r.duplicate { duplicates += 1 }
                    WorkerMetrics.recordCaptureDropped(model: r.model, sampled: r.sampledOut, duplicates: r.duplicate ? 1 : 0)
                    for reason in r.rejected { rejected.append(.object([("event", .string(label ?? ce.id)), ("error", .string(reason))])) }
                    var c = perModel[r.model] ?? (0, 0, r.format)
                    c.0 += r.events.count
                    c.1 += r.rejected.count
                    perModel[r.model] = c
                } catch let e as ServingCapture.UnknownModel {
                    unknown = e
                    rejected.append(.object([("event", .string(label ?? ce.id)), ("error", .string(e.description))]))
                } catch let e as CaptureDecodeError {
                    rejected.append(.object([("event", .string(label ?? ce.id)), ("error", .string(e.description)), ("path", .string(e.path))]))
                } catch {
                    rejected.append(.object([("event", .string(label ?? ce.id)), ("error", .string("\(error)"))]))
                }
            }
        }
        if accepted.isEmpty && sampledOut == 0 && duplicates == 0 {
            if let unknown, events.count == 1 {
                return json(.notFound, .object([("error", .string(unknown.description)), ("models", .array(unknown.configured.map { .string($0) }))]))
            }
            if !rejected.isEmpty {
                return json(.badRequest, .object([("accepted", .int(0)), ("error", rejected.count == 1 ? Self.message(rejected[0]) : .string("no event was accepted")),
                                                  ("rejected", .array(rejected))]))
            }
        }
        if let failure = await commit(accepted) { return failure }
        capture.remember(keys)
        for (m, c) in perModel { WorkerMetrics.recordCapture(model: m, format: c.2, accepted: c.0, rejected: c.1) }
        return json(.ok, .object([("accepted", .int(accepted.count)), ("rejected", .array(rejected)),
                                  ("sampled_out", .int(sampledOut)), ("duplicates", .int(duplicates))]))
    }

    func lines(_ request: Request) async -> Response {
        if let denied = authorize(request) { return denied }
        let body: Data
        switch await read(request) { case .success(let b): body = b; case .failure(let r): return r }
        let model = request.uri.queryParameters.get("model")
        var accepted: [CaptureEvent] = []
        var results: [JSONValue] = []
        var keys: [String] = []
        var rejectedLines = 0
        for (n, raw) in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = n + 1
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                let record = try CaptureLineDecoder.decode(Data(raw), limits: capture.limits)
                let r = try capture.events(from: record, model: model)
                accepted += r.events
                keys.append(r.dedupeKey)
                WorkerMetrics.recordCaptureDropped(model: r.model, sampled: r.sampledOut, duplicates: r.duplicate ? 1 : 0)
                WorkerMetrics.recordCapture(model: r.model, format: r.format, accepted: r.events.count, rejected: r.rejected.count)
                var fields: [(String, JSONValue)] = [("line", .int(line)), ("accepted", .int(r.events.count))]
                if !r.rejected.isEmpty { fields.append(("rejected", .array(r.rejected.map { .string($0) }))) }
                if r.sampledOut > 0 { fields.append(("sampled_out", .int(r.sampledOut))) }
                if r.duplicate { fields.append(("duplicate", .bool(true))) }
                results.append(.object(fields))
            } catch {
                rejectedLines += 1
                results.append(.object([("line", .int(line)), ("accepted", .int(0)), ("error", .string("\(error)"))]))
            }
        }
        if let failure = await commit(accepted) { return failure }
        capture.remember(keys)
        return json(.ok, .object([("accepted", .int(accepted.count)), ("rejected_lines", .int(rejectedLines)), ("lines", .array(results))]))
    }

    // MARK: helpers

    func commit(_ events: [CaptureEvent]) async -> Response? {
        do {
            try await buffer.submit(events)
            return nil
        } catch let e as CaptureBuffer.Full {
            return json(.serviceUnavailable, .object([("error", .string(e.description))]), headers: [.retryAfter: "1"])
        } catch {
            return json(.serviceUnavailable, .object([("error", .string("the events could not be stored: \(error)"))]), headers: [.retryAfter: "5"])
        }
    }

    enum Read { case success(Data), failure(Response) }

    func read(_ request: Request) async -> Read {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > options.maxBodyBytes {
            return .failure(tooLarge())
        }
        do {
            let buffer = try await request.body.collect(upTo: options.maxBodyBytes)
            return .success(Data(buffer.readableBytesView))
        } catch {
            return .failure(tooLarge())
        }
    }

    func tooLarge() -> Response {
        json(.contentTooLarge, .object([("error", .string("the body is larger than the \(options.maxBodyBytes) bytes allowed"))]))
    }

    func authorize(_ request: Request) -> Response? {
        guard let token = options.token else { return nil }
        let given = request.headers[.authorization] ?? ""
        let expected = "Bearer " + token
        // constant-time comparison of equal-length strings
        let a = Array(given.utf8), b = Array(expected.utf8)
        var diff = a.count ^ b.count
        for i in 0..<min(a.count, b.count) { diff |= Int(a[i] ^ b[i]) }
        if diff == 0 { return nil }
        return json(.unauthorized, .object([("error", .string("a valid bearer token is required (Authorization: Bearer …)"))]),
                    headers: [.wwwAuthenticate: "Bearer"])
    }

    static func message(_ v: JSONValue) -> JSONValue {
        if case .object(let pairs) = v, let e = pairs.first(where: { $0.0 == "error" }) { return e.1 }
        return v
    }

    func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: value.rendered() + "\n")))
    }
}
