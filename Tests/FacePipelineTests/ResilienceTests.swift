import FaceCapture
import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import GRDB
import Testing

/// faced as a child process against what goes wrong at a real door: bad frames, a gallery held
/// by another writer, replaced, deleted or from a newer build, and a cut audit log.
@Suite struct ResilienceTests {
    let dir: TempDirectory
    let db: String

    init() throws {
        dir = try TempDirectory()
        db = dir.file("faced.db")
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
    }

    static func visit(_ photo: String, frames: Int = 12, empty: Int = 6) throws -> [UInt8] {
        try ReplayBuilder().build([.photo(try Fixtures.image(photo), frames: frames), .empty(frames: empty)]).bytes
    }

    static func emptyFrame() throws -> [UInt8] { try ReplayBuilder().build([.empty(frames: 1)]).bytes }

    /// A real frame whose header lies or whose data is broken, as a glitching camera sends them.
    static func corrupt(_ jpeg: [UInt8], _ how: String) -> [UInt8] {
        var bytes = jpeg
        func marker(_ code: UInt8) -> Int { (0 ..< bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == code }! }
        let sof = marker(0xC0)
        switch how {
        case "zero size": for i in sof + 5 ... sof + 8 { bytes[i] = 0 }
        case "huge": bytes[sof + 5] = 0xEA; bytes[sof + 6] = 0x60; bytes[sof + 7] = 0xEA; bytes[sof + 8] = 0x60
        case "12-bit": bytes[sof + 4] = 12
        case "bad huffman":
            let dht = marker(0xC4)
            for i in dht + 5 ..< dht + 21 { bytes[i] = 0xFF }
        case "truncated": bytes = Array(bytes.prefix(bytes.count / 3)) + [0xFF, 0xD9]
        default: fatalError(how)
        }
        return bytes
    }

    /// faced looping over `replay` with no cooldown, its log collected.
    /// faced over a replay that starts again at its end: each pass is a new walk-up (no rejoin
    /// time, so the few empty frames between passes end the track however fast faced runs).
    func loopingFaced(_ replay: String) throws -> (Process, OutputCollector) {
        let log = OutputCollector()
        let faced = Binaries.process("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--loop", "--rejoin", "0", "--db", db, "--cooldown", "0"])
        faced.standardError = log.pipe
        try faced.run()
        return (faced, log)
    }

    func decisions(_ store: FaceStore) throws -> [AuditEvent] { try store.events(EventFilter()).filter { $0.kind == .decision } }

    @Test func corruptFramesBetweenAndInsideVisitsAreSkippedAndBothVisitsDecided() throws {
        let empty = try Self.emptyFrame()
        let obama = try ReplayBuilder().build([.photo(try Fixtures.image("obama3.jpg"), frames: 1)]).bytes
        let broken = ["zero size", "huge", "12-bit", "bad huffman", "truncated"].map { Self.corrupt(obama, $0) }
        var stream = [UInt8]()
        for _ in 0 ..< 4 { stream += empty }
        for i in 0 ..< 12 {
            stream += obama
            if i == 1 { stream += broken[0] + broken[1] }
        }
        for _ in 0 ..< 6 { stream += empty }
        for frame in broken { stream += frame }
        stream += try Self.visit("biden.jpg")
        let replay = try dir.write("door.mjpeg", stream)
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end"])
        #expect(run.status == 0, "\(run.stderr)")
        let store = try FaceStore(path: db, create: false)
        #expect(try decisions(store).map { $0.decision!.rawValue } == ["granted", "unknown"], "\(run.stderr)")
        // One line for the first bad frame, naming the source and the frame; the rest of the minute is counted.
        let skipped = run.stderr.split(separator: "\n").filter { $0.contains("skipped frame") }
        #expect(skipped.count == 1, "\(run.stderr)")
        #expect(skipped.first?.contains("frame 6 of door") == true, "\(run.stderr)")
    }

    @Test func aCameraFrameClaimingAnotherSizeIsSkippedBeforeDecoding() throws {
        let pipeline = try Pipeline(engine: Fixtures.engine, store: FaceStore(path: db, create: false), settings: PipelineSettings())
        let small = try ReplayBuilder(width: 640, height: 360).build([.empty(frames: 1)]).bytes
        let events = pipeline.process(Frame(index: 0, time: Date(), payload: .jpeg(small), sizeLimit: .exactly(width: 1280, height: 720)))
        #expect(events.isEmpty && pipeline.badFrames == 1 && pipeline.framesProcessed == 0)
        #expect(pipeline.lastBadFrame?.contains("640x360") == true, "\(pipeline.lastBadFrame ?? "")")
        _ = pipeline.process(Frame(index: 1, time: Date(), payload: .jpeg(small), sizeLimit: .exactly(width: 640, height: 360)))
        #expect(pipeline.badFrames == 1 && pipeline.framesProcessed == 1)
        _ = pipeline.process(Frame(index: 2, time: Date(), payload: .jpeg(Self.corrupt(small, "huge"))))
        #expect(pipeline.badFrames == 2, "a replay frame past the pixel budget")
    }

    @Test func anEmptyFileInAFrameFolderIsSkipped() throws {
        let frames = dir.file("frames")
        try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
        let obama = try ReplayBuilder().build([.photo(try Fixtures.image("obama3.jpg"), frames: 1)]).bytes
        for i in 0 ..< 8 { try Data(i == 2 ? [] : obama).write(to: URL(fileURLWithPath: frames + String(format: "/%03d.jpg", i))) }
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "dir:\(frames)", "--db", db, "--exit-at-end"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try decisions(FaceStore(path: db, create: false)).map { $0.decision!.rawValue } == ["granted"], "\(run.stderr)")
        #expect(run.stderr.contains("skipped frame 2 of door"), "\(run.stderr)")
    }

    /// Holds the gallery's write lock from another process, as sqlite3 or a backup would.
    final class LockHolder {
        let process: Process
        let input = Pipe()
        let output = OutputCollector()

        /// Returns once sqlite3 holds the lock.
        init(_ db: String) throws {
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = [db]
            process.standardInput = input
            process.standardOutput = output.pipe
            process.standardError = output.pipe
            try process.run()
            send("BEGIN EXCLUSIVE; SELECT 'locked';")
            guard output.wait(seconds: 30, until: { $0.contains("locked") }) else {
                throw LockFailed(output: output.text)
            }
        }

        struct LockFailed: Error { let output: String }

        func send(_ sql: String) { input.fileHandleForWriting.write(Data((sql + "\n").utf8)) }

        func release() {
            send("COMMIT;")
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    static let hasSQLite3 = FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")

    @Test(.enabled(if: hasSQLite3, "needs the sqlite3 shell (apt-get install sqlite3)"))
    func aGalleryHeldByAnotherWriterStillGetsTheGrantLogged() throws {
        // obama walks up again and again (an unpaced loop, so no frame is dropped under load).
        let replay = try dir.write("door.mjpeg", try Self.visit("obama3.jpg", frames: 4, empty: 7))
        let opened = dir.file("opened")
        let action = try dir.write("open.sh", Array("#!/bin/sh\necho \"$FACED_PERSON\" >> \(opened)\n".utf8))
        chmod(action, 0o755)
        let log = OutputCollector()
        let faced = Binaries.process("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--loop", "--rejoin", "0", "--db", db, "--cooldown", "0", "--action", action])
        faced.standardError = log.pipe
        try faced.run()
        defer { if faced.isRunning { faced.terminate(); faced.waitUntilExit() } }
        #expect(log.wait(seconds: 60) { $0.contains("granted obama") }, "\(log.text)")
        let lock = try LockHolder(db)
        let lockedAt = Date()
        let grantsBefore = log.text.components(separatedBy: "granted obama").count
        // The door opens while the gallery is held; the decision waits in the spool.
        #expect(log.wait(seconds: 30) { $0.contains("event (spooled): granted obama") }, "\(log.text)")
        let opens = { (try? String(contentsOfFile: opened, encoding: .utf8))?.split(separator: "\n").count ?? 0 }
        #expect(log.wait(seconds: 10) { _ in opens() >= grantsBefore }, "the door opened for the spooled grant")
        let held = Date().timeIntervalSince(lockedAt)
        if held < 8 { Thread.sleep(forTimeInterval: 8 - held) }
        lock.release()
        #expect(log.wait(seconds: 30) { $0.contains("written to the audit log") }, "\(log.text)")
        faced.terminate()
        faced.waitUntilExit()
        #expect(faced.terminationStatus == 0, "\(log.text)")
        let store = try FaceStore(path: db, create: false)
        let grants = try decisions(store).filter { $0.decision == .granted }
        #expect(grants.count >= 2 && grants.allSatisfy { $0.personName == "obama" })
        // Every grant's door action row names its grant, spooled or not.
        let actions = try store.events(EventFilter()).filter { $0.kind == .action }
        #expect(!actions.isEmpty && actions.allSatisfy { row in grants.contains { $0.id == row.refEventID } })
        #expect(try store.verifyChain().firstBreak == nil)
        #expect(EventSpool(galleryPath: db).isEmpty)
    }

    @Test(.enabled(if: hasSQLite3, "needs the sqlite3 shell (apt-get install sqlite3)"))
    func startUpWaitsForALockedGalleryThatNeedsUpgradingAndSaysWhy() throws {
        // A gallery one schema change behind: faced must write to open it.
        try DatabaseQueue(path: db).write { db in
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v5:%'; DROP TABLE spool_keys")
        }
        let replay = try dir.write("door.mjpeg", try Self.visit("obama3.jpg"))
        let lock = try LockHolder(db)
        let log = OutputCollector()
        let faced = Binaries.process("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end"])
        faced.standardError = log.pipe
        try faced.run()
        let said = log.wait(seconds: 30) { $0.contains("is locked by another process; waiting for it") }
        #expect(!log.text.contains("started:"), "faced started on a gallery it could not upgrade")
        lock.release()
        faced.waitUntilExit()
        #expect(said, "\(log.text)")
        #expect(faced.terminationStatus == 0, "\(log.text)")
        #expect(try decisions(FaceStore(path: db, create: false)).map(\.decision?.rawValue) == ["granted"])
    }

    @Test(.enabled(if: hasSQLite3, "needs the sqlite3 shell (apt-get install sqlite3)"))
    func aRunThatEndsWhileTheGalleryIsHeldWritesItsDecisionsOnceItIsFree() throws {
        let replay = try dir.write("door.mjpeg", try Self.visit("obama3.jpg"))
        #expect(try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end"]).status == 0)
        let lock = try LockHolder(db)
        let log = OutputCollector()
        let faced = Binaries.process("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end", "--cooldown", "0"])
        faced.standardError = log.pipe
        try faced.run()
        let said = log.wait(seconds: 60) { $0.contains("locked") && ($0.contains("waiting") || $0.contains("spooled")) }
        lock.release()
        faced.waitUntilExit()
        #expect(said, "\(log.text)")
        #expect(faced.terminationStatus == 0, "\(log.text)")
        let store = try FaceStore(path: db, create: false)
        #expect(try decisions(store).map(\.decision?.rawValue) == ["granted", "granted"], "\(log.text)")
        #expect(try store.verifyChain().firstBreak == nil)
    }

    @Test func aReplacedGalleryIsNoticedAndItsNewPersonAtTheDoorGrantedWithinTwoSeconds() throws {
        // The running gallery knows nobody in the replay; the new file knows biden, who stays
        // at the door: his track was logged unknown, and is weighed again against the new file.
        let other = dir.file("next.db")
        let enrolled = try Binaries.run("facectl", ["enroll", "biden", Fixtures.photo("biden.jpg"), "--db", other])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        let replay = try dir.write("door.mjpeg", try Self.visit("biden.jpg", frames: 60, empty: 3))
        let (faced, log) = try loopingFaced(replay)
        defer { faced.terminate(); faced.waitUntilExit() }
        #expect(log.wait(seconds: 60) { $0.contains("unknown") }, "\(log.text)")
        #expect(rename(other, db) == 0)
        let replacedAt = Date()
        var openedAt: Date?, grantedAt: Date?
        _ = log.wait(seconds: 30) { text in
            if openedAt == nil, text.contains("opened again") { openedAt = Date() }
            if grantedAt == nil, text.contains("granted biden") { grantedAt = Date() }
            return grantedAt != nil
        }
        let opened = try #require(openedAt).timeIntervalSince(replacedAt)
        let granted = try #require(grantedAt).timeIntervalSince(replacedAt)
        #expect(opened < 2, "the new gallery was opened \(opened) s after it replaced the old one:\n\(log.text)")
        #expect(granted < 2, "granted \(granted) s after the gallery was replaced:\n\(log.text)")
        #expect(log.text.contains("was replaced by another file"), "\(log.text)")
        faced.terminate()
        faced.waitUntilExit()
        #expect(faced.terminationStatus == 0, "\(log.text)")
        let store = try FaceStore(path: db, create: false)
        let grant = try #require(try decisions(store).first { $0.decision == .granted })
        #expect(grant.personName == "biden")
        // The refusal is in the replaced file: named in the grant's detail, not referred to by id.
        #expect(grant.refEventID == nil)
        #expect(grant.detail?.hasPrefix("after this track was logged unknown at ") == true, "\(grant.detail ?? "")")
        #expect(try store.verifyChain().firstBreak == nil)
    }

    @Test func aVisitorEnrolledWhileAtTheDoorIsLetInAsAGrantThatFollowsTheirRefusal() throws {
        let replay = try dir.write("door.mjpeg", try Self.visit("biden.jpg", frames: 60, empty: 3))
        let (faced, log) = try loopingFaced(replay)
        defer { faced.terminate(); faced.waitUntilExit() }
        #expect(log.wait(seconds: 60) { $0.contains("unknown") }, "\(log.text)")
        let enrolled = try Binaries.run("facectl", ["enroll", "biden", Fixtures.photo("biden.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(log.wait(seconds: 30) { $0.contains("granted biden") }, "\(log.text)")
        faced.terminate()
        faced.waitUntilExit()
        #expect(faced.terminationStatus == 0, "\(log.text)")
        let store = try FaceStore(path: db, create: false)
        let events = try decisions(store)
        let refusal = try #require(events.first)
        let grant = try #require(events.first { $0.decision == .granted })
        #expect(refusal.decision == .unknown && refusal.trackID == grant.trackID, "\(events)")
        #expect(grant.refEventID == refusal.id)
        // One event per outcome: the track was not logged unknown again before the grant.
        #expect(events.prefix { $0.decision != .granted }.filter { $0.trackID == grant.trackID }.count == 1, "\(events)")
        let why = try Binaries.run("facectl", ["why", String(grant.id!), "--db", db])
        #expect(why.stdout.contains("Earlier on this track: logged unknown at ")
            && why.stdout.contains("(event \(refusal.id!))"), "\(why.stdout)")
        let line = try Binaries.run("facectl", ["log", "--db", db])
        #expect(line.stdout.contains("after #\(refusal.id!)"), "\(line.stdout)")
        #expect(try store.verifyChain().firstBreak == nil)
    }

    @Test func aDeletedGallerySpoolsUntilOneIsBack() throws {
        let backup = dir.file("backup.db")
        try FileManager.default.copyItem(atPath: db, toPath: backup)
        let replay = try dir.write("door.mjpeg", try Self.visit("obama3.jpg", frames: 4, empty: 7))
        let (faced, log) = try loopingFaced(replay)
        defer { faced.terminate(); faced.waitUntilExit() }
        #expect(log.wait(seconds: 60) { $0.contains("granted obama") }, "\(log.text)")
        // `rm faced.db*`: faced keeps deciding with the gallery in memory, into the spool, and
        // never writes into the unlinked file.
        for suffix in ["", "-wal", "-shm"] { unlink(db + suffix) }
        #expect(log.wait(seconds: 30) { $0.contains("was deleted") && $0.contains("event (spooled): granted obama") }, "\(log.text)")
        #expect(FileManager.default.fileExists(atPath: EventSpool(galleryPath: db).path))
        try FileManager.default.copyItem(atPath: backup, toPath: db)
        #expect(log.wait(seconds: 30) { $0.contains("written to the audit log") }, "\(log.text)")
        faced.terminate()
        faced.waitUntilExit()
        #expect(faced.terminationStatus == 0, "\(log.text)")
        let store = try FaceStore(path: db, create: false)
        #expect(try decisions(store).contains { $0.decision == .granted && $0.personName == "obama" })
        #expect(try store.verifyChain().firstBreak == nil)
    }

    @Test func aDoorActionThatLeavesABackgroundChildIsLoggedAtOnce() throws {
        let child = dir.file("child.pid")
        // Run through /bin/sh: a script just written may not be executable yet while another
        // test forks (ETXTBSY).
        let script = try dir.write("open.sh", Array("echo opening\n(sleep 20; echo closing) &\necho $! > \(child)\nexit 0\n".utf8))
        let replay = try dir.write("door.mjpeg", try Self.visit("obama3.jpg"))
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end", "--action", "/bin/sh",
                                             "--action-arg", script, "--action-timeout", "10"])
        #expect(run.status == 0, "\(run.stderr)")
        let store = try FaceStore(path: db, create: false)
        let grant = try #require(try decisions(store).first)
        let action = try #require(try store.events(EventFilter()).first { $0.kind == .action })
        #expect(action.refEventID == grant.id && action.reason == .action(.ok), "\(action.detail ?? "")")
        let ms = try #require(action.detail.flatMap { $0.split(separator: " ").dropFirst(3).first }.flatMap { Int($0) }, "\(action.detail ?? "")")
        #expect(action.detail?.hasPrefix("exit 0 in ") == true && ms < 1000, "\(action.detail ?? "")")
        #expect(action.detail?.hasSuffix("; output: opening") == true, "\(action.detail ?? "")")
        // The grant's time is its frame's; the row follows the action's exit, not the child's 20 s.
        let logged = try #require(action.date).timeIntervalSince(try #require(grant.date))
        #expect(logged < 10, "the action's row came \(logged) s after the grant")
        if let pid = (try? String(contentsOfFile: child, encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(pid, SIGKILL)
        }
    }

    @Test func aSnapshotThatCannotBeWrittenLeavesTheDecisionNotedWithoutOne() throws {
        // A regular file where the snapshot folder should be: every snapshot write fails, as on a full volume.
        let blocked = try dir.write("snapshots", Array("not a folder".utf8))
        let replay = try dir.write("door.mjpeg", try Self.visit("biden.jpg"))
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end", "--snapshots", blocked])
        #expect(run.status == 0, "\(run.stderr)")
        let unknown = try #require(try decisions(FaceStore(path: db, create: false)).first)
        #expect(unknown.decision == .unknown && unknown.snapshotPath == nil)
        #expect(unknown.detail?.contains("snapshot not saved: ") == true, "\(unknown.detail ?? "")")
        #expect(run.stderr.contains("snapshot for track"), "\(run.stderr)")
    }

    @Test func aGalleryFromANewerBuildIsRefusedAndLeftAsItIs() throws {
        try DatabaseQueue(path: db).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        let fingerprint = { () -> Data in FileManager.default.contents(atPath: self.db)! }
        let before = fingerprint()
        let replay = try dir.write("door.mjpeg", try Self.visit("obama3.jpg"))
        let commands: [(String, [String])] = [
            ("faced", ["--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end"]),
            ("facectl", ["list", "--db", db]), ("facectl", ["log", "--db", db]), ("facectl", ["log", "verify", "--db", db]),
            ("facectl", ["why", "1", "--db", db]), ("facectl", ["remove", "obama", "--db", db]),
            ("facectl", ["set", "obama", "--disable", "--db", db]),
            ("facectl", ["enroll", "biden", Fixtures.photo("biden.jpg"), "--db", db]),
        ]
        for (tool, args) in commands {
            let run = try Binaries.run(tool, args)
            #expect(run.status == 1, "\(tool) \(args.joined(separator: " ")): \(run.stdout)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("was written by a newer faced (schema v99: from the future)"),
                    "\(tool) \(args.first!): \(run.stderr)")
            #expect(fingerprint() == before, "\(tool) \(args.first!) changed the gallery")
        }
    }

    @Test func readersWorkOnAReadOnlyGalleryAndWhileAWriterHoldsIt() throws {
        let replay = try dir.write("door.mjpeg", try Self.visit("obama3.jpg"))
        #expect(try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end"]).status == 0)
        let readers = [["list"], ["log"], ["log", "verify"], ["why", "1"], ["show", "obama"]]
        if Self.hasSQLite3 {
            let lock = try LockHolder(db)
            defer { lock.release() }
            for args in readers {
                let run = try Binaries.run("facectl", args + ["--db", db])
                #expect(run.status == 0, "\(args) while locked: \(run.stderr)")
            }
        }
        // A copy in a folder the reader may not write to, the file read-only: SQLite can make no
        // -shm file there. As root, run the reader as nobody, for whom the modes hold.
        let frozen = dir.file("frozen")
        try FileManager.default.createDirectory(atPath: frozen, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: db, toPath: frozen + "/faced.db")
        chmod(frozen + "/faced.db", 0o444)
        chmod(frozen, 0o555)
        chmod(dir.path, 0o755)
        defer { chmod(frozen, 0o700) }
        for args in readers {
            let run = geteuid() == 0
                ? try Binaries.run("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", Binaries.path("facectl")]
                    + args + ["--db", frozen + "/faced.db"])
                : try Binaries.run("facectl", args + ["--db", frozen + "/faced.db"])
            #expect(run.status == 0, "\(args) on a read-only gallery: \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: frozen + "/faced.db-shm"))
    }

    @Test func everyFileFacedCreatesIsPrivateWhateverTheUmask() throws {
        let fresh = dir.file("state/faced.db")
        let snapshots = dir.file("snapshots")
        let replay = try dir.write("door.mjpeg", try Self.visit("biden.jpg"))
        let old = umask(0o022)
        defer { umask(old) }
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", fresh, "--exit-at-end", "--snapshots", snapshots])
        #expect(run.status == 0, "\(run.stderr)")
        // -wal and -shm exist only while a connection is open.
        let store = try FaceStore(path: fresh, create: false)
        #expect(try store.events(EventFilter()).contains { $0.decision == .unknown })
        func mode(_ path: String) -> mode_t? {
            var info = stat()
            return lstat(path, &info) == 0 ? info.st_mode & 0o777 : nil
        }
        #expect(mode(dir.file("state")) == 0o700)
        for file in [fresh, fresh + "-wal", fresh + "-shm"] { #expect(mode(file) == 0o600, "\(file)") }
        #expect(mode(snapshots) == 0o700)
        let days = try FileManager.default.contentsOfDirectory(atPath: snapshots)
        #expect(days.count == 1)
        for day in days {
            #expect(mode(snapshots + "/" + day) == 0o700)
            let files = try FileManager.default.contentsOfDirectory(atPath: snapshots + "/" + day)
            #expect(!files.isEmpty)
            for file in files { #expect(mode(snapshots + "/" + day + "/" + file) == 0o600, "\(file)") }
        }
        // The spool, when there is one, is private too.
        let spool = EventSpool(galleryPath: dir.file("other.db"))
        try spool.append(SpooledEvent(event: AuditEvent(kind: .camera, time: Date(), camera: "door")))
        #expect(mode(spool.path) == 0o600)
    }

    @Test func deletingTheLastEventIsReportedByVerify() throws {
        let status = dir.file("status.json")
        let replay = try dir.write("door.mjpeg", try Self.visit("obama3.jpg") + Self.visit("biden.jpg"))
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end", "--status-file", status])
        #expect(run.status == 0, "\(run.stderr)")
        let intact = try Binaries.run("facectl", ["log", "verify", "--db", db, "--status-file", status])
        #expect(intact.status == 0 && intact.stdout.contains("its end agrees with faced's status file"), "\(intact.stdout)\(intact.stderr)")
        let last = try #require(try FaceStore(path: db, create: false).chainHead())
        try DatabaseQueue(path: db).write { try $0.execute(sql: "DELETE FROM events WHERE id = ?", arguments: [last.id]) }
        let cut = try Binaries.run("facectl", ["log", "verify", "--db", db, "--status-file", status])
        #expect(cut.status == 1)
        #expect(cut.stderr.contains("event \(last.id) is missing: faced's status file \(status) saw event \(last.id)"), "\(cut.stderr)")
        try DatabaseQueue(path: db).write { try $0.execute(sql: "DELETE FROM events") }
        let all = try Binaries.run("facectl", ["log", "verify", "--db", db, "--status-file", status])
        #expect(all.status == 1 && all.stderr.contains("events 1-\(last.id) are missing"), "\(all.stderr)")
    }
}
