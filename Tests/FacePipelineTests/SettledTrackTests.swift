import FaceAccess
import FaceCapture
@testable import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Locking
import Foundation
import Testing

/// Faces embedded only where a track still needs evidence, and the look and settle stages on two
/// threads: with the real models, photos and a gallery file.
@Suite struct SettledTrackTests {
    let dir: TempDirectory
    let db: String
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let fps = 30.0

    init() throws {
        dir = try TempDirectory()
        db = dir.file("faced.db")
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
    }

    func pipeline(describer: FaceEngine? = nil, db: String? = nil) throws -> Pipeline {
        try Pipeline(engine: Fixtures.engine, describer: describer, store: FaceStore(path: db ?? self.db, create: false),
                     settings: PipelineSettings(camera: "door", policy: Policy(cooldown: 0)))
    }

    /// obama stays 2 s after his grant, then biden takes his place by a cut (the same spot in the
    /// frame), and stays 4 s.
    func replay() throws -> [ReplayBuilder.Segment] {
        [.empty(frames: 15), .photo(try Fixtures.image("obama3.jpg"), frames: 60), .photo(try Fixtures.image("biden.jpg"), frames: 120),
         .empty(frames: 30)]
    }

    static func jpegs(_ stream: [UInt8]) -> [[UInt8]] {
        var splitter = MJPEGSplitter()
        return splitter.push(stream)
    }

    static func said(_ events: [AuditEvent]) -> [String] {
        events.filter { $0.kind == .decision }.map { "\($0.decision?.rawValue ?? "?") \($0.personName ?? "-")" }
    }

    @Test func aGrantedVisitorIsEmbeddedTwiceASecondAndWhoeverStepsIntoTheirPlaceIsDecidedOnTheirOwn() throws {
        let pipeline = try pipeline()
        let (bytes, count) = try ReplayBuilder(width: 1280, height: 720).build(replay())
        var events = [AuditEvent]()
        var index = 0
        for jpeg in Self.jpegs(bytes) {
            events += pipeline.process(Frame(index: index, time: start.addingTimeInterval(Double(index) / Self.fps), payload: .jpeg(jpeg)))
            index += 1
        }
        #expect(index == count)
        events += pipeline.finishTracks(at: start.addingTimeInterval(Double(index) / Self.fps))
        #expect(Self.said(events) == ["granted obama", "unknown -"], "\(events)")
        let (described, skipped) = pipeline.facesDescribed
        #expect(described + skipped == 180, "every face frame found")
        // obama: granted within a few frames, then one frame in 15 of the other ~55 (45-70
        // skipped); biden is embedded from his first frame past obama's refresh on, and once
        // five of his frames in a row are clearly far from everyone, at most one in five of his
        // ~110 frames (30-90 skipped, as his frames near the level are embedded).
        #expect(skipped >= 75 && skipped <= 160, "\(skipped) faces not described, \(described) described")
        let grant = try #require(events.first { $0.decision == .granted })
        let unknown = try #require(events.first { $0.decision == .unknown })
        #expect(grant.trackID != unknown.trackID)
        // biden's track began at most half a second after the cut (frame 75).
        let cut = start.addingTimeInterval(75 / Self.fps)
        let bidenFirstSeen = try #require(unknown.date).addingTimeInterval(-(unknown.latencyMs ?? 0) / 1000)
        #expect(bidenFirstSeen.timeIntervalSince(cut) <= DoorDecider.settledRefresh + 0.05, "biden's track from \(bidenFirstSeen), cut at \(cut)")
    }

    /// The look stage plans with the tracker as of two frames back whether the stages run on one
    /// thread or two: the runner's two threads give the same decisions as frame-by-frame processing.
    @Test func twoThreadsDecideAsOneDoes() async throws {
        let (bytes, _) = try ReplayBuilder(width: 1280, height: 720).build(replay() + replay())
        let path = dir.file("replay.mjpeg")
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        // Each on a gallery of its own: the other's grants are not in its log.
        let copy = dir.file("copy.db")
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        let one = try pipeline()
        var alone = [AuditEvent]()
        var index = 0
        for jpeg in Self.jpegs(bytes) {
            alone += one.process(Frame(index: index, time: start.addingTimeInterval(Double(index) / Self.fps), payload: .jpeg(jpeg)))
            index += 1
        }
        alone += one.finishTracks(at: start.addingTimeInterval(Double(index) / Self.fps))

        let two = try pipeline(describer: FaceEngine(models: FaceModels(directory: Fixtures.modelsDirectory)), db: copy)
        let collected = Locked([AuditEvent]())
        var runner = Runner(pipeline: two, source: try MJPEGFileSource(path: path, fps: Self.fps, clock: .media), latestWins: false) { event in
            collected.withLock { $0.append(event) }
        }
        runner.mediaTime = true
        try await runner.run()
        let threaded = collected.withLock { $0 }
        #expect(two.framesProcessed == index)
        func key(_ e: AuditEvent) -> String { "\(e.decision?.rawValue ?? "?") \(e.personName ?? "-") track \(e.trackID ?? 0) frames \(e.framesUsed ?? 0)" }
        #expect(threaded.filter { $0.kind == .decision }.map(key) == alone.filter { $0.kind == .decision }.map(key))
        #expect(two.facesDescribed == one.facesDescribed && two.framesSearched == one.framesSearched)
    }

    @Test func onlyALoneFaceOfTheSameSizeOnASettledSpotGoesUndescribed() {
        let spot = PixelRect(x: 600, y: 100, width: 100, height: 100)
        let near = PixelRect(x: 720, y: 100, width: 100, height: 100)
        #expect(Pipeline.settled([spot], among: [spot], settled: [spot]) == [0])
        #expect(Pipeline.settled([spot.insetBy(-2, -2)], among: [spot], settled: [spot]) == [0], "a few pixels larger")
        #expect(Pipeline.settled([spot.insetBy(-10, -10)], among: [spot], settled: [spot]).isEmpty, "a face a fifth larger")
        #expect(Pipeline.settled([spot], among: [spot], settled: []).isEmpty)
        #expect(Pipeline.settled([spot, PixelRect(x: 640, y: 120, width: 90, height: 90)], among: [spot], settled: [spot]).isEmpty,
                "another face on the spot")
        #expect(Pipeline.settled([spot], among: [spot, PixelRect(x: 660, y: 100, width: 100, height: 100)], settled: [spot]).isEmpty, "another followed face close by")
        #expect(Pipeline.settled([spot, near], among: [spot, near], settled: [spot]) == [0], "a neighbour apart")
    }
}
