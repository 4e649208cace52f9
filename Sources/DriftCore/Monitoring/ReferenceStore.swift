import DriftCapture
import DriftStats
import DriftStore
import Foundation
import NIOConcurrencyHelpers

/// Reference profiles per monitor and reference version, built once and kept in
/// `reference_profiles`; later checks load them.
public final class ReferenceStore: Sendable {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unreadable(monitor: String, path: String, reason: String)
        case empty(monitor: String, what: String)

        public var description: String {
            switch self {
            case .unreadable(let monitor, let path, let reason): return "monitor \(monitor): the reference file \(path) cannot be used (\(reason))."
            case .empty(let monitor, let what): return "monitor \(monitor): the reference \(what) has no events; choose another reference window."
            }
        }
    }

    /// Relative reference paths are resolved against this directory (the config file's).
    public let baseDirectory: String
    /// References already resolved by this process: files by path, size and modification time; fixed windows by version.
    private let cache = FileProfileCache()
    /// Performance baselines already fitted by this process, by monitor, configuration and reference version.
    let baselines = NIOLockedValueBox([String: PerformanceBaseline]())

    public init(baseDirectory: String) { self.baseDirectory = baseDirectory }

    /// The profile for a monitor's reference, for the window being checked (rolling references move with it).
    public func profile(for m: MonitorConfig, window: TimeWindow, on c: PGConnection) throws -> (ReferenceProfile, version: String) {
        switch m.reference {
        case .file(let path):
            let full = path.hasPrefix("/") ? path : "\(baseDirectory)/\(path)"
            let attributes = try? FileManager.default.attributesOfItem(atPath: full)
            let stamp = "\(m.name)|\(full)|\(attributes?[.size] ?? 0)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
            if let hit = cache.get(stamp) { return hit }
            guard let data = FileManager.default.contents(atPath: full) else {
                throw Failure.unreadable(monitor: m.name, path: full, reason: "no such file")
            }
            let resolved = try fileProfile(m, full: full, data: data, on: c)
            cache.set(stamp, resolved)
            return resolved
        case .window(let w):
            // a fixed window's profile never changes once stored: decode it (and its tensors) once per process
            let key = "\(m.name)|" + Self.trafficVersion(m, w)
            if let hit = cache.get(key) { return hit }
            let resolved = try fromTraffic(m, w, on: c)
            cache.set(key, resolved)
            return resolved
        case .rolling(let offset):
            let w = TimeWindow(start: window.start.addingTimeInterval(-offset.seconds), end: window.end.addingTimeInterval(-offset.seconds))
            return try fromTraffic(m, w, on: c)
        }
    }

    private func fileProfile(_ m: MonitorConfig, full: String, data: Data, on c: PGConnection) throws -> (ReferenceProfile, version: String) {
        let version = "file:" + Self.hash(data) + ":" + Self.hash(Data(Self.featureSpec(m).utf8))
        if let stored = try load(m, version: version, on: c) { return (stored, version) }
        let profile: ReferenceProfile
        do {
            profile = try ProfileBuilder.build(path: full, format: nil, selection: Self.selection(m))
        } catch let e as TableError {
            throw Failure.unreadable(monitor: m.name, path: full, reason: e.description)
        } catch let e as CompareError {
            throw Failure.unreadable(monitor: m.name, path: full, reason: e.description)
        }
        try store(m, version: version, profile: profile, on: c)
        return (profile, version)
    }

    private func fromTraffic(_ m: MonitorConfig, _ w: TimeWindow, on c: PGConnection) throws -> (ReferenceProfile, version: String) {
        let version = Self.trafficVersion(m, w)
        if var stored = try load(m, version: version, on: c) {
            stored.tensors = try loadTensors(m, version: version, on: c)
            if stored.correlationNames.isEmpty, WindowCorrelation.names(m).count >= 2 {
                // stored before worker checks computed correlation drift: derive the matrix once, store it with the profile
                let sample = try WindowSample.load(c, monitor: m, window: w)
                if let matrix = WindowCorrelation.matrix(m, sample: sample) {
                    (stored.correlationNames, stored.correlation) = (WindowCorrelation.names(m), matrix)
                    try c.query(
                        "UPDATE reference_profiles SET profile = $3::bytea WHERE monitor = $1 AND version = $2",
                        [m.name, version, try ProfileCodec.encode(stored)], name: "reference.add_correlation")
                }
            }
            return (stored, version)
        }
        let sample = try WindowSample.load(c, monitor: m, window: w)
        guard sample.count > 0 else { throw Failure.empty(monitor: m.name, what: "window \(w)") }
        let layout = FeatureLayout(m)
        let numeric = layout.numeric.enumerated().map { i, name in
            ReferenceProfile.numericFeature(
                name: name, values: sample.numeric[i], sampleCap: ReferenceProfile.defaultSampleCap,
                seed: ReferenceProfile.defaultSeed)
        }
        let categorical = layout.categorical.enumerated().map { i, name in
            let s = CategoricalSample(values: sample.categorical[i])
            return ReferenceProfile.CategoricalFeature(name: name, counts: s.counts, missing: s.missing)
        }
        var profile = ReferenceProfile(
            source: "traffic \(w)", rowCount: sample.count, sampleCap: ReferenceProfile.defaultSampleCap,
            seed: ReferenceProfile.defaultSeed, numeric: numeric, categorical: categorical,
            correlationNames: [], correlation: [], featureNames: m.features.map(\.name))
        if let matrix = WindowCorrelation.matrix(m, sample: sample) {
            (profile.correlationNames, profile.correlation) = (WindowCorrelation.names(m), matrix)
        }
        // tensors: the projection, component samples, reconstruction band and MMD sample, fitted once
        for (t, slots) in layout.tensors.enumerated() where sample.tensors[t].rows >= 2 {
            let feature = m.features.first { $0.name == slots.name }!
            do {
                profile.tensors.append(try TensorReference.fit(name: slots.name, reference: sample.tensors[t], settings: feature.tensor))
            } catch let e as HighDimensionalError {
                throw Failure.unreadable(monitor: m.name, path: "window \(w)", reason: e.description)
            }
        }
        try store(m, version: version, profile: profile, on: c)
        if !profile.tensors.isEmpty {
            try c.query(
                """
                INSERT INTO reference_profiles (monitor, version, format, profile) VALUES ($1, $2, $3, $4::bytea)
                ON CONFLICT (monitor, version) DO NOTHING
                """, [m.name, version + "#tensors", Self.tensorFormat, try JSONEncoder().encode(profile.tensors)], name: "reference.store_tensors")
        }
        return (profile, version)
    }

    /// The tensor references stored beside a profile (JSON, format 1001).
    static let tensorFormat = 1001

    private func loadTensors(_ m: MonitorConfig, version: String, on c: PGConnection) throws -> [TensorReference] {
        guard
            let row = try c.query(
                "SELECT profile FROM reference_profiles WHERE monitor = $1 AND version = $2",
                [m.name, version + "#tensors"], name: "reference.load_tensors"
            ).first
        else { return [] }
        return try JSONDecoder().decode([TensorReference].self, from: row.bytes("profile"))
    }

    private func load(_ m: MonitorConfig, version: String, on c: PGConnection) throws -> ReferenceProfile? {
        guard
            let row = try c.query(
                "SELECT profile FROM reference_profiles WHERE monitor = $1 AND version = $2",
                [m.name, version], name: "reference.load"
            ).first
        else { return nil }
        return try ProfileCodec.decode(row.bytes("profile"))
    }

    private func store(_ m: MonitorConfig, version: String, profile: ReferenceProfile, on c: PGConnection) throws {
        try c.query(
            """
            INSERT INTO reference_profiles (monitor, version, format, profile) VALUES ($1, $2, $3, $4::bytea)
            ON CONFLICT (monitor, version) DO NOTHING
            """, [m.name, version, Int(ProfileCodec.version), try ProfileCodec.encode(profile)], name: "reference.store")
    }

    static func trafficVersion(_ m: MonitorConfig, _ w: TimeWindow) -> String {
        "window:\(PGTimeText.iso(w.start))/\(PGTimeText.iso(w.end)):" + hash(Data(featureSpec(m).utf8))
    }

    static func selection(_ m: MonitorConfig) -> FeatureSelection {
        FeatureSelection(
            features: m.features.filter { $0.kind != .tensor }.map(\.name),
            categorical: Set(m.features.filter { $0.kind == .categorical }.map(\.name)),
            numeric: Set(m.features.filter { $0.kind == .numeric }.map(\.name)))
    }

    static func featureSpec(_ m: MonitorConfig) -> String {
        m.features.map { f in
            f.kind == .tensor ? "\(f.name):tensor\(f.shape):\(f.tensor)" : "\(f.name):\(f.kind.rawValue)"
        }.joined(separator: ",")
    }

    static func hash(_ data: Data) -> String { StableHash.hex(data) }
}

/// Resolved file references, shared by the checks of one process.
private final class FileProfileCache: Sendable {
    private let entries = NIOLockedValueBox([String: (ReferenceProfile, String)]())
    func get(_ key: String) -> (ReferenceProfile, version: String)? { entries.withLockedValue { $0[key].map { ($0.0, $0.1) } } }
    func set(_ key: String, _ value: (ReferenceProfile, version: String)) { entries.withLockedValue { $0[key] = (value.0, value.version) } }
}
