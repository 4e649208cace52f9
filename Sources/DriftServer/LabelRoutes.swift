import DriftCapture
import DriftCommon
import DriftCore
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/labels`: ground-truth labels of captured requests, JSON Lines (`GroundTruthDecoder`: drift-worker's
/// `{"request_id", "label" | "value", "time"?, "model"?}` or SageMaker's ground-truth records), `?model=M` for lines that
/// name no model. Served with the capture endpoints, with the same token, body, gzip, JSON and row limits.
///
/// Every line is answered: `{"line": n, "outcome": "stored" | "replaced" | "duplicate"}` or `{"line": n, "outcome":
/// "rejected", "error", "reason"}`; with the totals `stored`, `replaced`, `duplicates`, `rejected_lines`. A bad line never
/// costs its neighbours: 200 once the good lines have committed. When no line was taken, the first refusal's status
/// (400, 404 for a model no monitor watches, 413) with the same body. 503 with `Retry-After` when the database fails:
/// nothing of the request was stored, send it again (a resent label is a `duplicate`).
extension CaptureRoutes {
    func labels(_ request: Request) async -> Response {
        guard let writer = labels else { return json(.notFound, .object([("error", .string("labels are not served here"))])) }
        let now = Date()
        let body: Data
        switch await authorizedBody(request, counted: .labels) {
        case .success(let b): body = b
        case .failure(let r): return r
        }
        let model = request.uri.queryParameters.get("model").map { String($0) }
        let (models, limits) = (Set(capture.models), options.limits)
        let decoded = await Self.offload(
            { Self.decodeLabels(body: body, model: model, models: models, limits: limits, now: now) }, shuttingDown: .failure(Self.shuttingDown))
        let batch: LabelBatch
        switch decoded {
        case .failure(let e): return refused(e, counted: .labels)
        case .success(let b): batch = b
        }
        for r in batch.refusals { WorkerMetrics.recordLabelsRejected(model: r.model, reason: r.error.reason.rawValue) }
        if batch.labels.isEmpty, let first = batch.refusals.first {
            log(first.error)
            return json(status(first.error.reason), batch.answer(outcomes: []))
        }
        let outcomes: [GroundTruthWriter.Outcome]
        do {
            outcomes = try await writer.write(batch.labels.map { $0.row(now: now) }, source: .http)
        } catch {
            return labelsUnavailable(error, count: batch.labels.count)
        }
        for (m, o) in zip(batch.labels.map(\.model), outcomes) { WorkerMetrics.recordLabels(model: m, outcome: o.rawValue, count: 1) }
        batch.refusals.first.map { log($0.error) }
        return json(.ok, batch.answer(outcomes: outcomes))
    }

    /// A Seldon Core v1 feedback event in binary mode (`ce-type: io.seldon.serving.feedback`, see `SeldonFeedback`): its
    /// labels, for the model `?model=` names or the monitor whose role rules name `ce-inferenceservicename` (else a
    /// model of that name); nil for any other request. Refused (400) when labels are not served here.
    static func feedback(
        body: Data, headers: [(String, String)], model: String?, capture: ServingCapture, limits: CaptureLimits, now: Date
    ) throws -> [GroundTruthLabel]? {
        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name }.map { $0.1.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard header("ce-type") == SeldonFeedback.type else { return nil }
        let service = header("ce-inferenceservicename")
        guard let name = model ?? capture.model(forService: service), capture.models.contains(name) else {
            let named = model.map { "?model=\($0.prefix(64))" } ?? service.map { "'\($0.prefix(64))' (ce-inferenceservicename)" }
            throw CaptureDecodeError(
                path: "model",
                problem: (named.map { "no monitor watches \($0)" } ?? "the feedback names no model (no ce-inferenceservicename, no ?model=)")
                    + "; configured models: \(capture.models.joined(separator: ", "))", reason: .unknownModel)
        }
        guard let id = header("ce-requestid") ?? header("ce-id") else {
            throw CaptureDecodeError(path: "ce-requestid", problem: "header is missing: a feedback pairs with its prediction by the Seldon-Puid")
        }
        var time: Date?
        if let t = header("ce-time") {
            guard let d = RFC3339.parse(t) else { throw CaptureDecodeError(path: "ce-time", problem: "is \"\(t.prefix(80))\", not an RFC 3339 time") }
            time = d
        }
        return try SeldonFeedback.labels(body, requestID: id, model: name, time: time, limits: limits, now: now)
    }

    /// PostgreSQL failed while storing `count` labels: nothing of the request is stored; 503 with `Retry-After`, the
    /// labels counted as rejected (`unavailable`), as `commit` answers captured events in the same case.
    func labelsUnavailable(_ error: Error, count: Int) -> Response {
        WorkerMetrics.recordLabelsRejected(model: "unknown", reason: CaptureDecodeError.Reason.unavailable.rawValue, count: count)
        return json(
            .serviceUnavailable, .object([("error", .string("the labels could not be stored: \(error)")), ("reason", .string("unavailable"))]),
            headers: [.retryAfter: "5"])
    }

    /// Stores a Seldon feedback's labels: 200 `{"labels": {"stored", "replaced", "duplicates"}}` once committed.
    func storeFeedback(_ batch: [GroundTruthLabel]) async -> Response {
        guard let writer = labels else {
            return refused(
                CaptureDecodeError(
                    path: "ce-type", problem: "is \"\(SeldonFeedback.type)\": ground truth is not stored by this server", reason: .unsupported))
        }
        let now = Date()
        let outcomes: [GroundTruthWriter.Outcome]
        do { outcomes = try await writer.write(batch.map { $0.row(now: now) }, source: .seldonFeedback) } catch {
            return labelsUnavailable(error, count: batch.count)
        }
        for (label, o) in zip(batch, outcomes) { WorkerMetrics.recordLabels(model: label.model, outcome: o.rawValue, count: 1) }
        let count = { (o: GroundTruthWriter.Outcome) in outcomes.count { $0 == o } }
        return json(
            .ok,
            .object([
                ("accepted", .int(0)),
                ("labels", .object([("stored", .int(count(.stored))), ("replaced", .int(count(.replaced))), ("duplicates", .int(count(.duplicate)))]))
            ]))
    }

    /// The labels of a JSON Lines body and the refused lines, or the whole request refused (more lines than
    /// `maxRowsPerRequest`: 413). Blank lines are skipped; a line's model must be one a monitor watches.
    static func decodeLabels(body: Data, model: String?, models: Set<String>, limits: CaptureLimits, now: Date) -> Result<
        LabelBatch, CaptureDecodeError
    > {
        var batch = LabelBatch()
        var line = 0
        for raw in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            line += 1
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            if batch.labels.count + batch.refusals.count >= limits.maxRowsPerRequest {
                return .failure(
                    CaptureDecodeError(
                        path: "body", problem: "holds more than the \(limits.maxRowsPerRequest) labels accepted per request (--max-rows)",
                        reason: .tooLarge))
            }
            do {
                let label = try GroundTruthDecoder.record(Data(raw), model: model, limits: limits, now: now)
                guard models.contains(label.model) else {
                    throw CaptureDecodeError(
                        path: "model",
                        problem:
                            "'\(label.model.prefix(64))' is watched by no monitor; configured models: \(models.sorted().joined(separator: ", "))",
                        reason: .unknownModel)
                }
                batch.labels.append(label)
                batch.lines.append(line)
            } catch {
                let e = typed(error)
                let named = model.flatMap { models.contains($0) ? $0 : nil } ?? "unknown"
                batch.refusals.append((line, e, named))
            }
        }
        return .success(batch)
    }

    /// A labels request decoded: the labels with their line numbers, and the refused lines.
    struct LabelBatch: Sendable {
        var labels: [GroundTruthLabel] = []
        var lines: [Int] = []
        var refusals: [(line: Int, error: CaptureDecodeError, model: String)] = []

        /// The answer: totals and every line's outcome, in line order.
        func answer(outcomes: [GroundTruthWriter.Outcome]) -> JSONValue {
            var perLine: [(Int, JSONValue)] = zip(lines, outcomes).map { ($0, .object([("line", .int($0)), ("outcome", .string($1.rawValue))])) }
            for r in refusals {
                perLine.append(
                    (
                        r.line,
                        .object([
                            ("line", .int(r.line)), ("outcome", .string("rejected")), ("error", .string(r.error.description)),
                            ("reason", .string(r.error.reason.rawValue))
                        ])
                    ))
            }
            perLine.sort { $0.0 < $1.0 }
            let count = { (o: GroundTruthWriter.Outcome) in outcomes.count { $0 == o } }
            return .object([
                ("stored", .int(count(.stored))), ("replaced", .int(count(.replaced))), ("duplicates", .int(count(.duplicate))),
                ("rejected_lines", .int(refusals.count)), ("lines", .array(perLine.map(\.1)))
            ])
        }
    }
}
