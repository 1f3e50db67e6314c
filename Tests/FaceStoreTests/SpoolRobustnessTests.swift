import FaceTestSupport
import Foundation
import Locking
import Testing
@testable import FaceStore

/// The spool against a crash in the middle of an append and a FIFO.
/// Each test was a failing repro from a review.
@Suite struct SpoolRobustnessTests {
    let dir: TempDirectory

    init() throws { dir = try TempDirectory() }

    func camera(_ detail: String) -> AuditEvent {
        var event = AuditEvent(kind: .camera, time: Date(), camera: "door")
        event.reason = .camera(.lost)
        event.detail = detail
        return event
    }

    /// faced dies in the middle of an append (power cut): the spool ends in a torn line with no
    /// newline. The next append is glued onto it, so the whole line fails to decode, and the
    /// decision made after the restart is skipped by `entries()` and erased by the replay.
    @Test func aDecisionAppendedAfterATornLineIsNotLost() throws {
        let store = try FaceStore(path: dir.file("faced.db"))
        let spool = EventSpool(galleryPath: store.path)
        try spool.append(SpooledEvent(event: camera("before the crash")))
        let handle = try #require(FileHandle(forWritingAtPath: spool.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"key":"torn","event":{"kind":"cam"#.utf8))
        try handle.close()

        try spool.append(SpooledEvent(event: camera("after the restart")))
        #expect(try spool.entries().map(\.event.detail) == ["before the crash", "after the restart"])
        _ = try spool.replay(into: store)
        #expect(try store.events(EventFilter()).map(\.detail) == ["before the crash", "after the restart"])
    }

    /// A FIFO at the spool path: open(O_WRONLY) without O_NONBLOCK waits for a reader, so the
    /// first decision that must be spooled blocks the pipeline thread (holding the recorder's lock).
    @Test func aFIFOAtTheSpoolPathIsRefusedWithoutBlocking() throws {
        let spool = EventSpool(galleryPath: dir.file("faced.db"))
        #expect(mkfifo(spool.path, 0o600) == 0)
        let finished = Locked(false)
        let thread = Thread {
            _ = try? spool.append(SpooledEvent(event: AuditEvent(kind: .camera, time: Date(), camera: "door")))
            finished.withLock { $0 = true }
        }
        thread.start()
        let deadline = Date().addingTimeInterval(3)
        while !finished.withLock({ $0 }), Date() < deadline { usleep(10_000) }
        let returned = finished.withLock { $0 }
        // Free the blocked thread: a reader lets its open() return.
        let reader = open(spool.path, O_RDONLY | O_NONBLOCK)
        defer { if reader >= 0 { close(reader) } }
        #expect(returned, "EventSpool.append blocked on a FIFO for 3 s")
    }
}
