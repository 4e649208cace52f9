import DriftStats
import Foundation
import Testing

/// Realized performance and isotonic regression against scikit-learn 1.7
/// (Fixtures/generate_performance_fixtures.py writes performance_cases.json). NaN is stored as null.
struct PerformanceFixture: Decodable, @unchecked Sendable {
    struct Binary: Decodable, CustomTestStringConvertible {
        struct Recipe: Decodable {
            var n: Int, seed: UInt64, levels: Int, label_seed: UInt64, link: String, threshold: Double
        }
        var name: String
        var labels: [Bool]?
        var scores: [Double]?
        var threshold: Double?
        var recipe: Recipe?
        var expected: [String: Double?]
        var testDescription: String { name }

        /// The generator's recipe, one IEEE operation per step.
        func data() -> (labels: [Bool], scores: [Double], threshold: Double) {
            guard let r = recipe else { return (labels!, scores!, threshold!) }
            let levels = Double(r.levels)
            let s = Golden.uniforms(seed: r.seed, count: r.n).map { r.levels > 0 ? ($0 * levels).rounded(.down) / levels : $0 }
            let v = Golden.uniforms(seed: r.label_seed, count: r.n)
            let labels: [Bool] = zip(v, s).map { v, s in
                switch r.link {
                case "calibrated": v < s
                case "overconfident": v < s * s
                case "reversed": v < 1.0 - s
                case "all_correct": s >= r.threshold
                case "all_wrong": s < r.threshold
                case "negative": false
                default: fatalError("unknown link \(r.link)")
                }
            }
            return (labels, s, r.threshold)
        }
    }

    struct Multiclass: Decodable, CustomTestStringConvertible {
        struct Recipe: Decodable {
            var n: Int, seed: UInt64, classes: [String], label_seed: UInt64
        }
        var name: String
        var classes: [String]?
        var labels: [String]?
        var predicted: [String]?
        var probabilities: [[Double]]?
        var recipe: Recipe?
        var expected: [String: Double?]
        var testDescription: String { name }

        func data() -> (classes: [String], labels: [String], predicted: [String], probabilities: [[Double]]?) {
            guard let r = recipe else { return (classes!, labels!, predicted!, probabilities) }
            let k = r.classes.count
            let u = Golden.uniforms(seed: r.seed, count: r.n * k)
            let v = Golden.uniforms(seed: r.label_seed, count: r.n)
            var labels: [String] = []
            var predicted: [String] = []
            var probabilities: [[Double]] = []
            for i in 0..<r.n {
                let raw = Array(u[(i * k)..<(i * k + k)])
                var t = raw[0]
                for j in 1..<k { t = t + raw[j] }
                let p = raw.map { $0 / t }
                var best = 0
                for j in 1..<k where p[j] > p[best] { best = j }
                var label = k - 1
                var c = p[0]
                for j in 0..<k {
                    if j > 0 { c = c + p[j] }
                    if v[i] < c {
                        label = j
                        break
                    }
                }
                labels.append(r.classes[label])
                predicted.append(r.classes[best])
                probabilities.append(p)
            }
            return (r.classes, labels, predicted, probabilities)
        }
    }

    struct Regression: Decodable, CustomTestStringConvertible {
        struct Recipe: Decodable {
            var n: Int, seed: UInt64, levels: Int, scale: Double, offset: Double, noise_seed: UInt64, noise: Double
        }
        var name: String
        var actual: [Double]?
        var predicted: [Double]?
        var recipe: Recipe?
        var expected: [String: Double?]
        var sklearn: [String: Double?]?
        var testDescription: String { name }

        func data() -> (actual: [Double], predicted: [Double]) {
            guard let r = recipe else { return (actual!, predicted!) }
            let levels = Double(r.levels)
            let y = Golden.uniforms(seed: r.seed, count: r.n).map { r.levels > 0 ? ($0 * levels).rounded(.down) + r.offset : $0 * r.scale + r.offset }
            let noise = Golden.uniforms(seed: r.noise_seed, count: r.n)
            return (y, zip(y, noise).map { y, v in y + (v - 0.5) * r.noise })
        }
    }

    struct Isotonic: Decodable, CustomTestStringConvertible {
        struct Recipe: Decodable {
            var n: Int, seed: UInt64, levels: Int, label_seed: UInt64, weight_seed: UInt64?
        }
        var name: String
        var x: [Double]?
        var y: [Double]?
        var weights: [Double]?
        var recipe: Recipe?
        var thresholds_x: [Double]
        var thresholds_y: [Double]
        var queries: [Double]
        var predictions: [Double]
        /// scikit-learn's predict at the training x (every `fitted_every`-th one for a recipe)
        var fitted: [Double]
        var fitted_every: Int?
        var fitted_sum: Double?
        var testDescription: String { name }

        func data() -> (x: [Double], y: [Double], weights: [Double]?) {
            guard let r = recipe else { return (x!, y!, weights) }
            let levels = Double(r.levels)
            let x = Golden.uniforms(seed: r.seed, count: r.n).map { r.levels > 0 ? ($0 * levels).rounded(.down) / levels : $0 }
            let v = Golden.uniforms(seed: r.label_seed, count: r.n)
            let y = zip(v, x).map { v, x in v < x ? 1.0 : 0.0 }
            let w = r.weight_seed.map { Golden.uniforms(seed: $0, count: r.n).map { $0 + 0.5 } }
            return (x, y, w)
        }
    }

    var versions: [String: String]
    var binary: [Binary]
    var multiclass: [Multiclass]
    var regression: [Regression]
    var isotonic: [Isotonic]
}

let performanceFixture: PerformanceFixture = {
    do { return try Golden.load("performance_cases.json", as: PerformanceFixture.self) } catch {
        fatalError("performance_cases.json: \(error)")
    }
}()

/// 1e-12, relative once |expected| > 1; NaN (null in the fixture) only matches NaN.
private func matches(_ value: Double?, _ expected: Double?) -> Bool {
    guard let value else { return false }
    guard let expected else { return value.isNaN }
    return close(value, expected, rel: 1e-12, abs: 1e-12)
}

private func expectMetrics(
    _ result: [PerformanceMetric: Double], _ expected: [String: Double?], _ name: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(Set(result.keys.map(\.rawValue)) == Set(expected.keys), "\(name): metrics returned", sourceLocation: sourceLocation)
    for (key, value) in expected {
        let metric = PerformanceMetric(rawValue: key)
        let got = metric.flatMap { result[$0] }
        #expect(
            matches(got, value), "\(name) \(key): \(String(describing: got)) vs scikit-learn \(String(describing: value))",
            sourceLocation: sourceLocation)
    }
}

@Suite("Realized performance and isotonic regression against scikit-learn 1.7")
struct PerformanceGoldenTests {
    static let classification: [PerformanceMetric] = [.accuracy, .precision, .recall, .f1, .rocAUC, .logLoss, .brier, .ece]

    @Test func fixtureWasMadeWithThePinnedVersions() {
        #expect(performanceFixture.versions["scikit-learn"]?.hasPrefix("1.7.") == true)
        #expect(performanceFixture.versions["numpy"]?.hasPrefix("2.") == true)
    }

    @Test(arguments: performanceFixture.binary)
    func binaryMatchesScikitLearn(_ c: PerformanceFixture.Binary) throws {
        let d = c.data()
        let outcomes = try BinaryOutcomes(labels: d.labels, scores: d.scores, threshold: d.threshold)
        expectMetrics(RealizedPerformance.binary(outcomes, metrics: PerformanceMetric.allCases), c.expected, c.name)
    }

    @Test(arguments: performanceFixture.multiclass)
    func multiclassMatchesScikitLearn(_ c: PerformanceFixture.Multiclass) throws {
        let d = c.data()
        let outcomes = try MulticlassOutcomes(classes: d.classes, labels: d.labels, predicted: d.predicted, probabilities: d.probabilities)
        expectMetrics(RealizedPerformance.multiclass(outcomes, metrics: PerformanceMetric.allCases), c.expected, c.name)
    }

    @Test(arguments: performanceFixture.regression)
    func regressionMatchesScikitLearn(_ c: PerformanceFixture.Regression) throws {
        let d = c.data()
        let outcomes = try RegressionOutcomes(actual: d.actual, predicted: d.predicted)
        expectMetrics(RealizedPerformance.regression(outcomes, metrics: PerformanceMetric.allCases), c.expected, c.name)
        if let sklearn = c.sklearn {
            // the documented difference: scikit-learn's R² for this constant y is not finite-forced
            let r2 = try #require(sklearn["r2"] ?? nil)
            #expect(abs(r2) > 1e20, "\(c.name): scikit-learn's R² \(r2)")
        }
    }

    @Test(arguments: performanceFixture.isotonic)
    func isotonicMatchesScikitLearn(_ c: PerformanceFixture.Isotonic) throws {
        let d = c.data()
        let model = try #require(IsotonicRegression(x: d.x, y: d.y, weights: d.weights))
        #expect(model.thresholdsX.count == c.thresholds_x.count, "\(c.name): \(model.thresholdsX.count) thresholds vs \(c.thresholds_x.count)")
        if model.thresholdsX.count == c.thresholds_x.count {
            for i in c.thresholds_x.indices {
                #expect(model.thresholdsX[i] == c.thresholds_x[i], "\(c.name): X_thresholds_[\(i)]")
                #expect(
                    matches(model.thresholdsY[i], c.thresholds_y[i]),
                    "\(c.name): y_thresholds_[\(i)] \(model.thresholdsY[i]) vs \(c.thresholds_y[i])")
            }
        }
        let predictions = model.predict(c.queries)
        for (i, q) in c.queries.enumerated() {
            #expect(matches(predictions[i], c.predictions[i]), "\(c.name): predict(\(q)) \(predictions[i]) vs \(c.predictions[i])")
        }
    }

    // MARK: - properties

    @Test(arguments: performanceFixture.binary)
    func aucOfReversedScoresIsOneMinusAUC(_ c: PerformanceFixture.Binary) throws {
        let d = c.data()
        let auc = RealizedPerformance.binary(try BinaryOutcomes(labels: d.labels, scores: d.scores), metrics: [.rocAUC])[.rocAUC]!
        // s ↦ 1 − s reverses the order; keeping the number of distinct scores, it makes and breaks no tie
        let flipped = d.scores.map { 1 - $0 }
        #expect(Set(flipped).count == Set(d.scores).count, "\(c.name): 1 − s keeps the ties")
        let reversed = RealizedPerformance.binary(try BinaryOutcomes(labels: d.labels, scores: flipped), metrics: [.rocAUC])[.rocAUC]!
        let swapped = RealizedPerformance.binary(try BinaryOutcomes(labels: d.labels.map { !$0 }, scores: d.scores), metrics: [.rocAUC])[.rocAUC]!
        if auc.isNaN {
            #expect(reversed.isNaN && swapped.isNaN, "\(c.name): one class stays undefined")
        } else {
            #expect(abs(reversed - (1 - auc)) <= 1e-15, "\(c.name): reversed scores \(reversed) vs 1 − \(auc)")
            #expect(abs(swapped - (1 - auc)) <= 1e-15, "\(c.name): labels swapped \(swapped) vs 1 − \(auc)")
        }
    }

    @Test(arguments: performanceFixture.isotonic)
    func isotonicIsMonotoneAndFitsTheTrainingPointsAsScikitLearn(_ c: PerformanceFixture.Isotonic) throws {
        let d = c.data()
        let model = try #require(IsotonicRegression(x: d.x, y: d.y, weights: d.weights))
        #expect(zip(model.thresholdsX, model.thresholdsX.dropFirst()).allSatisfy { $0 < $1 }, "\(c.name): x strictly increasing")
        #expect(zip(model.thresholdsY, model.thresholdsY.dropFirst()).allSatisfy { $0 <= $1 }, "\(c.name): y non-decreasing")
        let lo = d.x.min()!
        let hi = d.x.max()!
        let grid = (0...400).map { lo - 1 + (hi - lo + 2) * Double($0) / 400 } + d.x.sorted()
        let onGrid = model.predict(grid.sorted())
        #expect(zip(onGrid, onGrid.dropFirst()).allSatisfy { $0 <= $1 }, "\(c.name): predictions non-decreasing")
        // predict at the training x equals scikit-learn's predict(X)
        let step = c.fitted_every ?? 1
        let atTraining = model.predict(d.x)
        for (i, expected) in c.fitted.enumerated() {
            #expect(matches(atTraining[i * step], expected), "\(c.name): predict(x[\(i * step)]) \(atTraining[i * step]) vs \(expected)")
        }
        if let sum = c.fitted_sum {
            let ours = atTraining.reduce(0, +)
            #expect(abs(ours - sum) <= 1e-12 * abs(sum), "\(c.name): Σ predict(X) \(ours) vs \(sum)")
        }
    }

    // MARK: - contracts

    @Test func mismatchedOrInvalidOutcomesThrowTypedErrors() {
        #expect(throws: PerformanceInputError.countMismatch(field: "scores", expected: 2, actual: 1)) {
            try BinaryOutcomes(labels: [true, false], scores: [0.5])
        }
        #expect(throws: PerformanceInputError.nonFinite(field: "scores", index: 1)) {
            try BinaryOutcomes(labels: [true, false], scores: [0.5, .nan])
        }
        #expect(throws: PerformanceInputError.probabilityOutOfRange(field: "scores", index: 0)) {
            try BinaryOutcomes(labels: [true], scores: [1.5])
        }
        #expect(throws: PerformanceInputError.nonFinite(field: "predicted", index: 0)) {
            try RegressionOutcomes(actual: [1], predicted: [.infinity])
        }
        #expect(throws: PerformanceInputError.countMismatch(field: "predicted", expected: 1, actual: 2)) {
            try RegressionOutcomes(actual: [1], predicted: [1, 2])
        }
        #expect(throws: PerformanceInputError.unknownClass(field: "labels", index: 1)) {
            try MulticlassOutcomes(classes: ["a", "b"], labels: ["a", "c"], predicted: ["a", "b"])
        }
        #expect(throws: PerformanceInputError.duplicateClass(index: 2)) {
            try MulticlassOutcomes(classes: ["a", "b", "a"], labels: [], predicted: [])
        }
        #expect(throws: PerformanceInputError.tooFewClasses(count: 1)) {
            try MulticlassOutcomes(classes: ["a"], labels: [], predicted: [])
        }
        #expect(throws: PerformanceInputError.countMismatch(field: "probabilities[0]", expected: 2, actual: 3)) {
            try MulticlassOutcomes(classes: ["a", "b"], labels: ["a"], predicted: ["a"], probabilities: [[0.2, 0.3, 0.5]])
        }
    }

    @Test func emptyOutcomesAndForeignMetricsGiveNothing() throws {
        #expect(RealizedPerformance.binary(try BinaryOutcomes(labels: [], scores: []), metrics: PerformanceMetric.allCases).isEmpty)
        #expect(RealizedPerformance.regression(try RegressionOutcomes(actual: [], predicted: []), metrics: PerformanceMetric.allCases).isEmpty)
        let multi = try MulticlassOutcomes(classes: ["a", "b"], labels: [], predicted: [])
        #expect(RealizedPerformance.multiclass(multi, metrics: PerformanceMetric.allCases).isEmpty)
        let binary = try BinaryOutcomes(labels: [true, false], scores: [0.7, 0.2])
        #expect(Set(RealizedPerformance.binary(binary, metrics: [.mae, .r2, .f1]).keys) == [.f1])
        let labelsOnly = try MulticlassOutcomes(classes: ["a", "b", "c"], labels: ["a", "b"], predicted: ["a", "c"])
        #expect(Set(RealizedPerformance.multiclass(labelsOnly, metrics: PerformanceMetric.allCases).keys) == [.accuracy, .precision, .recall, .f1])
        for m in PerformanceMetric.allCases {
            let tasks = [PerformanceTask.binaryClassification, .multiclass, .regression].filter { m.applies(to: $0) }
            #expect(!tasks.isEmpty, "\(m) applies to some task")
        }
        #expect(PerformanceMetric.allCases.filter(\.higherIsBetter) == [.accuracy, .precision, .recall, .f1, .rocAUC, .r2])
    }

    @Test func isotonicRefusesWhatScikitLearnRefuses() {
        #expect(IsotonicRegression(x: [], y: []) == nil)
        #expect(IsotonicRegression(x: [1, 2], y: [1]) == nil)
        #expect(IsotonicRegression(x: [1, 2], y: [1, 2], weights: [1]) == nil)
        #expect(IsotonicRegression(x: [1, .nan], y: [1, 2]) == nil)
        #expect(IsotonicRegression(x: [1, 2], y: [1, .infinity]) == nil)
        #expect(IsotonicRegression(x: [1, 2], y: [1, 2], weights: [0, -1]) == nil, "no positive weight left")
        let model = IsotonicRegression(x: [0, 1, 2], y: [0, 1, 2])!
        #expect(model.predict(.nan).isNaN)
        #expect(model.predict(-.infinity) == 0 && model.predict(.infinity) == 2)
        let single = IsotonicRegression(x: [3, 3], y: [1, 2])!
        #expect(single.predict(.nan) == 1.5, "one threshold: constant, as scikit-learn's y.repeat")
        var broken = model
        broken.thresholdsY.removeLast()
        #expect(broken.predict(1).isNaN, "thresholds of unequal length: NaN, no trap")
    }

    /// O(n log n) at n = 10⁶, with the worst case for pooling (decreasing y: one block) and the widest rank ties.
    @Test func largeInputsStayNLogN() throws {
        let n = 1_000_000
        let u = Golden.uniforms(seed: 77, count: n)
        let model = try #require(IsotonicRegression(x: u, y: u.map { -$0 }))
        #expect(model.thresholdsX.count == 2)
        let labels = u.map { $0 >= 0.5 }
        let scores = u.map { ($0 * 8).rounded(.down) / 8 }
        let auc = RealizedPerformance.binary(try BinaryOutcomes(labels: labels, scores: scores), metrics: [.rocAUC])[.rocAUC]!
        #expect(auc == 1, "scores on a 1/8 grid separate u ≥ 0.5 exactly")
    }
}
