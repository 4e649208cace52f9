import ArgumentParser
import DriftCore
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a current dataset with a reference, feature by feature.",
        discussion: """
            Inputs are CSV (header row) or JSON Lines files; --reference may also be a profile built by \
            `drift-worker profile`. Exit status: 0 whether or not drift is found (3 with --fail-on-drift \
            when it is); 2 bad input (an unreadable or malformed file, a usage error).
            """)

    enum OutputFormat: String, ExpressibleByArgument { case table, json }

    @Option(help: "Reference data: CSV, JSON Lines, or a profile file.") var reference: String
    @Option(help: "Current data: CSV or JSON Lines.") var current: String
    @Option(help: "Output: table (default on a terminal) or json (default otherwise).") var format: OutputFormat?
    @Flag(help: "Exit with status 3 when the dataset drifts.") var failOnDrift = false
    @Option(help: "Also write the visual drift report (one self-contained HTML file) here.") var html: String?
    @Option(help: "Largest sample kept per numeric feature of a CSV/JSON Lines reference (uniform reservoir above it).")
    var sampleCap = 200_000
    @OptionGroup var featureOptions: FeatureOptions

    func validate() throws {
        guard sampleCap >= 100 else { throw ValidationError("--sample-cap must be at least 100 (got \(sampleCap)).") }
    }
    @OptionGroup var statistics: StatisticsOptions

    func run() throws {
        let report: CompareReport
        do {
            report = try Comparison.run(
                referencePath: reference, currentPath: current, format: featureOptions.inputFormat,
                selection: featureOptions.selection, settings: statistics.settings, sampleCap: sampleCap,
                nonNumeric: featureOptions.nonNumeric)
        } catch let error as CompareError {
            Terminal.fail(error.description)
            throw ExitStatus.badInput
        }
        if let html {
            try ReportCommand.write(.comparison(report.result, reference: reference, current: current, settings: statistics.settings), to: html)
            Terminal.info("wrote the drift report to \(html)")
        }
        let chosen = format ?? (Terminal.stdoutIsTerminal ? .table : .json)
        switch chosen {
        case .json: print(report.json().rendered())
        case .table: print(report.table(), terminator: "")
        }
        if failOnDrift && report.result.drifted { throw ExitStatus.driftFound }
    }
}

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Precompute a reference profile (sorted samples, bins, category counts, correlations) into a binary file.",
        discussion: "Exit status: 0 the profile was written; 2 bad input (an unreadable or malformed file, a usage error).")

    @Option(help: "Reference data: CSV or JSON Lines.") var reference: String
    @Option(help: "Where to write the profile.") var out: String
    @Option(help: "Largest sample kept per numeric feature (uniform reservoir above it).") var sampleCap = 200_000
    @Option(help: "Seed for the reservoir sample.") var seed: UInt64 = 0x5EED_D21F
    @OptionGroup var featureOptions: FeatureOptions

    func validate() throws {
        guard sampleCap >= 100 else { throw ValidationError("--sample-cap must be at least 100 (got \(sampleCap)).") }
    }

    func run() throws {
        do {
            let profile = try ProfileBuilder.build(
                path: reference, format: featureOptions.inputFormat, selection: featureOptions.selection, sampleCap: sampleCap, seed: seed,
                nonNumeric: featureOptions.nonNumeric)
            try ProfileFile.write(profile, to: out)
            Terminal.info(
                "wrote \(out): \(profile.numeric.count) numeric and \(profile.categorical.count) categorical features from \(profile.rowCount) rows")
        } catch let error as CompareError {
            Terminal.fail(error.description)
            throw ExitStatus.badInput
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print versions of drift-worker and its native libraries.",
        discussion: "drift-worker --version prints only drift-worker's version. Exit status: 0; 2 on a usage error.")
    func run() throws { print(BuildInfo.describe()) }
}
