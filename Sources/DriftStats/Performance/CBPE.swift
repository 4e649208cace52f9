import Foundation

/// One estimated metric on one window (NannyML's chunk record for the metric).
public struct CBPEEstimate: Sendable, Equatable {
    /// The estimated metric.
    public var value: Double
    /// The metric's sampling error at this window size (see `CBPEModel`).
    public var samplingError: Double
    /// The confidence band: max(0, value − 3·samplingError) and min(1, value + 3·samplingError); NaN when either is NaN.
    public var lower: Double
    public var upper: Double
    /// The alert band from the reference chunks' realized metric, mean ± 3σ clipped to [0, 1]; nil when undefined.
    public var thresholdLower: Double?
    public var thresholdUpper: Double?
    /// value < thresholdLower or value > thresholdUpper (false for a NaN value).
    public var alert: Bool

    public init(
        value: Double, samplingError: Double, lower: Double, upper: Double,
        thresholdLower: Double?, thresholdUpper: Double?, alert: Bool
    ) {
        self.value = value
        self.samplingError = samplingError
        self.lower = lower
        self.upper = upper
        self.thresholdLower = thresholdLower
        self.thresholdUpper = thresholdUpper
        self.alert = alert
    }
}

/// The alert band of one metric: mean ± 3σ of the reference chunks' realized metric, clipped to the metric's [0, 1].
public struct CBPEThresholds: Sendable, Equatable {
    public var lower: Double?
    public var upper: Double?

    public init(lower: Double?, upper: Double?) {
        self.lower = lower
        self.upper = upper
    }
}

/// What the calibrate-or-not decision was made of (NannyML's `needs_calibration`).
public struct CBPECalibrationCheck: Sendable, Equatable {
    /// The reference's ROC AUC of the raw scores; NaN with a single class.
    public var referenceROCAUC: Double
    /// The pooled test folds' 10-bin ECE of the raw and of the isotonic-calibrated scores; nil when the check stopped
    /// before comparing them (one class, ROC AUC > 0.999, or a reference too small to split).
    public var eceUncalibrated: Double?
    public var eceCalibrated: Double?
    /// eceUncalibrated > eceCalibrated.
    public var calibrate: Bool
}

/// Confidence-based performance estimation for a binary classifier, as NannyML 0.13.1's
/// `CBPE(problem_type="classification_binary", metrics=[...], chunk_size=…)` with its default thresholds
/// (`nannyml/performance_estimation/confidence_based/{cbpe,metrics}.py`, `nannyml/calibration.py`,
/// `nannyml/sampling_error/binary_classification.py`, `nannyml/thresholds.py`). Scores s are P(positive), labels y,
/// predictions ŷ = (s >= threshold).
///
/// **Calibration** (`needs_calibration`): none when y has one class or the reference ROC AUC > 0.999. Otherwise 10
/// folds of scikit-learn's `StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42)` — reproduced exactly:
/// numpy's legacy `RandomState(42)` (MT19937), its `random_interval` shuffle and scikit-learn 1.7's `_approximate_mode`;
/// per fold an `IsotonicRegression` fitted on the train part predicts the test part; the test parts are pooled (m rows),
/// sorted by score, cut into 10 equal-count bins (width ⌊m/10⌋, the last bin takes the rest) and
/// ECE = Σ_b (m_b/m)·|mean(s_b) − mean(y_b)|. Calibration is kept iff ECE(raw) > ECE(calibrated); the isotonic
/// regression is then refitted on the whole reference.
///
/// **Estimates** on a window of n scores, p = calibrated score (or s), TP = Σ_{ŷ=1} p, FP = Σ_{ŷ=1} (1 − p),
/// FN = Σ_{ŷ=0} p, TN = Σ_{ŷ=0} (1 − p), each a numpy pairwise sum over the n rows:
/// accuracy (TP + TN)/n; precision TP/(TP + FP); recall TP/(TP + FN); F1 TP/(TP + ½(FP + FN)), each 0 when its
/// denominator is 0. ROC AUC (`estimate_roc_auc`, ranked by the raw score): rows in descending s, tps = cumsum(p),
/// fps = (1 + i) − tps, both with a leading 0 and rounded to 5 decimals, tpr = tps/tps_last, fpr = fps/fps_last,
/// area by the trapezoid rule (`sklearn.metrics.auc`). Scores that are not probabilities (non-finite, or outside [0, 1]) are dropped first.
///
/// **Sampling error** at window size n, from the whole reference of N rows (σ a population standard deviation):
/// accuracy σ(1[ŷ = y])/√n; precision σ over rows with ŷ = 1 of 1[y = 1], over √(n·#{ŷ = 1}/N); recall σ over rows
/// with y = 1 of 1[ŷ = 1], over √(n·#{y = 1}/N); F1 σ of c·(1 for TP, 0 for FN and FP) over the TP, FN, FP rows,
/// c = (TP + FN + FP)/(½(FN + FP) + TP), over √(n·(TP + FN + FP)/N); ROC AUC (classes and scores flipped when
/// mean(y) > ½) σ of (r_j − j)/N₋, r_j (j = 0, 1, …) the positives' 0-based ranks in ascending score order except a
/// positive at rank 0 (NannyML's `np.unique(…)[1:]` drops it), over √(n·N₊/N). The band is value ± 3·sampling error,
/// clipped to [0, 1].
///
/// **Thresholds**: the reference in chunks of `chunkSize` rows (a shorter last chunk kept, as NannyML's default
/// `incomplete="keep"`), each chunk's realized metric from `RealizedPerformance.binary` on the raw scores (NaN, as
/// NannyML, for precision, recall and F1 when labels or predictions have one class, and for ROC AUC when labels do);
/// lower = mean − 3σ, upper = mean + 3σ over the non-NaN values (`np.nanmean`, `np.nanstd`); a lower threshold ≤ 0
/// becomes 0 and an upper one ≥ 1 becomes 1. Means and standard deviations use numpy's pairwise summation, so the
/// figures agree with NannyML's to the last bit where the inputs do.
///
/// **Deliberate differences** from NannyML:
/// - NannyML sorts the pooled calibrated scores with numpy's unstable `argsort`; isotonic output is full of ties, so
///   its calibrated ECE depends on numpy's tie order, which differs between CPUs (a spread of a few 1e-3 on 10,000
///   rows). This sort is stable (ties in pooled order); the decision can differ only when the two ECEs are that close.
/// - Ties in the raw score (the ROC AUC estimate and its sampling error, and the uncalibrated ECE of the calibration
///   check) are taken in input order (reversed for the descending ranking) where NannyML takes numpy's quicksort
///   order; continuous scores have none, the scores of tree models many.
/// - Scores of a window that are not probabilities (±∞, NaN, outside [0, 1]) are dropped; NannyML raises.
/// - ŷ is derived from `threshold`; NannyML takes a `y_pred` column.
/// - A reference too small for the split (a class with < 2 rows, < 2 test rows) is kept uncalibrated; NannyML raises.
/// - When scikit-learn's `auc` would raise (fpr neither non-decreasing nor non-increasing) the ROC AUC estimate is
///   NaN with its thresholds kept and no alert; NannyML blanks the whole record. Undefined thresholds are nil.
/// - The reference chunks' realized ROC AUC is the exact Mann–Whitney ratio, scikit-learn's a trapezoid sum: the
///   ROC AUC thresholds can differ in the last bit.
public struct CBPEModel: Sendable {
    /// The metrics CBPE estimates.
    public static let supportedMetrics: [PerformanceMetric] = [.rocAUC, .f1, .precision, .recall, .accuracy]

    public let metrics: [PerformanceMetric]
    public let threshold: Double
    public let chunkSize: Int
    /// Whether isotonic calibration was kept (NannyML's `needs_calibration` rule, see the type's documentation).
    public let calibrated: Bool
    public let calibrationCheck: CBPECalibrationCheck
    /// The isotonic calibration fitted on the whole reference, when kept.
    public let calibrator: IsotonicRegression?
    /// Each metric's alert band.
    public let thresholds: [PerformanceMetric: CBPEThresholds]
    let samplingErrorComponents: [PerformanceMetric: SamplingErrorComponent]

    /// Fits the model on a labelled reference: raw scores P(positive) in [0, 1], labels (positive = true), the decision
    /// threshold and the chunk size for the thresholds. nil when the reference is empty, the counts differ, a score is
    /// non-finite or outside [0, 1], the threshold is NaN, chunkSize < 1, or a metric is not in `supportedMetrics`.
    public init?(referenceScores: [Double], referenceLabels: [Bool], threshold: Double, chunkSize: Int, metrics: [PerformanceMetric]) {
        let n = referenceScores.count
        guard n > 0, referenceLabels.count == n, !threshold.isNaN, chunkSize > 0, !metrics.isEmpty,
            metrics.allSatisfy({ Self.supportedMetrics.contains($0) }),
            (try? BinaryOutcomes(labels: referenceLabels, scores: referenceScores, threshold: threshold)) != nil
        else { return nil }
        var unique: [PerformanceMetric] = []
        for m in metrics where !unique.contains(m) { unique.append(m) }
        self.metrics = unique
        self.threshold = threshold
        self.chunkSize = chunkSize

        let predicted = referenceScores.map { $0 >= threshold }
        var components: [PerformanceMetric: SamplingErrorComponent] = [:]
        for m in unique {
            components[m] = Self.samplingErrorComponent(m, scores: referenceScores, labels: referenceLabels, predicted: predicted)
        }
        samplingErrorComponents = components
        thresholds = Self.referenceThresholds(
            scores: referenceScores, labels: referenceLabels, threshold: threshold, chunkSize: chunkSize, metrics: unique)

        let check = Self.calibrationCheck(scores: referenceScores, labels: referenceLabels)
        calibrationCheck = check
        calibrator = check.calibrate ? IsotonicRegression(x: referenceScores, y: referenceLabels.map { $0 ? 1 : 0 }) : nil
        calibrated = calibrator != nil
    }

    /// Estimates every fitted metric on one window of raw scores (see the type's documentation). Scores that are not
    /// probabilities (non-finite, or outside [0, 1]) are dropped, as the reference's are refused; an empty window gives
    /// NaN values, sampling errors and bands.
    public func estimate(scores: [Double]) -> [PerformanceMetric: CBPEEstimate] {
        let isProbability = { (x: Double) in x >= 0 && x <= 1 }
        let s = scores.allSatisfy(isProbability) ? scores : scores.filter(isProbability)
        let p = calibrator.map { c in s.map { c.predict($0) } } ?? s
        let n = s.count
        var tp = [Double](repeating: 0, count: n)
        var fp = [Double](repeating: 0, count: n)
        var fn = [Double](repeating: 0, count: n)
        var tn = [Double](repeating: 0, count: n)
        for i in 0..<n {
            if s[i] >= threshold {
                tp[i] = p[i]
                fp[i] = 1 - p[i]
            } else {
                fn[i] = p[i]
                tn[i] = 1 - p[i]
            }
        }
        let (sumTP, sumFP, sumFN, sumTN) = (NumpySum.sum(tp), NumpySum.sum(fp), NumpySum.sum(fn), NumpySum.sum(tn))
        var out: [PerformanceMetric: CBPEEstimate] = [:]
        for m in metrics {
            var value: Double
            switch m {
            case .accuracy: value = (sumTP + sumTN) / Double(n)
            case .precision: value = Self.ratio(sumTP, sumTP + sumFP)
            case .recall: value = Self.ratio(sumTP, sumTP + sumFN)
            case .f1: value = Self.ratio(sumTP, sumTP + 0.5 * (sumFP + sumFN))
            case .rocAUC: value = Self.estimatedROCAUC(calibrated: p, raw: s)
            default: continue
            }
            var error = Double.nan
            if n == 0 {
                value = .nan
            } else if let c = samplingErrorComponents[m] {
                error = c.std / (Double(n) * c.fraction).squareRoot()
            }
            let band = thresholds[m] ?? CBPEThresholds(lower: nil, upper: nil)
            let bad = value.isNaN || error.isNaN
            out[m] = CBPEEstimate(
                value: value, samplingError: error,
                lower: bad ? .nan : Swift.max(0, value - 3 * error), upper: bad ? .nan : Swift.min(1, value + 3 * error),
                thresholdLower: band.lower, thresholdUpper: band.upper,
                alert: band.lower.map { value < $0 } == true || band.upper.map { value > $0 } == true)
        }
        return out
    }

    // MARK: - estimates

    private static func ratio(_ a: Double, _ b: Double) -> Double { b != 0 ? a / b : 0 }

    /// NannyML's `estimate_roc_auc` (see the type's documentation).
    static func estimatedROCAUC(calibrated p: [Double], raw s: [Double]) -> Double {
        let n = p.count
        guard n > 0 else { return .nan }
        let descending = (0..<n).sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 > $1 }
        var tps = [Double](repeating: 0, count: n + 1)
        var fps = [Double](repeating: 0, count: n + 1)
        var cumulative = 0.0
        for (k, i) in descending.enumerated() {
            cumulative += p[i]
            tps[k + 1] = round5(cumulative)
            fps[k + 1] = round5(Double(k + 1) - cumulative)
        }
        let tpr = tps.map { $0 / tps[n] }
        let fpr = fps.map { $0 / fps[n] }
        var terms = [Double](repeating: 0, count: n)
        var anyDecrease = false
        var allNonIncreasing = true
        for k in 0..<n {
            let dx = fpr[k + 1] - fpr[k]
            if dx < 0 { anyDecrease = true }
            if dx > 0 { allNonIncreasing = false }
            terms[k] = dx * (tpr[k + 1] + tpr[k]) / 2.0
        }
        if anyDecrease && !allNonIncreasing { return .nan }  // sklearn's auc raises; NannyML records NaN
        return (anyDecrease ? -1 : 1) * NumpySum.sum(terms)
    }

    /// `np.round(x, 5)`: x·10⁵ rounded half to even, divided by 10⁵.
    private static func round5(_ x: Double) -> Double { (x * 1e5).rounded(.toNearestOrEven) / 1e5 }

    // MARK: - sampling error

    /// σ and the fraction of the reference it describes: sampling error = σ/√(n·fraction).
    struct SamplingErrorComponent: Sendable, Equatable {
        var std: Double
        var fraction: Double
    }

    static func samplingErrorComponent(_ metric: PerformanceMetric, scores: [Double], labels: [Bool], predicted: [Bool]) -> SamplingErrorComponent {
        let total = Double(labels.count)
        let tp = zip(labels, predicted).filter { $0.0 && $0.1 }.count
        let fp = zip(labels, predicted).filter { !$0.0 && $0.1 }.count
        let fn = zip(labels, predicted).filter { $0.0 && !$0.1 }.count
        let ones = { (count: Int, zeros: Int, one: Double) in
            [Double](repeating: one, count: count) + [Double](repeating: 0, count: zeros)
        }
        switch metric {
        case .accuracy:
            return SamplingErrorComponent(std: NumpySum.std(zip(labels, predicted).map { $0.0 == $0.1 ? 1 : 0 }), fraction: 1)
        case .precision:
            return SamplingErrorComponent(std: NumpySum.std(ones(tp, fp, 1)), fraction: Double(tp + fp) / total)
        case .recall:
            return SamplingErrorComponent(std: NumpySum.std(ones(tp, fn, 1)), fraction: Double(tp + fn) / total)
        case .f1:
            let relevant = tp + fn + fp
            guard relevant > 0 else { return SamplingErrorComponent(std: .nan, fraction: 0) }
            let factor = Double(relevant) / (Double(fn + fp) * 0.5 + Double(tp))
            return SamplingErrorComponent(std: NumpySum.std(ones(tp, fn + fp, factor)), fraction: Double(relevant) / total)
        case .rocAUC:
            return rocAUCSamplingErrorComponent(scores: scores, labels: labels)
        default:
            return SamplingErrorComponent(std: .nan, fraction: 0)
        }
    }

    /// `auroc_sampling_error_components`: ties in the score are taken in input order (NannyML: numpy quicksort order).
    static func rocAUCSamplingErrorComponent(scores: [Double], labels: [Bool]) -> SamplingErrorComponent {
        let n = labels.count
        let positives = labels.filter { $0 }.count
        let flip = Double(positives) / Double(n) > 0.5
        let y = flip ? labels.map { !$0 } : labels
        let s = flip ? scores.map { 1 - $0 } : scores
        let order = (0..<n).sorted { s[$0] != s[$1] ? s[$0] < s[$1] : $0 < $1 }
        let nPositive = flip ? n - positives : positives
        let nNegative = Double(n - nPositive)
        var ser: [Double] = []
        for (rank, i) in order.enumerated() where y[i] && rank > 0 {
            ser.append(Double(rank - ser.count) / nNegative)
        }
        return SamplingErrorComponent(std: NumpySum.std(ser), fraction: Double(nPositive) / Double(n))
    }

    // MARK: - thresholds

    static func referenceThresholds(
        scores: [Double], labels: [Bool], threshold: Double, chunkSize: Int, metrics: [PerformanceMetric]
    ) -> [PerformanceMetric: CBPEThresholds] {
        var realized: [PerformanceMetric: [Double]] = [:]
        for start in stride(from: 0, to: scores.count, by: chunkSize) {
            let end = Swift.min(start + chunkSize, scores.count)
            let y = Array(labels[start..<end])
            let s = Array(scores[start..<end])
            guard let outcomes = try? BinaryOutcomes(labels: y, scores: s, threshold: threshold) else { continue }
            let values = RealizedPerformance.binary(outcomes, metrics: metrics)
            let oneClass = y.allSatisfy { $0 == y[0] }
            let onePrediction = s.allSatisfy { ($0 >= threshold) == (s[0] >= threshold) }
            for m in metrics {
                let undefined = [.precision, .recall, .f1].contains(m) && (oneClass || onePrediction)
                realized[m, default: []].append(undefined ? .nan : values[m] ?? .nan)
            }
        }
        var out: [PerformanceMetric: CBPEThresholds] = [:]
        for m in metrics {
            let (mean, std) = NumpySum.nanMeanAndStd(realized[m] ?? [])
            var lower = mean - std * 3
            var upper = mean + std * 3
            if lower <= 0 { lower = 0 }
            if upper >= 1 { upper = 1 }
            out[m] = CBPEThresholds(lower: lower.isNaN ? nil : lower, upper: upper.isNaN ? nil : upper)
        }
        return out
    }

    // MARK: - calibration

    /// NannyML's `needs_calibration` (see the type's documentation).
    static func calibrationCheck(scores: [Double], labels: [Bool]) -> CBPECalibrationCheck {
        let outcomes = try? BinaryOutcomes(labels: labels, scores: scores)
        let auc = outcomes.flatMap { RealizedPerformance.binary($0, metrics: [.rocAUC])[.rocAUC] } ?? .nan
        var check = CBPECalibrationCheck(referenceROCAUC: auc, eceUncalibrated: nil, eceCalibrated: nil, calibrate: false)
        guard !labels.allSatisfy({ $0 == labels[0] }), !(auc > 0.999) else { return check }
        var y: [Double] = []
        var raw: [Double] = []
        var calibrated: [Double] = []
        var fitted = true
        // one fold at a time: its index arrays and isotonic fit, not all ten at once
        let split = StratifiedShuffleSplit.forEachSplit(labels: labels, count: 10, testFraction: 0.1, seed: 42) { train, test in
            guard fitted, let iso = IsotonicRegression(x: train.map { scores[$0] }, y: train.map { labels[$0] ? 1 : 0 }) else {
                fitted = false
                return
            }
            for i in test {
                y.append(labels[i] ? 1 : 0)
                raw.append(scores[i])
                calibrated.append(iso.predict(scores[i]))
            }
        }
        guard split, fitted, let before = binnedECE(labels: y, scores: raw), let after = binnedECE(labels: y, scores: calibrated) else {
            return check
        }
        check.eceUncalibrated = before
        check.eceCalibrated = after
        check.calibrate = before > after
        return check
    }

    /// `_calculate_expected_calibration_error` over `_get_bin_index_edges(m, 10)`, rows in stable score order.
    static func binnedECE(labels: [Double], scores: [Double]) -> Double? {
        let m = scores.count
        var bins = 10
        if m <= 2 * bins {
            bins = m / 2
            guard bins >= 2 else { return nil }
        }
        let width = m / bins
        var edges = Array(stride(from: 0, through: m, by: width))
        edges[edges.count - 1] = m
        let order = (0..<m).sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }
        let s = order.map { scores[$0] }
        let y = order.map { labels[$0] }
        var terms: [Double] = []
        for b in 0..<(edges.count - 1) {
            let (lo, hi) = (edges[b], edges[b + 1])
            let count = Double(hi - lo)
            let meanScore = NumpySum.sum(Array(s[lo..<hi])) / count
            let meanLabel = NumpySum.sum(Array(y[lo..<hi])) / count
            terms.append(count / Double(m) * Swift.abs(meanScore - meanLabel))
        }
        return NumpySum.sum(terms)
    }
}
