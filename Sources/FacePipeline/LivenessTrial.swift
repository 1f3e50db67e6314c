import FaceAccess
import FaceCapture
import FaceStore
import FaceVision
import Foundation

/// One followed face's liveness steps, as the pipeline measured them.
public struct TrackSteps: Codable, Sendable {
    public var track: Int64
    /// The frames of its first and last measured steps.
    public var firstFrame: Int
    public var lastFrame: Int
    public var frames: [Int] = []
    public var residuals: [Double] = []
    public var points: [Int] = []
    public var motions: [Double] = []
    public var rigid: [Double?] = []
    /// Per step, the other faces measured over the same two frames.
    public var companions: [[SurfaceMotion.Companion]] = []

    public var steps: [SurfaceMotion] {
        residuals.indices.map {
            SurfaceMotion(residual: residuals[$0], points: points[$0], motion: motions[$0], rigidSurround: rigid[$0],
                          companions: $0 < companions.count ? companions[$0] : [])
        }
    }

    /// The first step after which `rule`, judging the steps so far as the door does at every
    /// frame, finds the face live; nil when it never does.
    public func provenAt(_ rule: LivenessRule) -> Int? {
        let all = steps
        var moved = 0
        for i in all.indices {
            if all[i].motion >= rule.movedEnough { moved += 1 }
            if moved >= rule.fewestSteps, rule.judge(Array(all[...i])).live { return i }
        }
        return nil
    }

    /// The rule's finding over every step of the track.
    public func finding(_ rule: LivenessRule) -> LivenessFinding { rule.judge(steps) }
}

/// Runs replays through a fresh pipeline with nobody enrolled and gathers every track's
/// liveness steps: the measurements behind `facebench liveness` and its regression test.
public struct LivenessTrial: Sendable {
    public let engine: FaceEngine
    public let describer: FaceEngine?
    public let helper: FaceEngine?
    public let minFace: Int

    public init(engine: FaceEngine, describer: FaceEngine? = nil, helper: FaceEngine? = nil, minFace: Int) {
        self.engine = engine
        self.describer = describer
        self.helper = helper
        self.minFace = minFace
    }

    /// Every track's steps in an MJPEG replay read in media time at `fps`.
    public func measure(mjpeg path: String, fps: Double) async throws -> [TrackSteps] {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("faced-liveness-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let store = try FaceStore(path: work + "/gallery.db")
        defer { _ = store.close() }
        let pipeline = try Pipeline(engine: engine, describer: describer, helper: helper, store: store, settings: PipelineSettings(minFace: minFace))
        let measured = MeasuredSteps()
        pipeline.surfaceMeasured = { track, frame, motion in measured.add(track, frame, motion) }
        var runner = Runner(pipeline: pipeline, source: try MJPEGFileSource(path: path, fps: fps, clock: .media), latestWins: false) { _ in }
        runner.mediaTime = true
        try await runner.run()
        return measured.tracks
    }

    /// Every track's steps while `scene` is shown to the camera.
    public func measure(_ scene: AttackScene) async throws -> [TrackSteps] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("faced-attack-\(UUID().uuidString).mjpeg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = [UInt8]()
        for f in 0 ..< scene.frameCount { bytes += try scene.jpeg(frame: f) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try await measure(mjpeg: path, fps: scene.fps)
    }
}

/// The attack visits of a trial: each a person's photo, shown as one kind in turn, at a face
/// width and a light drawn from `seed`.
public struct AttackPlan {
    public struct Visit: Sendable {
        public var kind: AttackKind
        public var person: String
        public var photo: VisitorPhotos.Photo
        public var faceWidth: Double
        public var light: Double
        public var seed: UInt64

        /// `exposure`: the shutter's time (seconds); nil for half a frame's.
        public func scene(fps: Double = 25, exposure: Double? = nil) throws -> AttackScene {
            try AttackScene(photo: photo, kind: kind, seed: seed, faceWidth: faceWidth, light: light, fps: fps, exposure: exposure)
        }
    }

    public static let faceWidths: [Double] = [80, 110, 150, 200]
    public static let lights = [0.6, 0.8, 1.0, 1.2]

    /// The kinds the limits are on (printed, bowed, on a screen, held still); a cut-out
    /// is measured apart.
    public static let heldPictures: [AttackKind] = [.print, .bentPrint, .screen, .still]

    /// `count` visits over `people` (name and photo paths), `kinds` in turn; people whose photos
    /// hold no usable face are passed over. Photos are read only when drawn.
    public static func visits(_ count: Int, kinds: [AttackKind] = heldPictures, people: [(name: String, photos: [String])], seed: UInt64,
                              engine: FaceEngine) throws -> [Visit] {
        guard !people.isEmpty, !kinds.isEmpty else { return [] }
        var rng = SeededRandom(seed: seed)
        var loaded = [String: VisitorPhotos]()
        var visits = [Visit]()
        for i in 0 ..< count {
            let kind = kinds[i % kinds.count]
            var visitor: VisitorPhotos?
            for _ in 0 ..< 50 where visitor == nil {
                let person = people[Int.random(in: 0 ..< people.count, using: &rng)]
                if loaded[person.name] == nil {
                    loaded[person.name] = VisitorPhotos.load(person: person.name, paths: person.photos, engine: engine).visitor
                }
                if let v = loaded[person.name], !v.photos.isEmpty { visitor = v }
            }
            guard let visitor else { throw TrialError.noUsablePhoto }
            let photo = visitor.photos[Int.random(in: 0 ..< visitor.photos.count, using: &rng)]
            let faceWidth = faceWidths[Int.random(in: 0 ..< faceWidths.count, using: &rng)]
            let light = lights[Int.random(in: 0 ..< lights.count, using: &rng)]
            visits.append(Visit(kind: kind, person: visitor.person, photo: photo, faceWidth: faceWidth, light: light, seed: rng.next()))
        }
        return visits
    }

    public enum TrialError: Error, CustomStringConvertible {
        case noUsablePhoto
        public var description: String { "no usable face photo among the people given" }
    }
}

final class MeasuredSteps: @unchecked Sendable {
    private var byTrack = [Int64: TrackSteps]()

    func add(_ track: Int64, _ frame: Int, _ motion: SurfaceMotion) {
        var steps = byTrack[track] ?? TrackSteps(track: track, firstFrame: frame, lastFrame: frame)
        steps.lastFrame = frame
        steps.frames.append(frame)
        steps.residuals.append(motion.residual)
        steps.points.append(motion.points)
        steps.motions.append(motion.motion)
        steps.rigid.append(motion.rigidSurround)
        steps.companions.append(motion.companions)
        byTrack[track] = steps
    }

    var tracks: [TrackSteps] { byTrack.values.sorted { $0.track < $1.track } }
}
