import DriftCommon
import DriftCore
import DriftServer
import DriftStore
import Foundation
import Logging
import Testing

@Suite("Liveness and log lines (no I/O)")
struct ObservabilityLogicTests {
    @Test func aLoopIsStaleOnlyAfterItsAllowance() {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let live = Liveness()
        live.register("scheduler", allowance: 180, now: t0)
        live.register("consumer", allowance: 30, now: t0)
        #expect(live.stale(now: t0.addingTimeInterval(30)).isEmpty, "exactly at the allowance is still alive")
        #expect(live.stale(now: t0.addingTimeInterval(31)) == ["consumer"])
        live.beat("consumer", now: t0.addingTimeInterval(31))
        #expect(live.stale(now: t0.addingTimeInterval(60)).isEmpty)
        #expect(live.stale(now: t0.addingTimeInterval(200)) == ["consumer", "scheduler"])
        live.beat("unknown", now: t0.addingTimeInterval(200))
        #expect(live.stale(now: t0.addingTimeInterval(200)).count == 2, "beats of unregistered loops change nothing")
    }

    @Test func jsonLogLinesCarryMetadataAsKeys() throws {
        let line = JSONLogHandler.render(
            time: Date(timeIntervalSince1970: 1_795_964_037.2119), level: .warning, label: "drift-worker",
            message: "check failed: \"x\"\n",
            metadata: [
                "window.start": "2026-11-25T16:00:00Z", "monitor": "fraud-scorer",
                "features": .array(["amount", "score"]), "level": "shadowed"
            ])
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1, "one line")
        #expect(line.hasPrefix(#"{"time":"2026-11-29T14:53:57.211Z","level":"warning","logger":"drift-worker","message":"check failed: \"x\"\n","#))
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(obj["monitor"] as? String == "fraud-scorer")
        #expect(obj["window.start"] as? String == "2026-11-25T16:00:00Z")
        #expect(obj["features"] as? [String] == ["amount", "score"])
        #expect(obj["level"] as? String == "warning", "metadata cannot overwrite the record's own keys")
    }

    @Test func jsonLogFieldsKeepTheirTypes() throws {
        let line = JSONLogHandler.render(
            time: Date(timeIntervalSince1970: 0), level: .info, label: "drift-worker", message: "checked window",
            metadata: [
                "drifted": .stringConvertible(true), "task.attempt": .stringConvertible(3), "seconds": .stringConvertible(0.25),
                "nan": .stringConvertible(Double.nan), "none": LogSetup.null, "monitor": "42", "big": .stringConvertible(UInt64.max)
            ])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(obj["drifted"] as? Bool == true && line.contains(#""drifted":true"#))
        #expect(line.contains(#""task.attempt":3"#) && line.contains(#""seconds":0.25"#))
        #expect(line.contains(#""none":null"#), "\(line)")
        #expect(obj["nan"] as? String == "nan", "JSON has no NaN: a string")
        #expect(obj["monitor"] as? String == "42", "a string stays a string even when it looks like a number")
        #expect(obj["big"] as? String == "18446744073709551615", "beyond Int: a string, never a trap")
    }

    @Test func formatAndLevelComeFromTheEnvironment() {
        #expect(LogSetup.format(environment: ["LOG_FORMAT": "JSON"]) == .json)
        #expect(LogSetup.format(environment: ["LOG_FORMAT": "text"]) == .text)
        #expect(LogSetup.level(environment: ["LOG_LEVEL": "debug"]) == .debug)
        #expect(LogSetup.level(environment: ["LOG_LEVEL": "nonsense"]) == .info)
        #expect(LogSetup.level(environment: [:]) == .info)
    }
}

@Suite("Capture buffer bounds")
struct CaptureBufferBoundTests {
    /// Beyond its capacity the buffer refuses at once (HTTP 503 with Retry-After), it never drops silently.
    @Test func aFullBufferRefusesInsteadOfDropping() async throws {
        var options = CaptureBuffer.Options()
        options.capacity = 10
        // not running: nothing is written, so what was submitted stays waiting
        let buffer = CaptureBuffer(client: PostgresClient(settings: ConnectionSettings(conninfo: "host=/nonexistent")), options: options)
        let event = CaptureEvent(model: "m", observedAt: Date(), numeric: [1], categorical: [])
        let waiting = Task { try await buffer.submit(Array(repeating: event, count: 8)) }
        try await Task.sleep(for: .milliseconds(100))
        do {
            try await buffer.submit(Array(repeating: event, count: 5))
            Issue.record("13 events do not fit a buffer of 10")
        } catch let e as CaptureBuffer.Full {
            #expect(e.waiting == 8 && e.description.contains("retry shortly"))
        }
        waiting.cancel()
    }
}

@Suite("Pushed counters carried across runs (no I/O)")
struct PushCarryTests {
    static let api = """
        {"status":"success","data":[
         {"labels":{"job":"other"},"drift_checks_total":{"type":"COUNTER","metrics":[{"labels":{"instance":"","job":"other","monitor":"m","result":"drift"},"value":"100"}]}},
         {"labels":{"job":"drift-worker-run-once"},
          "drift_checks_total":{"type":"COUNTER","metrics":[
            {"labels":{"instance":"","job":"drift-worker-run-once","monitor":"m","result":"drift"},"value":"3"},
            {"labels":{"instance":"","job":"drift-worker-run-once","monitor":"a \\"quoted\\"\\nname","result":"drift"},"value":"2"}]},
          "drift_task_duration_seconds":{"type":"HISTOGRAM","metrics":[{"labels":{"instance":"","job":"drift-worker-run-once","kind":"drift_check"},
            "buckets":{"0.01":"1","300":"4","+Inf":"4"},"count":"4","sum":"1.5"}]},
          "drift_job_exit_code":{"type":"GAUGE","metrics":[{"labels":{"instance":"","job":"drift-worker-run-once"},"value":"1"}]}}]}
        """

    @Test func countersAndHistogramsOfTheSameGroupAreAddedGaugesAreNot() throws {
        let previous = try PushCarry.previous(apiAnswer: try JSONParser.parse(Array(Self.api.utf8)), group: ["job": "drift-worker-run-once"])
        let exposition = """
            # HELP drift_checks_total Checks.
            # TYPE drift_checks_total counter
            drift_checks_total{monitor="m",result="drift"} 1
            drift_checks_total{monitor="m",result="no_drift"} 5
            drift_checks_total{monitor="a \\"quoted\\"\\nname",result="drift"} 0
            # TYPE drift_task_duration_seconds histogram
            drift_task_duration_seconds_bucket{kind="drift_check",le="0.01"} 0
            drift_task_duration_seconds_bucket{kind="drift_check",le="300.0"} 2
            drift_task_duration_seconds_bucket{kind="drift_check",le="+Inf"} 2
            drift_task_duration_seconds_sum{kind="drift_check"} 0.25
            drift_task_duration_seconds_count{kind="drift_check"} 2
            # TYPE drift_job_exit_code gauge
            drift_job_exit_code 0
            """
        let carried = try sampleLines(PushCarry.carry(exposition, previous: previous))
        #expect(carried["drift_checks_total{monitor=\"m\",result=\"drift\"}"] == "4", "3 before + 1 now; the other job's 100 not")
        #expect(carried["drift_checks_total{monitor=\"m\",result=\"no_drift\"}"] == "5", "a new series starts from this run")
        #expect(carried["drift_checks_total{monitor=\"a \\\"quoted\\\"\\nname\",result=\"drift\"}"] == "2", "escaped label values match")
        #expect(carried["drift_task_duration_seconds_bucket{kind=\"drift_check\",le=\"0.01\"}"] == "1")
        #expect(carried["drift_task_duration_seconds_bucket{kind=\"drift_check\",le=\"300.0\"}"] == "6", "bounds compared as numbers")
        #expect(carried["drift_task_duration_seconds_bucket{kind=\"drift_check\",le=\"+Inf\"}"] == "6")
        #expect(carried["drift_task_duration_seconds_sum{kind=\"drift_check\"}"] == "1.75")
        #expect(carried["drift_task_duration_seconds_count{kind=\"drift_check\"}"] == "6")
        #expect(carried["drift_job_exit_code"] == "0", "gauges are this run's")
    }

    @Test func theLastSuccessGaugeIsReadBackOnlyWhenAsked() throws {
        let api = """
            {"status":"success","data":[{"labels":{"job":"j"},
             "drift_job_last_success_timestamp_seconds":{"type":"GAUGE","metrics":[{"labels":{"instance":"","job":"j"},"value":"1.7e+09"}]},
             "drift_job_exit_code":{"type":"GAUGE","metrics":[{"labels":{"instance":"","job":"j"},"value":"0"}]}}]}
            """
        let parsed = try JSONParser.parse(Array(api.utf8))
        let key = PushCarry.key(name: "drift_job_last_success_timestamp_seconds", labels: [:])
        #expect(try PushCarry.previous(apiAnswer: parsed, group: ["job": "j"])[key] == nil, "gauges are not carried by default")
        let asked = try PushCarry.previous(apiAnswer: parsed, group: ["job": "j"], gauges: ["drift_job_last_success_timestamp_seconds"])
        #expect(asked[key] == 1.7e9 && asked.count == 1)
    }

    @Test func noGroupYetOrAnotherShapeCarriesNothingOrSaysWhy() throws {
        let none = try PushCarry.previous(apiAnswer: try JSONParser.parse(Array(Self.api.utf8)), group: ["job": "never-pushed"])
        #expect(none.isEmpty)
        #expect(PushCarry.carry("# TYPE x_total counter\nx_total 1", previous: none) == "# TYPE x_total counter\nx_total 1")
        #expect(throws: (any Error).self) { try PushCarry.previous(apiAnswer: .object([("status", .string("error"))]), group: ["job": "j"]) }
        // hostile lines are left as they are, never a trap
        let odd = "# TYPE x_total counter\nx_total{a=\"unclosed} 1\nx_total{=} 2\nx_total{a=\"\\\"} 3\nx_total NaN\n"
        #expect(
            PushCarry.carry(odd, previous: [PushCarry.key(name: "x_total", labels: [:]): 1]).hasPrefix(
                "# TYPE x_total counter\nx_total{a=\"unclosed} 1"))
    }
}

/// Sample lines of an exposition by their text before the value.
private func sampleLines(_ text: String) throws -> [String: String] {
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " ") else { continue }
        out[String(line[..<space])] = String(line[line.index(after: space)...])
    }
    return out
}
