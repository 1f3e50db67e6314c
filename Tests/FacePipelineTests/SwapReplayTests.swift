import FaceCapture
import FacePipeline
import FaceStore
import FaceTestSupport
import Foundation
import Testing

/// Issue 12's swap at the same spot, end to end: faced as a child process in media time, so
/// patience and rejoin count as on a camera at `fps` however slow this build is.
@Suite struct SwapReplayTests {
    /// 15 frames of a face span 3.75 s at 4 fps: the stranger's patience (3 s) runs out while he
    /// is still in view, and the 2 empty frames between the two (0.5 s) are far inside the rejoin time.
    static let fps = 4.0

    let dir: TempDirectory
    let db: String

    init() throws {
        dir = try TempDirectory()
        db = dir.file("faced.db")
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
    }

    /// `facebench make-replay --photo-frames 15 --empty-frames 2 FIRST SECOND`, run through faced
    /// to its end: the decisions in the gallery and faced's log.
    func run(_ first: String, _ second: String) throws -> (decisions: [AuditEvent], log: String) {
        let (bytes, _) = try ReplayBuilder().build([
            .empty(frames: 2), .photo(try Fixtures.image(first), frames: 15), .empty(frames: 2),
            .photo(try Fixtures.image(second), frames: 15), .empty(frames: 2),
        ])
        let replay = try dir.write("swap.mjpeg", bytes)
        let faced = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--media-time", "--fps", String(Self.fps), "--db", db,
                                               "--exit-at-end", "--status-file", dir.file("status.json")])
        #expect(faced.status == 0, "\(faced.stderr)")
        let store = try FaceStore(path: db, create: false)
        return (try store.events(EventFilter()).filter { $0.kind == .decision }, faced.stderr)
    }

    /// The decision lines of faced's log, without their event numbers.
    func loggedDecisions(_ log: String) -> [String] {
        log.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: #"event \d+: (granted|unknown|denied|ambiguous)[^,]*"#, options: .regularExpression) else { return nil }
            return line[range].replacingOccurrences(of: #"event \d+: "#, with: "", options: .regularExpression)
        }
    }

    @Test func obamaThenBidenAtTheSameSpotIsGrantedObamaThenUnknownBiden() throws {
        let (decisions, log) = try run("obama3.jpg", "biden.jpg")
        #expect(decisions.map { "\($0.decision!) \($0.personName ?? "")" } == ["granted obama", "unknown "], "\(log)")
        #expect(loggedDecisions(log) == ["granted obama", "unknown"], "\(log)")
        guard decisions.count == 2 else { return }
        #expect(decisions[0].trackID != decisions[1].trackID, "\(log)")
        // The stranger is biden, not obama's track decided late: far from the one enrolled face.
        #expect((decisions[1].bestDistance ?? 0) > 0.6, "\(log)")
        #expect(decisions[1].refEventID == nil, "a track of its own refers to no earlier decision")
    }

    @Test func bidenThenObamaAtTheSameSpotIsUnknownBidenThenGrantedObama() throws {
        let (decisions, log) = try run("biden.jpg", "obama3.jpg")
        #expect(decisions.map { "\($0.decision!) \($0.personName ?? "")" } == ["unknown ", "granted obama"], "\(log)")
        #expect(loggedDecisions(log) == ["unknown", "granted obama"], "\(log)")
        guard decisions.count == 2 else { return }
        #expect(decisions[0].trackID != decisions[1].trackID, "\(log)")
        #expect((decisions[0].bestDistance ?? 0) > 0.6, "\(log)")
        // Obama's grant is his own visit's, not biden's refusal turned round.
        #expect(decisions[1].refEventID == nil, "\(log)")
    }
}

/// `--media-time` (camera.media_time): for replays with a rate only, refused otherwise in one line.
@Suite struct MediaTimeOptionTests {
    static let example = Fixtures.root.appendingPathComponent("systemd/faced.toml").path

    @Test func refusedForACameraAndWithoutARate() throws {
        let camera = try Binaries.run("faced", ["--check-config", Self.example, "--media-time", "--fps", "25"])
        #expect(camera.status == 1, "\(camera.stderr)")
        #expect(camera.stderr == "faced: --media-time (camera.media_time) is for replays (dir:, mjpeg:); a camera's frames carry the time they were captured\n",
                "\(camera.stderr)")
        let dir = try TempDirectory()
        let replay = try dir.write("r.mjpeg", try Fixtures.bytes("obama3.jpg"))
        let unpaced = try Binaries.run("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--media-time", "--db", dir.file("g.db"), "--exit-at-end"])
        #expect(unpaced.status == 1)
        #expect(unpaced.stderr == "faced: --media-time (camera.media_time) needs --fps R (camera.fps): frame i is stamped i / R seconds after the start\n",
                "\(unpaced.stderr)")
    }

    @Test func theConfigKeyIsReadAndShown() throws {
        let dir = try TempDirectory()
        let file = try dir.write("faced.toml", Array("[camera]\nsource = \"mjpeg:/srv/walkup.mjpeg\"\nfps = 25\nmedia_time = true\n".utf8))
        let options = try DaemonOptions(configFile: file)
        #expect(options.mediaTime == true)
        #expect(try options.resolve().clock == .media)
        let shown = try Binaries.run("faced", ["--check-config", file])
        #expect(shown.status == 0 && shown.stdout.contains("media_time = true"), "\(shown.stderr)")
        let bad = try dir.write("bad.toml", Array("[camera]\nmedia_time = 1\n".utf8))
        let error = #expect(throws: ConfigError.self) { try DaemonOptions(configFile: bad) }
        #expect(error?.description.hasPrefix("\(bad):2: camera.media_time: must be true or false") == true, "\(String(describing: error))")
    }
}
