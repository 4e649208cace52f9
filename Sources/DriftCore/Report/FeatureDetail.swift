import DriftStats
import Foundation

/// What a report draws for one feature, stored as `drift_feature_results.detail` (jsonb) so that the report
/// of any past window comes from the stored history, not from a recomputation.
///
/// Numeric: the PSI bins (`layout` and `edges`, see `Bins`), both proportions per bin, each bin's PSI term,
/// both ECDFs on a common grid and where the KS distance is attained. Categorical: the categories, both
/// proportions, each category's PSI term and the unseen categories.
public struct FeatureDetail: Codable, Sendable, Equatable {
    public var layout: String?
    public var edges: [Double]?
    public var categories: [String]?
    public var reference: [Double]
    public var current: [Double]
    public var psiTerms: [Double]
    public var ecdf: ECDFCurves?
    public var ksLocation: Double?
    public var unseen: [String]?
    /// A tensor feature: its projection, components, reconstruction error and MMD.
    public var tensor: TensorSummary?
    /// The tests besides KS / chi-square that the drift rules used (absent in results stored before they existed).
    public var tests: RuleTests?

    /// The complementary numeric test, the largest category share change and the never-seen share, as decided.
    public struct RuleTests: Codable, Sendable, Equatable {
        public var distributionTest: String?
        public var distributionStatistic: Double?
        public var distributionPValue: Double?
        public var distributionPValueAdjusted: Double?
        public var shareCategory: String?
        public var shareReference: Double?
        public var shareCurrent: Double?
        public var sharePValue: Double?
        public var sharePValueAdjusted: Double?
        public var unseenCount: Int?
        public var unseenShare: Double?
        public var unseenExpectedShare: Double?
        public var unseenPValue: Double?
        public var unseenPValueAdjusted: Double?

        enum CodingKeys: String, CodingKey {
            case distributionTest = "distribution_test", distributionStatistic = "distribution_statistic"
            case distributionPValue = "distribution_pvalue", distributionPValueAdjusted = "distribution_pvalue_adjusted"
            case shareCategory = "share_category", shareReference = "share_reference", shareCurrent = "share_current"
            case sharePValue = "share_pvalue", sharePValueAdjusted = "share_pvalue_adjusted", unseenCount = "unseen_count"
            case unseenShare = "unseen_share", unseenExpectedShare = "unseen_expected_share", unseenPValue = "unseen_pvalue"
            case unseenPValueAdjusted = "unseen_pvalue_adjusted"
        }

        init?(_ f: FeatureDrift) {
            guard f.distributionTest != nil || f.shareChange != nil || f.unseen != nil else { return nil }
            distributionTest = f.distributionTest?.kind.rawValue
            distributionStatistic = f.distributionTest?.statistic
            distributionPValue = f.distributionTest?.pvalue
            distributionPValueAdjusted = f.distributionTest?.pvalueAdjusted
            shareCategory = f.shareChange?.category
            shareReference = f.shareChange?.reference
            shareCurrent = f.shareChange?.current
            sharePValue = f.shareChange?.pvalue
            sharePValueAdjusted = f.shareChange?.pvalueAdjusted
            unseenCount = f.unseen?.count
            unseenShare = f.unseen?.share
            unseenExpectedShare = f.unseen?.expectedShare
            unseenPValue = f.unseen?.pvalue
            unseenPValueAdjusted = f.unseen?.pvalueAdjusted
        }
    }

    public struct TensorSummary: Codable, Sendable, Equatable {
        public var method: String
        public var dimension: Int
        public var explainedShare: Double?
        public var components: [String]
        public var componentPSI: [Double]
        public var componentKS: [Double]
        public var componentDrifted: [Bool]
        public var reconstructionError: Double?
        public var reconstructionLower: Double?
        public var reconstructionUpper: Double?
        public var mmd2: Double?
        public var mmdPValue: Double?
        public var mmdSigma: Double?
        public var mmdPermutations: Int?

        enum CodingKeys: String, CodingKey {
            case method, dimension, explainedShare = "explained_share", components, componentPSI = "component_psi", componentKS = "component_ks"
            case componentDrifted = "component_drifted", reconstructionError = "reconstruction_error", reconstructionLower = "reconstruction_lower"
            case reconstructionUpper = "reconstruction_upper", mmd2, mmdPValue = "mmd_pvalue", mmdSigma = "mmd_sigma", mmdPermutations =
                "mmd_permutations"
        }
    }

    /// A tensor's detail: per component PSI, KS and verdict (drawn as bars), reconstruction error and band, MMD.
    public init(tensor d: TensorDrift, reference ref: TensorReference?) {
        reference = []
        current = []
        psiTerms = d.components.map(\.psi)
        categories = d.components.map(\.name)
        tensor = TensorSummary(
            method: ref?.projection.method.rawValue ?? "pca", dimension: ref?.projection.dimension ?? 0,
            explainedShare: ref.map { $0.projection.method == .pca ? $0.projection.explainedShare : nil } ?? nil,
            components: d.components.map(\.name), componentPSI: d.components.map(\.psi),
            componentKS: d.components.map { $0.ks?.statistic ?? 0 }, componentDrifted: d.components.map(\.drifted),
            reconstructionError: d.reconstruction?.meanError, reconstructionLower: d.reconstruction?.band.lower,
            reconstructionUpper: d.reconstruction?.band.upper, mmd2: d.mmd?.mmd2, mmdPValue: d.mmd?.pvalue,
            mmdSigma: d.mmd?.sigma, mmdPermutations: d.mmd?.permutations)
    }

    public init(_ f: FeatureDrift) {
        layout = f.bins?.layout.rawValue
        edges = f.bins?.edges
        categories = f.categories
        reference = f.referenceProportions
        current = f.currentProportions
        psiTerms = f.psiTerms
        ecdf = f.ecdf
        ksLocation = f.ks?.location
        unseen = f.unseenCategories
        tests = RuleTests(f)
    }

    enum CodingKeys: String, CodingKey {
        case layout, edges, categories, reference, current, psiTerms = "psi_terms", ecdf, ksLocation = "ks_location", unseen, tensor, tests
    }

    /// Labels of the bins (or the categories), in order: `< 12.5`, `[12.5, 20.1)`, `≥ 98.2`, …
    public var labels: [String] {
        if let categories { return categories }
        guard let edges, let layout else { return reference.indices.map { "bin \($0 + 1)" } }
        let f = { (x: Double) in ReportFormat.number(x) }
        switch Bins.Layout(rawValue: layout) {
        case .openEnded:
            guard !edges.isEmpty else { return ["all"] }
            return ["< \(f(edges[0]))"] + (0..<max(edges.count - 1, 0)).map { "[\(f(edges[$0])), \(f(edges[$0 + 1])))" } + ["≥ \(f(edges.last!))"]
        case .closedRange:
            return (0..<max(edges.count - 1, 0)).map { i in
                i == edges.count - 2 ? "[\(f(edges[i])), \(f(edges[i + 1]))]" : "[\(f(edges[i])), \(f(edges[i + 1])))"
            }
        case .values: return edges.map(f)
        case nil: return reference.indices.map { "bin \($0 + 1)" }
        }
    }

    public func json() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: (try? e.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func parse(_ text: String) -> FeatureDetail? {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try? d.decode(FeatureDetail.self, from: Data(text.utf8))
    }
}

/// Number formatting shared by the report's tables and charts.
public enum ReportFormat {
    /// Up to 4 significant digits, no exponent for ordinary magnitudes (0.0123, 12.35, 1235, 1.2e-06).
    public static func number(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "–" : (x > 0 ? "∞" : "−∞") }
        if x == 0 { return "0" }
        let a = abs(x)
        if a >= 1e6 || a < 1e-4 { return String(format: "%.3g", x) }
        var s = String(format: a >= 1000 ? "%.0f" : "%.4g", x)
        if s.contains("."), !s.contains("e") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    public static func percent(_ x: Double) -> String { x.isFinite ? String(format: "%.1f%%", x * 100) : "–" }

    /// p-values: 3 significant digits, "< 1e-300" below double range.
    public static func pvalue(_ p: Double?) -> String {
        guard let p else { return "–" }
        if p == 0 { return "< 1e-300" }
        return p < 1e-3 ? String(format: "%.2e", p) : String(format: "%.3f", p)
    }
}
