import DriftCapture
import DriftStore
import Foundation

/// Turns rows of a captured-traffic file (CSV or JSON Lines) into capture events for a monitor:
/// `timestamp` (ISO 8601, or seconds since the epoch) is required; `request_id`, `model_version`
/// and `role` are optional; every feature of the monitor is a column of the same name (a missing
/// column or cell is a missing value). A bad row is reported with its line and skipped; its
/// neighbours are kept.
public struct CaptureFileImporter: Sendable {
    public let monitor: MonitorConfig

    public init(monitor: MonitorConfig) { self.monitor = monitor }

    public struct Result: Sendable {
        public var events: [CaptureEvent]
        public var rejected: [String]
    }

    public func events(from table: Table) -> Result {
        var rejected: [String] = []
        guard let tsColumn = table.columnIndex("timestamp") ?? table.columnIndex("observed_at") else {
            return Result(
                events: [],
                rejected: ["\(table.source): no `timestamp` column; expected one with ISO 8601 times (2026-11-24T10:00:00Z) or epoch seconds"])
        }
        let layout = FeatureLayout(monitor)
        let req = table.columnIndex("request_id")
        let version = table.columnIndex("model_version")
        let role = table.columnIndex("role")
        var numericColumns: [[Double]?] = []
        for name in layout.numeric {
            guard let c = table.columnIndex(name) else {
                numericColumns.append(nil)
                continue
            }
            do { numericColumns.append(try table.numericValues(column: c)) } catch {
                // A column with some non-numeric cells: parse cell by cell and reject those rows.
                numericColumns.append(
                    table.cells[c].map { cell -> Double in
                        switch cell {
                        case .number(let v): return v
                        case .text(let s): return NumberText.parse(s) ?? .signalingNaN
                        case .missing: return .nan
                        }
                    })
            }
        }
        let categoricalColumns = layout.categorical.map { name in table.columnIndex(name).map { table.categoricalValues(column: $0) } }
        var events: [CaptureEvent] = []
        events.reserveCapacity(table.rowCount)
        let now = Date()
        let iso = ISO8601DateFormatter()
        let isoFraction = ISO8601DateFormatter()
        isoFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        rows: for r in 0..<table.rowCount {
            let tsText: String
            switch table.cells[tsColumn][r] {
            case .text(let s): tsText = s
            case .number(let v): tsText = String(v)
            case .missing: tsText = ""
            }
            guard let when = iso.date(from: tsText) ?? isoFraction.date(from: tsText) ?? Double(tsText).map({ Date(timeIntervalSince1970: $0) })
            else {
                rejected.append(
                    "\(table.source):\(table.lines[r]): column 'timestamp' holds '\(tsText.prefix(40))'; expected ISO 8601 such as 2026-11-24T10:00:00Z or epoch seconds"
                )
                continue
            }
            var numeric: [Double] = []
            numeric.reserveCapacity(numericColumns.count)
            for (i, col) in numericColumns.enumerated() {
                let v = col?[r] ?? .nan
                if v.isSignalingNaN {
                    rejected.append("\(table.source):\(table.lines[r]): column '\(layout.numeric[i])' is numeric but holds a non-number")
                    continue rows
                }
                numeric.append(v.isFinite ? v : .nan)
            }
            func text(_ c: Int?) -> String? {
                guard let c, case .text(let s) = table.cells[c][r] else { return nil }
                return s
            }
            let roleValue = text(role).flatMap(CaptureEvent.Role.init(rawValue:)) ?? .champion
            let event = CaptureEvent(
                model: monitor.model, modelVersion: text(version) ?? "", role: roleValue,
                requestID: text(req) ?? "", kind: .paired, observedAt: when,
                numeric: numeric, categorical: categoricalColumns.map { $0?[r] ?? nil })
            if let p = CaptureEventCheck.problem(event, limits: .fileImport, now: now) {
                rejected.append("\(table.source):\(table.lines[r]): \(p.description)")
                continue
            }
            events.append(event)
        }
        return Result(events: events, rejected: rejected)
    }
}
