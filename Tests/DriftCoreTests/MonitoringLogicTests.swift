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
        #expect(
            s.windows(from: midnight.addingTimeInterval(1800), to: midnight.addingTimeInterval(4 * 3600)).count == 3,
            "a backfill starts at the first whole window")
    }

    func window(_ i: Int) -> TimeWindow {
        TimeWindow(start: t0.addingTimeInterval(Double(i) * 3600), end: t0.addingTimeInterval(Double(i + 1) * 3600))
    }

    /// Replays hourly windows through the policy as ordered checks would, keeping only what is stored: each run's
    /// status and streak. `D` drifted, `.` not drifted, `?` insufficient data, `_` a window never checked (a gap).
    func replay(_ pattern: String, policy: DriftPolicy) -> [DriftPolicy.Decision?] {
        var stored: [DriftPolicy.StoredRun] = []  // oldest first
        var lastFiring: Date?
        var out: [DriftPolicy.Decision?] = []
        for (i, c) in pattern.enumerated() {
            guard c != "_" else {
                out.append(nil)
                continue
            }
            let status: DriftPolicy.Status = c == "D" ? .drifted : c == "." ? .notDrifted : .insufficientData
            let history = DriftPolicy.History(previous: DriftPolicy.previous(before: window(i), runs: stored.reversed()), lastFiring: lastFiring)
            let d = policy.decide(status, windowEnd: window(i).end, history: history)
            if d.fired { lastFiring = window(i).end }
            stored.append(.init(window: window(i), status: status, streak: d.streak))
            out.append(d)
        }
        return out
    }

    @Test func firesAfterKConsecutiveDriftedWindowsThenCoolsDown() {
        let policy = DriftPolicy(consecutive: 2, cooldown: ISODuration(seconds: 6 * 3600), actions: ["retrain"])
        let d = replay("..DDDD...DD..DDD", policy: policy)
        #expect(d[2] == .streak(1, of: 2))
        #expect(d[3] == .fired(actions: ["retrain"], streak: 2))
        #expect(d[4] == .suppressedByCooldown(streak: 3, until: window(3).end.addingTimeInterval(6 * 3600)))
        #expect(d[6] == .notDrifted(ended: 4), "a clean window resets the streak")
        #expect(d[7] == .notDrifted(ended: 0))
        #expect(d[9] == .streak(1, of: 2))
        // Window 10 ends 7 h after window 3's end: past the 6 h cooldown.
        #expect(d[10] == .fired(actions: ["retrain"], streak: 2))
        #expect(d.compactMap { $0 }.filter(\.fired).count == 2)
        #expect(d[14] == .suppressedByCooldown(streak: 2, until: window(10).end.addingTimeInterval(6 * 3600)))
    }

    /// The bug this replaces: a look-back capped at its horizon said "after 25 consecutive drifted windows" on the 26th.
    @Test func thirtyDriftedWindowsCountExactly() {
        let policy = DriftPolicy(consecutive: 2, cooldown: ISODuration(seconds: 8 * 3600), actions: ["retrain"])
        let d = replay(String(repeating: "D", count: 30), policy: policy).map { $0! }
        #expect(d.map(\.streak) == Array(1...30), "every window's streak is its position in the run")
        // fires at streaks 2, 10, 18, 26: each firing 8 h after the previous one
        #expect(d.indices.filter { d[$0].fired } == [1, 9, 17, 25])
        #expect(d[0].description == "drifted: streak 1 of 2")
        #expect(d[1].description == "fired retrain after 2 consecutive drifted windows")
        #expect(
            d[24].description
                == "drifted 25 windows in a row, suppressed by cooldown until \(PGTimeText.iso(window(17).end.addingTimeInterval(8 * 3600)))")
        #expect(d[25].description == "fired retrain after 26 consecutive drifted windows")
        #expect(
            d[26].description
                == "drifted 27 windows in a row, suppressed by cooldown until \(PGTimeText.iso(window(25).end.addingTimeInterval(8 * 3600)))")
        #expect(
            d[29].description
                == "drifted 30 windows in a row, suppressed by cooldown until \(PGTimeText.iso(window(25).end.addingTimeInterval(8 * 3600)))")
        #expect(Set(d.map(\.description)).count == 30, "no text repeats")
    }

    @Test func aGapStartsTheStreakAgain() {
        let policy = DriftPolicy(consecutive: 2, cooldown: ISODuration(seconds: 0), actions: ["retrain"])
        let d = replay(String(repeating: "D", count: 25) + "_DDD", policy: policy)
        #expect(d[25] == nil)
        #expect(d[26] == .streak(1, of: 2, afterGap: true))
        #expect(d[26]?.description == "drifted: streak 1 of 2 (the previous window was not checked)")
        #expect(d[27]?.description == "fired retrain after 2 consecutive drifted windows")
        #expect(d[28]?.description == "fired retrain after 3 consecutive drifted windows")
        // the first window of a monitor has no previous window: no gap note
        #expect(replay("D", policy: policy)[0]?.description == "drifted: streak 1 of 2")
        // insufficient data after a gap carries no streak
        #expect(replay("DD__?D", policy: policy)[4] == .insufficientData(streak: 0))
        #expect(replay("DD__?D", policy: policy)[5] == .streak(1, of: 2), "the previous window was checked (with too few events)")
    }

    @Test func insufficientDataInsideAStreakKeepsIt() {
        let policy = DriftPolicy(consecutive: 5, cooldown: ISODuration(seconds: 0), actions: ["retrain"])
        let d = replay("?DD?D?DD.", policy: policy).map { $0! }
        #expect(d.map(\.streak) == [0, 1, 2, 2, 3, 3, 4, 5, 0])
        #expect(d[0].description == "insufficient data: no decision")
        #expect(d[3].description == "insufficient data: no decision, streak stays 2")
        #expect(d[6].description == "drifted: streak 4 of 5")
        #expect(d[7].description == "fired retrain after 5 consecutive drifted windows")
        #expect(d[8].description == "not drifted: streak of 5 reset")
    }

    @Test func cooldownCountsFromTheLastFiringHoweverFarBack() {
        // one firing, then 150 clean windows, then drift: the cooldown (200 h) still holds 151 windows later
        let policy = DriftPolicy(consecutive: 1, cooldown: ISODuration(seconds: 200 * 3600), actions: ["retrain"])
        let d = replay("D" + String(repeating: ".", count: 150) + "DD" + String(repeating: ".", count: 47) + "D", policy: policy)
        #expect(d[0]?.description == "fired retrain after 1 drifted window")
        let until = window(0).end.addingTimeInterval(200 * 3600)
        #expect(d[151] == .suppressedByCooldown(streak: 1, until: until))
        #expect(d[151]?.description == "drifted 1 window, suppressed by cooldown until \(PGTimeText.iso(until))")
        #expect(d[152] == .suppressedByCooldown(streak: 2, until: until))
        #expect(d[199] == .notDrifted(ended: 0))
        #expect(d[200] == .fired(actions: ["retrain"], streak: 1), "window 200 ends exactly 200 h after the firing")
        // what DriftCheck reads: the firing's end, with no horizon
        let far = DriftPolicy.History(previous: .checked(streak: 0), lastFiring: window(0).end)
        #expect(policy.decide(.drifted, windowEnd: until.addingTimeInterval(-1), history: far).fired == false)
        #expect(policy.decide(.drifted, windowEnd: until, history: far).fired)
    }

    @Test func runsWithoutAStoredStreakAreCountedBackwards() {
        let w = window(40)
        func run(_ i: Int, _ s: DriftPolicy.Status, _ streak: Int? = nil) -> DriftPolicy.StoredRun {
            .init(window: window(i), status: s, streak: streak)
        }
        #expect(DriftPolicy.previous(before: w, runs: []) == .none)
        #expect(DriftPolicy.previous(before: w, runs: [run(38, .drifted, 4)]) == .notChecked)
        #expect(
            DriftPolicy.previous(before: w, runs: [run(39, .drifted, 7), run(38, .drifted)]) == .checked(streak: 7), "a stored streak is used as is")
        // legacy runs (no streak): 30 drifted windows in a row count as 30, past any old look-back horizon
        let legacy = (10..<40).reversed().map { run($0, .drifted) } + [run(9, .notDrifted)]
        #expect(DriftPolicy.previous(before: w, runs: legacy) == .checked(streak: 30))
        // insufficient data is skipped, a stored streak ends the count, a gap ends it too
        #expect(
            DriftPolicy.previous(before: w, runs: [run(39, .drifted), run(38, .insufficientData), run(37, .drifted), run(36, .drifted, 5)])
                == .checked(streak: 7))
        #expect(DriftPolicy.previous(before: w, runs: [run(39, .drifted), run(38, .drifted), run(35, .drifted)]) == .checked(streak: 2))
        #expect(DriftPolicy.previous(before: w, runs: [run(39, .insufficientData), run(38, .drifted, 3)]) == .checked(streak: 3))
        #expect(DriftPolicy.previous(before: w, runs: [run(39, .notDrifted), run(38, .drifted, 3)]) == .checked(streak: 0))
    }

    @Test func decisionsReadWell() {
        #expect(DriftPolicy.Decision.streak(1, of: 2).description == "drifted: streak 1 of 2")
        #expect(
            DriftPolicy.Decision.fired(actions: ["retrain", "shadow_eval"], streak: 2).description
                == "fired retrain, shadow_eval after 2 consecutive drifted windows")
        #expect(
            DriftPolicy.Decision.fired(actions: [], streak: 3).description
                == "drift confirmed after 3 consecutive drifted windows (no actions configured)")
    }
}
