import FacePipeline
import FaceStore
import FaceTestSupport
import Foundation
import Testing

/// A photo of a member held to the camera, through faced as a child process: with
/// `--liveness motion` (the default) it is refused for `liveness`, and `facectl why` says what was
/// measured; with `--liveness off` the very same replay opens the door.
@Suite struct LivenessEndToEndTests {
    struct Door {
        let dir: TempDirectory
        let db: String
        let replay: String
    }

    /// obama enrolled from obama.jpg; a replay of obama3.jpg as `kind`, 4 s at 25 fps.
    static func door(_ kind: AttackKind) throws -> Door {
        let dir = try TempDirectory()
        let db = dir.file("faced.db")
        let enroll = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), "--db", db])
        #expect(enroll.status == 0, "\(enroll.stderr)")
        let scene = try AttackScene(photo: PresentationAttackTests.obama.photos[0], kind: kind, seed: 5, faceWidth: 130,
                                    width: 640, height: 480, frames: 100)
        var bytes = [UInt8]()
        for f in 0 ..< scene.frameCount { bytes += try scene.jpeg(frame: f) }
        return Door(dir: dir, db: db, replay: try dir.write("\(kind.rawValue).mjpeg", bytes))
    }

    static func decisions(_ door: Door, _ flags: [String]) throws -> [AuditEvent] {
        let faced = try Binaries.run("faced", ["--source", "mjpeg:\(door.replay)", "--media-time", "--fps", "25", "--min-face", "60",
                                               "--db", door.db, "--exit-at-end", "--status-file", door.dir.file("status.json")] + flags)
        #expect(faced.status == 0, "\(faced.stderr)")
        return try FaceStore(readingAt: door.db).events(EventFilter()).filter { $0.kind == .decision }
    }

    static func said(_ events: [AuditEvent]) -> [String] {
        events.map { "\($0.decision?.rawValue ?? "?") \($0.reason?.rawValue ?? "-") \($0.personName ?? "-")" }
    }

    @Test func aHandHeldPrintOfAMemberIsRefusedForLiveness() throws {
        let door = try Self.door(.print)
        let events = try Self.decisions(door, ["--liveness", "motion"])
        #expect(Self.said(events) == ["denied liveness obama"])
        let event = try #require(events.first)
        let liveness = try #require(event.livenessEvidence)
        #expect(!liveness.live && liveness.moved >= liveness.fewestSteps)
        #expect(try #require(liveness.surround) > liveness.maxSurround, "the print's margin moved with its face")
        let why = try Binaries.run("facectl", ["why", "\(event.id!)", "--db", door.db])
        #expect(why.status == 0, "\(why.stderr)")
        #expect(why.stdout.contains("DENIED (liveness) for 'obama'"), "\(why.stdout)")
        #expect(why.stdout.contains("Liveness (motion): no proof of a live face: over"), "\(why.stdout)")
        #expect(why.stdout.contains("(needs ≤ 40 %)"), "\(why.stdout)")
    }

    @Test func withoutLivenessTheSamePrintOpensTheDoor() throws {
        let door = try Self.door(.print)
        #expect(Self.said(try Self.decisions(door, ["--liveness", "off"])) == ["granted - obama"])
    }

    @Test func livenessIsTheDefault() throws {
        let door = try Self.door(.print)
        #expect(Self.said(try Self.decisions(door, [])) == ["denied liveness obama"])
    }

    @Test func aPhotoHeldStillIsRefusedForLiveness() throws {
        let door = try Self.door(.still)
        let events = try Self.decisions(door, ["--liveness", "motion"])
        #expect(Self.said(events) == ["denied liveness obama"])
        #expect(events.first?.livenessEvidence?.moved == 0)
    }

    @Test func aPersonsOwnModeRefusesThePrintAtADoorWithoutLiveness() throws {
        let door = try Self.door(.print)
        let set = try Binaries.run("facectl", ["set", "obama", "--liveness", "motion", "--db", door.db])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.contains("liveness:   motion"), "\(set.stdout)")
        #expect(Self.said(try Self.decisions(door, ["--liveness", "off"])) == ["denied liveness obama"])
        let shown = try Binaries.run("facectl", ["show", "obama", "--json", "--db", door.db])
        let before = try GalleryFingerprint(FaceStore(path: door.db, create: false))
        // A refused mode refuses the whole command: the level given with it is not applied either.
        for flags in [["--liveness", "off"], ["--liveness", ""], ["--liveness", "maybe"], ["--level", "relaxed", "--liveness", "off"]] {
            let bad = try Binaries.run("facectl", ["set", "obama"] + flags + ["--db", door.db])
            #expect(bad.status == 1 && bad.stderr.contains("--liveness must be motion or none"), "\(flags): \(bad.stderr)")
            #expect(try GalleryFingerprint(FaceStore(path: door.db, create: false)) == before, "\(flags) changed the gallery")
            #expect(try Binaries.run("facectl", ["show", "obama", "--json", "--db", door.db]).stdout == shown.stdout, "\(flags) changed obama")
        }
    }
}
