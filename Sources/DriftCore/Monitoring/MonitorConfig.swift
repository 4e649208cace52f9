import DriftStats
import Foundation

/// One monitor of `monitors.yaml`: which model's traffic to watch, which features, against which
/// reference, in which windows, with which statistics and policy.
public struct MonitorConfig: Sendable, Equatable {
    public struct Feature: Sendable, Equatable {
        public enum Source: Sendable, Equatable {
            /// An input column/tensor element: by name (`key`) or position (`index`).
            case input(key: String?, index: Int?)
            /// A model output (prediction drift), by name or position.
            case output(key: String?, index: Int?)
        }
        public var name: String
        public var kind: FeatureKind
        public var source: Source
        /// A tensor's shape (e.g. [128]); empty for scalars.
        public var shape: [Int] = []
        /// How a tensor is tested.
        public var tensor = TensorSettings()

        /// Elements per event: the product of the shape (1 for scalars).
        public var size: Int { kind == .tensor ? shape.reduce(1, *) : 1 }

        public init(name: String, kind: FeatureKind, source: Source, shape: [Int] = []) {
            self.name = name
            self.kind = kind
            self.source = source
            self.shape = shape
        }
    }

    public enum Reference: Sendable, Equatable {
        /// A training snapshot file (CSV / JSON Lines, or a profile).
        case file(String)
        /// A fixed window of captured traffic.
        case window(TimeWindow)
        /// The same window shifted back by `offset` (e.g. P7D: the same hours one week earlier).
        case rolling(offset: ISODuration)

        /// For people: "file sample-data/fraud/reference.csv", "window 2026-11-24T00:00:00Z – …", "the same window P7D earlier".
        public var description: String {
            switch self {
            case .file(let path): return "file \(path)"
            case .window(let w): return "window \(PGTimeText.iso(w.start)) – \(PGTimeText.iso(w.end))"
            case .rolling(let offset): return "the same window \(offset) earlier"
            }
        }
    }

    public var name: String
    public var model: String
    public var namespace: String?
    public var versions: [String]
    public var roles: [String]
    public var schedule: WindowSchedule
    public var sampleSize: Int
    public var minSample: Int
    public var features: [Feature]
    public var reference: Reference
    public var settings: DriftSettings
    /// Per-feature overrides of the decision thresholds.
    public var overrides: [String: DriftSettings]
    public var policy: DriftPolicy
    /// How the serving-path capture treats this monitor's model.
    public var capture: CaptureOptions = CaptureOptions()
    /// The actions the policy (and shadow evaluations) can fire, by name.
    public var actions: [String: MonitorAction] = [:]
    /// How the model's performance is measured per window (nil: it is not).
    public var performance: PerformanceConfig? = nil
}

/// `capture:` of a monitor: ingest-side sampling and the rules that give captured events their role.
public struct CaptureOptions: Sendable, Equatable {
    /// A rule sets the role of the events it matches; every condition given must hold. The first matching rule wins;
    /// no match: champion.
    public struct RoleRule: Sendable, Equatable {
        public var role: String
        /// The inference service (`ce-inferenceservicename`, Azure ML endpoint) — a shadow service of its own.
        public var service: String?
        /// The model version the payload or the event names.
        public var modelVersion: String?
        /// A prefix of the event's source (`ce-source`, e.g. a canary revision's URL).
        public var sourcePrefix: String?

        public init(role: String, service: String? = nil, modelVersion: String? = nil, sourcePrefix: String? = nil) {
            self.role = role
            self.service = service
            self.modelVersion = modelVersion
            self.sourcePrefix = sourcePrefix
        }
    }

    /// Fraction of inferences kept (0 < keep ≤ 1), decided by a hash of the request id, so a request and its
    /// response are kept or dropped together, on every replica alike.
    public var keep: Double = 1
    /// Most events per second kept per replica (nil: no limit); beyond it events are counted and dropped.
    public var maxEventsPerSecond: Double? = nil
    public var roles: [RoleRule] = []
    /// The part of the serving graph whose events are captured: KServe's `ce-component` (`predictor`,
    /// `transformer`, `explainer`) or Seldon's `ce-modelid` (a graph node). nil: KServe's predictor and every Seldon
    /// node (`ServingCapture.acceptsComponent`). Events that name no component are always taken.
    public var component: String? = nil

    public init(keep: Double = 1, maxEventsPerSecond: Double? = nil, roles: [RoleRule] = [], component: String? = nil) {
        self.keep = keep
        self.maxEventsPerSecond = maxEventsPerSecond
        self.roles = roles
        self.component = component
    }
}

/// A configuration problem at a place in the file.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Why a configuration could not be loaded: every problem found, each with its line and column.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// In file order.
    public var issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) {
        self.issues = issues.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
