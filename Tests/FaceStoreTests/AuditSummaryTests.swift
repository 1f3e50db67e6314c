import FaceStore
import FaceTestSupport
import Foundation
import Testing

/// `log summary`'s sums over a generated month of a door's decisions, against answers worked out
/// from the plan the log was generated from.
@Suite struct AuditSummaryTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let people = ["alice", "bob", "Chloé", "dave"]

    /// 30 days × 200 decisions from 2026-10-12, Berlin time: 2026-10-25 is 25 hours long.
    let dir: TempDirectory
    let store: FaceStore
    let visits: [SyntheticAuditLog.Visit]

    init() throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("faced.db"), create: true)
        let generator = SyntheticAuditLog(people: Self.people, cameras: ["front", "lab"], zone: Self.berlin)
        visits = generator.visits(firstDay: (2026, 10, 12), days: 30, perDay: 200, seed: 7)
        try store.append(contentsOf: visits.map(\.event))
    }

    struct Expected: Equatable {
        var first: Date?, last: Date?, grants = 0, denials = 0
    }

    /// Sums the plan by (planned day, person), the way the report should.
    func expected(_ visits: [SyntheticAuditLog.Visit]) -> [String: Expected] {
        var sums = [String: Expected]()
        for v in visits {
            guard let person = v.person else { continue }
            let key = v.day + " " + person
            var e = sums[key] ?? Expected()
            if v.decision == .granted {
                e.grants += 1
                e.first = min(e.first ?? v.time, v.time)
                e.last = max(e.last ?? v.time, v.time)
            } else {
                e.denials += 1
            }
            sums[key] = e
        }
        return sums
    }

    func actual(_ summary: AuditSummary) -> [String: Expected] {
        Dictionary(uniqueKeysWithValues: summary.personDays.map {
            ($0.day + " " + $0.person, Expected(first: $0.firstGrant, last: $0.lastGrant, grants: $0.grants, denials: $0.denials))
        })
    }

    /// Stored times keep milliseconds: compare to the millisecond.
    func sameToTheMillisecond(_ a: [String: Expected], _ b: [String: Expected]) -> Bool {
        func ms(_ d: Date?) -> Int64? { d.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } }
        guard a.keys.sorted() == b.keys.sorted() else { return false }
        return a.allSatisfy { key, e in
            let f = b[key]!
            return ms(e.first) == ms(f.first) && ms(e.last) == ms(f.last) && e.grants == f.grants && e.denials == f.denials
        }
    }

    @Test func theWholeMonthAddsUpPerPersonAndLocalDay() throws {
        #expect(visits.count == 6000)
        let summary = try store.summary(EventFilter(), zone: Self.berlin)
        #expect(summary.decisions == 6000)
        let want = expected(visits)
        #expect(Set(summary.personDays.map(\.day)).count == 30)
        #expect(sameToTheMillisecond(actual(summary), want))
        // Refusals by reason, from the plan.
        var reasons = [String: Int]()
        for v in visits where v.decision != .granted { reasons[v.reason!.rawValue, default: 0] += 1 }
        #expect(Dictionary(uniqueKeysWithValues: summary.refusals.map { ($0.reason, $0.count) }) == reasons)
        #expect(summary.refusals.map(\.count) == summary.refusals.map(\.count).sorted(by: >))
        #expect(reasons.keys.sorted() == ["ambiguous", "cooldown", "outside_schedule", "unknown"])
    }

    @Test func daysAreLocalDaysAcrossTheAutumnClockChange() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.berlin
        let day = calendar.date(from: DateComponents(year: 2026, month: 10, day: 25))!
        let next = calendar.date(byAdding: .day, value: 1, to: day)!
        #expect(next.timeIntervalSince(day) == 25 * 3600)
        let summary = try store.summary(EventFilter(since: day, until: next), zone: Self.berlin)
        let planned = visits.filter { $0.day == "2026-10-25" }
        #expect(planned.count == 200)
        #expect(summary.decisions == 200)
        #expect(Set(summary.personDays.map(\.day)) == ["2026-10-25"])
        #expect(sameToTheMillisecond(actual(summary), expected(planned)))
        // The day's last visit lies after 23:00 wall time of a 25-hour day, its first before 01:00.
        #expect(planned.first!.secondOfDay < 60 && planned.last!.secondOfDay > 25 * 3600 - 61)
    }

    @Test func theSameLogInUTCCutsDaysElsewhere() throws {
        // Every Berlin day has a visit in its first minute: 22:00 or 23:00 UTC the day before.
        let utc = try store.summary(EventFilter(), zone: .gmt)
        #expect(utc.decisions == 6000)
        #expect(!sameToTheMillisecond(actual(utc), expected(visits)))
        #expect(Set(utc.personDays.map(\.day)).contains("2026-10-11"))
    }

    @Test func onePersonOneCameraAndAWindowOfHours() throws {
        let chloe = try store.summary(EventFilter(person: "chloé"), zone: Self.berlin)
        #expect(Set(chloe.personDays.map(\.person)) == ["Chloé"])
        #expect(sameToTheMillisecond(actual(chloe), expected(visits.filter { $0.person == "Chloé" })))
        #expect(chloe.refusals.allSatisfy { ["cooldown", "outside_schedule"].contains($0.reason) })

        let lab = try store.summary(EventFilter(camera: "lab"), zone: Self.berlin)
        #expect(lab.decisions == visits.filter { $0.camera == "lab" }.count)
        #expect(sameToTheMillisecond(actual(lab), expected(visits.filter { $0.camera == "lab" })))

        // 20:00 to 06:00 local, by the planned wall clock (the elapsed second on the 25-hour day
        // is one hour ahead of the wall clock after 03:00 CEST → 02:00 CET).
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.berlin
        func atNight(_ date: Date) -> Bool { let h = calendar.component(.hour, from: date); return h >= 20 || h < 6 }
        let night = try store.summary(EventFilter(), zone: Self.berlin, include: atNight)
        let planned = visits.filter { atNight($0.time) }
        #expect(night.decisions == planned.count && planned.count > 1000 && planned.count < 5000)
        #expect(sameToTheMillisecond(actual(night), expected(planned)))
    }

    @Test func anEmptyRangeSumsToNothing() throws {
        let since = Date(timeIntervalSince1970: 2_000_000_000)
        let summary = try store.summary(EventFilter(since: since), zone: Self.berlin)
        #expect(summary.decisions == 0 && summary.personDays.isEmpty && summary.refusals.isEmpty && summary.first == nil)
    }
}
