import DriftCapture
import DriftCommon
import DriftCore
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOPosix
import Tracing

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
        /// Every size, count and time limit of the boundary (see `CaptureLimits`).
        public var limits = CaptureLimits()
        /// Seconds a request body may take to arrive (408 after).
        public var readTimeout: Double = 30
        /// Bearer token required from clients (nil: no authentication).
        public var token: String?
        public init() {}
    }

    let capture: ServingCapture
    let buffer: CaptureBuffer
    let options: Options
    let refusals: RefusalLog
    /// Where `POST /v1/labels` stores ground truth (nil: the route is not served).
    let labels: GroundTruthWriter?

    public init(
        capture: ServingCapture, buffer: CaptureBuffer, options: Options, labels: GroundTruthWriter? = nil,
        logger: Logger = Logger(label: "drift-worker")
    ) {
        var capture = capture
        capture.limits = options.limits  // one set of limits for the HTTP layer and the decoders
        self.capture = capture
        self.buffer = buffer
        self.options = options
        self.labels = labels
        self.refusals = RefusalLog(logger: logger)
    }

    public func add(to router: Router<BasicRequestContext>) {
        router.post(RouterPath(CaptureAuth.Paths.single)) { request, _ in
            await Self.traced(request, route: CaptureAuth.Paths.single) { await self.single(request, span: $0) }
        }
        router.post(RouterPath(CaptureAuth.Paths.batch)) { request, _ in
            await Self.traced(request, route: CaptureAuth.Paths.batch) { await self.lines(request, span: $0) }
        }
        // the token in the path, for loggers that only take a URL; the pattern, never the token, is the route label
        router.post(RouterPath(CaptureAuth.Paths.singleWithToken)) { request, _ in
            await Self.traced(request, route: CaptureAuth.Paths.singleWithToken) { await self.single(request, span: $0) }
        }
        router.post(RouterPath(CaptureAuth.Paths.batchWithToken)) { request, _ in
            await Self.traced(request, route: CaptureAuth.Paths.batchWithToken) { await self.lines(request, span: $0) }
        }
        if labels != nil {
            router.post(RouterPath(CaptureAuth.Paths.labels)) { request, _ in
                await Self.traced(request, route: CaptureAuth.Paths.labels) { _ in await self.labels(request) }
            }
        }
    }

    // MARK: tracing

    /// Runs a capture handler in a server span `POST <route>` that continues the caller's trace: the W3C
    /// `traceparent`/`tracestate` headers (a KServe CloudEvent carries them as headers) are extracted by the
    /// bootstrapped instrument. Attributes: `http.request.method`, `http.route` (the pattern, never a path token),
    /// `http.response.status_code`, and from the handler the models, formats and counts (`setCounts`). No header
    /// value, token, query or body is recorded. With tracing off (the default) this is the no-op tracer.
    static func traced(_ request: Request, route: String, _ handler: (any Span) async -> Response) async -> Response {
        var context = InstrumentationContext.topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &context, using: HTTPFieldsExtractor())
        return await withSpan("POST \(route)", context: context, ofKind: .server) { span in
            span.attributes["http.request.method"] = "POST"
            span.attributes["http.route"] = route
            let response = await handler(span)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    /// Reads the propagation headers of a request (names are case-insensitive in `HTTPFields`).
    struct HTTPFieldsExtractor: Extractor {
        func extract(key name: String, from headers: HTTPFields) -> String? {
            guard let field = HTTPField.Name(name) else { return nil }
            return headers[field]
        }
    }

    /// What a decoded request brings to its span: `drift.capture.models` and `drift.capture.formats` (the distinct
    /// values, sorted), `drift.capture.accepted` and `drift.capture.rejected` (events).
    static func setCounts(_ tally: Tally, on span: (any Span)?) {
        guard let span else { return }
        let models = Set(tally.perModel.keys).union(tally.reasons.map { $0.model }).sorted()
        let formats = Set(tally.perModel.values.map { $0.format }).union(tally.reasons.map { $0.format }).sorted()
        span.attributes["drift.capture.models"] = models
        span.attributes["drift.capture.formats"] = formats
        span.attributes["drift.capture.accepted"] = tally.accepted.count
        span.attributes["drift.capture.rejected"] = tally.rejected.count
    }

    // MARK: handlers

    func single(_ request: Request, span: (any Span)? = nil) async -> Response {
        let now = Date()
        let body: Data
        switch await authorizedBody(request) {
        case .success(let b): body = b
        case .failure(let r): return r
        }
        let query = (
            model: request.uri.queryParameters.get("model").map { String($0) }, kind: request.uri.queryParameters.get("kind").map { String($0) }
        )
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let headerPairs = request.headers.map { ($0.name.rawName, $0.value) }
        let (capture, limits) = (self.capture, options.limits)
        let decoded = await Self.offload {
            Self.decodeSingle(body: body, contentType: contentType, headers: headerPairs, query: query, capture: capture, limits: limits, now: now)
        }
        let tally: Tally
        switch decoded {
        case .refused(let e): return refused(e)
        case .decoded(let t): tally = t
        case .feedback(let labels): return await storeFeedback(labels)
        case .refusedFeedback(let e): return refused(e, counted: .labels)
        }
        Self.setCounts(tally, on: span)
        if tally.accepted.isEmpty && tally.sampledOut == 0 && tally.duplicates == 0 && tally.otherComponent == 0, let first = tally.firstError {
            tally.count()
            log(first)
            if let unknown = tally.unknown, tally.records == 1 {
                return json(.notFound, .object([("error", .string(unknown.description)), ("models", .array(unknown.configured.map { .string($0) }))]))
            }
            return json(
                status(first.reason),
                .object([
                    ("accepted", .int(0)), ("error", tally.rejected.count == 1 ? .string(first.description) : .string("no event was accepted")),
                    ("reason", .string(first.reason.rawValue)), ("rejected", .array(tally.rejected))
                ]))
        }
        if let failure = await commit(tally.accepted) { return failure }
        tally.committed(capture)
        tally.firstError.map(log)
        return json(
            .ok,
            .object([
                ("accepted", .int(tally.accepted.count)), ("rejected", .array(tally.rejected)),
                ("sampled_out", .int(tally.sampledOut)), ("duplicates", .int(tally.duplicates)),
                ("other_component", .int(tally.otherComponent))
            ]))
    }

    /// A request decoded (or refused whole); a Seldon feedback event brings ground-truth labels instead of events.
    enum Decoded: Sendable {
        case decoded(Tally), refused(CaptureDecodeError), feedback([GroundTruthLabel]), refusedFeedback(CaptureDecodeError)
    }

    /// Decoding is CPU work sized by the body: it runs on NIO's thread pool, not on the cooperative threads that
    /// also answer `/healthz` and commit — a few large requests must not starve the probes.
    static func offload(_ work: @escaping @Sendable () -> Decoded) async -> Decoded {
        await offload(work, shuttingDown: .refused(shuttingDown))
    }

    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T, shuttingDown: T) async -> T {
        do { return try await NIOThreadPool.singleton.runIfActive(work) } catch { return shuttingDown }
    }

    static let shuttingDown = CaptureDecodeError(path: "server", problem: "is shutting down; retry", reason: .unavailable)

    /// `POST /v1/capture`: one or more records — CloudEvents (binary, structured, batch) or an OIP protobuf message
    /// (Seldon Core v2) — decoded one at a time, so a request over the row limit is refused as soon as it is.
    static func decodeSingle(
        body: Data, contentType: String, headers: [(String, String)], query: (model: String?, kind: String?),
        capture: ServingCapture, limits: CaptureLimits, now: Date
    ) -> Decoded {
        var pending: [Result<InferenceCloudEvent, CaptureDecodeError>] = []
        var tally = Tally(limits: limits, now: now)
        func take(_ record: () throws -> CapturedInference, label: String?) {
            var id = label ?? ""
            do {
                let r = try record()
                if label == nil { id = String(r.pairingID.prefix(64)) }
                tally.add(try capture.events(from: r, model: query.model, now: now), label: id)
            } catch let e as ServingCapture.UnknownModel {
                tally.unknown = e
                tally.reject(id, typed(e))
            } catch {
                tally.reject(id, typed(error))
            }
            tally.records += 1
        }
        do {
            do {
                if let labels = try feedback(body: body, headers: headers, model: query.model, capture: capture, limits: limits, now: now) {
                    return .feedback(labels)
                }
            } catch { return .refusedFeedback(typed(error)) }
            if OIPProtobufDecoder.isProtobuf(headers: headers, body: body) {
                take({ try CapturedInference(protobuf: body, headers: headers, kind: query.kind, limits: limits) }, label: nil)
            } else if contentType.hasPrefix("application/cloudevents-batch+json") {
                pending = try InferenceCloudEvent.batch(body, limits: limits)
            } else if contentType.hasPrefix("application/cloudevents+json") {
                let ce = try InferenceCloudEvent.structured(body, limits: limits)
                take({ try CapturedInference(ce, limits: limits) }, label: nil)
            } else {
                let ce = try InferenceCloudEvent.binary(headers: headers, body: body)
                take({ try CapturedInference(ce, limits: limits) }, label: nil)
            }
        } catch {
            return .refused(typed(error))
        }
        for (i, item) in pending.enumerated() {
            switch item {
            case .failure(let e):
                tally.reject("[\(i)]", e)
                tally.records += 1
            case .success(let ce): take({ try CapturedInference(ce, limits: limits) }, label: "[\(i)]")
            }
            if let over = tally.overLimit() { return .refused(over) }
        }
        if let over = tally.overLimit() ?? tally.overDays() { return .refused(over) }
        return .decoded(tally)
    }

    func lines(_ request: Request, span: (any Span)? = nil) async -> Response {
        let now = Date()
        let body: Data
        switch await authorizedBody(request) {
        case .success(let b): body = b
        case .failure(let r): return r
        }
        let model = request.uri.queryParameters.get("model").map { String($0) }
        let (capture, limits) = (self.capture, options.limits)
        let decoded = await Self.offload { Self.decodeLines(body: body, model: model, capture: capture, limits: limits, now: now) }
        let tally: Tally
        switch decoded {
        case .refused(let e): return refused(e)
        case .decoded(let t): tally = t
        case .feedback, .refusedFeedback:
            return refused(CaptureDecodeError(path: "body", problem: "holds feedback; send it to POST /v1/capture", reason: .unsupported))
        }
        Self.setCounts(tally, on: span)
        if let failure = await commit(tally.accepted) { return failure }
        tally.committed(capture)
        tally.firstError.map(log)
        return json(
            .ok, .object([("accepted", .int(tally.accepted.count)), ("rejected_lines", .int(tally.rejectedLines)), ("lines", .array(tally.lines))]))
    }

    /// `POST /v1/capture/batch`: JSON Lines, each line one record or a JSON array of them (KServe's logger writing
    /// to storage), answered per record; the row limit is checked after every record.
    static func decodeLines(body: Data, model: String?, capture: ServingCapture, limits: CaptureLimits, now: Date) -> Decoded {
        var tally = Tally(limits: limits, now: now)
        func refuse(_ error: Error, line: Int) {
            let e = typed(error)
            tally.rejectedLines += 1
            tally.reject("line \(line)", e)
            tally.lines.append(
                .object([("line", .int(line)), ("accepted", .int(0)), ("error", .string(e.description)), ("reason", .string(e.reason.rawValue))]))
        }
        for (n, raw) in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = n + 1
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                for decoded in try CaptureLineDecoder.records(Data(raw), limits: limits) {
                    do {
                        let r = try capture.events(from: decoded.get(), model: model, now: now)
                        let before = tally.rejected.count
                        let kept = tally.add(r, label: "line \(line)")
                        var fields: [(String, JSONValue)] = [("line", .int(line)), ("accepted", .int(kept))]
                        if tally.rejected.count > before { fields.append(("rejected", .array(Array(tally.rejected[before...]).map(Self.message)))) }
                        if r.sampledOut > 0 { fields.append(("sampled_out", .int(r.sampledOut))) }
                        if r.duplicate { fields.append(("duplicate", .bool(true))) }
                        tally.lines.append(.object(fields))
                    } catch {
                        refuse(error, line: line)
                    }
                    if let over = tally.overLimit() { return .refused(over) }
                }
            } catch {
                refuse(error, line: line)
            }
            if let over = tally.overLimit() { return .refused(over) }
        }
        if let over = tally.overDays() { return .refused(over) }
        return .decoded(tally)
    }

    /// What one request brings: the events to commit, the refusals with their reasons, and the counts — checked
    /// against the per-request limits as it grows.
    struct Tally: Sendable {
        let limits: CaptureLimits
        let now: Date
        var accepted: [CaptureEvent] = []
        var keys: [ServingCapture.DedupeKey] = []
        var rejected: [JSONValue] = []
        var reasons: [(model: String, format: String, reason: CaptureDecodeError.Reason)] = []
        var firstError: CaptureDecodeError?
        var unknown: ServingCapture.UnknownModel?
        var sampledOut = 0, duplicates = 0, otherComponent = 0, rows = 0
        /// Records seen (`POST /v1/capture`); per-line answers and rejected lines (`/v1/capture/batch`).
        var records = 0
        var lines: [JSONValue] = []
        var rejectedLines = 0
        var perModel: [String: (accepted: Int, format: String)] = [:]

        init(limits: CaptureLimits, now: Date) {
            self.limits = limits
            self.now = now
        }

        /// Adds a record's events, each checked by `CaptureEventCheck`; returns how many were kept.
        @discardableResult
        mutating func add(_ r: ServingCapture.Result, label: String) -> Int {
            rows += r.events.count + r.rejected.count + r.sampledOut + r.otherComponent
            if let k = r.dedupeKey { keys.append(k) }
            sampledOut += r.sampledOut
            if r.duplicate { duplicates += 1 }
            WorkerMetrics.recordCaptureDropped(
                model: r.model, sampled: r.sampledOut, duplicates: r.duplicate ? 1 : 0, otherComponent: r.otherComponent)
            otherComponent += r.otherComponent
            for reason in r.rejected {
                reject(label, CaptureDecodeError(path: "row", problem: reason, reason: .invalidValue), model: r.model, format: r.format)
            }
            var kept = 0
            for e in r.events {
                if let p = CaptureEventCheck.problem(e, limits: limits, now: now, categoricalNames: r.categoricalNames) {
                    reject(label, p, model: r.model, format: r.format)
                } else {
                    accepted.append(e)
                    kept += 1
                }
            }
            perModel[r.model, default: (0, r.format)].accepted += kept
            return kept
        }

        mutating func reject(_ label: String, _ e: CaptureDecodeError, model: String = "unknown", format: String = "unknown") {
            rows += 1
            if firstError == nil { firstError = e }
            reasons.append((model, format, e.reason))
            rejected.append(
                .object([
                    ("event", .string(String(label.prefix(64)))), ("error", .string(e.description)), ("path", .string(e.path)),
                    ("reason", .string(e.reason.rawValue))
                ]))
        }

        /// A request with more rows than allowed is refused whole (413), before more is decoded.
        func overLimit() -> CaptureDecodeError? {
            rows > limits.maxRowsPerRequest
                ? CaptureDecodeError(
                    path: "body", problem: "holds more than the \(limits.maxRowsPerRequest) rows accepted per request (--max-rows)", reason: .tooLarge
                )
                : nil
        }

        /// Events spread over more UTC days than allowed are refused whole (413): each day is a partition.
        func overDays() -> CaptureDecodeError? {
            let days = CaptureEventCheck.days(accepted).count
            return days > limits.maxDaysPerRequest
                ? CaptureDecodeError(
                    path: "body",
                    problem:
                        "has events on \(days) different days; at most \(limits.maxDaysPerRequest) are accepted per request (--max-days-per-request)",
                    reason: .tooLarge)
                : nil
        }

        /// Counts the refusals (once the request is answered).
        func count() {
            for r in reasons { WorkerMetrics.recordCaptureRejected(model: r.model, format: r.format, reason: r.reason.rawValue) }
        }

        /// After the commit: remembers the records for deduplication and counts everything.
        func committed(_ capture: ServingCapture) {
            capture.remember(keys)
            for (m, c) in perModel { WorkerMetrics.recordCapture(model: m, format: c.format, accepted: c.accepted, rejected: 0) }
            count()
        }
    }

    // MARK: helpers

    /// Any error of decoding as a typed refusal (the decoders throw only `CaptureDecodeError`; anything else is malformed input).
    static func typed(_ error: Error) -> CaptureDecodeError {
        if let e = error as? CaptureDecodeError { return e }
        if let e = error as? ServingCapture.UnknownModel { return CaptureDecodeError(path: "model", problem: e.description, reason: .unknownModel) }
        return CaptureDecodeError(path: "body", problem: "\(error)", reason: .malformed)
    }

    func status(_ reason: CaptureDecodeError.Reason) -> HTTPResponse.Status { HTTPResponse.Status(code: reason.status) }

    /// A whole request refused: counted by reason, logged at most once per reason per minute, answered with the
    /// reason's status and `{"error", "path", "reason"}`.
    func refused(_ e: CaptureDecodeError, counted: Counted = .capture) -> Response {
        counted.record(reason: e.reason)
        log(e)
        return json(
            status(e.reason), .object([("error", .string(e.description)), ("path", .string(e.path)), ("reason", .string(e.reason.rawValue))]),
            headers: e.reason == .unavailable ? [.retryAfter: "1"] : [:])
    }

    func refused(_ response: Response, reason: CaptureDecodeError.Reason, counted: Counted = .capture) -> Response {
        counted.record(reason: reason)
        refusals.log(reason: reason, message: "capture request refused", detail: "\(response.status.code)")
        return response
    }

    /// Which family counts a request refused whole: `drift_capture_events_total` (capture) or `drift_labels_total` (labels).
    enum Counted: Sendable {
        case capture, labels
        func record(reason: CaptureDecodeError.Reason) {
            switch self {
            case .capture: WorkerMetrics.recordCaptureRejected(model: "unknown", format: "unknown", reason: reason.rawValue)
            case .labels: WorkerMetrics.recordLabelsRejected(model: "unknown", reason: reason.rawValue)
            }
        }
    }

    func log(_ e: CaptureDecodeError) { refusals.log(reason: e.reason, message: "capture refused", detail: e.description) }

    /// Submits the events and waits for their commit, in a child span `drift.capture.store` of the request's span
    /// (`drift.capture.events`); the wait includes the group commit the buffer batches them into.
    func commit(_ events: [CaptureEvent]) async -> Response? {
        do {
            try await withSpan("drift.capture.store") { span in
                span.attributes["drift.capture.events"] = events.count
                try await buffer.submit(events)
            }
            return nil
        } catch let e as CaptureBuffer.TooLarge {
            return refused(CaptureDecodeError(path: "body", problem: e.description, reason: .tooLarge))
        } catch let e as CaptureBuffer.Full {
            WorkerMetrics.recordCaptureRejected(
                model: "unknown", format: "unknown", reason: CaptureDecodeError.Reason.unavailable.rawValue, count: events.count)
            return json(
                .serviceUnavailable, .object([("error", .string(e.description)), ("reason", .string("unavailable"))]), headers: [.retryAfter: "1"])
        } catch {
            WorkerMetrics.recordCaptureRejected(
                model: "unknown", format: "unknown", reason: CaptureDecodeError.Reason.unavailable.rawValue, count: events.count)
            return json(
                .serviceUnavailable, .object([("error", .string("the events could not be stored: \(error)")), ("reason", .string("unavailable"))]),
                headers: [.retryAfter: "5"])
        }
    }

    enum Read { case success(Data), failure(Response) }

    /// The body of an authorized request (`authorize`, then `read`), or the answer that refuses it.
    func authorizedBody(_ request: Request, counted: Counted = .capture) async -> Read {
        if let denied = authorize(request) { return .failure(refused(denied, reason: .unauthorized, counted: counted)) }
        return await read(request, counted: counted)
    }

    /// The body, bounded: `Content-Length` over the limit is refused before reading; the stream is collected up
    /// to the limit within `readTimeout` (a slow or endless body gets 408); header fields over their total size
    /// get 431; `Content-Encoding: gzip` is decompressed within `maxDecompressedBytes` and the ratio cap.
    func read(_ request: Request, counted: Counted = .capture) async -> Read {
        let limits = options.limits
        var headerBytes = 0
        for f in request.headers { headerBytes += f.name.rawName.utf8.count + f.value.utf8.count + 4 }
        if headerBytes > limits.maxHeaderBytes {
            return .failure(
                refused(
                    CaptureDecodeError(
                        path: "headers", problem: "take \(headerBytes) bytes; at most \(limits.maxHeaderBytes) are accepted (--max-header-bytes)",
                        reason: .tooLarge),
                    counted: counted
                ).with(status: .requestHeaderFieldsTooLarge))
        }
        if let text = request.headers[.contentLength] {
            guard let length = Int(text.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                return .failure(
                    refused(CaptureDecodeError(path: "Content-Length", problem: "is not a byte count", reason: .malformed), counted: counted))
            }
            if length > limits.maxBodyBytes { return .failure(tooLarge(counted: counted)) }
        }
        let max = limits.maxBodyBytes
        let timeout = options.readTimeout
        let collected: Data?
        do { collected = try await Self.collect(request, upTo: max, within: timeout) } catch {
            return .failure(tooLarge(counted: counted))
        }
        guard var body = collected else {
            return .failure(
                refused(
                    CaptureDecodeError(path: "body", problem: "did not arrive within \(Int(timeout)) s (--read-timeout)", reason: .malformed),
                    counted: counted
                ).with(status: .requestTimeout))
        }
        switch request.headers[.contentEncoding]?.lowercased().trimmingCharacters(in: .whitespaces) {
        case nil, "", "identity": break
        case "gzip", "x-gzip":
            do {
                body = try BoundedGunzip.decompress(body, maxBytes: limits.maxDecompressedBytes, maxRatio: limits.maxDecompressionRatio)
            } catch let e as CaptureDecodeError {
                return .failure(refused(e, counted: counted))
            } catch {
                return .failure(
                    refused(CaptureDecodeError(path: "body", problem: "is not a valid gzip stream", reason: .malformed), counted: counted))
            }
        case let other?:
            return .failure(
                refused(
                    CaptureDecodeError(
                        path: "Content-Encoding", problem: "is \"\(other.prefix(40))\"; gzip and identity are accepted", reason: .unsupported),
                    counted: counted
                )
                .with(status: .unsupportedMediaType))
        }
        return .success(body)
    }

    func tooLarge(counted: Counted = .capture) -> Response {
        refused(
            CaptureDecodeError(
                path: "body", problem: "is larger than the \(options.limits.maxBodyBytes) bytes allowed (--max-body-bytes)", reason: .tooLarge),
            counted: counted)
    }

    func authorize(_ request: Request) -> Response? {
        let credentials = CaptureAuth.Credentials(
            authorization: request.headers[.authorization],
            query: request.uri.queryParameters.get("token"),
            path: CaptureAuth.pathToken(request.uri.path))
        let problem: String
        switch CaptureAuth(token: options.token).decide(credentials) {
        case .allowed: return nil
        case .missing: problem = "no token was given"
        case .wrong: problem = "the token given is not the one configured"
        }
        return json(
            .unauthorized,
            .object([("error", .string("a valid bearer token is required (Authorization: Bearer T, ?token=T or /v1/capture/t/T): \(problem)"))]),
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

extension CaptureRoutes {
    /// The request body, at most `max` bytes (more throws), or nil when it has not all arrived within `timeout`
    /// seconds: a slow client holds nothing longer than that.
    static func collect(_ request: Request, upTo max: Int, within timeout: Double) async throws -> Data? {
        try await withThrowingTaskGroup(of: Data?.self) { group in
            group.addTask { Data(try await request.body.collect(upTo: max).readableBytesView) }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
