import FaceTestSupport
import Foundation
import GRDB
import Testing
@testable import FaceStore

/// Typed log words read from rows this build did not write.
@Suite struct UnknownWordTests {
    /// One row edited to a word faced never writes: the chain says where, but the listing (what
    /// `facectl log` and faced's start, which reads recent grants for cooldown, go through)
    /// should still list the other rows instead of failing as a whole.
    @Test func oneUnreadableRowDoesNotHideTheWholeLog() throws {
        let dir = try TempDirectory()
        let store = try FaceStore(path: dir.file("faced.db"))
        var event = AuditEvent(kind: .decision, time: Date(), camera: "door")
        event.decision = .granted
        event.personID = 1
        try store.append(event)
        try store.append(event)
        try store.writer.write { try $0.execute(sql: "UPDATE events SET reason = 'bogus' WHERE id = 2") }
        #expect(try store.verifyChain().firstBreak?.eventID == 2)
        let all = Result { try store.events(EventFilter()) }
        let grants = Result { try store.events(EventFilter(since: Date().addingTimeInterval(-60), decision: .granted, camera: "door")) }
        #expect((try? all.get())?.count == 2, "facectl log: \(all)")
        #expect((try? grants.get()) != nil, "faced's start (recent grants for cooldown): \(grants)")
        let edited = try #require(try store.event(id: 2))
        #expect(edited.reason == nil && edited.reasonWord == "bogus" && edited.decision == .granted)
    }
}
