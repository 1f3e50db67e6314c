import FaceTestSupport
import Foundation
import GRDB
import Testing
@testable import FaceStore

@Suite struct AuditLogTests {
    let dir: TempDirectory
    let store: FaceStore

    init() throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("faced.db"))
    }

    func decision(_ name: String?, _ decision: AuditEvent.Decision, reason: DenialReason? = nil, track: Int64) -> AuditEvent {
        var e = AuditEvent(kind: .decision, time: Date(timeIntervalSince1970: 1_795_000_000 + Double(track)), camera: "door")
        e.trackID = track
        e.decision = decision
        e.reason = reason.map(AuditEvent.Reason.denial)
        e.personName = name
        e.bestDistance = 0.31234567
        e.evidence = "[0.3,0.31,0.32]"
        return e
    }

    func fillThree() throws {
        try store.append(decision("obama", .granted, track: 1))
        try store.append(decision(nil, .unknown, reason: .unknown, track: 2))
        try store.append(decision("biden", .denied, reason: .outsideSchedule, track: 3))
    }

    @Test func appendedEventsFormAChain() throws {
        try fillThree()
        let events = try store.events()
        #expect(events.map(\.id) == [1, 2, 3])
        #expect(events[0].prevHash == AuditEvent.genesisHash)
        #expect(events[1].prevHash == events[0].hash && events[2].prevHash == events[1].hash)
        #expect(events[0].time == "2026-11-18T11:06:41.000Z")
        let result = try store.verifyChain()
        #expect(result.checked == 3 && result.firstBreak == nil)
    }

    @Test func anEditedRowIsNamed() throws {
        try fillThree()
        try store.writer.write { try $0.execute(sql: "UPDATE events SET person_name = 'mallory' WHERE id = 2") }
        let result = try store.verifyChain()
        #expect(result.firstBreak?.eventID == 2)
        #expect(result.firstBreak?.problem.contains("edited") == true)
        #expect(result.checked == 1)
    }

    @Test func anEditedDistanceIsNamed() throws {
        try fillThree()
        try store.writer.write { try $0.execute(sql: "UPDATE events SET best_distance = 0.3123456 WHERE id = 3") }
        #expect(try store.verifyChain().firstBreak?.eventID == 3)
    }

    @Test func aDeletedRowIsNamed() throws {
        try fillThree()
        try store.writer.write { try $0.execute(sql: "DELETE FROM events WHERE id = 2") }
        let result = try store.verifyChain()
        #expect(result.firstBreak?.eventID == 3)
        #expect(result.firstBreak?.problem.contains("missing") == true)
    }

    @Test func aRowWithAForgedHashIsCaughtAtTheNextLink() throws {
        try fillThree()
        // Rewrite row 2 and its own hash consistently: row 3's link no longer matches.
        var row2 = try #require(try store.events()[1])
        row2.personName = "mallory"
        let forged = row2.computedHash(prev: row2.prevHash)
        try store.writer.write { try $0.execute(sql: "UPDATE events SET person_name = 'mallory', hash = ? WHERE id = 2", arguments: [forged]) }
        #expect(try store.verifyChain().firstBreak?.eventID == 3)
    }

    @Test func valuesCannotForgeFieldBoundaries() {
        var a = decision("x\nreason=\"cooldown\"", .denied, track: 1)
        var b = decision("x", .denied, reason: .cooldown, track: 1)
        a.id = 1
        b.id = 1
        #expect(a.canonicalText != b.canonicalText)
        #expect(a.computedHash(prev: AuditEvent.genesisHash) != b.computedHash(prev: AuditEvent.genesisHash))
    }

    @Test func emptyLogVerifies() throws {
        let result = try store.verifyChain()
        #expect(result.checked == 0 && result.firstBreak == nil)
    }
}
