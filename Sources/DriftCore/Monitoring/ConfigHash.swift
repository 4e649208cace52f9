import DriftStats
import DriftStore
import Foundation

/// The canonical encoding `drift_runs.config_hash` is computed over: exactly the fields of a monitor that shape its
/// results, under explicit JSON keys (written here, never derived from Swift property names; the monitors.yaml
/// names where there is one), keys sorted, numbers
/// in JSONEncoder's shortest round-trip form, durations as seconds, dates as ISO 8601 text. `namespace`, `capture`
/// and `actions` are left out: they change what is captured and fired, not what a check computes.
///
/// `performance` and `policy.on` (issue 20) are written only when a monitor has them — `performance` when configured,
/// `on` when it is not the default `drift` — so a monitor without them keeps the hash earlier releases stored, and
/// writing `on: drift` out changes nothing.
///
/// Changing a key, adding a field or changing how a value is written changes every monitor's hash: pin it in
/// `ConfigHashTests` and say so in the release notes.
struct CanonicalMonitorConfig: Encodable {
    var monitor: MonitorConfig

    /// Compact canonical JSON: keys sorted, no whitespace, `/` unescaped.
    func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // every value below is a plain string, number, bool or array of them: encoding cannot fail
        return (try? encoder.encode(self)) ?? Data()
    }

    enum Keys: String, CodingKey {
        case name, model, versions, roles, schedule, features, reference, settings, overrides, policy, performance
        case sampleSize = "sample_size", minSample = "min_sample"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        let m = monitor
        try c.encode(m.name, forKey: .name)
        try c.encode(m.model, forKey: .model)
        try c.encode(m.versions, forKey: .versions)
        try c.encode(m.roles, forKey: .roles)
        try c.encode(Schedule(m.schedule), forKey: .schedule)
        try c.encode(m.sampleSize, forKey: .sampleSize)
        try c.encode(m.minSample, forKey: .minSample)
        try c.encode(m.features.map(Feature.init), forKey: .features)
        try c.encode(Reference(m.reference), forKey: .reference)
        try c.encode(Settings(m.settings), forKey: .settings)
        // a JSON object: sortedKeys orders the features by name
        try c.encode(m.overrides.mapValues(Settings.init), forKey: .overrides)
        try c.encode(Policy(m.policy), forKey: .policy)
        // absent (not null) when not configured: the hashes of monitors without it stay those of earlier releases
        try c.encodeIfPresent(m.performance.map(Performance.init), forKey: .performance)
    }

    struct Schedule: Encodable {
        var length: Double, alignment: Double, lateness: Double
        init(_ s: WindowSchedule) { (length, alignment, lateness) = (s.length.seconds, s.alignment.seconds, s.lateness.seconds) }
        enum CodingKeys: String, CodingKey { case length = "length_seconds", alignment = "alignment_seconds", lateness = "lateness_seconds" }
    }

    struct Feature: Encodable {
        var name: String, kind: String, source: String, key: String?, index: Int?, shape: [Int], tensor: Tensor?
        init(_ f: MonitorConfig.Feature) {
            (name, kind, shape) = (f.name, f.kind.rawValue, f.shape)
            switch f.source {
            case .input(let k, let i): (source, key, index) = ("input", k, i)
            case .output(let k, let i): (source, key, index) = ("output", k, i)
            }
            tensor = f.kind == .tensor ? Tensor(f.tensor) : nil
        }
        enum CodingKeys: String, CodingKey { case name, kind, source, key, index, shape, tensor }
        // absent values are written as null, so that a key's presence never depends on the value
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(kind, forKey: .kind)
            try c.encode(source, forKey: .source)
            try c.encode(key, forKey: .key)
            try c.encode(index, forKey: .index)
            try c.encode(shape, forKey: .shape)
            try c.encode(tensor, forKey: .tensor)
        }
    }

    struct Tensor: Encodable {
        var method: String, varianceShare: Double, maxComponents: Int, seed: UInt64, reconstructionChunks: Int
        var mmdSampleSize: Int, mmdPermutations: Int, componentSampleSize: Int
        init(_ t: TensorSettings) {
            (method, varianceShare, maxComponents, seed) = (t.method.rawValue, t.varianceShare, t.maxComponents, t.seed)
            (reconstructionChunks, mmdSampleSize, mmdPermutations, componentSampleSize) =
                (t.reconstructionChunks, t.mmdSampleSize, t.mmdPermutations, t.componentSampleSize)
        }
        enum CodingKeys: String, CodingKey {
            case method, seed
            case varianceShare = "variance_share", maxComponents = "max_components", reconstructionChunks = "reconstruction_chunks"
            case mmdSampleSize = "mmd_sample_size", mmdPermutations = "mmd_permutations", componentSampleSize = "component_sample_size"
        }
    }

    struct Reference: Encodable {
        var kind: String, path: String?, start: String?, end: String?, offset: Double?
        init(_ r: MonitorConfig.Reference) {
            (path, start, end, offset) = (nil, nil, nil, nil)
            switch r {
            case .file(let p): (kind, path) = ("file", p)
            case .window(let w): (kind, start, end) = ("window", PGTimeText.iso(w.start), PGTimeText.iso(w.end))
            case .rolling(let o): (kind, offset) = ("rolling", o.seconds)
            }
        }
        enum CodingKeys: String, CodingKey { case kind, path, start, end, offset = "offset_seconds" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kind, forKey: .kind)
            try c.encode(path, forKey: .path)
            try c.encode(start, forKey: .start)
            try c.encode(end, forKey: .end)
            try c.encode(offset, forKey: .offset)
        }
    }

    struct Settings: Encodable {
        var bins: Int, epsilon: Double, binning: String, ksMethod: String, alternative: String, alpha: Double, correction: String
        var ksMinStatistic: Double, psiThreshold: Double, jensenShannonMin: Double, missingRateIncrease: Double, datasetDriftShare: Double
        var distributionTest: Bool, shareThreshold: Double, unseenShareThreshold: Double
        init(_ s: DriftSettings) {
            (bins, epsilon, binning, ksMethod, alternative) = (s.bins, s.epsilon, s.binning.rawValue, s.ksMethod.rawValue, s.alternative.rawValue)
            (alpha, correction, ksMinStatistic, psiThreshold) = (s.alpha, s.correction.rawValue, s.ksMinStatistic, s.psiThreshold)
            (jensenShannonMin, missingRateIncrease, datasetDriftShare) = (s.jensenShannonMin, s.missingRateIncrease, s.datasetDriftShare)
            (distributionTest, shareThreshold, unseenShareThreshold) = (s.distributionTest, s.shareThreshold, s.unseenShareThreshold)
        }
        enum CodingKeys: String, CodingKey {
            case bins, epsilon, binning, alternative, alpha, correction
            case ksMethod = "ks_method", ksMinStatistic = "ks_threshold", psiThreshold = "psi_threshold"
            case jensenShannonMin = "js_threshold", missingRateIncrease = "missing_rate_increase", datasetDriftShare = "dataset_drift_share"
            case distributionTest = "distribution_test", shareThreshold = "share_threshold", unseenShareThreshold = "unseen_share_threshold"
        }
    }

    struct Policy: Encodable {
        var consecutive: Int, cooldown: Double, actions: [String], on: String?
        init(_ p: DriftPolicy) {
            (consecutive, cooldown, actions) = (p.consecutive, p.cooldown.seconds, p.actions)
            on = p.trigger == .drift ? nil : p.trigger.rawValue
        }
        enum CodingKeys: String, CodingKey { case consecutive, actions, on, cooldown = "cooldown_seconds" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(consecutive, forKey: .consecutive)
            try c.encode(cooldown, forKey: .cooldown)
            try c.encode(actions, forKey: .actions)
            // absent (not null) for the default `drift`, so that hashes stored before `policy.on` existed still match
            try c.encodeIfPresent(on, forKey: .on)
        }
    }

    /// `performance:`, every field; metrics and classes in the order written, bounds as an object keyed by metric.
    struct Performance: Encodable {
        var task: String, prediction: String, threshold: Double, labelPositive: String, classes: [String]?, metrics: [String]
        var minLabels: Int, labelDelay: Double, referenceLabel: String, chunkSize: Int?, maxRows: Int, bounds: [String: Bound]
        var referenceFile: String?
        init(_ p: PerformanceConfig) {
            (task, prediction, threshold, labelPositive) = (p.task.rawValue, p.prediction, p.threshold, p.labelPositive)
            (classes, metrics, minLabels, labelDelay) = (p.classes, p.metrics.map(\.rawValue), p.minLabels, p.labelDelay.seconds)
            (referenceLabel, chunkSize, maxRows, referenceFile) = (p.referenceLabel, p.chunkSize, p.maxRows, p.referenceFile)
            bounds = Dictionary(uniqueKeysWithValues: p.bounds.map { ($0.key.rawValue, Bound(lower: $0.value.lower, upper: $0.value.upper)) })
        }
        enum CodingKeys: String, CodingKey {
            case task, prediction, threshold, classes, metrics, bounds
            case labelPositive = "label_positive", minLabels = "min_labels", labelDelay = "label_delay_seconds"
            case referenceLabel = "reference_label", chunkSize = "chunk_size", maxRows = "max_rows", referenceFile = "reference_file"
        }
        // absent values are written as null, so that a key's presence never depends on the value
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(task, forKey: .task)
            try c.encode(prediction, forKey: .prediction)
            try c.encode(threshold, forKey: .threshold)
            try c.encode(labelPositive, forKey: .labelPositive)
            try c.encode(classes, forKey: .classes)
            try c.encode(metrics, forKey: .metrics)
            try c.encode(minLabels, forKey: .minLabels)
            try c.encode(labelDelay, forKey: .labelDelay)
            try c.encode(referenceLabel, forKey: .referenceLabel)
            // only when given: the pinned hashes of blocks without it stay
            try c.encodeIfPresent(referenceFile, forKey: .referenceFile)
            try c.encode(chunkSize, forKey: .chunkSize)
            try c.encode(maxRows, forKey: .maxRows)
            // a JSON object: sortedKeys orders the metrics by name
            try c.encode(bounds, forKey: .bounds)
        }

        struct Bound: Encodable {
            var lower: Double?, upper: Double?
            enum CodingKeys: String, CodingKey { case lower, upper }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(lower, forKey: .lower)
                try c.encode(upper, forKey: .upper)
            }
        }
    }
}
