import Foundation

/// How a tensor feature (an embedding, an image's pixels, token statistics) is tested.
public struct TensorSettings: Sendable, Equatable, Codable {
    public var method = Projection.Method.pca
    /// PCA: keep the fewest components explaining this share of the variance…
    public var varianceShare = 0.9
    /// …but at most this many (also the component count of a random projection).
    public var maxComponents = 32
    public var seed: UInt64 = 0
    /// Reference chunks for the reconstruction-error band (mean ± 3σ of the chunks' mean errors).
    public var reconstructionChunks = 10
    /// Rows per side for MMD (its cost grows with the square); 0 turns MMD off.
    public var mmdSampleSize = 1000
    public var mmdPermutations = 100
    /// Reference rows kept per component for KS and PSI.
    public var componentSampleSize = 5000

    public init() {}
}

/// What the reference profile keeps of a tensor feature: the fitted projection, each component's sorted
/// reference values, the reconstruction-error band and the MMD reference sample with its bandwidth.
public struct TensorReference: Sendable, Equatable, Codable {
    public struct ReconstructionBand: Sendable, Equatable, Codable {
        /// Mean and standard deviation of the reference chunks' mean reconstruction errors.
        public var mean: Double
        public var standardDeviation: Double
        public var chunks: Int
        public var lower: Double { mean - 3 * standardDeviation }
        public var upper: Double { mean + 3 * standardDeviation }
    }

    public var name: String
    public var settings: TensorSettings
    public var projection: Projection
    public var referenceCount: Int
    /// Per component, the sorted projected reference values (at most `componentSampleSize`).
    public var componentSamples: [[Double]]
    public var reconstruction: ReconstructionBand?
    public var mmdSample: Matrix?
    public var mmdSigma: Double?

    /// Fits everything on the reference rows.
    /// Rows are put in canonical order and then shuffled with the seed, so that the fit (chunks, sub-samples)
    /// depends on the reference's rows and the seed, not on the order they arrived in.
    public static func fit(name: String, reference raw: Matrix, settings: TensorSettings = TensorSettings()) throws -> TensorReference {
        var shuffle = SeededGaussian(seed: SeededGaussian.derive(settings.seed, "reference order"))
        let x = raw.canonicalized().rows(shuffle.permutation(raw.rows))
        let projection: Projection
        switch settings.method {
        case .pca: projection = try .pca(x, varianceShare: settings.varianceShare, maxComponents: settings.maxComponents)
        case .random: projection = try .random(x, components: settings.maxComponents, seed: settings.seed)
        }
        var g = SeededGaussian(seed: SeededGaussian.derive(settings.seed, "reference samples"))
        let keep = x.rows <= settings.componentSampleSize ? x : x.rows(Array(g.permutation(x.rows).prefix(settings.componentSampleSize)).sorted())
        let z = projection.project(keep)
        let samples = (0..<projection.count).map { FastSort.sorted(z.column($0)) }
        var band: ReconstructionBand?
        if projection.method == .pca, x.rows >= 2 * settings.reconstructionChunks, settings.reconstructionChunks >= 2 {
            let errors = projection.reconstructionErrors(x)
            let size = x.rows / settings.reconstructionChunks
            let means = (0..<settings.reconstructionChunks).map { c in errors[(c * size)..<((c + 1) * size)].reduce(0, +) / Double(size) }
            let mu = means.reduce(0, +) / Double(means.count)
            let sd = (means.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(means.count - 1)).squareRoot()
            band = ReconstructionBand(mean: mu, standardDeviation: sd, chunks: settings.reconstructionChunks)
        }
        var mmdSample: Matrix?
        var sigma: Double?
        if settings.mmdSampleSize > 1 {
            let s = x.rows <= settings.mmdSampleSize ? x : x.rows(Array(g.permutation(x.rows).prefix(settings.mmdSampleSize)).sorted())
            mmdSample = s
            sigma = MMD.medianHeuristicSigma(s)
        }
        return TensorReference(
            name: name, settings: settings, projection: projection, referenceCount: x.rows, componentSamples: samples,
            reconstruction: band, mmdSample: mmdSample, mmdSigma: sigma)
    }
}

/// A tensor feature's drift in one window.
public struct TensorDrift: Sendable, Equatable {
    public struct Reconstruction: Sendable, Equatable {
        public var meanError: Double
        public var band: TensorReference.ReconstructionBand
        public var outside: Bool
    }

    public var name: String
    /// One per component, named `<name>.pc1`… (`.rp1`… for a random projection), with KS, PSI and the rest;
    /// p-values corrected across the components.
    public var components: [FeatureDrift]
    public var reconstruction: Reconstruction?
    public var mmd: MMD.Result?
    public var currentCount: Int
    public var drifted: Bool
    public var reasons: [String]

    public var driftedComponents: [String] { components.filter(\.drifted).map(\.name) }

    /// The tensor as one feature row: its verdict and reasons; KS, PSI, JS and Hellinger are the largest of its
    /// components', the p-value MMD's, the adjusted p-value the smallest of the components'.
    public func summary(referenceCount: Int, missing: Int) -> FeatureDrift {
        FeatureDrift(
            name: name, kind: .tensor, referenceCount: referenceCount, currentCount: currentCount, referenceMissing: 0,
            currentMissing: missing, ks: components.compactMap(\.ks).max { $0.statistic < $1.statistic },
            psi: components.map(\.psi).max() ?? 0, jensenShannon: components.map(\.jensenShannon).max() ?? 0,
            wassersteinNormed: nil, hellinger: components.map(\.hellinger).max() ?? 0, chiSquare: nil, unseenCategories: nil,
            referenceProportions: [], currentProportions: [], pvalue: mmd?.pvalue,
            pvalueAdjusted: components.compactMap(\.pvalueAdjusted).min(), drifted: drifted, reasons: reasons)
    }

    /// The window's rows against the reference. The tensor drifts when any component drifts (the usual rule,
    /// after the multiple-testing correction across components), MMD's permutation p-value is small, or the mean
    /// reconstruction error leaves the reference band. The components and MMD split α between them (Bonferroni:
    /// α/2 each when MMD runs), so the two tests together raise a false alarm on at most α of windows without
    /// drift; the band (mean ± 3σ of reference chunks) adds its own, small, rate.
    public static func compare(_ ref: TensorReference, current x: Matrix, settings: DriftSettings, seed: UInt64 = 0) throws -> TensorDrift {
        guard x.cols == ref.projection.dimension else {
            throw HighDimensionalError("\(ref.name): the window's tensors have \(x.cols) elements, the reference \(ref.projection.dimension)")
        }
        guard x.rows >= 2 else { throw HighDimensionalError("\(ref.name): fewer than 2 tensors in the window") }
        let useMMD = ref.mmdSample != nil && ref.mmdSigma != nil && ref.settings.mmdSampleSize > 1
        var settings = settings
        let alpha = settings.alpha / (useMMD ? 2 : 1)
        settings.alpha = alpha
        // components are decided by KS (and PSI) only, as before the distribution test existed
        settings.distributionTest = false
        let z = ref.projection.project(x)
        let prefix = ref.projection.method == .pca ? "pc" : "rp"
        var components = (0..<ref.projection.count).map { j in
            FeatureComparison.numeric(
                name: "\(ref.name).\(prefix)\(j + 1)", reference: NumericSample(sorted: ref.componentSamples[j], missing: 0),
                current: NumericSample(values: z.column(j)), settings: settings)
        }
        let adjusted = settings.correction.adjust(components.map { $0.pvalue ?? 1 })
        for i in components.indices {
            components[i].pvalueAdjusted = adjusted[i]
            FeatureComparison.decide(&components[i], settings: settings)
        }
        var reasons: [String] = []
        let drifted = components.filter(\.drifted)
        if !drifted.isEmpty {
            reasons.append("\(drifted.count) of \(components.count) components drifted (\(drifted.map(\.name).joined(separator: ", ")))")
        }
        var reconstruction: Reconstruction?
        if let band = ref.reconstruction {
            let errors = ref.projection.reconstructionErrors(x)
            let mean = errors.reduce(0, +) / Double(errors.count)
            let outside = mean > band.upper || mean < band.lower
            reconstruction = Reconstruction(meanError: mean, band: band, outside: outside)
            if outside {
                reasons.append(String(format: "reconstruction error %.4g outside the reference band [%.4g, %.4g]", mean, band.lower, band.upper))
            }
        }
        var mmd: MMD.Result?
        if useMMD, let sample = ref.mmdSample, let sigma = ref.mmdSigma {
            var g = SeededGaussian(seed: SeededGaussian.derive(seed, "window sample"))
            let canonical = x.canonicalized()
            let cur =
                x.rows <= ref.settings.mmdSampleSize
                ? canonical : canonical.rows(Array(g.permutation(x.rows).prefix(ref.settings.mmdSampleSize)).sorted())
            let r = try MMD.test(
                sample, cur, sigma: sigma, permutations: ref.settings.mmdPermutations, seed: SeededGaussian.derive(seed, "permutations"))
            mmd = r
            if r.pvalue < alpha { reasons.append(String(format: "MMD² %.4g, permutation p = %.4g < %.4g", r.mmd2, r.pvalue, alpha)) }
        }
        return TensorDrift(
            name: ref.name, components: components, reconstruction: reconstruction, mmd: mmd, currentCount: x.rows,
            drifted: !reasons.isEmpty, reasons: reasons)
    }
}
