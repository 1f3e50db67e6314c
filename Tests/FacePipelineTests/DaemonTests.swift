import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import GRDB
import Testing

/// faced run as a child process over a replay built from the fixture photos.
@Suite struct DaemonTests {
    let dir: TempDirectory
    let db: String
    let replay: String

    init() throws {
        dir = try TempDirectory()
        db = dir.file("faced.db")
        let (bytes, frames) = try ReplayBuilder().build([
            .empty(frames: 10), .photo(try Fixtures.image("obama3.jpg"), frames: 15), .empty(frames: 10),
            .photo(try Fixtures.image("biden.jpg"), frames: 15), .empty(frames: 10),
        ])
        #expect(frames == 60)
        replay = try dir.write("door.mjpeg", bytes)
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
    }

    func hook() throws -> (script: String, log: String) {
        let log = dir.file("hook.log")
        let script = try dir.write("hook.sh", Array("""
            #!/bin/sh
            echo "id=$FACED_EVENT_ID person=$FACED_PERSON distance=$FACED_DISTANCE camera=$FACED_CAMERA" >> \(log)

            """.utf8))
        chmod(script, 0o755)
        return (script, log)
    }

    @Test func replayGrantsObamaOnceAndLogsBidenAsUnknown() throws {
        let (script, hookLog) = try hook()
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end", "--camera", "front",
                                             "--action", script, "--snapshots", dir.file("snapshots")])
        #expect(run.status == 0, "\(run.stderr)")
        // The embedder's kernels, named at start: never OpenBLAS's generic fallback on a CPU that has better ones.
        let started = try #require(run.stderr.split(separator: "\n").first { $0.contains("started: source") }, "\(run.stderr)")
        #expect(started.contains("BLAS kernels "), "\(started)")
        if BLASKernels.best != nil { #expect(!started.lowercased().contains("kernels prescott"), "\(started)") }

        let store = try FaceStore(path: db, create: false)
        let decisions = try store.events(EventFilter()).filter { $0.kind == .decision }
        #expect(decisions.count == 2, "\(decisions.map(\.canonicalText))")
        #expect(decisions.filter { $0.decision == .granted }.map(\.personName) == ["obama"])
        let unknown = try #require(decisions.first { $0.decision == .unknown })
        #expect(unknown.reason == .denial(.unknown) && unknown.personName == nil)
        #expect(unknown.snapshotPath.map { FileManager.default.fileExists(atPath: $0) } == true, "unknown visitors keep a snapshot")
        let granted = try #require(decisions.first { $0.decision == .granted })
        #expect(granted.framesUsed == 3 && granted.bestDistance! < 0.5 && granted.camera == "front")
        #expect(granted.snapshotPath == nil, "granted visitors keep no snapshot by default")

        let calls = try String(contentsOfFile: hookLog, encoding: .utf8).split(separator: "\n")
        #expect(calls.count == 1)
        #expect(calls.first?.hasPrefix("id=\(granted.id!) person=obama distance=0.") == true && calls.first?.hasSuffix(" camera=front") == true)
        let action = try #require(try store.events(EventFilter()).first { $0.kind == .action })
        #expect(action.refEventID == granted.id && action.reason == .action(.ok) && action.detail?.hasPrefix("exit 0 in") == true)

        let verify = try Binaries.run("facectl", ["log", "verify", "--db", db])
        // The enrollment, the two decisions and the door action.
        #expect(verify.status == 0 && verify.stdout.hasPrefix("audit log intact: 4 events verified"), "\(verify.stdout)")
        let json = try Binaries.run("facectl", ["log", "--json", "--db", db])
        let rows = try #require(try json.json() as? [[String: Any]])
        #expect(rows.map { $0["kind"] as? String } == ["admin", "decision", "action", "decision"])
        #expect(rows.first?["reason"] as? String == "enroll" && rows.first?["person"] as? String == "obama")
        #expect((rows[1]["evidence"] as? [Double])?.count == 3)

        let why = try Binaries.run("facectl", ["why", "\(granted.id!)", "--db", db])
        #expect(why.status == 0)
        #expect(why.stdout.contains("GRANTED to 'obama': 3 frames of track"))
        #expect(why.stdout.contains("Door action (event \(action.id!)): exit 0 in"))
        let whyUnknown = try Binaries.run("facectl", ["why", "\(unknown.id!)", "--db", db])
        #expect(whyUnknown.stdout.contains("Rule that decided: unknown:"))
        let noSuch = try Binaries.run("facectl", ["why", "999", "--db", db])
        #expect(noSuch.status == 1 && noSuch.stderr == "facectl: no event 999 in the audit log (see `facectl log`)\n")
    }

    /// The "teach it this person" loop: an unknown visitor's snapshot enrolled by event id, then
    /// recognised in another photo.
    @Test func anUnknownVisitorIsEnrolledFromTheLog() throws {
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end", "--snapshots", dir.file("snapshots")])
        #expect(run.status == 0, "\(run.stderr)")
        let store = try FaceStore(path: db, create: false)
        let unknown = try #require(try store.events(EventFilter(decision: .unknown)).first)
        let granted = try #require(try store.events(EventFilter(decision: .granted)).first)
        let before = try GalleryFingerprint(store)

        let wrongKind = try Binaries.run("facectl", ["enroll", "biden", "--from-event", "\(granted.id!)", "--db", db])
        #expect(wrongKind.status == 1 && wrongKind.stderr == "facectl: event \(granted.id!) granted obama; --from-event takes an unknown or denied visitor\n",
                "\(wrongKind.stderr)")
        let missing = try Binaries.run("facectl", ["enroll", "biden", "--from-event", "999", "--db", db])
        #expect(missing.status == 1 && missing.stderr == "facectl: no event 999 in the audit log (see `facectl log`)\n", "\(missing.stderr)")
        #expect(try GalleryFingerprint(store) == before)
        let noDB = try Binaries.run("facectl", ["enroll", "biden", "--from-event", "1", "--db", dir.file("none.db")])
        #expect(noDB.status == 1 && !FileManager.default.fileExists(atPath: dir.file("none.db")))

        let taught = try Binaries.run("facectl", ["enroll", "biden", "--from-event", "\(unknown.id!)", "--db", db])
        #expect(taught.status == 0, "\(taught.stderr)")
        #expect(taught.stdout.hasPrefix("enrolled biden: 1 photo added, 1 in total"), "\(taught.stdout)")
        let biden = try Binaries.run("facectl", ["identify", Fixtures.photo("biden.jpg"), "--db", db])
        #expect(biden.status == 0 && biden.stdout.contains("→ biden"), "\(biden.stdout)")
    }

    @Test func editingARowWithSQLiteIsCaught() throws {
        #expect(try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end"]).status == 0)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [db, "UPDATE events SET decision = 'granted', reason = NULL WHERE decision = 'unknown'"]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        let store = try FaceStore(path: db, create: false)
        let edited = try #require(try store.events(EventFilter()).last)
        let verify = try Binaries.run("facectl", ["log", "verify", "--db", db])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("audit log is broken at event \(edited.id!): its content does not match its hash"), "\(verify.stderr)")
    }

    // Synchronous on purpose: the polling below must not wait for a busy cooperative pool.
    @Test func killedMidReplayLeavesAConsistentLog() throws {
        // An unpaced replay processes every frame, so decisions do not depend on machine load;
        // twenty visits are far more work than the time to the first decision, so faced is
        // mid-replay when it is killed.
        let visit = try ReplayBuilder().build([
            .empty(frames: 6), .photo(try Fixtures.image("obama3.jpg"), frames: 8),
            .empty(frames: 6), .photo(try Fixtures.image("biden.jpg"), frames: 8),
        ]).bytes
        let long = try dir.write("long.mjpeg", Array([[UInt8]](repeating: visit, count: 20).joined()))
        let process = Binaries.process("faced", ["--liveness", "off", "--source", "mjpeg:\(long)", "--db", db, "--cooldown", "0", "--exit-at-end"])
        process.standardError = FileHandle(forWritingAtPath: try dir.write("faced.log", []))
        try process.run()
        let store = try FaceStore(path: db, create: false)
        let deadline = ContinuousClock.now + .seconds(60)
        while try store.events(EventFilter()).isEmpty, ContinuousClock.now < deadline, process.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal,
                "faced was no longer running when killed: \((try? String(contentsOfFile: dir.file("faced.log"), encoding: .utf8)) ?? "")")

        let check = try DatabaseQueue(path: db).read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
        #expect(check == ["ok"])
        let verify = try Binaries.run("facectl", ["log", "verify", "--db", db])
        #expect(verify.status == 0, "\(verify.stderr)")
        let events = try store.events(EventFilter())
        #expect(!events.isEmpty && events.allSatisfy { $0.hash.count == 64 && $0.prevHash.count == 64 })
    }

    @Test func accessRulesFromFacectlApplyInTheDaemon() throws {
        // A schedule that excludes now (the window of the day that is 12 hours away) denies obama.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let later = calendar.dateComponents([.weekday, .hour], from: Date().addingTimeInterval(12 * 3600))
        let day = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][later.weekday! - 1]
        let window = String(format: "%@ %02d:00-%02d:00", day, later.hour!, later.hour! + 1)
        let set = try Binaries.run("facectl", ["set", "obama", "--schedule", window, "--db", db])
        #expect(set.status == 0, "\(set.stderr)")
        let run = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end", "--timezone", "UTC"])
        #expect(run.status == 0, "\(run.stderr)")
        let decisions = try FaceStore(path: db, create: false).events(EventFilter()).filter { $0.kind == .decision }
        #expect(decisions.map(\.reason?.rawValue) == ["outside_schedule", "unknown"])
        #expect(decisions.first?.personName == "obama" && decisions.first?.decision == .denied)

        // Disabled beats the schedule; a bad schedule is refused and changes nothing.
        #expect(try Binaries.run("facectl", ["set", "obama", "--disable", "--no-schedules", "--db", db]).status == 0)
        let before = try GalleryFingerprint(FaceStore(path: db, create: false))
        let bad = try Binaries.run("facectl", ["set", "obama", "--schedule", "someday 9-5", "--db", db])
        #expect(bad.status == 1 && bad.stderr.contains("invalid schedule 'someday 9-5'"))
        #expect(try GalleryFingerprint(FaceStore(path: db, create: false)) == before)
        #expect(try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end"]).status == 0)
        let again = try FaceStore(path: db, create: false).events(EventFilter()).filter { $0.kind == .decision }
        #expect(again.suffix(2).map(\.reason?.rawValue) == ["disabled", "unknown"])
    }

    @Test func cooldownSurvivesARestartAndOldSnapshotsGo() throws {
        let snapshots = dir.file("snapshots")
        for day in ["2020-01-01", "2099-01-01"] {
            try FileManager.default.createDirectory(atPath: snapshots + "/" + day, withIntermediateDirectories: true)
        }
        let args = ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end", "--cooldown", "600", "--snapshots", snapshots,
                    "--snapshot-retention-days", "7"]
        #expect(try Binaries.run("faced", args).status == 0)
        #expect(!FileManager.default.fileExists(atPath: snapshots + "/2020-01-01"), "older than 7 days")
        #expect(FileManager.default.fileExists(atPath: snapshots + "/2099-01-01"))
        #expect(try Binaries.run("faced", args).status == 0)
        let decisions = try FaceStore(path: db, create: false).events(EventFilter()).filter { $0.kind == .decision }
        #expect(decisions.map { $0.reason?.rawValue ?? $0.decision!.rawValue } == ["granted", "unknown", "cooldown", "unknown"])
        // The closest person has a column of its own; the detail only names the track's average.
        #expect(decisions[1].closestName == "obama" && decisions[1].detail?.hasPrefix("the average of its ") == true, "\(decisions[1])")
    }

    @Test func badSourceAndFlagsFailClearly() throws {
        let missing = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(dir.file("none.mjpeg"))", "--db", db, "--exit-at-end"])
        #expect(missing.status == 1 && missing.stderr.contains("none.mjpeg: no such file or directory"))
        let scheme = try Binaries.run("faced", ["--source", "rtsp://cam", "--db", db])
        #expect(scheme.status == 1 && scheme.stderr == "faced: --source must be v4l2:DEVICE, dir:PATH or mjpeg:PATH, got \"rtsp://cam\"\n")
        let evidence = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--evidence", "5/3", "--db", db])
        #expect(evidence.status == 1 && evidence.stderr == "faced: --evidence must be \"K/M\" with 1 ≤ K ≤ M ≤ 50, e.g. \"3/5\", got \"5/3\"\n")
    }
}
