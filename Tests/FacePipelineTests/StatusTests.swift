import FacePipeline
import FaceStore
import FaceTestSupport
import FacedModel
import Foundation
import Testing

/// `facectl status` over the status file faced publishes.
@Suite struct StatusTests {
    func sample(now: Date) -> DaemonStatus {
        var status = DaemonStatus(pid: 4242, started: now.addingTimeInterval(-3725), config: "/etc/faced/faced.toml",
                                  source: "v4l2:/dev/video0", camera: "front", level: "strict")
        status.updated = now.addingTimeInterval(-0.4)
        status.sourceState = "streaming"
        status.stream = "MJPG 1280x720 at 30 fps"
        status.fps = 14.96
        status.frames = 1000
        status.lastFrame = now.addingTimeInterval(-0.2)
        status.cameraErrors = 1
        status.lastCameraError = "disconnected: No such device"
        status.lastCameraErrorTime = now.addingTimeInterval(-600)
        status.galleryPeople = 3
        status.galleryTemplates = 9
        status.galleryGeneration = 17
        for id in 1 ... 7 {
            var event = AuditEvent(kind: .decision, time: now, camera: "front")
            event.id = Int64(id)
            event.decision = id == 7 ? .denied : .granted
            event.reason = id == 7 ? .denial(.outsideSchedule) : nil
            event.personName = "alice"
            event.bestDistance = 0.3
            status.add(event)
        }
        var camera = AuditEvent(kind: .camera, time: now, camera: "front")
        camera.id = 8
        camera.reason = .camera(.lost)
        status.add(camera)
        return status
    }

    /// A status file as faced writes it: facectl reads every field back, and writing what it read
    /// gives the same bytes. Its format is shared by a faced and a facectl of different builds.
    @Test func aWrittenStatusFileKeepsItsFormat() throws {
        let dir = try TempDirectory()
        let path = try dir.write("status.json", Array(Self.written.utf8))
        let status = try DaemonStatus.read(from: path)
        #expect(status.pid == 4242 && status.state == "running" && status.sourceState == "streaming")
        #expect(status.database == "/var/lib/faced/faced.db" && status.chainRoot == String(repeating: "a", count: 64))
        #expect(status.chainHead == ChainHead(id: 9, hash: String(repeating: "b", count: 64)) && status.recentHeads.count == 2)
        #expect(status.lastDecisions.map(\.id) == [7, 6, 5, 4, 3] && status.lastDecisions[0].reason == .denial(.outsideSchedule))
        #expect(abs(status.lastFrame!.timeIntervalSince1970 - (1_800_000_000 - 0.201)) < 0.0005)
        #expect(status.spooledEvents == 1 && status.badFrames == 2 && status.fps == 14.96)
        try status.write(to: dir.file("again.json"))
        let again = String(decoding: FileManager.default.contents(atPath: dir.file("again.json")) ?? Data(), as: UTF8.self)
        #expect(again == Self.written)
    }

    /// Written by faced at 1_800_000_000 (sample(now:) with a database, a spool, bad frames and a chain).
    static let written = #"""
        {
          "bad_frames" : 2,
          "camera" : "front",
          "camera_errors" : 1,
          "chain_head" : {
            "hash" : "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "id" : 9
          },
          "chain_root" : "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "config" : "\/etc\/faced\/faced.toml",
          "dark_frames" : 0,
          "database" : "\/var\/lib\/faced\/faced.db",
          "fps" : 14.96,
          "frames" : 1000,
          "gallery_generation" : 17,
          "gallery_people" : 3,
          "gallery_templates" : 9,
          "last_bad_frame" : "not a JPEG",
          "last_camera_error" : "disconnected: No such device",
          "last_camera_error_time" : "2027-01-15T07:50:00.000Z",
          "last_decisions" : [
            {
              "decision" : "denied",
              "distance" : 0.3,
              "id" : 7,
              "person" : "alice",
              "reason" : "outside_schedule",
              "time" : "2027-01-15T08:00:00.000Z"
            },
            {
              "decision" : "granted",
              "distance" : 0.3,
              "id" : 6,
              "person" : "alice",
              "time" : "2027-01-15T08:00:00.000Z"
            },
            {
              "decision" : "granted",
              "distance" : 0.3,
              "id" : 5,
              "person" : "alice",
              "time" : "2027-01-15T08:00:00.000Z"
            },
            {
              "decision" : "granted",
              "distance" : 0.3,
              "id" : 4,
              "person" : "alice",
              "time" : "2027-01-15T08:00:00.000Z"
            },
            {
              "decision" : "granted",
              "distance" : 0.3,
              "id" : 3,
              "person" : "alice",
              "time" : "2027-01-15T08:00:00.000Z"
            }
          ],
          "last_frame" : "2027-01-15T07:59:59.799Z",
          "level" : "strict",
          "pid" : 4242,
          "recent_heads" : [
            {
              "hash" : "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              "id" : 1
            },
            {
              "hash" : "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
              "id" : 9
            }
          ],
          "source" : "v4l2:\/dev\/video0",
          "source_state" : "streaming",
          "spool_reason" : "database is locked",
          "spooled_events" : 1,
          "started" : "2027-01-15T06:57:55.000Z",
          "state" : "running",
          "stream" : "MJPG 1280x720 at 30 fps",
          "updated" : "2027-01-15T07:59:59.600Z"
        }
        """# + "\n"

    @Test func theFileIsReplacedWholeAndReadBack() throws {
        let dir = try TempDirectory()
        let path = dir.file("status.json")
        let status = sample(now: Date(timeIntervalSince1970: 1_800_000_000))
        try status.write(to: path)
        var again = status
        again.frames = 2000
        try again.write(to: path)
        let read = try DaemonStatus.read(from: path)
        #expect(try read.json() == again.json(), "same fields, times to the millisecond")
        #expect(read.frames == 2000 && read.lastDecisions.count == 5 && abs(read.lastFrame!.timeIntervalSince(again.lastFrame!)) < 0.001)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640, "decisions name people: not world-readable")
        #expect(status.lastDecisions.map(\.id) == [7, 6, 5, 4, 3], "newest first, five, decisions only")

        _ = try dir.write("junk.json", Array("{\"pid\": 1}".utf8))
        #expect(throws: StatusFileError.self) { try DaemonStatus.read(from: dir.file("junk.json")) }
    }

    /// The status file lives in a folder others may write to in a test or a misconfigured box: a
    /// symlink planted at the old temporary name is not followed, a FIFO at the path is refused.
    @Test func theFileIsNeverWrittenThroughAPlantedFile() throws {
        let dir = try TempDirectory()
        let path = dir.file("status.json")
        let victim = try dir.write("victim", Array("untouched".utf8))
        try FileManager.default.createSymbolicLink(atPath: path + ".tmp", withDestinationPath: victim)
        let old = umask(0o022)
        defer { umask(old) }
        let status = sample(now: Date())
        try status.write(to: path)
        #expect(FileManager.default.contents(atPath: victim) == Data("untouched".utf8))
        #expect(try DaemonStatus.read(from: path).frames == status.frames)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o640)

        let fifo = dir.file("fifo.json")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect {
            try status.write(to: fifo)
        } throws: { error in
            "\(error)" == "status file \(fifo): is a FIFO, not a regular file: not replaced"
        }
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["fifo.json", "status.json", "status.json.tmp", "victim"], "no temporary file left: \(names)")
    }

    @Test func livenessTellsRunningStoppedGoneAndHung() {
        let now = Date()
        var status = sample(now: now)
        #expect(DaemonLiveness(status, now: now, processAlive: { _ in true }) == .running)
        #expect(DaemonLiveness(status, now: now, processAlive: { _ in false }) == .gone)
        status.updated = now.addingTimeInterval(-30)
        #expect(DaemonLiveness(status, now: now, processAlive: { _ in true }) == .notResponding(seconds: 30))
        status.state = "stopped"
        #expect(DaemonLiveness(status, now: now, processAlive: { _ in false }) == .stopped)
        #expect(DaemonLiveness.isFaced(getpid()) == false, "the test runner is not faced")
        #expect(DaemonLiveness.isFaced(0) == false)
        #expect([DaemonLiveness.running, .stopped, .gone, .notResponding(seconds: 11)].map(DaemonStatus.exitCode) == [0, 3, 3, 4])
    }

    @Test func aReaderFindsTheFileByOptionThenVariableThenDefault() {
        #expect(DaemonStatus.readPath("/tmp/a.json", environment: ["FACED_STATUS": "/tmp/b.json"]) == "/tmp/a.json")
        #expect(DaemonStatus.readPath(nil, environment: ["FACED_STATUS": "/tmp/b.json"]) == "/tmp/b.json")
        #expect(DaemonStatus.readPath(nil, environment: [:]) == "/run/faced/status.json")
    }

    @Test func theReportSaysWhatAnAdministratorAsks() {
        let now = Date()
        let berlin = TimeDisplay(zone: TimeZone(identifier: "Europe/Berlin")!, reference: now)
        let text = sample(now: now).report(.running, now: now, display: berlin)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "faced: running (pid 4242, up 1 h 2 min)")
        #expect(lines[1] == "source:    v4l2:/dev/video0 (streaming, MJPG 1280x720 at 30 fps)")
        #expect(lines[2] == "frames:    15.0 fps, 1000 processed, last frame 0.2 s ago")
        #expect(lines[3] == "camera:    \"front\", 1 error since start; last: disconnected: No such device (10 min ago)")
        #expect(lines[4] == "gallery:   3 people, 9 templates, generation 17")
        #expect(lines[5] == "policy:    level strict; config /etc/faced/faced.toml")
        #expect(lines[6] == "last decisions (\(berlin.header)):" && lines.count == 12)
        // The decision's time on a Berlin wall clock, to the second.
        #expect(lines[7] == "  #7  \(berlin.string(stored: AuditEvent.format(now)))  denied (outside_schedule)  alice  0.300", "\(lines[7])")
        #expect(berlin.header.hasPrefix("times in Europe/Berlin (UTC+0"))
        let hung = sample(now: now).report(.notResponding(seconds: 42), now: now)
        #expect(hung.hasPrefix("faced: NOT RESPONDING (pid 4242 is alive, but its status was last updated 42 s ago)"))
    }

    @Test func theBoardMeasuresTheRate() {
        let start = Date()
        let board = StatusBoard(DaemonStatus(pid: 1, started: start, config: nil, source: "dir:x", camera: "door", level: "standard"))
        _ = board.current(at: start)
        board.update { $0.frames = 30 }
        let status = board.current(at: start.addingTimeInterval(2))
        #expect(abs(status.fps - 15) < 0.01 && status.updated == start.addingTimeInterval(2))
    }

    /// faced publishes while it runs; facectl status reads it, sees gallery changes, a clean stop
    /// and a crash.
    @Test func facectlStatusFollowsARunningFaced() throws {
        let dir = try TempDirectory()
        let db = dir.file("faced.db"), statusPath = dir.file("status.json")
        let (bytes, _) = try ReplayBuilder().build([.empty(frames: 8), .photo(try Fixtures.image("obama3.jpg"), frames: 8)])
        let replay = try dir.write("visits.mjpeg", bytes)
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")

        let none = try Binaries.run("facectl", ["status", "--status-file", statusPath])
        #expect(none.status == 3 && none.stdout.hasPrefix("faced: not running (no status file at \(statusPath)"), "\(none)")

        let faced = Binaries.process("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--loop", "--rejoin", "0", "--db", db, "--cooldown", "0",
                                                "--status-file", statusPath, "--camera", "lab"])
        let err = OutputCollector()
        faced.standardError = err.pipe
        try faced.run()
        defer { if faced.isRunning { kill(faced.processIdentifier, SIGKILL) } }

        func status() throws -> (code: Int32, json: [String: Any]) {
            let run = try Binaries.run("facectl", ["status", "--status-file", statusPath, "--json"])
            return (run.status, (try? run.json() as? [String: Any]) ?? [:])
        }
        func wait(seconds: Double, until done: ([String: Any]) -> Bool) throws -> [String: Any] {
            let end = Date().addingTimeInterval(seconds)
            var last = [String: Any]()
            while Date() < end {
                if FileManager.default.fileExists(atPath: statusPath) {
                    last = try status().json
                    if done(last) { break }
                }
                Thread.sleep(forTimeInterval: 0.3)
            }
            return last
        }
        let granted = try wait(seconds: 90) { (($0["last_decisions"] as? [[String: Any]])?.first?["person"] as? String) == "obama" }
        #expect(granted["state"] as? String == "running", "\(granted) \(err.text)")
        #expect(granted["pid"] as? Int == Int(faced.processIdentifier))
        #expect(granted["camera"] as? String == "lab" && granted["source"] as? String == "mjpeg:\(replay)")
        #expect((granted["frames"] as? Int ?? 0) > 0 && (granted["last_frame_age_seconds"] as? Double ?? 99) < 10)
        #expect(granted["gallery_people"] as? Int == 1 && granted["gallery_templates"] as? Int == 2)
        let text = try Binaries.run("facectl", ["status", "--status-file", statusPath])
        #expect(text.status == 0 && text.stdout.hasPrefix("faced: running (pid \(faced.processIdentifier), up "), "\(text)")
        #expect(text.stdout.contains("  granted  obama  0."), "\(text.stdout)")
        #expect(text.stdout.contains("policy:    level standard; liveness off"), "\(text.stdout)")
        #expect(granted["liveness"] as? String == "off")

        // A gallery change shows in the status: a new generation and one more person.
        let generation = granted["gallery_generation"] as? Int ?? -1
        let biden = try Binaries.run("facectl", ["enroll", "biden", Fixtures.photo("biden.jpg"), "--db", db])
        #expect(biden.status == 0, "\(biden.stderr)")
        let grown = try wait(seconds: 60) { $0["gallery_people"] as? Int == 2 }
        #expect(grown["gallery_people"] as? Int == 2 && (grown["gallery_generation"] as? Int ?? -1) > generation, "\(grown)")

        kill(faced.processIdentifier, SIGTERM)
        faced.waitUntilExit()
        #expect(faced.terminationStatus == 0, "\(err.text)")
        let stopped = try Binaries.run("facectl", ["status", "--status-file", statusPath])
        #expect(stopped.status == 3 && stopped.stdout.hasPrefix("faced: stopped "), "\(stopped)")

        // Killed without a chance to say so: the pid is gone and the file still says running.
        let crashed = Binaries.process("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--loop", "--rejoin", "0", "--db", db, "--status-file", statusPath])
        crashed.standardError = FileHandle.nullDevice
        try crashed.run()
        defer { if crashed.isRunning { kill(crashed.processIdentifier, SIGKILL) } }
        let fresh = try wait(seconds: 60) { $0["pid"] as? Int == Int(crashed.processIdentifier) && $0["state"] as? String == "running" }
        #expect(fresh["state"] as? String == "running", "\(fresh)")
        kill(crashed.processIdentifier, SIGKILL)
        crashed.waitUntilExit()
        let gone = try Binaries.run("facectl", ["status", "--status-file", statusPath])
        #expect(gone.status == 3 && gone.stdout.contains("ended without a clean stop (crashed or killed)"), "\(gone)")
    }
}
