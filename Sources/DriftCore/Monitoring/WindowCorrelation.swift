import DriftStats

/// Correlation drift in worker checks: the Pearson correlation matrix of a monitor's numeric input features over a
/// window's sampled events, against the reference's matrix, by the same BLAS path as `compare`
/// (`CorrelationSupport`: rows with every feature present, at least three of them; `Correlation.matrix`).
///
/// Only input features take part: when requests and responses are captured apart, outputs are sampled from
/// response events, so their values are not row-aligned with the inputs' and a cross correlation would be noise.
enum WindowCorrelation {
    /// The figure, or the sentence saying why a window has none (stored in `drift_runs.correlation.unavailable`).
    enum Result: Sendable, Equatable {
        case figure(CorrelationDrift)
        case unavailable(String)
    }

    /// The numeric input features of `m`, in configuration order.
    static func names(_ m: MonitorConfig) -> [String] {
        m.features.filter { f in
            guard f.kind == .numeric else { return false }
            if case .output = f.source { return false }
            return true
        }.map(\.name)
    }

    /// The correlation matrix of `m`'s numeric inputs over `sample` (row-major, `names(m)` order), or nil when there
    /// are fewer than two such features or fewer than three events with all of them present.
    static func matrix(_ m: MonitorConfig, sample: WindowSample) -> [Double]? {
        let names = names(m)
        let layout = FeatureLayout(m)
        let columns = names.compactMap { n in layout.numeric.firstIndex(of: n).flatMap { $0 < sample.numeric.count ? sample.numeric[$0] : nil } }
        // the inputs come from the same sampled events; never index past a shorter column
        guard columns.count == names.count, let n = columns.first?.count, columns.allSatisfy({ $0.count == n }) else { return nil }
        return CorrelationSupport.matrix(columns)
    }

    /// The window's correlation drift against `reference` (its stored matrix restricted to the numeric inputs).
    static func compare(_ m: MonitorConfig, sample: WindowSample, reference: ReferenceProfile) -> Result {
        let names = names(m)
        guard names.count >= 2 else {
            return .unavailable("fewer than two numeric input features (\(names.count))")
        }
        guard let ref = CorrelationSupport.submatrix(reference.correlation, names: reference.correlationNames, keep: names) else {
            return .unavailable(
                "the reference profile has no correlation matrix of the numeric inputs (fewer than three reference rows with all of them present)")
        }
        guard let cur = matrix(m, sample: sample) else {
            return .unavailable("fewer than three sampled events in the window have every numeric input present")
        }
        guard let drift = CorrelationDrift.between(reference: ref, current: cur, names: names) else {
            return .unavailable("no pair of numeric inputs has a defined correlation on both sides (constant columns)")
        }
        return .figure(drift)
    }
}
