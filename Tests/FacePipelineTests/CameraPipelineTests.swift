import FaceCapture
import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import Testing

/// Camera frames through the pipeline on the host: YUYV and GREY payloads, dark frames, health rows.
@Suite struct CameraPipelineTests {
    let dir: TempDirectory
    let store: FaceStore

    init() throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("g.db"), create: true)
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", store.path])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
    }

    func frame(_ photo: String?) throws -> RGBImage {
        try ReplayBuilder(width: 1280, height: 720).frame(photo.map { try Fixtures.image($0) })
    }

    @Test func yuyvFramesAreRecognised() throws {
        let pipeline = try Pipeline(engine: Fixtures.engine, store: store, settings: PipelineSettings(camera: "cam"))
        let obama = try frame("obama3.jpg").yuyv(), empty = try frame(nil).yuyv()
        var events = [AuditEvent]()
        let start = Date()
        // Obama comes in 0.4 s after the first frame's full scan, later than motion there waits
        // for a search (`DetectionPlanner.motionSearchEvery`), so each of his frames is searched.
        for i in 0 ..< 14 {
            let payload = (4 ..< 9).contains(i) ? obama : empty
            events += try pipeline.process(Frame(index: i, time: start.addingTimeInterval(Double(i) / 10), payload: .yuyv(payload)))
        }
        #expect(events.map { "\($0.decision?.rawValue ?? "-") \($0.personName ?? "-")" } == ["granted obama"])
        #expect(pipeline.framesWithFaces == 5)
        #expect(pipeline.stageTime["convert"] != nil, "RGB is made only for frames with a face to describe")
    }

    @Test func greyFramesFromAnIRCameraAreRecognised() throws {
        let pipeline = try Pipeline(engine: Fixtures.engine, store: store, settings: PipelineSettings(camera: "ir"))
        let obama = try frame("obama3.jpg").grayscale()
        var events = [AuditEvent]()
        for i in 0 ..< 5 { events += try pipeline.process(Frame(index: i, time: Date(), payload: .gray(obama))) }
        #expect(events.first?.decision == .granted && events.first?.personName == "obama")
    }

    @Test func aLongDarkSpellIsLoggedOnceAndItsEndToo() throws {
        var settings = PipelineSettings(camera: "cam")
        settings.darkReportAfter = 5
        let pipeline = try Pipeline(engine: Fixtures.engine, store: store, settings: settings)
        let dark = try GrayImage(width: 640, height: 360, fill: 4), light = try frame(nil).grayscale()
        let start = Date()
        var events = [AuditEvent]()
        for i in 0 ..< 20 { events += try pipeline.process(Frame(index: i, time: start.addingTimeInterval(Double(i)), payload: .gray(dark))) }
        #expect(pipeline.darkFrames == 20 && pipeline.framesWithFaces == 0)
        #expect(events.map(\.reason?.rawValue) == ["camera_dark"])
        #expect(events.first?.kind == .camera)
        #expect(abs(try #require(events.first?.date).timeIntervalSince(start) - 5) < 0.01, "logged when the spell reached 5 s")
        events = try pipeline.process(Frame(index: 20, time: start.addingTimeInterval(20), payload: .gray(light)))
        #expect(events.map(\.reason?.rawValue) == ["camera_light"])
        #expect(events.first?.detail?.contains("after 20 s and 20 dark frames") == true, "\(events.first?.detail ?? "")")
        // A short spell is skipped but not logged.
        for i in 21 ..< 24 { #expect(try pipeline.process(Frame(index: i, time: start.addingTimeInterval(Double(i)), payload: .gray(dark))).isEmpty) }
        #expect(try pipeline.process(Frame(index: 24, time: start.addingTimeInterval(24), payload: .gray(light))).isEmpty)
        #expect(pipeline.darkFrames == 23)
    }

    @Test func healthChangesBecomeChainedRows() throws {
        let log = CameraHealthLog(store: store, camera: "door")
        let format = StreamFormat(fourcc: .yuyv, width: 640, height: 480, bytesPerLine: 1280, sizeImage: 614_400, fps: 30, converted: false)
        #expect(try log.record(.streaming(format)) == nil)
        let lost = try #require(try log.record(.lost(reason: "camera /dev/video0 disconnected: No such device")))
        let back = try #require(try log.record(.restored(format, downtime: 3.25)))
        #expect(lost.kind == .camera && lost.reason == .camera(.lost) && lost.detail?.contains("/dev/video0") == true)
        #expect(back.reason == .camera(.restored) && back.detail == "streaming YUYV 640x480 at 30 fps again after 3.2 s")
        #expect(try store.verifyChain().firstBreak == nil)
        let line = try Binaries.run("facectl", ["log", "--db", store.path, "--limit", "1"])
        #expect(line.stdout.contains("camera_restored: streaming YUYV 640x480"), "\(line.stdout)")
    }
}

/// faced with a camera source that is wrong or missing, as a child process.
@Suite struct CameraDaemonTests {
    @Test func aDeviceThatIsNoCameraStopsFacedWithOneLine() throws {
        let dir = try TempDirectory()
        let run = try Binaries.run("faced", ["--source", "v4l2:/dev/null", "--db", dir.file("g.db")])
        #expect(run.status == 1)
        let lines = run.stderr.split(separator: "\n").filter { !$0.contains("started:") }
        #expect(lines == ["faced: /dev/null (not a V4L2 device) is not a video capture device; facectl cameras lists the ones faced can use"],
                "\(run.stderr)")
    }

    @Test func aMissingCameraIsWaitedForAndLogged() throws {
        let dir = try TempDirectory()
        let db = dir.file("g.db")
        let faced = Binaries.process("faced", ["--source", "v4l2:\(dir.file("video0"))", "--db", db])
        let err = Pipe()
        faced.standardError = err
        try faced.run()
        defer { kill(faced.processIdentifier, SIGKILL); faced.waitUntilExit() }
        var lost: [AuditEvent] = []
        for _ in 0 ..< 100 where lost.isEmpty {
            Thread.sleep(forTimeInterval: 0.2)
            if FileManager.default.fileExists(atPath: db) {
                lost = (try? FaceStore(readingAt: db).events(EventFilter(reason: .camera(.lost)))) ?? []
            }
        }
        #expect(lost.count == 1)
        #expect(lost.first?.detail == "camera \(dir.file("video0")) is not there; plug it in or check --source (facectl cameras lists them)")
        // Still running through several retries, and still one row: a window in which nothing may happen.
        Thread.sleep(forTimeInterval: 2)
        #expect(faced.isRunning)
        #expect(try FaceStore(path: db, create: false).events(EventFilter(reason: .camera(.lost))).count == 1)
    }

    @Test func camerasListsNothingWhereThereIsNothing() throws {
        let dir = try TempDirectory()
        let plain = try Binaries.run("facectl", ["cameras", "--devices", dir.path])
        #expect(plain.status == 0 && plain.stdout == "no video devices in \(dir.path); is the camera plugged in and its driver loaded?\n")
        _ = try dir.write("video0", [])
        let json = try Binaries.run("facectl", ["cameras", "--devices", dir.path, "--json"])
        let rows = try #require(try json.json() as? [[String: Any]])
        #expect(rows.count == 1 && rows.first?["usable"] as? Bool == false && rows.first?["path"] as? String == dir.file("video0"))
    }
}
