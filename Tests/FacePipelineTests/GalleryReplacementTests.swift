import FacePipeline
import FaceStore
import FaceTestSupport
import FacedModel
import Foundation
import GRDB
import Testing

/// A gallery replaced under a running faced, and the chain's witnesses.
/// Each test was a failing repro from a review.
@Suite struct GalleryReplacementTests {
    let dir: TempDirectory
    let db: String

    init() throws {
        dir = try TempDirectory()
        db = dir.file("faced.db")
    }

    func template(_ seed: Float, sha: String) -> FaceTemplate {
        FaceTemplate(vector: (0 ..< 128).map { Float($0) * 0.001 + seed }, sourceName: "\(sha).jpg", sourceSHA256: sha,
                     box: (10, 20, 100, 110), detectorScore: 1.5, sharpness: 300, brightness: 120)
    }

    func camera(_ detail: String) -> AuditEvent {
        var event = AuditEvent(kind: .camera, time: Date(), camera: "door")
        event.reason = .camera(.lost)
        event.detail = detail
        return event
    }

    /// `mv new.db faced.db` replaces only the main file: faced.db-wal and faced.db-shm still
    /// belong to the old gallery, which faced still has open (Faced.run keeps its first store
    /// for its whole life). The reopened store then reads the new file through the OLD WAL.
    @Test func aReplacedGalleryIsReadFromItsOwnFileNotTheOldWAL() throws {
        let old = try FaceStore(path: db)
        try old.enroll(name: "alice", templates: [template(0.1, sha: "aa")])
        for i in 0 ..< 50 { try old.append(camera("old \(i)")) }
        #expect(FileManager.default.fileExists(atPath: db + "-wal"))
        do {
            let fresh = try FaceStore(path: dir.file("new.db"))
            try fresh.enroll(name: "carol", templates: [template(0.5, sha: "cc")])
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("new.db-wal")), "the new gallery was closed cleanly")
        #expect(rename(dir.file("new.db"), db) == 0)

        let handle = GalleryHandle(store: old)
        // The new file is opened once it has looked the same for a moment (a copy may still be under way).
        var found = handle.current()
        let deadline = Date().addingTimeInterval(5)
        while found == nil, Date() < deadline {
            usleep(50_000)
            found = handle.current()
        }
        let (store, _) = try #require(found)
        #expect(store.identity != old.identity)
        let people = try store.people().map(\.person.name), events = try store.events(EventFilter()).count
        #expect(people == ["carol"], "the reopened gallery shows \(people)")
        #expect(events == 1, "only carol's enrollment is in the new file, the reopened gallery shows \(events) events")
        _ = try store.append(camera("into the new gallery"))
        _ = old
        // What another process (facectl) sees in the new file once faced is gone.
        let check = try DatabaseQueue(path: db)
        let integrity = try check.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
        #expect(integrity == ["ok"])
    }

    /// After faced reopens a replaced (restored or fresh) gallery, the status file speaks of the
    /// new chain only; the old gallery's heads raise no false alarm.
    @Test func theStatusHeadFollowsTheGalleryInUse() throws {
        var status = DaemonStatus(pid: 1, started: Date(), config: nil, source: "test", camera: "door", level: "normal")
        let old = try FaceStore(path: dir.file("old.db"))
        for i in 0 ..< 5 { status.add(try old.append(camera("old \(i)"))) }
        let fresh = try FaceStore(path: db)
        status.resetChain(id: try fresh.chainRoot(), head: try fresh.chainHead())
        status.add(try fresh.append(camera("new gallery")))
        #expect(status.chainRoot == (try fresh.chainRoot()))
        let witnesses = status.recentHeads.map { ChainWitness(source: "faced's status file", head: $0) }
        #expect(try fresh.checkTail(against: witnesses).isEmpty, "\(status.recentHeads)")
    }

    /// Someone deletes the last events while faced runs; faced appends the next decisions with
    /// the next free ids and, once past the old head, publishes the new head. Both witnesses (the status file's head
    /// and the journal's newest FACED_HASH) then agree with the shortened chain: the cut is missed.
    @Test func aTailCutWhileFacedRunsIsStillFoundAfterTheNextEvent() throws {
        let store = try FaceStore(path: db)
        var status = DaemonStatus(pid: 1, started: Date(), config: nil, source: "test", camera: "door", level: "normal")
        for i in 0 ..< 5 { status.add(try store.append(camera("\(i)"))) }
        try DatabaseQueue(path: db).write { try $0.execute(sql: "DELETE FROM events WHERE id > 3") }
        for i in 0 ..< 3 { status.add(try store.append(camera("next visitor \(i)"))) }
        #expect(try store.verifyChain().firstBreak == nil)
        let witnesses = status.recentHeads.map { ChainWitness(source: "faced's status file", head: $0) }
        let problems = try store.checkTail(against: witnesses)
        #expect(problems.contains { $0.seen.id == 5 && $0.kind == .differs }, "events 4 and 5 were deleted and written over: \(problems)")
    }

    /// `rm faced.db; cp backup.db faced.db`: cp creates an empty file first and fills it after.
    /// GalleryHandle takes the empty file for a new gallery and migrates it (create: false is
    /// not enough), writing a schema and WAL into the file cp is still writing.
    @Test func anEmptyFileAtTheGalleryPathIsNotMadeIntoAGallery() throws {
        let old = try FaceStore(path: db)
        let handle = GalleryHandle(store: old)
        #expect(unlink(db) == 0)
        #expect(FileManager.default.createFile(atPath: db, contents: Data()))
        let reopened = handle.current()
        var info = stat()
        #expect(stat(db, &info) == 0)
        #expect(reopened == nil && info.st_size == 0, "faced wrote \(info.st_size) bytes into the file being restored")
    }
}
