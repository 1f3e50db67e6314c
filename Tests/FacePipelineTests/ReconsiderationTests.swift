import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import GRDB
import Testing

/// Refused tracks reconsidered after a gallery change:
/// in process, frame by frame, with real models, photos and gallery files.
@Suite struct ReconsiderationTests {
    let dir: TempDirectory
    let db: String

    init() throws {
        dir = try TempDirectory()
        db = dir.file("faced.db")
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
    }

    func frame(_ photo: String?) throws -> RGBImage {
        try ReplayBuilder(width: 1280, height: 720).frame(photo.map { try Fixtures.image($0) })
    }

    /// A gallery file that also knows biden, moved over the running one (`mv next.db faced.db`).
    func replaceWithGalleryKnowingBiden() throws {
        let next = dir.file("next.db")
        for args in [["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg")], ["enroll", "biden", Fixtures.photo("biden.jpg")]] {
            let run = try Binaries.run("facectl", args + ["--db", next])
            #expect(run.status == 0, "\(run.stderr)")
        }
        #expect(rename(next, db) == 0)
    }

    /// biden is logged unknown (patience 0.4 s) and walks away; while his track is still open (the
    /// tracker keeps a track for a few frames without its face), the gallery learns him. Nobody is at the door
    /// any more: no grant may be logged, and no door opened, when his track ends.
    @Test func aVisitorWhoHasLeftIsNotLetInWhenTheGalleryChangesBeforeTheirTrackEnds() throws {
        let pipeline = try Pipeline(engine: Fixtures.engine, store: FaceStore(path: db, create: false),
                                    settings: PipelineSettings(camera: "door", policy: Policy(cooldown: 0, patience: 0.4, rejoin: 0)))
        let biden = try frame("biden.jpg"), empty = try frame(nil)
        let start = Date()
        var index = 0
        func feed(_ image: RGBImage) -> [AuditEvent] {
            defer { index += 1 }
            return pipeline.process(Frame(index: index, time: start.addingTimeInterval(Double(index) / 10), payload: .rgb(image)))
        }
        var events = [AuditEvent]()
        for _ in 0 ..< 6 { events += feed(biden) }
        #expect(events.map { $0.decision?.rawValue ?? "-" } == ["unknown"], "\(events)")
        // biden steps away: two frames without him, his track still open.
        events = feed(empty) + feed(empty)
        #expect(events.isEmpty)
        try replaceWithGalleryKnowingBiden()
        // The track ends within maxMissed (5) more empty frames, which come 0.1 s apart as from a
        // camera: an empty frame costs faced only a look, and the new file must stand still 0.3 s.
        for _ in 0 ..< 8 {
            Thread.sleep(forTimeInterval: 0.1)
            events += feed(empty)
        }
        #expect(pipeline.galleryInUse.people == 2, "the replaced gallery was taken up")
        #expect(!events.contains { $0.decision == .granted },
                "granted a visitor who was no longer at the door: \(events.map { "\($0.decision?.rawValue ?? "-") \($0.personName ?? "-") \($0.detail ?? "")" })")
    }

    /// Someone waiting at the door while refused for cooldown (their earlier track was granted a
    /// moment ago) gets a second grant on the same visit once any gallery change (someone else
    /// enrolled) reconsiders their track. Without the change they would have to step away first.
    @Test func aCooldownRefusalIsNotTurnedIntoASecondGrantByAnUnrelatedGalleryChange() throws {
        let pipeline = try Pipeline(engine: Fixtures.engine, store: FaceStore(path: db, create: false),
                                    settings: PipelineSettings(camera: "door", policy: Policy(cooldown: 30, patience: 0.3, rejoin: 0)))
        let obama = try frame("obama3.jpg"), empty = try frame(nil)
        let start = Date()
        var index = 0, time = 0.0
        func feed(_ image: RGBImage, step: Double = 0.1) -> [AuditEvent] {
            defer { index += 1; time += step }
            return pipeline.process(Frame(index: index, time: start.addingTimeInterval(time), payload: .rgb(image)))
        }
        var events = [AuditEvent]()
        for _ in 0 ..< 4 { events += feed(obama) }
        // Occluded for a moment, then back: with no rejoin time a new track, refused for cooldown
        // once its patience (0.3 s) has run out.
        for _ in 0 ..< 7 { events += feed(empty) }
        for _ in 0 ..< 6 { events += feed(obama) }
        #expect(events.map { "\($0.decision?.rawValue ?? "-") \($0.reason?.rawValue ?? "-")" } == ["granted -", "denied cooldown"], "\(events)")
        try replaceWithGalleryKnowingBiden()
        // He stays at the door past the cooldown.
        events = []
        for _ in 0 ..< 10 { events += feed(obama, step: 5) }
        #expect(!events.contains { $0.decision == .granted },
                "a second grant on one visit: \(events.map { "\($0.decision?.rawValue ?? "-") \($0.personName ?? "-") \($0.detail ?? "")" })")
    }
}

/// The TOML syntax gate: valid TOML 1.0 whose tables nest deeper
/// than toml++'s recursion can take (it overflows its stack in `parser::update_region_ends`)
/// is refused with one line: TOMLSyntax bounds dotted key parts as well as nesting.
@Suite struct TOMLDepthTests {
    static let deepKey = "a" + String(repeating: ".a", count: 30000)

    @Test(arguments: ["\(deepKey) = 1\n", "[\(deepKey)]\n"])
    func aConfigWithADeeplyDottedKeyIsRefusedWithOneLineNotACrash(_ text: String) throws {
        let dir = try TempDirectory()
        let config = try dir.write("faced.toml", Array(text.utf8))
        let run = try Binaries.run("faced", ["--check-config", config])
        #expect(run.status == 1, "faced --check-config ended with \(run.status): \(run.stderr.suffix(300))")
        #expect(run.stderr.contains("faced.toml:1"), "\(run.stderr.suffix(300))")
    }

    @Test func aManifestWithADeeplyDottedKeyIsRefusedWithOneLineNotACrash() throws {
        let dir = try TempDirectory()
        let manifest = try dir.write("access.toml", Array("[people.alice]\n\(Self.deepKey) = 1\n".utf8))
        let run = try Binaries.run("facectl", ["sync", manifest, "--dry-run", "--db", dir.file("g.db")])
        #expect(run.status == 1, "facectl sync ended with \(run.status): \(run.stderr.suffix(300))")
        #expect(run.stderr.contains("access.toml:2"), "\(run.stderr.suffix(300))")
    }
}

/// A replacement gallery that looks whole may not be: a copy being filled, a main file whose
/// -wal has not followed yet. Neither is opened at once.
@Suite struct GalleryCopyTests {
    let dir: TempDirectory
    let db: String

    init() throws {
        dir = try TempDirectory()
        db = dir.file("faced.db")
        for (name, file) in [("obama", db), ("biden", dir.file("b.db"))] {
            let run = try Binaries.run("facectl", ["enroll", name, Fixtures.photo("\(name).jpg"), "--db", file])
            #expect(run.status == 0, "\(run.stderr)")
        }
    }

    /// A writer that sizes the file first and fills it after (preallocation, a multi-stream
    /// copier, `truncate -s` then `dd conv=notrunc`): after the first page the header already
    /// accounts for every byte. It must be waited for like any file still changing.
    @Test func aPreallocatedGalleryStillBeingFilledIsNotOpenedAtOnce() throws {
        let gallery = GalleryHandle(store: try FaceStore(path: db, create: false))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file("b.db"))))
        let page = try #require(SQLiteHeader(bytes: Array(bytes.prefix(100)))).pageSize
        for suffix in ["", "-wal", "-shm"] { unlink(db + suffix) }
        let fd = open(db, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        #expect(ftruncate(fd, off_t(bytes.count)) == 0)
        #expect(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, page, 0) } == page)
        let early = gallery.current()
        #expect(early == nil, "a gallery file holding one page of \(bytes.count / page) was opened")
        #expect(gallery.problem?.contains("malformed") != true, "\(gallery.problem ?? "")")
        // The rest arrives; then the new file is taken up.
        #expect(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + page, bytes.count - page, off_t(page)) } == bytes.count - page)
        close(fd)
        let deadline = Date().addingTimeInterval(10)
        var names = [String]()
        while Date() < deadline, names.isEmpty {
            if let (store, _) = gallery.current() { names = try store.snapshot().people.map(\.name) }
        }
        #expect(names == ["biden"])
    }

    /// `mv backup/faced.db backup/faced.db-wal /var/lib/faced/` (or `cp` of both): the main file
    /// arrives first and, checkpointed or not, looks whole. Opened at once, faced decides with
    /// what the file held before its -wal: here a person removed in the -wal is still in it.
    @Test func aWALGalleryIsNotOpenedBeforeItsWALCanArrive() throws {
        let gallery = GalleryHandle(store: try FaceStore(path: db, create: false))
        // A copy of b.db whose last change (biden removed) is only in its -wal.
        let source = dir.file("b.db")
        var config = Configuration()
        config.prepareDatabase { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        let writer = try DatabaseQueue(path: source, configuration: config)
        try writer.write { try $0.execute(sql: "DELETE FROM people WHERE name = 'biden'") }
        let backup = dir.file("backup")
        mkdir(backup, 0o700)
        for suffix in ["", "-wal"] { try FileManager.default.copyItem(atPath: source + suffix, toPath: backup + "/faced.db" + suffix) }
        try writer.close()
        #expect((try? FileManager.default.attributesOfItem(atPath: backup + "/faced.db-wal")[.size] as? Int) ?? 0 > 0)
        let old = try #require(gallery.current()).store
        _ = try old.snapshot()
        #expect(rename(backup + "/faced.db", db) == 0)
        let opened = gallery.current()
        let people = try opened.map { try $0.store.snapshot().people.map(\.name) }
        #expect(opened == nil, "opened before its -wal could follow; deciding with \(people ?? [])")
        #expect(rename(backup + "/faced.db-wal", db + "-wal") == 0)
    }
}
