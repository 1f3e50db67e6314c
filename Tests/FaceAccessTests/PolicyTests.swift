import FaceStore
import Foundation
import Testing
@testable import FaceAccess

@Suite struct ScheduleTests {
    let utc = TimeZone(identifier: "UTC")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// 2026-11-23 is a Monday.
    func date(_ day: Int, _ hour: Int, _ minute: Int = 0, in zone: TimeZone) -> Date {
        var c = DateComponents(year: 2026, month: 11, day: day, hour: hour, minute: minute)
        c.timeZone = zone
        return Calendar(identifier: .gregorian).date(from: c)!
    }

    @Test func parsesDaysAndTimes() throws {
        let s = try Schedule(parsing: "mon-fri 07:00-19:00")
        #expect(s.days == [.mon, .tue, .wed, .thu, .fri] && s.start == 420 && s.end == 1140)
        #expect(try Schedule(parsing: "sat,sun 10:00-14:30").description == "sat,sun 10:00-14:30")
        #expect(try Schedule(parsing: "daily 00:00-24:00").description == "daily 00:00-24:00")
        #expect(try Schedule(parsing: "mon-fri 7:00-19:00").description == "mon-fri 07:00-19:00")
        #expect(try Schedule(parsing: "mon,wed-sun 7:00-19:00").description == "mon,wed-sun 07:00-19:00")
        #expect(try Schedule(parsing: "sat-mon 08:00-09:00").days == [.sat, .sun, .mon])
        #expect(try Schedule(parsing: "MON,wed-thu 8:00-9:00").days == [.mon, .wed, .thu])
    }

    @Test(arguments: ["", "mon-fri", "funday 07:00-08:00", "mon 7-8", "mon 25:00-26:00", "mon 07:00-07:00", "mon 24:00-01:00", "mon 07:60-08:00"])
    func rejectsBadText(text: String) {
        #expect(throws: ScheduleError.self) { try Schedule(parsing: text) }
    }

    @Test func windowIsHalfOpenAndLocal() throws {
        let s = try Schedule(parsing: "mon-fri 07:00-19:00")
        #expect(s.contains(date(23, 7, in: berlin), in: berlin))
        #expect(s.contains(date(23, 18, 59, in: berlin), in: berlin))
        #expect(!s.contains(date(23, 19, in: berlin), in: berlin))
        #expect(!s.contains(date(23, 6, 59, in: berlin), in: berlin))
        #expect(!s.contains(date(28, 12, in: berlin), in: berlin), "Saturday")
        // 06:30 UTC is 07:30 in Berlin: inside there, outside in UTC.
        #expect(s.contains(date(23, 6, 30, in: utc), in: berlin))
        #expect(!s.contains(date(23, 6, 30, in: utc), in: utc))
    }

    @Test func overnightWindowBelongsToItsStartDay() throws {
        let s = try Schedule(parsing: "fri 22:00-02:00")
        #expect(s.contains(date(27, 23, in: utc), in: utc), "Friday 23:00")
        #expect(s.contains(date(28, 1, 30, in: utc), in: utc), "Saturday 01:30")
        #expect(!s.contains(date(28, 2, in: utc), in: utc))
        #expect(!s.contains(date(27, 1, in: utc), in: utc), "Friday 01:00 belongs to Thursday night")
    }
}

@Suite struct PolicyTests {
    /// Wednesday 2026-11-18, 20:30 UTC.
    let now = Calendar(identifier: .gregorian).date(from: DateComponents(
        timeZone: TimeZone(identifier: "UTC"), year: 2026, month: 11, day: 18, hour: 20, minute: 30))!

    func observation(_ person: Int64?, _ distance: Float, runnerUp: Float = 0.9, level: SecurityLevel = .standard) -> Observation {
        let best = person.map { Candidate(personID: $0, name: "p\($0)", displayName: "P\($0)", distance: distance, templateID: 1) }
        let runner = Candidate(personID: 99, name: "r", displayName: "R", distance: runnerUp, templateID: 2)
        let result = MatchResult(best: best, runnerUp: person == nil ? nil : runner)
        return Observation(result: result, verdict: level.verdict(for: result))
    }

    func decide(_ obs: [Observation], rights: AccessRights = AccessRights(), lastGrant: Date? = nil,
                policy: Policy = Policy(timeZone: TimeZone(identifier: "UTC")!)) -> Decision? {
        policy.decide(policy.summarise(obs), rights: { _ in rights }, lastGrant: { _ in lastGrant }, at: now)
    }

    @Test func aPersonsOwnLevelOnlyRaisesTheBar() {
        let policy = Policy(timeZone: TimeZone(identifier: "UTC")!)
        // 0.47: inside standard (0.50), outside strict (0.45).
        let frames = (0 ..< 5).map { _ in observation(1, 0.47) }
        #expect(policy.summarise(frames).finding == .recognised(personID: 1))
        #expect(policy.summarise(frames, levelOf: { _ in .strict }).finding == .unknown, "strict for this person")
        #expect(policy.summarise(frames, levelOf: { $0 == 2 ? .strict : nil }).finding == .recognised(personID: 1))
        // A relaxed level for a person does not loosen a strict door.
        let strictDoor = Policy(level: .strict, timeZone: TimeZone(identifier: "UTC")!)
        let strictFrames = (0 ..< 5).map { _ in observation(1, 0.47, level: .strict) }
        #expect(strictDoor.summarise(strictFrames, levelOf: { _ in .relaxed }).finding != .recognised(personID: 1))
        #expect(SecurityLevel.standard.stricter(.strict) == .strict && SecurityLevel.strict.stricter(.relaxed) == .strict)
        // An unreadable stored level reads as strict.
        var entry = GallerySnapshot.Entry(personID: 1, name: "a", displayName: "A", enabled: true)
        entry.securityLevel = "strcit"
        #expect(AccessRights(entry).level == .strict)
    }

    @Test func needsKofMFramesOfOnePerson() {
        let two = [observation(1, 0.3), observation(1, 0.3)]
        #expect(decide(two) == nil, "2 of 5 is not enough yet")
        let three = two + [observation(1, 0.35)]
        #expect(decide(three) == .granted(personID: 1))
        let mixed = [observation(1, 0.3), observation(2, 0.3), observation(1, 0.3), observation(2, 0.3), observation(nil, 0)]
        #expect(decide(mixed) == .denied(personID: nil, reason: .unknown), "2 + 2 split never reaches K = 3")
        let old = [observation(1, 0.3), observation(1, 0.3), observation(1, 0.3)] + (0 ..< 5).map { _ in observation(nil, 0) }
        #expect(decide(old) == .denied(personID: nil, reason: .unknown), "only the last M frames count")
    }

    @Test func medianDistanceMustPass() {
        let policy = Policy(level: SecurityLevel(name: "t", maxDistance: 0.5, minMargin: 0), timeZone: .gmt)
        let s = policy.summarise([observation(1, 0.2), observation(1, 0.49), observation(1, 0.49)])
        #expect(s.finding == .recognised(personID: 1))
        #expect(s.medianDistance == 0.49 && s.framesUsed == 3 && s.distances == [0.2, 0.49, 0.49])
    }

    @Test func ambiguousFramesAreRefused() {
        // Close to person 1 but the runner-up is within the margin every time.
        let frames = (0 ..< 5).map { _ in observation(1, 0.4, runnerUp: 0.42) }
        #expect(frames.allSatisfy { $0.verdict == .ambiguous })
        #expect(decide(frames) == .denied(personID: nil, reason: .ambiguous))
    }

    @Test func unknownAfterMFramesWithoutAMatch() {
        let frames = (0 ..< 5).map { _ in observation(1, 0.8) }
        #expect(decide(Array(frames.prefix(4))) == nil)
        #expect(decide(frames) == .denied(personID: nil, reason: .unknown))
    }

    let recognised = [Observation](repeating: Observation(result: MatchResult(
        best: Candidate(personID: 1, name: "a", displayName: "A", distance: 0.3, templateID: 1), runnerUp: nil), verdict: .match), count: 3)

    @Test func disabledPersonIsDenied() {
        #expect(decide(recognised, rights: AccessRights(enabled: false)) == .denied(personID: 1, reason: .disabled))
    }

    @Test func validityWindowIsEnforced() {
        #expect(decide(recognised, rights: AccessRights(validUntil: now)) == .denied(personID: 1, reason: .expired))
        #expect(decide(recognised, rights: AccessRights(validFrom: now.addingTimeInterval(60))) == .denied(personID: 1, reason: .expired))
        #expect(decide(recognised, rights: AccessRights(validFrom: now.addingTimeInterval(-60), validUntil: now.addingTimeInterval(60)))
            == .granted(personID: 1))
    }

    @Test func scheduleIsEnforced() throws {
        let office = try Schedule(parsing: "mon-fri 07:00-19:00")
        let evening = try Schedule(parsing: "wed 20:00-21:00")
        #expect(decide(recognised, rights: AccessRights(schedules: [office])) == .denied(personID: 1, reason: .outsideSchedule))
        #expect(decide(recognised, rights: AccessRights(schedules: [office, evening])) == .granted(personID: 1))
    }

    @Test func cooldownBlocksASecondGrant() {
        #expect(decide(recognised, lastGrant: now.addingTimeInterval(-5)) == .denied(personID: 1, reason: .cooldown))
        #expect(decide(recognised, lastGrant: now.addingTimeInterval(-11)) == .granted(personID: 1))
    }

    @Test func unknownPersonRightsDeny() {
        let policy = Policy(timeZone: .gmt)
        let decision = policy.decide(policy.summarise(recognised), rights: { _ in nil }, lastGrant: { _ in nil }, at: now)
        #expect(decision == .denied(personID: 1, reason: .disabled))
    }
}
