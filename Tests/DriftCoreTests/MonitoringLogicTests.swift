import DriftCore
import Foundation
import Testing

@Suite("Windows and the drift policy (pure logic)")
struct MonitoringLogicTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T…Z

    @Test func isoDurations() throws {
        #expect(try ISODuration(parsing: "PT1H").seconds == 3600)
        #expect(try ISODuration(parsing: "P1DT12H").seconds == 129_600)
        #expect(try ISODuration(parsing: "PT90M").seconds == 5400)
        #expect(try ISODuration(parsing: "P2W").seconds == 1_209_600)
        #expect(try ISODuration(parsing: "PT0.5S").seconds == 0.5)
        #expect(throws: ISODuration.ParseError.variableLength("P1M")) { try ISODuration(parsing: "P1M") }
        #expect(throws: ISODuration.ParseError.malformed("1H")) { try ISODuration(parsing: "1H") }
        #expect(throws: ISODuration.ParseError.malformed("PT")) { try ISODuration(parsing: "PT") }
        #expect(throws: ISODuration.ParseError.malformed("P1H")) { try ISODuration(parsing: "P1H") }
        #expect(ISODuration(seconds: 93_784).description == "P1DT2H3M4S")
    }

    @Test func windowsAreAlignedAndHalfOpen() throws {
        let s = WindowSchedule(length: try ISODuration(parsing: "PT1H"), alignment: try ISODuration(parsing: "PT15M"))
        let w = s.window(containing: Date(timeIntervalSince1970: 3600 * 10 + 900))  // exactly a boundary
        #expect(w.start.timeIntervalSince1970 == 3600 * 10 + 900 && w.end.timeIntervalSince1970 == 3600 * 11 + 900)
        #expect(w.contains(w.start) && !w.contains(w.end))
        let before = s.window(containing: Date(timeIntervalSince1970: 3600 * 10 + 899))
        #expect(before.end == w.start)
        #expect(s.next(before) == w && s.previous(w) == before)
    }

    @Test func dueWindowsRespectLateness() throws {
        let s = WindowSchedule(length: try ISODuration(parsing: "PT1H"), lateness: try ISODuration(parsing: "PT10M"))
        let midnight = Date(timeIntervalSince1970: 86_400 * 20_000)
        // At 03:05 the 02:00–03:00 window is closed but within its 10-minute lateness: not due yet.
        let due = s.dueWindows(now: midnight.addingTimeInterval(3 * 3600 + 300), since: midnight)
        #expect(due.map(\.start) == [midnight, midnight.addingTimeInterval(3600)])
        let later = s.dueWindows(now: midnight.addingTimeInterval(3 * 3600 + 600), since: midnight)
        #expect(later.count == 3)
        #expect(s.windows(from: midnight.addingTimeInterval(1800), to: midnight.addingTimeInterval(4 * 3600)).count == 3,
                "a backfill starts at the first whole window")
    }

    func verdicts(_ pattern: String, fired: Set<Int> = []) -> [DriftPolicy.Verdict] {
        pattern.enumerated().map { i, c in
            let w = TimeWindow(start: t0.addingTimeInterval(Double(i) * 3600), end: t0.addingTimeInterval(Double(i + 1) * 3600))
            let status: DriftPolicy.Verdict.Status = c == "D" ? .drifted : c == "." ? .notDrifted : .insufficientData
            return DriftPolicy.Verdict(window: w, status: status, fired: fired.contains(i))
        }
    }

    /// Replays a sequence of windows through the policy, as checks in order would.
    func replay(_ pattern: String, policy: DriftPolicy) -> [DriftPolicy.Decision] {
        var history: [DriftPolicy.Verdict] = []
        var out: [DriftPolicy.Decision] = []
        for var v in verdicts(pattern) {
            let d = policy.decide(current: v, history: history)
            v.fired = d.fired
            history.append(v)
            out.append(d)
        }
        return out
    }

    @Test func firesAfterKConsecutiveDriftedWindowsThenCoolsDown() {
        let policy = DriftPolicy(consecutive: 2, cooldown: ISODuration(seconds: 6 * 3600), actions: ["retrain"])
        let d = replay("..DDDD...DD..DDD", policy: policy)
        #expect(d[2] == .streak(1, of: 2))
        #expect(d[3] == .fired(actions: ["retrain"], streak: 2))
        if case .suppressedByCooldown(3, _) = d[4] {} else { Issue.record("window 4: \(d[4])") }
        #expect(d[6] == .notDrifted, "a clean window resets the streak")
        #expect(d[9] == .streak(1, of: 2))
        // Window 10 ends 7 h after window 3's end: past the 6 h cooldown.
        #expect(d[10] == .fired(actions: ["retrain"], streak: 2))
        #expect(d.filter(\.fired).count == 2)
        if case .suppressedByCooldown = d[14] {} else { Issue.record("window 14: \(d[14])") }
    }

    @Test func insufficientDataNeitherCountsNorBreaksTheStreak() {
        let policy = DriftPolicy(consecutive: 3, cooldown: ISODuration(seconds: 3600))
        let d = replay("D?DD", policy: policy)
        #expect(d[1] == .insufficientData)
        #expect(d[2] == .streak(2, of: 3))
        #expect(d[3].fired)
    }

    @Test func decisionsReadWell() {
        #expect(DriftPolicy.Decision.streak(1, of: 2).description == "drifted: streak 1 of 2")
        #expect(DriftPolicy.Decision.fired(actions: ["retrain", "shadow_eval"], streak: 2).description
            == "fired retrain, shadow_eval after 2 consecutive drifted windows")
    }
}
