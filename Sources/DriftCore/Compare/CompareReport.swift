import DriftCommon
import DriftStats
import Foundation

/// Renders a comparison for people (a table) and for machines (JSON of the documented shape).
public struct CompareReport: Sendable {
    public var result: DatasetDrift
    public var plan: ComparisonPlan
    public var referencePath: String
    public var currentPath: String
    public var settings: DriftSettings

    public init(result: DatasetDrift, plan: ComparisonPlan, referencePath: String, currentPath: String, settings: DriftSettings) {
        self.result = result
        self.plan = plan
        self.referencePath = referencePath
        self.currentPath = currentPath
        self.settings = settings
    }

    /// Features by severity: drifted first, then by PSI, then by name.
    public var sortedFeatures: [FeatureDrift] {
        result.features.sorted { a, b in
            a.severity != b.severity ? a.severity > b.severity : a.name < b.name
        }
    }

    public func json() -> JSONValue {
        let features: [JSONValue] = sortedFeatures.map { f in
            var pairs: [(String, JSONValue)] = [
                ("name", .string(f.name)),
                ("kind", .string(f.kind.rawValue)),
                ("reference_count", .int(f.referenceCount)),
                ("current_count", .int(f.currentCount)),
                ("reference_missing", .int(f.referenceMissing)),
                ("current_missing", .int(f.currentMissing)),
                (
                    "ks",
                    f.ks.map { ks in
                        .object([
                            ("statistic", .number(ks.statistic)), ("pvalue", .number(ks.pvalue)),
                            ("method", .string(ks.method.rawValue)), ("alternative", .string(settings.alternative.rawValue)),
                            ("location", .number(ks.location))
                        ])
                    } ?? .null
                ),
                ("psi", .number(f.psi)),
                ("jensen_shannon", .number(f.jensenShannon)),
                ("wasserstein_normed", f.wassersteinNormed.map { .number($0) } ?? .null),
                ("hellinger", .number(f.hellinger)),
                (
                    "chi_square",
                    f.chiSquare.map { c in
                        .object([("statistic", .number(c.statistic)), ("pvalue", .number(c.pvalue)), ("dof", .int(c.dof))])
                    } ?? .null
                ),
                ("pvalue_adjusted", f.pvalueAdjusted.map { .number($0) } ?? .null),
                ("drifted", .bool(f.drifted)),
                ("reasons", .array(f.reasons.map { .string($0) })),
                ("reference_missing_rate", .number(f.referenceMissingRate)),
                ("current_missing_rate", .number(f.currentMissingRate))
            ]
            if let unseen = f.unseenCategories {
                pairs.append(("unseen_categories", .int(unseen.count)))
                pairs.append(("unseen_category_values", .array(unseen.prefix(50).map { .string($0) })))
            }
            if let t = f.distributionTest {
                pairs.append(
                    (
                        "distribution_test",
                        .object([
                            ("test", .string(t.kind.rawValue)), ("statistic", .number(t.statistic)),
                            (
                                t.kind == .andersonDarling ? "standardized" : "dof",
                                t.kind == .andersonDarling ? .number(t.standardized) : .int(Int(t.standardized))
                            ),
                            ("pvalue", .number(t.pvalue)), ("pvalue_adjusted", t.pvalueAdjusted.map { .number($0) } ?? .null)
                        ])
                    ))
            }
            if let c = f.shareChange {
                pairs.append(
                    (
                        "share_change",
                        .object([
                            ("category", .string(c.category)), ("reference", .number(c.reference)), ("current", .number(c.current)),
                            ("change", .number(c.change)), ("pvalue", .number(c.pvalue)),
                            ("pvalue_adjusted", c.pvalueAdjusted.map { .number($0) } ?? .null)
                        ])
                    ))
            }
            if let u = f.unseen {
                pairs.append(
                    (
                        "unseen_share",
                        .object([
                            ("count", .int(u.count)), ("share", .number(u.share)), ("expected_share", .number(u.expectedShare)),
                            ("excess", .number(u.excess)), ("pvalue", .number(u.pvalue)),
                            ("pvalue_adjusted", u.pvalueAdjusted.map { .number($0) } ?? .null)
                        ])
                    ))
            }
            pairs.append(("rules_fired", .array(f.reasons.compactMap { Self.rule(of: $0).map { .string($0) } })))
            return .object(pairs)
        }
        let corr: JSONValue =
            result.correlationDrift.map { c in
                .object([
                    ("max_abs_delta", .number(c.maxAbsDelta)), ("pair", .array([.string(c.pair.0), .string(c.pair.1)])),
                    ("reference", .number(c.referenceCorrelation)), ("current", .number(c.currentCorrelation))
                ])
            } ?? .null
        return .object([
            ("features", .array(features)),
            (
                "dataset",
                .object([
                    ("feature_count", .int(result.featureCount)),
                    ("drifted_count", .int(result.driftedCount)),
                    ("drifted_share", .number(result.driftedShare)),
                    ("drifted", .bool(result.drifted)),
                    ("correlation_drift", corr),
                    ("features_only_in_reference", .array(plan.onlyInReference.map { .string($0) })),
                    ("features_only_in_current", .array(plan.onlyInCurrent.map { .string($0) }))
                ])
            ),
            (
                "settings", Self.settingsJSON(settings)
            ),
            ("reference", .string(referencePath)),
            ("current", .string(currentPath))
        ])
    }

    /// The name of the rule a reason came from — the text before its first ':' (`psi`, `ks`, `anderson_darling`, …),
    /// `missing_rate` for the missing-share rule — or nil for a note that is not a rule (`unseen categories: …`, listed
    /// beside the rules that fired).
    static func rule(of reason: String) -> String? {
        let name = reason.firstIndex(of: ":").map { String(reason[..<$0]) } ?? reason
        switch name {
        case "unseen categories": return nil
        case "missing rate": return "missing_rate"
        default: return name
        }
    }

    /// Every setting that decides a verdict, under the names the monitor configuration (`statistics:`) uses, plus the
    /// fixed parts of the rules (the tolerance of threshold comparisons, when the complementary numeric test applies),
    /// so that a stored result explains itself.
    public static func settingsJSON(_ s: DriftSettings) -> JSONValue {
        .object([
            ("binning", .string(s.binning.rawValue)), ("bins", .int(s.bins)), ("epsilon", .number(s.epsilon)),
            ("ks_method", .string(s.ksMethod.rawValue)), ("alternative", .string(s.alternative.rawValue)),
            ("alpha", .number(s.alpha)), ("correction", .string(s.correction.rawValue)),
            ("ks_threshold", .number(s.ksMinStatistic)), ("distribution_test", .bool(s.distributionTest)),
            ("psi_threshold", .number(s.psiThreshold)), ("js_threshold", .number(s.jensenShannonMin)),
            ("share_threshold", .number(s.shareThreshold)), ("unseen_share_threshold", .number(s.unseenShareThreshold)),
            ("missing_rate_increase", .number(s.missingRateIncrease)), ("dataset_drift_share", .number(s.datasetDriftShare)),
            ("threshold_tolerance", .number(1e-9)),
            (
                "distribution_test_choice",
                .object([
                    ("anderson_darling_max_tie_share", .number(DistributionTests.continuousTieShare)),
                    ("value_chi_square_max_values", .int(DistributionTests.discreteMaxValues))
                ])
            )
        ])
    }

    public func table() -> String {
        let header = ["feature", "kind", "drift", "psi", "ks D", "p (adj)", "js", "wass/σ", "missing ref→cur", "reasons"]
        var rows: [[String]] = []
        for f in sortedFeatures {
            rows.append([
                f.name, f.kind == .numeric ? "num" : "cat", f.drifted ? "DRIFT" : "ok",
                fmt(f.psi), f.ks.map { fmt($0.statistic) } ?? "-",
                f.pvalueAdjusted.map(fmtP) ?? "-", fmt(f.jensenShannon),
                f.wassersteinNormed.map(fmt) ?? "-",
                "\(pct(f.referenceMissingRate))→\(pct(f.currentMissingRate))",
                f.reasons.isEmpty ? "" : f.reasons.joined(separator: "; ")
            ])
        }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < header.count - 1 { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = "reference: \(referencePath)\ncurrent:   \(currentPath)\n\n"
        out += line(header) + "\n"
        out += line(widths.enumerated().map { i, w in String(repeating: "-", count: i == widths.count - 1 ? 7 : w) }) + "\n"
        for r in rows { out += line(r) + "\n" }
        out += "\n"
        let verdict = result.drifted ? "DRIFT" : "no drift"
        out +=
            "dataset: \(verdict) — \(result.driftedCount) of \(result.featureCount) features drifted (\(pct(result.driftedShare)); threshold \(pct(settings.datasetDriftShare)))"
        out += "\n"
        if let c = result.correlationDrift {
            out +=
                "correlation drift: max |Δr| = \(fmt(c.maxAbsDelta)) for (\(c.pair.0), \(c.pair.1)): \(fmt(c.referenceCorrelation)) → \(fmt(c.currentCorrelation))\n"
        }
        if !plan.onlyInReference.isEmpty { out += "only in reference (not compared): \(plan.onlyInReference.joined(separator: ", "))\n" }
        if !plan.onlyInCurrent.isEmpty { out += "only in current (not compared): \(plan.onlyInCurrent.joined(separator: ", "))\n" }
        return out
    }

    private func fmt(_ x: Double) -> String { x.isFinite ? String(format: "%.4f", x) : "-" }
    private func fmtP(_ x: Double) -> String { x < 1e-4 ? String(format: "%.1e", x) : String(format: "%.4f", x) }
    private func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
}
