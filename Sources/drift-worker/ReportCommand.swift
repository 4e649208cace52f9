import ArgumentParser
import DriftCore
import DriftStore
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the visual drift report of a checked window: one self-contained HTML file.",
        discussion: """
            The window is --window START, or the newest checked window within --last (e.g. 24h, 7d, PT6H). The report \
            shows the verdict, the policy decision and actions, every feature's charts (distributions on the PSI bins, \
            ECDFs with the KS distance, PSI per bin, category shares with unseen categories marked), the trend of PSI \
            and KS over the recent windows, data quality and correlation drift, and for a monitor with performance: the \
            realized and estimated performance over those windows with their bands and the label coverage — all from the \
            stored results. Exit \
            status: 0 the report was written; 2 bad input (a usage error, an unknown monitor, no checked window in the \
            range, a missing or invalid monitors file, a report file that cannot be written); 1 when PostgreSQL cannot be \
            reached.
            """)

    @Option(help: "The monitor's name.") var monitor: String
    @Option(help: "Start of the window to report (ISO 8601).", transform: Timestamp.parse) var window: Timestamp?
    @Option(help: "Report the newest window checked within this long (24h, 7d, 90m or ISO 8601 like PT24H).", transform: RecentSpan.parse)
    var last: RecentSpan?
    @Option(help: "Where to write the HTML file.") var out: String
    @Option(help: "How many windows the trend charts cover.") var trendWindows = 48
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if window != nil && last != nil { throw ValidationError("give --window or --last, not both.") }
        if window == nil && last == nil { throw ValidationError("give --window START or --last DURATION (e.g. --last 24h).") }
        guard trendWindows >= 1 && trendWindows <= 2000 else { throw ValidationError("--trend-windows must be between 1 and 2000.") }
    }

    func run() async throws {
        guard let m = try configOptions.load().first(where: { $0.name == monitor }) else {
            Terminal.fail("no monitor named '\(monitor)' in \(configOptions.path)")
            throw ExitStatus.badInput
        }
        let start = window?.date
        let since = last.map { Date().addingTimeInterval(-$0.seconds) }
        let windows = trendWindows
        let report: DriftReport
        do {
            report = try await withPostgresClient(database.settings) { client in
                try await withDatabaseErrors {
                    try await client.withConnection { c in
                        try DriftReport.stored(c, monitor: m, windowStart: start, since: since, trendWindows: windows)
                    }
                }
            }
        } catch let e as DriftReport.NotFound {
            Terminal.fail(e.description)
            throw ExitStatus.badInput
        }
        try Self.write(report, to: out)
        print(
            "wrote \(out): \(m.name), window \(report.windowStart.map(PGTimeText.iso) ?? "?"), \(report.verdict) — \(report.driftedCount) of \(report.featureCount) features drifted"
        )
        if let p = report.performance { print(p.summary) }
    }

    /// Renders `report` to `path`; a file that cannot be written is one line on stderr and exit status 2.
    static func write(_ report: DriftReport, to path: String) throws {
        do { try Data(HTMLReport.render(report).utf8).write(to: URL(fileURLWithPath: path)) } catch {
            Terminal.fail("cannot write the report to \(path): \((error as NSError).localizedDescription)")
            throw ExitStatus.badInput
        }
    }
}
