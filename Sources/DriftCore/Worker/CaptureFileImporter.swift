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

    /// How to read a capture file for this monitor: the bookkeeping columns as text (a request id `007` stays
    /// `007`), numeric features as numbers, categorical features as labels.
    public var readOptions: TableReadOptions {
        var types: [String: ColumnType] = [:]
        for name in ["timestamp", "observed_at", "request_id", "model_version", "role"] { types[name] = .text }
        let layout = FeatureLayout(monitor)
        for name in layout.numeric { types[name] = .numeric }
        for name in layout.categorical { types[name] = .text }
        return TableReadOptions(types: types, only: Set(types.keys), nonNumeric: .missing)
    }

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
        // numeric features were read as numbers (`readOptions`); a row with a non-numeric cell there is rejected
        var numericColumns: [[Double]?] = []
        var badRows = Set<Int>()
        var badColumn: [Int: String] = [:]
        for name in layout.numeric {
            guard let c = table.columnIndex(name) else {
                numericColumns.append(nil)
                continue
            }
            var values = (try? table.numericValues(column: c)) ?? []
            if values.count != table.rowCount {
                // read as labels (a table read without `readOptions`): parse each, a non-number rejects its row
                values = table.categoricalValues(column: c).enumerated().map { r, label in
                    guard let label else { return .nan }
                    guard let v = NumberText.parse(label) else {
                        if badRows.insert(r).inserted { badColumn[r] = name }
                        return .nan
                    }
                    return v
                }
            }
            for r in table.columns[c].nonNumeric.rows where badRows.insert(r).inserted { badColumn[r] = name }
            numericColumns.append(values)
        }
        let categoricalColumns = layout.categorical.map { name in table.columnIndex(name).map { table.categoricalValues(column: $0) } }
        var events: [CaptureEvent] = []
        events.reserveCapacity(table.rowCount)
        let now = Date()
        let iso = ISO8601DateFormatter()
        let isoFraction = ISO8601DateFormatter()
        isoFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // each distinct timestamp text parsed once (RFC 3339 by our parser, other ISO 8601 forms by Foundation's)
        var parsedTimes: [String: Date?] = [:]
        func time(_ text: String) -> Date? {
            if let known = parsedTimes[text] { return known }
            let d =
                RFC3339.parse(text) ?? iso.date(from: text) ?? isoFraction.date(from: text) ?? Double(text).map { Date(timeIntervalSince1970: $0) }
            parsedTimes[text] = d
            return d
        }
        rows: for r in 0..<table.rowCount {
            let tsText = table.text(column: tsColumn, row: r) ?? ""
            guard let when = time(tsText)
            else {
                rejected.append(
                    "\(table.source):\(table.lines[r]): column 'timestamp' holds '\(tsText.prefix(40))'; expected ISO 8601 such as 2026-11-24T10:00:00Z or epoch seconds"
                )
                continue
            }
            if let name = badColumn[r] {
                rejected.append("\(table.source):\(table.lines[r]): column '\(name)' is numeric but holds a non-number")
                continue rows
            }
            var numeric: [Double] = []
            numeric.reserveCapacity(numericColumns.count)
            for col in numericColumns {
                let v = col?[r] ?? .nan
                numeric.append(v.isFinite ? v : .nan)
            }
            func text(_ c: Int?) -> String? {
                guard let c else { return nil }
                return table.text(column: c, row: r)
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
