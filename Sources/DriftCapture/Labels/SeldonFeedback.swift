import DriftCommon
import Foundation

/// Seldon Core v1 feedback as its request logger sends it: a binary-mode CloudEvent of type
/// `io.seldon.serving.feedback` (SeldonIO/seldon-core `executor/logger/worker.go`, `CEFeedback`), logged by
/// `PredictorProcess.Feedback` (`executor/predictor/predictor_process.go`) with the feedback call's `Seldon-Puid` as
/// `ce-requestid`, its body the `Feedback` message: `{"request": SeldonMessage, "response": SeldonMessage, "reward":
/// float, "truth": SeldonMessage}` (`proto/prediction.proto`).
///
/// The label pairs with the captured prediction through that id: capture stores a Seldon prediction under its
/// `ce-requestid`, so a client sends the feedback with the prediction's `Seldon-Puid` (the executor returns it as a
/// response header). A feedback call without one gets a fresh id from the executor and pairs with nothing.
///
/// `truth` is read like a captured SeldonMessage (`SeldonMessageDecoder`: `data.ndarray`, `data.tensor`,
/// `data.tftensor`, `jsonData`), each row holding one value — the label of that row — or a one-hot row over the
/// classes (one 1, the rest 0: the label is the 1's position, as Seldon's metrics-server examples send the truth of a
/// classifier whose response is a row of class probabilities). A truth of one row labels
/// `<id>`; of n > 1 rows, row k labels `<id>/<k>`, as capture names the rows of a batch. `reward` (finite) goes
/// with every row; a feedback with a reward and no truth stores the reward alone. `request` and `response` are not
/// needed: capture already holds them.
public enum SeldonFeedback {
    public static let type = "io.seldon.serving.feedback"

    /// The position of the one 1 in a row of 0s and 1s (a one-hot truth over the classes); nil for any other row.
    static func oneHot(_ row: [Scalar]) -> Int? {
        var hot: Int?
        for (i, v) in row.enumerated() {
            guard case .number(let x) = v, x == 0 || x == 1 else { return nil }
            if x == 1 {
                if hot != nil { return nil }
                hot = i
            }
        }
        return hot
    }

    /// The labels of one feedback body. `requestID` is the event's `ce-requestid` (else `ce-id`); `time` the event's
    /// `ce-time`, when the feedback was sent.
    public static func labels(_ body: Data, requestID: String, model: String, time: Date?, limits: CaptureLimits, now: Date) throws
        -> [GroundTruthLabel]
    {
        let root = try JSONValue.parse(body, path: "body", limits: limits)
        guard root.members != nil else { throw CaptureDecodeError(path: "body", problem: "is not a Seldon Feedback message (a JSON object)") }
        var reward: Double?
        if let r = root["reward"], r != .null {
            guard let x = SeldonMessageDecoder.protoDouble(r), x.isFinite else {
                throw CaptureDecodeError(path: "reward", problem: "is not a finite number")
            }
            reward = x
        }
        var values: [JSONValue] = []
        if let truth = root["truth"], truth != .null {
            let rows = try SeldonMessageDecoder.decode(truth, limits: limits).rows
            for (k, row) in rows.enumerated() {
                let scalars = row.fields.flatMap(\.values).filter { $0 != .null }
                if scalars.count > 1, let hot = oneHot(scalars) {
                    values.append(.int(hot))
                    continue
                }
                guard scalars.count == 1, let only = scalars.first else {
                    throw CaptureDecodeError(
                        path: "truth",
                        problem: "row \(k) holds \(scalars.count) values; a truth row holds one label, or a one-hot row (one 1, the rest 0)")
                }
                switch only {
                case .number(let x): values.append(.double(x))
                case .string(let s): values.append(.string(s))
                case .bool(let b): values.append(.bool(b))
                case .null: break
                }
            }
        }
        if values.isEmpty && reward == nil {
            throw CaptureDecodeError(path: "body", problem: "carries neither truth nor reward: nothing to store")
        }
        let suffix = values.count > 1 ? 1 + String(values.count - 1).utf8.count : 0
        if requestID.isEmpty { throw CaptureDecodeError(path: "ce-requestid", problem: "is empty") }
        try GroundTruthDecoder.check(requestID, field: "ce-requestid", max: limits.maxIDBytes - suffix)
        let labelTime = try time.map { try GroundTruthDecoder.time(.double($0.timeIntervalSince1970), field: "ce-time", limits: limits, now: now) }
        if values.isEmpty { return [GroundTruthLabel(model: model, requestID: requestID, label: nil, reward: reward, time: labelTime)] }
        return try values.enumerated().map { k, v in
            let (label, value) = try GroundTruthDecoder.truth(v, field: values.count > 1 ? "truth row \(k)" : "truth", limits: limits)
            return GroundTruthLabel(
                model: model, requestID: values.count > 1 ? "\(requestID)/\(k)" : requestID, label: label, value: value, reward: reward,
                time: labelTime)
        }
    }
}
