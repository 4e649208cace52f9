import Foundation

/// One captured inference event, as stored in `capture_events`.
public struct CaptureEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case request, response, paired }
    public enum Role: String, Sendable { case champion, challenger, unknown }

    public var model: String
    public var modelVersion: String
    public var role: Role
    public var requestID: String
    public var kind: Kind
    /// When the serving path observed the event (UTC).
    public var observedAt: Date
    /// Uniform in [0, 1); drawn at write time when nil.
    public var sampleKey: Double?
    /// Numeric features in the monitor's feature order (NaN = missing).
    public var numeric: [Double]
    /// Categorical features in the monitor's feature order (nil = missing).
    public var categorical: [String?]
    /// The raw payload as JSON text, when kept.
    public var payload: String?

    public init(
        model: String, modelVersion: String = "", role: Role = .champion, requestID: String = "", kind: Kind = .paired,
        observedAt: Date, sampleKey: Double? = nil, numeric: [Double] = [], categorical: [String?] = [], payload: String? = nil
    ) {
        self.model = model
        self.modelVersion = modelVersion
        self.role = role
        self.requestID = requestID
        self.kind = kind
        self.observedAt = observedAt
        self.sampleKey = sampleKey
        self.numeric = numeric
        self.categorical = categorical
        self.payload = payload
    }
}
