import DriftStats
import DriftStore
import Foundation
import Logging

extension ReferenceStore {
    /// `performanceBaseline`, but a performance problem never stops a drift check: an unreadable labelled reference
    /// (or a failed read of a reference window's labels) is logged and the window is checked for drift without its
    /// performance. A reference that gives no band or estimate is logged when it is fitted.
    public func performanceBaselineIfUsable(
        for m: MonitorConfig, window: TimeWindow, version: String, on c: PGConnection, logger: Logger = Logger(label: "drift-worker")
    ) -> PerformanceBaseline? {
        guard m.performance != nil else { return nil }
        do {
            return try performanceBaseline(for: m, window: window, version: version, on: c, logger: logger)
        } catch {
            logger.error(
                "performance baseline unavailable; the window is checked for drift without its performance",
                metadata: ["monitor": "\(m.name)", "error": "\(error)"])
            return nil
        }
    }

    /// The performance baseline of a monitor with `performance:` (nil without): its reference's predictions and labels
    /// fitted once per process and reference version (`profile(for:window:on:)`'s version), then kept.
    ///
    /// - `performance.reference_file`, when given, replaces the monitor's reference for this (a labelled validation set).
    /// - A reference file gives the prediction feature's column and `performance.reference_label` (a file without
    ///   that column gives a baseline without bands or estimates; realized figures are still computed).
    /// - A reference window of captured traffic gives its predictions joined to their ground truth, as a window does;
    ///   a fixed window's labels are read when the process first needs them, a rolling reference's at every window.
    /// - The chunk size of the bands is `performance.chunk_size`, else the monitor's `sample_size`.
    public func performanceBaseline(
        for m: MonitorConfig, window: TimeWindow, version: String, on c: PGConnection, logger: Logger = Logger(label: "drift-worker")
    ) throws -> PerformanceBaseline? {
        guard let p = m.performance else { return nil }
        var key = "\(m.name)|\(MonitorsFile.configHash(m))|\(version)"
        if let f = p.referenceFile {
            // the labelled file's own stamp: a new file is fitted again
            let full = f.hasPrefix("/") ? f : "\(baseDirectory)/\(f)"
            let a = try? FileManager.default.attributesOfItem(atPath: full)
            key += "|\(a?[.size] ?? 0)|\((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }
        let rolling: Bool = { if case .rolling = m.reference, p.referenceFile == nil { return true } else { return false } }()
        if !rolling, let hit = baselines.withLockedValue({ $0[key] }) { return hit }
        let rows: [PredictionRow]
        let reference: MonitorConfig.Reference = p.referenceFile.map { .file($0) } ?? m.reference
        switch reference {
        case .file(let path):
            let full = path.hasPrefix("/") ? path : "\(baseDirectory)/\(path)"
            do {
                rows = try PerformanceStore.fileRows(path: full, performance: p).rows
            } catch {
                throw Failure.unreadable(monitor: m.name, path: full, reason: "\(error)")
            }
        case .window(let w):
            rows = try PerformanceStore.rows(c, monitor: m, window: w)
        case .rolling(let offset):
            let w = TimeWindow(start: window.start.addingTimeInterval(-offset.seconds), end: window.end.addingTimeInterval(-offset.seconds))
            rows = try PerformanceStore.rows(c, monitor: m, window: w)
        }
        let baseline = PerformanceBaseline(config: p, chunkSize: p.chunkSize ?? m.sampleSize, reference: rows, minPredictions: m.minSample)
        if let problem = baseline.problem {
            logger.warning(
                "performance reference: \(problem)",
                metadata: ["monitor": "\(m.name)", "reference.labelled": .stringConvertible(baseline.referenceLabels)])
        }
        if !rolling { baselines.withLockedValue { $0[key] = baseline } }
        return baseline
    }
}
