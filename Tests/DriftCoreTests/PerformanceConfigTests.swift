import DriftCore
import DriftStats
import Foundation
import Testing

/// `performance:` and `policy.on` of a monitor (issue 20): what parses to which `PerformanceConfig`, the defaults, and
/// every refusal as a `ConfigIssue` at the line of the value at fault, naming its key.
@Suite("Monitor performance configuration")
struct PerformanceConfigTests {
    /// A monitor with a numeric score, a categorical predicted class and a numeric regression output; the lines
    /// a test adds start at line 10, indented as monitor keys.
    static let base = """
        monitors:
          - name: fraud
            model: fraud
            features:
              - {name: amount, kind: numeric}
              - {name: score, kind: numeric, source: output}
              - {name: predicted_class, kind: categorical, source: output}
              - {name: price, kind: numeric, source: output}
            reference: {file: ref.csv}
        """

    static func yaml(_ lines: [String]) -> String { base + "\n" + lines.map { "    " + $0 }.joined(separator: "\n") + "\n" }

    static func monitor(_ lines: String...) throws -> MonitorConfig {
        try #require(try MonitorsFile.parse(yaml(lines), file: "monitors.yaml").first)
    }

    /// The issues of a file expected to be refused, as `file:line:column: message`.
    static func issues(_ lines: [String]) -> [String] {
        do {
            _ = try MonitorsFile.parse(yaml(lines), file: "monitors.yaml")
            return []
        } catch let e as ConfigError {
            return e.issues.map(\.description)
        } catch {
            return ["not a ConfigError: \(error)"]
        }
    }

    // MARK: - What parses

    @Test func aFullBinaryBlockParsesToItsConfiguration() throws {
        let m = try Self.monitor(
            "performance:",
            "  task: binary_classification",
            "  prediction: score",
            "  threshold: 0.7",
            "  label_positive: fraud",
            "  metrics: [roc_auc, f1, log_loss]",
            "  min_labels: 50",
            "  label_delay: PT12H",
            "  reference_label: is_fraud",
            "  chunk_size: 500",
            "  max_rows: 20000",
            "  bounds: {f1: {lower: 0.6}, log_loss: {upper: 0.5}, roc_auc: {lower: 0.7, upper: 0.99}}",
            "policy: {on: drift_and_estimated_drop, actions: []}")
        var expected = PerformanceConfig(task: .binaryClassification, prediction: "score", metrics: [.rocAUC, .f1, .logLoss])
        expected.threshold = 0.7
        expected.labelPositive = "fraud"
        expected.minLabels = 50
        expected.labelDelay = try ISODuration(parsing: "PT12H")
        expected.referenceLabel = "is_fraud"
        expected.chunkSize = 500
        expected.maxRows = 20_000
        expected.bounds = [.f1: .init(lower: 0.6), .logLoss: .init(upper: 0.5), .rocAUC: .init(lower: 0.7, upper: 0.99)]
        #expect(m.performance == expected)
        #expect(m.policy.trigger == .driftAndEstimatedDrop)
    }

    @Test func multiclassAndRegressionBlocksParse() throws {
        let multiclass = try Self.monitor(
            "performance:",
            "  task: multiclass",
            "  prediction: predicted_class",
            "  classes: [0, 1, 2.0, other]",
            "  metrics: [accuracy, precision]",
            "  bounds: {accuracy: {lower: 0.8}}",
            "policy:",
            "  on: performance_drop")
        var expected = PerformanceConfig(task: .multiclass, prediction: "predicted_class", metrics: [.accuracy, .precision])
        // numbers are read as ground truth stores a numeric label: 2.0 is "2"
        expected.classes = ["0", "1", "2", "other"]
        expected.bounds = [.accuracy: .init(lower: 0.8)]
        #expect(multiclass.performance == expected)
        #expect(multiclass.policy.trigger == .performanceDrop)

        let regression = try Self.monitor(
            "performance: {task: regression, prediction: price, metrics: [mae, r2], bounds: {mae: {upper: 12.5}, r2: {lower: -1}}}")
        var expectedRegression = PerformanceConfig(task: .regression, prediction: "price", metrics: [.mae, .r2])
        expectedRegression.bounds = [.mae: .init(upper: 12.5), .r2: .init(lower: -1)]
        #expect(regression.performance == expectedRegression)
        #expect(regression.policy.trigger == .drift)
    }

    @Test func theDefaults() throws {
        let m = try Self.monitor("performance: {task: binary_classification, prediction: score}")
        let p = try #require(m.performance)
        #expect(p == PerformanceConfig(task: .binaryClassification, prediction: "score"))
        #expect(p.threshold == 0.5 && p.labelPositive == "1" && p.classes == nil)
        #expect(p.metrics == [.rocAUC, .f1, .precision, .recall, .accuracy])
        #expect(p.minLabels == 200 && p.labelDelay.seconds == 172_800 && p.referenceLabel == "label")
        #expect(p.chunkSize == nil && p.maxRows == 100_000 && p.bounds.isEmpty)
        #expect(m.policy.trigger == .drift)

        #expect(try Self.monitor("performance: {task: multiclass, prediction: predicted_class}").performance?.metrics == [.accuracy, .f1])
        #expect(try Self.monitor("performance: {task: regression, prediction: price}").performance?.metrics == [.mae, .rmse])
        let none = try Self.monitor("policy: {consecutive: 3}")
        #expect(none.performance == nil && none.policy.trigger == .drift)
    }

    @Test func theEdgesOfEachRangeAreAccepted() throws {
        let low = try #require(
            try Self.monitor(
                "min_sample: 100",
                "performance: {task: binary_classification, prediction: score, threshold: 0, min_labels: 1, label_delay: PT1M,"
                    + " chunk_size: 10, max_rows: 100}"
            ).performance)
        // estimates need min_sample scores: a max_rows below it is refused, naming both
        #expect(
            Self.issues(["performance: {task: binary_classification, prediction: score, max_rows: 100}"]).contains {
                $0.contains("`performance.max_rows` (100) is below the monitor's `min_sample` (500)")
            })
        #expect(low.threshold == 0 && low.minLabels == 1 && low.labelDelay.seconds == 60 && low.chunkSize == 10 && low.maxRows == 100)
        let high = try #require(
            try Self.monitor(
                "performance: {task: binary_classification, prediction: score, threshold: 1, min_labels: 1000000, label_delay: P90D,"
                    + " chunk_size: 5000000, max_rows: 1000000, bounds: {f1: {lower: 0.5, upper: 0.5}}}"
            ).performance)
        #expect(high.threshold == 1 && high.minLabels == 1_000_000 && high.labelDelay.seconds == 90 * 86_400)
        #expect(high.chunkSize == 5_000_000 && high.maxRows == PerformanceConfig.maxRowsLimit && high.bounds[.f1] == .init(lower: 0.5, upper: 0.5))
        let classes = (0..<1000).map { "c\($0)" }.joined(separator: ", ")
        let many = try Self.monitor("performance: {task: multiclass, prediction: predicted_class, classes: [\(classes)]}")
        #expect(many.performance?.classes?.count == 1000)
    }

    /// `label_positive` is compared with the stored labels, so a YAML number or boolean is read as ground truth stores
    /// one; a quoted value, and yes/no/on/off (more likely class names than booleans), as written.
    @Test(arguments: [
        ("1", "1"), ("1.0", "1"), ("0.25", "0.25"), ("-3", "-3"), ("true", "true"), ("True", "true"), ("FALSE", "false"),
        ("yes", "yes"), ("on", "on"), ("fraud", "fraud"), ("\"1.0\"", "1.0"), ("'01'", "01"), ("\" spaced \"", "spaced")
    ])
    func labelPositiveIsReadAsALabel(written: String, label: String) throws {
        let m = try Self.monitor("performance: {task: binary_classification, prediction: score, label_positive: \(written)}")
        #expect(m.performance?.labelPositive == label)
    }

    /// YAML 1.1 reads a plain `on` key as a boolean; `policy.on` is found however it is written.
    @Test(arguments: [
        ["policy: {on: performance_drop}"],
        ["policy:", "  on: performance_drop", "  consecutive: 2"],
        ["policy: {\"on\": performance_drop}"],
        ["policy:", "  'on': performance_drop"]
    ])
    func policyOnIsReadWrittenPlainlyOrQuoted(policy: [String]) throws {
        let lines = ["performance: {task: regression, prediction: price}"] + policy
        let m = try #require(try MonitorsFile.parse(Self.yaml(lines), file: "monitors.yaml").first)
        #expect(m.policy.trigger == .performanceDrop)
    }

    @Test func policyOnDriftWrittenOutIsTheDefault() throws {
        let m = try Self.monitor("policy: {on: drift, actions: []}")
        #expect(m.policy == DriftPolicy(consecutive: 2, cooldown: ISODuration(seconds: 86_400), actions: []))
        #expect(m.policy.trigger == .drift)
    }

    // MARK: - What is refused

    struct Refusal: Sendable, CustomTestStringConvertible {
        var lines: [String]
        /// The line of the issue (the added lines start at 10).
        var line: Int
        /// A part of its message naming the key.
        var message: String
        var testDescription: String { lines.joined(separator: " / ") }
    }

    static let refusals: [Refusal] = [
        // the block and its keys
        .init(lines: ["performance: [regression]"], line: 10, message: "`performance` must be a mapping"),
        .init(
            lines: ["performance: {task: regression, prediction: price, thresh: 0.5}"], line: 10,
            message: "unknown key `thresh` in performance (expected one of: bounds, chunk_size, classes, label_delay"),
        .init(lines: ["performance: {prediction: score}"], line: 10, message: "missing `task`"),
        .init(lines: ["performance:", "  task: regression"], line: 11, message: "missing `prediction`"),
        .init(
            lines: ["performance: {task: classification, prediction: score}"], line: 10,
            message: "`performance.task` must be one of binary_classification, multiclass, regression, not 'classification'"),
        // prediction
        .init(
            lines: ["performance: {task: regression, prediction: nope}"], line: 10,
            message: "`performance.prediction` must name a feature of this monitor, not 'nope' (a regression prediction is a numeric feature"),
        .init(
            lines: ["performance:", "  task: binary_classification", "  prediction: predicted_class"], line: 12,
            message: "`performance.prediction`: feature 'predicted_class' is categorical, but a binary_classification prediction is a numeric"),
        .init(
            lines: ["performance: {task: multiclass, prediction: score}"], line: 10,
            message: "`performance.prediction`: feature 'score' is numeric, but a multiclass prediction is a categorical feature"),
        .init(
            lines: ["performance: {task: regression, prediction: predicted_class}"], line: 10,
            message: "is categorical, but a regression prediction is a numeric feature"),
        // threshold, label_positive, classes: per task
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, threshold: 1.5}"], line: 10,
            message: "`threshold` must be a number from 0.0 to 1.0"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, threshold: high}"], line: 10,
            message: "`threshold` must be a number"),
        .init(
            lines: ["performance:", "  task: regression", "  prediction: price", "  threshold: 0.5"], line: 13,
            message: "`performance.threshold` applies to task binary_classification only (this task is regression)"),
        .init(
            lines: ["performance:", "  task: multiclass", "  prediction: predicted_class", "  label_positive: a"], line: 13,
            message: "`performance.label_positive` applies to task binary_classification only (this task is multiclass)"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, label_positive: \"\"}"], line: 10,
            message: "`performance.label_positive` must be a non-empty label"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, label_positive: [a]}"], line: 10,
            message: "`performance.label_positive` must be a non-empty label"),
        .init(
            lines: ["performance:", "  task: binary_classification", "  prediction: score", "  classes: [a, b]"], line: 13,
            message: "`performance.classes` applies to task multiclass only (this task is binary_classification)"),
        .init(
            lines: ["performance: {task: multiclass, prediction: predicted_class, classes: [a]}"], line: 10,
            message: "`performance.classes` must list from 2 to 1000 classes (it lists 1)"),
        .init(
            lines: ["performance: {task: multiclass, prediction: predicted_class, classes: [\((0...1000).map { "c\($0)" }.joined(separator: ","))]}"],
            line: 10, message: "`performance.classes` must list from 2 to 1000 classes (it lists 1001)"),
        .init(
            lines: ["performance: {task: multiclass, prediction: predicted_class, classes: [a, b, a]}"], line: 10,
            message: "`performance.classes` lists 'a' twice"),
        .init(
            lines: ["performance: {task: multiclass, prediction: predicted_class, classes: [1, 1.0]}"], line: 10,
            message: "`performance.classes` lists '1' twice"),
        .init(
            lines: ["performance: {task: multiclass, prediction: predicted_class, classes: [a, \"\"]}"], line: 10,
            message: "`performance.classes` entries must be non-empty labels"),
        .init(
            lines: ["performance: {task: multiclass, prediction: predicted_class, classes: a}"], line: 10,
            message: "`performance.classes` must be a list"),
        // metrics
        .init(
            lines: ["performance:", "  task: binary_classification", "  prediction: score", "  metrics: [roc_auc, mae]"], line: 13,
            message:
                "`performance.metrics`: 'mae' does not apply to task binary_classification (allowed for binary_classification: accuracy, "
                + "precision, recall, f1, roc_auc, log_loss, brier, ece)"),
        .init(
            lines: ["performance: {task: multiclass, prediction: predicted_class, metrics: [roc_auc]}"], line: 10,
            message: "`performance.metrics`: 'roc_auc' does not apply to task multiclass (allowed for multiclass: accuracy, precision, recall, f1)"),
        .init(
            lines: ["performance: {task: regression, prediction: price, metrics: [f1]}"], line: 10,
            message: "`performance.metrics`: 'f1' does not apply to task regression (allowed for regression: mae, rmse, mape, r2)"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, metrics: [f1, f1]}"], line: 10,
            message: "`performance.metrics` lists 'f1' twice"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, metrics: [auc]}"], line: 10,
            message: "`performance.metrics`: unknown metric 'auc'"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, metrics: []}"], line: 10,
            message: "`performance.metrics` must name at least one metric"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, metrics: f1}"], line: 10,
            message: "`performance.metrics` must be a list"),
        // sizes and durations
        .init(
            lines: ["performance: {task: regression, prediction: price, min_labels: 0}"], line: 10,
            message: "`min_labels` must be a whole number from 1 to 1000000"),
        .init(
            lines: ["performance: {task: regression, prediction: price, min_labels: 1.5}"], line: 10,
            message: "`min_labels` must be a whole number from 1 to 1000000"),
        .init(
            lines: ["performance: {task: regression, prediction: price, label_delay: PT30S}"], line: 10,
            message: "`label_delay` must be from PT1M to P90D (got PT30S)"),
        .init(
            lines: ["performance: {task: regression, prediction: price, label_delay: P91D}"], line: 10,
            message: "`label_delay` must be from PT1M to P90D (got P91D)"),
        .init(
            lines: ["performance: {task: regression, prediction: price, label_delay: P1M}"], line: 10,
            message: "`label_delay`: 'P1M' uses years or months"),
        .init(
            lines: ["performance: {task: regression, prediction: price, reference_label: \"\"}"], line: 10,
            message: "`reference_label` must be a non-empty string"),
        .init(
            lines: ["performance: {task: regression, prediction: price, chunk_size: 5}"], line: 10,
            message: "`chunk_size` must be a whole number from 10 to 5000000"),
        .init(
            lines: ["performance: {task: regression, prediction: price, max_rows: 50}"], line: 10,
            message: "`max_rows` must be a whole number from 100 to 1000000"),
        .init(
            lines: ["performance: {task: regression, prediction: price, max_rows: 10000001}"], line: 10,
            message: "`max_rows` must be a whole number from 100 to 1000000"),
        // bounds
        .init(
            lines: ["performance:", "  task: binary_classification", "  prediction: score", "  bounds:", "    f1: {lower: 0.9, upper: 0.1}"],
            line: 14, message: "`performance.bounds.f1`: `lower` (0.9) exceeds `upper` (0.1)"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: {f1: {}}}"], line: 10,
            message: "`performance.bounds.f1` needs `lower`, `upper` or both"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: {log_loss: {upper: 1}}}"], line: 10,
            message: "`performance.bounds`: 'log_loss' is not one of this monitor's metrics (roc_auc, f1, precision, recall, accuracy)"),
        .init(
            lines: ["performance: {task: regression, prediction: price, metrics: [mae], bounds: {rmse: {upper: 1}}}"], line: 10,
            message: "`performance.bounds`: 'rmse' is not one of this monitor's metrics (mae)"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: {auc: {lower: 0.7}}}"], line: 10,
            message: "`performance.bounds`: unknown metric 'auc'"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: {f1: {lower: .nan}}}"], line: 10,
            message: "`performance.bounds.f1.lower` must be a finite number"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: {f1: {upper: .inf}}}"], line: 10,
            message: "`performance.bounds.f1.upper` must be a finite number"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: {f1: {lower: high}}}"], line: 10,
            message: "`performance.bounds.f1.lower` must be a finite number"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: {f1: {lower: 0.5, middle: 1}}}"], line: 10,
            message: "unknown key `middle` in performance.bounds.f1 (expected one of: lower, upper)"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: {f1: 0.5}}"], line: 10,
            message: "`performance.bounds.f1` must be a mapping with `lower`, `upper` or both"),
        .init(
            lines: ["performance: {task: binary_classification, prediction: score, bounds: [f1]}"], line: 10,
            message: "`performance.bounds` must be a mapping of metric to {lower, upper}"),
        // policy.on
        .init(
            lines: ["policy: {on: sometimes}"], line: 10,
            message: "`policy.on` must be one of drift, performance_drop, drift_and_estimated_drop, not 'sometimes'"),
        .init(
            lines: ["policy:", "  on: performance_drop"], line: 11,
            message: "`policy.on: performance_drop` needs the monitor's `performance:` block"),
        .init(
            lines: ["policy: {on: drift_and_estimated_drop}"], line: 10,
            message: "`policy.on: drift_and_estimated_drop` needs the monitor's `performance:` block"),
        .init(
            lines: ["performance: {task: regression, prediction: price}", "policy: {on: drift_and_estimated_drop}"], line: 11,
            message: "`policy.on: drift_and_estimated_drop` needs `performance.task: binary_classification` (only binary classifiers have "
                + "estimated performance); this monitor's task is regression, use `on: performance_drop`"),
        .init(
            lines: ["performance: {task: multiclass, prediction: predicted_class}", "policy:", "  on: drift_and_estimated_drop"], line: 12,
            message: "this monitor's task is multiclass, use `on: performance_drop`")
    ]

    @Test(arguments: refusals)
    func eachRefusalIsAnIssueAtItsLine(_ r: Refusal) {
        let issues = Self.issues(r.lines)
        #expect(issues.contains { $0.hasPrefix("monitors.yaml:\(r.line):") && $0.contains(r.message) }, "\(issues)")
    }

    @Test func theColumnIsTheValueAtFault() {
        let issues = Self.issues([
            "performance:", "  task: binary_classification", "  prediction: score", "  metrics: [f1, mae]", "  min_labels: 0"
        ])
        // `metrics: [f1, mae]` at 4 + 2 spaces: `mae` is column 21; `min_labels: 0`'s value is column 19
        #expect(issues.contains { $0.hasPrefix("monitors.yaml:13:21: `performance.metrics`: 'mae'") }, "\(issues)")
        #expect(issues.contains { $0.hasPrefix("monitors.yaml:14:19: `min_labels`") }, "\(issues)")
    }

    @Test func everyProblemOfABlockIsReportedNotOnlyTheFirst() {
        let issues = Self.issues([
            "performance:", "  task: regression", "  prediction: price", "  threshold: 0.5", "  metrics: [mae, f1]",
            "  max_rows: 5", "  bounds: {mae: {}}", "policy: {on: drift_and_estimated_drop}"
        ])
        #expect(issues.count == 5, "\(issues)")
        #expect(issues.map { Int($0.split(separator: ":")[1]) ?? 0 } == [13, 14, 15, 16, 17], "\(issues)")
    }
}
