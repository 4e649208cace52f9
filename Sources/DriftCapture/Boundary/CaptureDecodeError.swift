import Foundation

/// A payload (or a request) that cannot be taken: where (a JSON path such as `inputs[0].data`, a header name),
/// what is wrong, and why in one of a small fixed set of reasons — the label of
/// `drift_capture_events_total{result="rejected",reason}` — which also gives the HTTP status.
public struct CaptureDecodeError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: String, Sendable, CaseIterable {
        /// Syntax: not JSON, not UTF-8, nested too deep, not protobuf, a header that is not a number (400).
        case malformed
        /// A value out of its range or of the wrong type, a missing field, NUL in text (400).
        case invalidValue = "invalid_value"
        /// An event time outside the accepted range (400).
        case time
        /// The body, the decompressed body, rows, elements, JSON nodes, days or an id over their limit (413).
        case tooLarge = "too_large"
        /// No monitor watches the model (404).
        case unknownModel = "unknown_model"
        /// A valid message of a kind drift-worker does not store (a Seldon feedback event, for example; 400).
        case unsupported
        /// Missing or wrong token (401).
        case unauthorized
        /// The capture buffer is full or the database failed (503; the client should retry).
        case unavailable

        /// The HTTP status of a request refused for this reason.
        public var status: Int {
            switch self {
            case .tooLarge: 413
            case .unknownModel: 404
            case .unauthorized: 401
            case .unavailable: 503
            case .malformed, .invalidValue, .time, .unsupported: 400
            }
        }
    }

    public var path: String
    public var problem: String
    public var reason: Reason

    public init(path: String, problem: String, reason: Reason = .invalidValue) {
        self.path = path
        self.problem = problem
        self.reason = reason
    }

    /// e.g. `inputs[0].data has 5 values, shape [2,3] needs 6`.
    public var description: String { "\(path) \(problem)" }
}
