import FaceTestSupport
import Foundation
import GRDB
import Testing
@testable import FaceStore

/// Gallery changes are chained events; spooled events reach the chain once, in order.
@Suite struct AdminAndSpoolTests {
    let dir: TempDirectory
    let store: FaceStore

    init() throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("faced.db"))
    }

    func template(_ seed: Float, sha: String) -> FaceTemplate {
        FaceTemplate(vector: (0 ..< 128).map { Float($0) * 0.001 + seed }, sourceName: "\(sha).jpg", sourceSHA256: sha,
                     box: (10, 20, 100, 110), detectorScore: 1.5, sharpness: 300, brightness: 120)
    }

    @Test func everyGalleryChangeIsAChainedEventSayingWhoAndWhat() throws {
        let admin = AdminActor(uid: 1000, user: "alice")
        try store.enroll(name: "bob", templates: [template(0.1, sha: "aa"), template(0.2, sha: "bb")], by: admin)
        try store.update(name: "bob", PersonUpdate(enabled: false, groups: ["staff"]), by: admin)
        try store.setSchedules(["mon-fri 07:00-19:00"], group: "staff", by: admin)
        try store.apply(GallerySync(people: [], groupSchedules: ["staff": []], remove: []), by: admin)
        try store.remove(name: "bob", by: admin)
        let events = try store.events(EventFilter())
        #expect(events.allSatisfy { $0.kind == .admin && $0.detail?.hasPrefix("by alice (uid 1000): ") == true })
        #expect(events.map(\.reason?.rawValue) == ["enroll", "set", "group", "sync", "remove"])
        #expect(events[0].personName == "bob" && events[0].detail!.contains("2 photos added (aa.jpg, bb.jpg), 2 in total"), "\(events[0].detail!)")
        #expect(events[1].detail!.contains("disabled; groups staff"))
        #expect(events[2].detail!.contains("group staff: schedules mon-fri 07:00-19:00"))
        #expect(events[4].detail!.contains("removed with 2 templates"))
        #expect(try store.verifyChain().firstBreak == nil)
    }

    @Test func aChangeThatFailsLeavesNoEventEither() throws {
        try store.enroll(name: "bob", templates: [template(0.1, sha: "aa")])
        #expect(throws: StoreError.self) { try store.enroll(name: "bob", templates: [template(0.1, sha: "aa")]) }
        #expect(throws: StoreError.self) { try store.remove(name: "nobody") }
        #expect(try store.events(EventFilter()).count == 1)
    }

    @Test func controlCharactersNeverEnterTheChain() throws {
        var event = AuditEvent(kind: .camera, time: Date(), camera: "door\u{1B}[2J")
        event.detail = "line one\nline two\u{0}end\u{202E}"
        let stored = try store.append(event)
        #expect(stored.camera == "door\\x1b[2J")
        #expect(stored.detail == "line one\\nline two\\x00end\\u{202E}")
        #expect(try store.event(id: stored.id!)?.detail == stored.detail)
        #expect(try store.verifyChain().firstBreak == nil)
    }

    func camera(_ detail: String) -> AuditEvent {
        var event = AuditEvent(kind: .camera, time: Date(), camera: "door")
        event.reason = .camera(.lost)
        event.detail = detail
        return event
    }

    @Test func theSpoolReplaysInOrderResolvesReferencesAndIsNeverDoubled() throws {
        let spool = EventSpool(galleryPath: store.path)
        var grant = AuditEvent(kind: .decision, time: Date(), camera: "door")
        grant.decision = .granted
        let grantEntry = SpooledEvent(event: grant)
        try spool.append(grantEntry)
        try spool.append(SpooledEvent(refKey: grantEntry.key, event: AuditEvent(kind: .action, time: Date(), camera: "door")))
        try spool.append(SpooledEvent(event: camera("third")))
        // A crash in the middle of an append leaves a torn last line: it is not an event.
        let handle = try #require(FileHandle(forWritingAtPath: spool.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"key":"torn","event":{"kind":"cam"#.utf8))
        try handle.close()
        #expect(try spool.entries().count == 3)

        // The replay commits, then faced dies before the spool is emptied: the next replay skips what the chain took.
        let waiting = try spool.entries()
        let first = try store.appendSpooled(waiting).map(\.event)
        #expect(first.map(\.kind) == [.decision, .action, .camera])
        #expect(first[1].refEventID == first[0].id, "the action row names its grant's id")
        let again = try spool.replay(into: store)
        #expect(again.stored.isEmpty && again.rejectedLines == 1, "the torn line is kept aside")
        #expect(FileManager.default.fileExists(atPath: spool.rejectedPath))
        #expect(spool.isEmpty)
        #expect(try store.events(EventFilter()).count == 3)

        try spool.append(SpooledEvent(event: camera("fourth")))
        #expect(try spool.replay(into: store).stored.map(\.event.detail) == ["fourth"])
        #expect(try store.verifyChain().firstBreak == nil)
    }

    @Test func theSpoolIsPrivateAndRefusesAPlantedLink() throws {
        let spool = EventSpool(galleryPath: dir.file("other.db"))
        symlink(dir.file("target"), spool.path)
        #expect(throws: SpoolError.self) { try spool.append(SpooledEvent(event: camera("x"))) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("target")))
    }

    @Test func aDeletedTailIsFoundByItsWitness() throws {
        for i in 0 ..< 3 { try store.append(camera("\(i)")) }
        let head = try #require(try store.chainHead())
        #expect(try store.checkTail(against: [ChainWitness(source: "the journal", head: head)]).isEmpty)
        try DatabaseQueue(path: store.path).write { try $0.execute(sql: "DELETE FROM events WHERE id = 3") }
        #expect(try store.verifyChain().firstBreak == nil, "a shorter chain is still a valid chain")
        let problems = try store.checkTail(against: [ChainWitness(source: "the journal", head: head)])
        #expect(problems.map(\.description) == ["event 3 is missing: the journal saw event 3, the chain ends at event 2 (its tail was deleted)"])
        var forged = head
        forged.id = 2
        #expect(try store.checkTail(against: [ChainWitness(source: "the journal", head: forged)]).first?.kind == .differs)
    }
}
