import Foundation

/// What a monitor's model predicts (issue 20: `performance.task` in a monitor's configuration).
public enum PerformanceTask: String, Sendable, Codable, CaseIterable {
    case binaryClassification = "binary_classification"
    case multiclass
    case regression
}

/// A realized-performance metric. Raw values are the names used in monitor configuration and in stored results.
public enum PerformanceMetric: String, Sendable, Codable, CaseIterable {
    // classification
    case accuracy, precision, recall, f1
    case rocAUC = "roc_auc"
    case logLoss = "log_loss"
    case brier, ece
    // regression
    case mae, rmse, mape, r2

    /// true when a larger value is better (accuracy, precision, recall, f1, roc_auc, r2).
    public var higherIsBetter: Bool {
        switch self {
        case .accuracy, .precision, .recall, .f1, .rocAUC, .r2: true
        case .logLoss, .brier, .ece, .mae, .rmse, .mape: false
        }
    }

    /// Whether the metric is defined for a task: the classification metrics for both classification tasks, except ECE,
    /// which is binary only (a multiclass calibration error is not part of issue 20); the regression metrics for regression.
    public func applies(to task: PerformanceTask) -> Bool {
        switch self {
        case .accuracy, .precision, .recall, .f1, .rocAUC, .logLoss, .brier: task != .regression
        case .ece: task == .binaryClassification
        case .mae, .rmse, .mape, .r2: task == .regression
        }
    }
}

/// Why a set of outcomes was refused. `index` is a row (0-based); no value or label is echoed.
public enum PerformanceInputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `field` has `actual` entries where `expected` were needed (one per row, or one per class).
    case countMismatch(field: String, expected: Int, actual: Int)
    /// NaN or ±∞ in `field` at row `index`: non-finite values are the caller's to filter out before this point.
    case nonFinite(field: String, index: Int)
    /// A probability outside [0, 1] in `field` at row `index`.
    case probabilityOutOfRange(field: String, index: Int)
    /// A label or predicted class at row `index` of `field` that is not one of `classes`.
    case unknownClass(field: String, index: Int)
    /// `classes[index]` repeats an earlier class.
    case duplicateClass(index: Int)
    /// Multiclass outcomes need at least two classes.
    case tooFewClasses(count: Int)

    public var description: String {
        switch self {
        case .countMismatch(let field, let expected, let actual): "\(field) has \(actual) entries, expected \(expected)"
        case .nonFinite(let field, let index): "\(field)[\(index)] is not finite"
        case .probabilityOutOfRange(let field, let index): "\(field)[\(index)] is not a probability in [0, 1]"
        case .unknownClass(let field, let index): "\(field)[\(index)] is not one of the declared classes"
        case .duplicateClass(let index): "classes[\(index)] repeats an earlier class"
        case .tooFewClasses(let count): "multiclass outcomes need at least 2 classes, got \(count)"
        }
    }
}

/// Binary outcomes: labels as Bool (positive = true); scores = P(positive) in [0, 1]; predictions = score >= threshold.
///
/// The initializer checks the invariants the metrics rely on and throws instead of trapping: equal lengths, every
/// score finite and in [0, 1]. Filtering non-finite scores is the caller's job; one that slips through is refused
/// here (`.nonFinite`), never turned into a NaN metric. Any threshold is accepted (a NaN threshold predicts nothing
/// positive, since `s >= NaN` is false).
public struct BinaryOutcomes: Sendable {
    public private(set) var labels: [Bool]
    public private(set) var scores: [Double]
    public var threshold: Double

    public init(labels: [Bool], scores: [Double], threshold: Double = 0.5) throws(PerformanceInputError) {
        guard scores.count == labels.count else {
            throw .countMismatch(field: "scores", expected: labels.count, actual: scores.count)
        }
        for (i, s) in scores.enumerated() {
            guard s.isFinite else { throw .nonFinite(field: "scores", index: i) }
            guard s >= 0 && s <= 1 else { throw .probabilityOutOfRange(field: "scores", index: i) }
        }
        self.labels = labels
        self.scores = scores
        self.threshold = threshold
    }
}

/// Multiclass outcomes: labels and predicted classes as strings; optional per-class probabilities, one row per
/// sample and one column per entry of `classes`, in that order (rows should sum to about 1; they are used as given).
///
/// The initializer throws on: fewer than two or repeated classes, a label or prediction not in `classes`, row counts
/// or widths that do not match, a probability that is non-finite or outside [0, 1].
public struct MulticlassOutcomes: Sendable {
    public private(set) var classes: [String]
    public private(set) var labels: [String]
    public private(set) var predicted: [String]
    public private(set) var probabilities: [[Double]]?
    /// labels and predicted as indices into `classes`
    let labelIndex: [Int]
    let predictedIndex: [Int]

    public init(classes: [String], labels: [String], predicted: [String], probabilities: [[Double]]? = nil) throws(PerformanceInputError) {
        guard classes.count >= 2 else { throw .tooFewClasses(count: classes.count) }
        var index: [String: Int] = [:]
        for (i, c) in classes.enumerated() {
            guard index[c] == nil else { throw .duplicateClass(index: i) }
            index[c] = i
        }
        guard predicted.count == labels.count else {
            throw .countMismatch(field: "predicted", expected: labels.count, actual: predicted.count)
        }
        var labelIndex = [Int]()
        var predictedIndex = [Int]()
        labelIndex.reserveCapacity(labels.count)
        predictedIndex.reserveCapacity(labels.count)
        for i in labels.indices {
            guard let l = index[labels[i]] else { throw .unknownClass(field: "labels", index: i) }
            guard let p = index[predicted[i]] else { throw .unknownClass(field: "predicted", index: i) }
            labelIndex.append(l)
            predictedIndex.append(p)
        }
        if let probabilities {
            guard probabilities.count == labels.count else {
                throw .countMismatch(field: "probabilities", expected: labels.count, actual: probabilities.count)
            }
            for (i, row) in probabilities.enumerated() {
                guard row.count == classes.count else {
                    throw .countMismatch(field: "probabilities[\(i)]", expected: classes.count, actual: row.count)
                }
                for p in row {
                    guard p.isFinite else { throw .nonFinite(field: "probabilities", index: i) }
                    guard p >= 0 && p <= 1 else { throw .probabilityOutOfRange(field: "probabilities", index: i) }
                }
            }
        }
        self.classes = classes
        self.labels = labels
        self.predicted = predicted
        self.probabilities = probabilities
        self.labelIndex = labelIndex
        self.predictedIndex = predictedIndex
    }
}

/// Regression outcomes: actual and predicted values, pairwise. The initializer throws on unequal lengths and on a
/// non-finite value (the caller's to filter; refused here rather than propagated as NaN).
public struct RegressionOutcomes: Sendable {
    public private(set) var actual: [Double]
    public private(set) var predicted: [Double]

    public init(actual: [Double], predicted: [Double]) throws(PerformanceInputError) {
        guard predicted.count == actual.count else {
            throw .countMismatch(field: "predicted", expected: actual.count, actual: predicted.count)
        }
        if let i = actual.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(field: "actual", index: i) }
        if let i = predicted.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(field: "predicted", index: i) }
        self.actual = actual
        self.predicted = predicted
    }
}

/// Realized model performance on labelled outcomes, each metric matched to scikit-learn 1.7 on golden fixtures
/// (Tests/DriftStatsTests/Fixtures/generate_performance_fixtures.py) to 1e-12, relative where values are large.
///
/// Every function returns the requested metrics that apply to its task (`PerformanceMetric.applies(to:)`), and an
/// empty dictionary for empty outcomes. Mismatched lengths and non-finite values cannot reach these functions: the
/// outcome types' initializers throw `PerformanceInputError`. A metric that scikit-learn leaves undefined is NaN
/// (ROC AUC with one class present, R² with one row). Means are compensated (Neumaier) sums divided by n, so they
/// agree with numpy's pairwise sums to well below 1e-12.
public enum RealizedPerformance {
    /// Binary classification; ŷ = (s >= threshold), positive = true.
    /// - accuracy: #(ŷ = y)/n — `accuracy_score`.
    /// - precision TP/(TP+FP), recall TP/(TP+FN), F1 2TP/(2TP+FP+FN), each 0 when its denominator is 0 —
    ///   `precision_score`/`recall_score`/`f1_score(zero_division=0.0)`.
    /// - roc_auc: the Mann–Whitney form U/(n₊n₋), U = R₊ − n₊(n₊+1)/2 with average ranks, i.e. the number of
    ///   (positive, negative) pairs ranked correctly plus ½ per tie, counted exactly in integers after sorting both
    ///   classes' scores (O(n log n)); NaN when only one class is present — `roc_auc_score` (≥ 1.6 returns NaN too).
    /// - log_loss: −(1/n)Σ ln clip(pᵢ), pᵢ = s for a positive and 1 − s for a negative, clip to [ε, 1 − ε] with
    ///   ε = `Double.ulpOfOne` — `log_loss(labels=[0, 1])` (works on a one-class window).
    /// - brier: (1/n)Σ (s − y)², evaluated as scikit-learn does, ½·[((1−y) − (1−s))² + (y − s)²] —
    ///   `brier_score_loss`.
    /// - ece: 10 equal-width bins on [0, 1]; score s goes to bin min(⌊10·s⌋, 9) (10·s in double precision), so bin b
    ///   holds [b/10, (b+1)/10) and the last also 1.0; ECE = Σ_b (n_b/n)·|ȳ_b − s̄_b| over non-empty bins. No
    ///   scikit-learn function: matched to a numpy implementation; the per-bin means are those of
    ///   `sklearn.calibration.calibration_curve(strategy="uniform", n_bins=10)` except for scores lying exactly on an
    ///   edge k/10, which calibration_curve puts in the lower bin (its bins are closed on the right).
    public static func binary(_ o: BinaryOutcomes, metrics: [PerformanceMetric]) -> [PerformanceMetric: Double] {
        let n = o.labels.count
        let wanted = Set(metrics.filter { $0.applies(to: .binaryClassification) })
        guard n > 0, n == o.scores.count, !wanted.isEmpty else { return [:] }
        let labels = o.labels
        let scores = o.scores
        let nd = Double(n)
        var out: [PerformanceMetric: Double] = [:]

        if !wanted.isDisjoint(with: [.accuracy, .precision, .recall, .f1]) {
            var tp = 0
            var fp = 0
            var fn = 0
            for i in 0..<n {
                let predicted = scores[i] >= o.threshold
                if predicted && labels[i] { tp += 1 } else if predicted { fp += 1 } else if labels[i] { fn += 1 }
            }
            let tn = n - tp - fp - fn
            let counts = ClassScores(tp: tp, fp: fp, fn: fn)
            if wanted.contains(.accuracy) { out[.accuracy] = Double(tp + tn) / nd }
            if wanted.contains(.precision) { out[.precision] = counts.precision }
            if wanted.contains(.recall) { out[.recall] = counts.recall }
            if wanted.contains(.f1) { out[.f1] = counts.f1 }
        }
        if wanted.contains(.rocAUC) {
            var positive: [Double] = []
            var negative: [Double] = []
            for i in 0..<n {
                if labels[i] { positive.append(scores[i]) } else { negative.append(scores[i]) }
            }
            out[.rocAUC] = mannWhitneyAUC(positive: positive, negative: negative)
        }
        if wanted.contains(.logLoss) {
            var sum = CompensatedSum()
            for i in 0..<n { sum.add(-Foundation.log(clipProbability(labels[i] ? scores[i] : 1 - scores[i]))) }
            out[.logLoss] = sum.value / nd
        }
        if wanted.contains(.brier) {
            var sum = CompensatedSum()
            for i in 0..<n {
                let y: Double = labels[i] ? 1 : 0
                let a = (1 - y) - (1 - scores[i])
                let b = y - scores[i]
                sum.add(a * a + b * b)
            }
            out[.brier] = sum.value / nd * 0.5
        }
        if wanted.contains(.ece) { out[.ece] = expectedCalibrationError(labels: labels, scores: scores) }
        return out
    }

    /// Multiclass classification over `classes` (the union the caller declares, in its order).
    /// - accuracy: #(ŷ = y)/n — `accuracy_score`.
    /// - precision, recall, F1: per class as in `binary` (0 for a zero denominator, so a class never predicted or
    ///   never seen counts 0), then the unweighted mean over all of `classes` —
    ///   `precision_score(labels=classes, average="macro", zero_division=0.0)` and the same for recall, F1.
    /// With probabilities (otherwise these three are omitted):
    /// - log_loss: −(1/n)Σ ln clip(p_{i,yᵢ}), clip to [ε, 1 − ε], ε = `Double.ulpOfOne`; rows are not renormalised —
    ///   `log_loss(labels=classes)`.
    /// - roc_auc: the mean over classes of the one-vs-rest AUC of column k (as `binary`); NaN when a class is absent
    ///   from the labels (or all rows are of one class) — `roc_auc_score(multi_class="ovr", average="macro")`. For two
    ///   classes scikit-learn refuses two columns; the same one-vs-rest mean is returned (its `_average_binary_score`).
    /// - brier: (1/n)Σᵢ Σ_k (p_{i,k} − 1[yᵢ = k])², halved when there are exactly two classes — `brier_score_loss`
    ///   (1.7 accepts multiclass; `scale_by_half="auto"` halves two-column input so that it equals the binary score).
    public static func multiclass(_ o: MulticlassOutcomes, metrics: [PerformanceMetric]) -> [PerformanceMetric: Double] {
        let n = o.labelIndex.count
        let k = o.classes.count
        let wanted = Set(metrics.filter { $0.applies(to: .multiclass) })
        guard n > 0, n == o.predictedIndex.count, k >= 2, !wanted.isEmpty else { return [:] }
        let y = o.labelIndex
        let nd = Double(n)
        var out: [PerformanceMetric: Double] = [:]

        if !wanted.isDisjoint(with: [.accuracy, .precision, .recall, .f1]) {
            var tp = [Int](repeating: 0, count: k)
            var predictedCount = [Int](repeating: 0, count: k)
            var trueCount = [Int](repeating: 0, count: k)
            var correct = 0
            for i in 0..<n {
                let p = o.predictedIndex[i]
                trueCount[y[i]] += 1
                predictedCount[p] += 1
                if p == y[i] {
                    tp[p] += 1
                    correct += 1
                }
            }
            let perClass = (0..<k).map { ClassScores(tp: tp[$0], fp: predictedCount[$0] - tp[$0], fn: trueCount[$0] - tp[$0]) }
            if wanted.contains(.accuracy) { out[.accuracy] = Double(correct) / nd }
            if wanted.contains(.precision) { out[.precision] = mean(perClass.map(\.precision)) }
            if wanted.contains(.recall) { out[.recall] = mean(perClass.map(\.recall)) }
            if wanted.contains(.f1) { out[.f1] = mean(perClass.map(\.f1)) }
        }
        guard let probabilities = o.probabilities, probabilities.count == n, probabilities.allSatisfy({ $0.count == k }) else {
            return out
        }
        if wanted.contains(.logLoss) {
            var sum = CompensatedSum()
            for i in 0..<n { sum.add(-Foundation.log(clipProbability(probabilities[i][y[i]]))) }
            out[.logLoss] = sum.value / nd
        }
        if wanted.contains(.brier) {
            var sum = CompensatedSum()
            for i in 0..<n {
                var row = 0.0
                for c in 0..<k {
                    let d = (c == y[i] ? 1.0 : 0.0) - probabilities[i][c]
                    row += d * d
                }
                sum.add(row)
            }
            out[.brier] = k == 2 ? sum.value / nd * 0.5 : sum.value / nd
        }
        if wanted.contains(.rocAUC) {
            var aucs: [Double] = []
            for c in 0..<k {
                var positive: [Double] = []
                var negative: [Double] = []
                for i in 0..<n {
                    if y[i] == c { positive.append(probabilities[i][c]) } else { negative.append(probabilities[i][c]) }
                }
                aucs.append(mannWhitneyAUC(positive: positive, negative: negative))
            }
            out[.rocAUC] = mean(aucs)
        }
        return out
    }

    /// Regression, e = y − ŷ.
    /// - mae: (1/n)Σ|e| — `mean_absolute_error`.
    /// - rmse: √((1/n)Σe²) — `root_mean_squared_error`.
    /// - mape: (1/n)Σ |e| / max(|y|, ε), ε = `Double.ulpOfOne` (a zero y gives |e|/ε, about 4.5e15·|e|, not ∞) —
    ///   `mean_absolute_percentage_error`.
    /// - r2: 1 − Σe²/Σ(y − ȳ)²; NaN for n < 2. `r2_score(force_finite=True)`: a zero numerator gives 1.0 (also for
    ///   constant y), a zero denominator with a non-zero numerator 0.0. Deliberate difference: "constant y" is decided
    ///   exactly (all y equal), where scikit-learn tests its computed Σ(y − mean(y))² against 0 — numpy's mean of a
    ///   constant such as 0.1 can round away from it, and scikit-learn then returns about −5e29 instead of 0.0.
    public static func regression(_ o: RegressionOutcomes, metrics: [PerformanceMetric]) -> [PerformanceMetric: Double] {
        let n = o.actual.count
        let wanted = Set(metrics.filter { $0.applies(to: .regression) })
        guard n > 0, n == o.predicted.count, !wanted.isEmpty else { return [:] }
        let y = o.actual
        let yhat = o.predicted
        let nd = Double(n)
        var out: [PerformanceMetric: Double] = [:]
        var absolute = CompensatedSum()
        var squared = CompensatedSum()
        var percentage = CompensatedSum()
        for i in 0..<n {
            let e = Swift.abs(yhat[i] - y[i])
            absolute.add(e)
            squared.add(e * e)
            percentage.add(e / Swift.max(Swift.abs(y[i]), Double.ulpOfOne))
        }
        if wanted.contains(.mae) { out[.mae] = absolute.value / nd }
        if wanted.contains(.rmse) { out[.rmse] = (squared.value / nd).squareRoot() }
        if wanted.contains(.mape) { out[.mape] = percentage.value / nd }
        if wanted.contains(.r2) { out[.r2] = r2(actual: y, sumOfSquaredErrors: squared.value) }
        return out
    }

    // MARK: - pieces

    private static func r2(actual y: [Double], sumOfSquaredErrors sse: Double) -> Double {
        let n = y.count
        guard n >= 2 else { return .nan }
        if sse == 0 { return 1 }
        if y.allSatisfy({ $0 == y[0] }) { return 0 }
        var total = CompensatedSum()
        for v in y { total.add(v) }
        let mean = total.value / Double(n)
        var sst = CompensatedSum()
        for v in y {
            let d = v - mean
            sst.add(d * d)
        }
        let denominator = sst.value
        return denominator == 0 ? 0 : 1 - sse / denominator
    }

    /// The area under the ROC curve as the Mann–Whitney U statistic over the two classes' scores: 2U counts each
    /// correctly ordered (positive, negative) pair 2 and each tie 1, in integers, so the only rounding is the final
    /// division. NaN when either class is empty. NaN-free input (the outcome types guarantee it).
    static func mannWhitneyAUC(positive: [Double], negative: [Double]) -> Double {
        let p = positive.count
        let q = negative.count
        guard p > 0, q > 0 else { return .nan }
        let pos = FastSort.sorted(positive)
        let neg = FastSort.sorted(negative)
        var twiceU = 0
        var i = 0
        var below = 0  // negatives with a score below the current positive score
        while i < p {
            let v = pos[i]
            var run = 0
            while i < p && pos[i] == v {
                i += 1
                run += 1
            }
            while below < q && neg[below] < v { below += 1 }
            var tied = below
            while tied < q && neg[tied] == v { tied += 1 }
            twiceU += run * (2 * below + (tied - below))
        }
        return Double(twiceU) / (2 * Double(p) * Double(q))
    }

    /// See `binary`: bin = min(⌊10·s⌋, 9), ECE = Σ_b (n_b/n)·|ȳ_b − s̄_b|.
    static func expectedCalibrationError(labels: [Bool], scores: [Double]) -> Double {
        let bins = 10
        var count = [Int](repeating: 0, count: bins)
        var positives = [Int](repeating: 0, count: bins)
        var scoreSum = [CompensatedSum](repeating: CompensatedSum(), count: bins)
        for (label, s) in zip(labels, scores) {
            let b = Swift.min(Swift.max(Int((s * Double(bins)).rounded(.down)), 0), bins - 1)
            count[b] += 1
            if label { positives[b] += 1 }
            scoreSum[b].add(s)
        }
        let n = Double(labels.count)
        var ece = 0.0
        for b in 0..<bins where count[b] > 0 {
            let nb = Double(count[b])
            ece += nb / n * Swift.abs(Double(positives[b]) / nb - scoreSum[b].value / nb)
        }
        return ece
    }

    private static func clipProbability(_ p: Double) -> Double {
        Swift.min(Swift.max(p, Double.ulpOfOne), 1 - Double.ulpOfOne)
    }

    private static func mean(_ values: [Double]) -> Double {
        var sum = CompensatedSum()
        for v in values { sum.add(v) }
        return sum.value / Double(values.count)
    }
}

/// One class's confusion counts and the scikit-learn scores from them, with zero_division = 0.
private struct ClassScores {
    var tp: Int
    var fp: Int
    var fn: Int

    var precision: Double { tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp) }
    var recall: Double { tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn) }
    var f1: Double { 2 * tp + fp + fn == 0 ? 0 : Double(2 * tp) / Double(2 * tp + fp + fn) }
}

/// Neumaier's compensated sum: the error is about 2ε|Σx| whatever n, well inside the 1e-12 the fixtures ask for, where a
/// plain loop drifts with n. An infinite running sum is returned as is (the compensation would be NaN).
private struct CompensatedSum {
    private var sum = 0.0
    private var compensation = 0.0

    mutating func add(_ x: Double) {
        let t = sum + x
        if Swift.abs(sum) >= Swift.abs(x) { compensation += (sum - t) + x } else { compensation += (x - t) + sum }
        sum = t
    }

    var value: Double { sum.isFinite ? sum + compensation : sum }
}
