import FaceAccess
import FaceCapture
import FaceStore
import FaceVision
import Foundation
import Logging
import Locking

/// Everything the pipeline needs to know besides its engine and gallery.
public struct PipelineSettings: Sendable {
    public var camera: String
    public var minFace: Int
    public var detector: FaceDetector
    public var policy: Policy
    /// Where face snapshots go; nil keeps none.
    public var snapshotDirectory: String?
    /// Keep snapshots of granted visitors too (unknown and denied ones are always kept).
    public var snapshotGranted: Bool
    /// Snapshots older than this many days are deleted.
    public var snapshotRetentionDays: Int
    public var doorAction: DoorAction?
    /// Dark frames for this long in a row are logged as a camera event.
    public var darkReportAfter: TimeInterval = 10

    public init(camera: String = "door", minFace: Int = 80, detector: FaceDetector = .hog, policy: Policy = Policy(),
                snapshotDirectory: String? = nil, snapshotGranted: Bool = false, snapshotRetentionDays: Int = 30,
                doorAction: DoorAction? = nil) {
        self.snapshotRetentionDays = snapshotRetentionDays
        self.camera = camera
        self.minFace = minFace
        self.detector = detector
        self.policy = policy
        self.snapshotDirectory = snapshotDirectory
        self.snapshotGranted = snapshotGranted
        self.doorAction = doorAction
    }
}

/// Frames in, decisions out, in three stages with narrow seams:
/// - `FrameAnalyzer` looks: decode, dark check, detect, describe;
/// - `DoorDecider` (pure) follows each face and weighs its evidence: a grant as soon as it is
///   earned, a refusal once the track's patience runs out;
/// - `DecisionRecorder` chains each decision in the audit log, keeps snapshots, opens the door.
/// The pipeline joins them, watches camera health (`CameraWatch`) and takes up gallery changes.
/// A frame that cannot be decoded or described is skipped and counted; a gallery that cannot
/// be written spools its decisions (`EventRecorder`). Use from one thread at a time.
public final class Pipeline {
    public let engine: FaceEngine
    public let gallery: GalleryHandle
    public var recorder: EventRecorder { recording.recorder }
    public private(set) var settings: PipelineSettings
    private let logger: Logger
    private let analyzer: FrameAnalyzer
    private var decider: DoorDecider
    private let recording: DecisionRecorder
    private var watch: CameraWatch
    private var snapshot: GallerySnapshot
    private var people = [Int64: GallerySnapshot.Entry]()
    private var lastGenerationCheck = ContinuousClock.now
    private var galleryEpoch = 0
    /// The latest crop of each undecided track's face, for the snapshot if it is decided as it leaves.
    private var lastCrop = [Int64: RGBImage]()
    private var badFrameLog = RateLimit(every: .seconds(60))

    /// Frames processed, frames with at least one face, and faces seen in them.
    public private(set) var framesProcessed = 0
    public var framesWithFaces: Int { analyzer.framesWithFaces }
    public var facesSeen: Int { analyzer.facesSeen }
    /// Frames the detector ran on, and how many of those it scanned whole (the rest it searched
    /// only around followed faces and where something moved; frames where nothing moved it skipped).
    public var framesSearched: Int { analyzer.framesSearched }
    public var fullScans: Int { analyzer.fullScans }
    /// Frames skipped as dark (IR emitter off, lens covered), and how many in a row up to now.
    public var darkFrames: Int { watch.darkFrames }
    public var darkRun: Int { watch.darkRun }
    /// Time spent per stage over all frames: decode, gray, detect, convert (to RGB, for frames
    /// with a face to describe), describe (landmarks and embeddings), decide (match, policy, log).
    public var stageTime: [String: Duration] {
        var times = analyzer.stageTime
        times["decide"] = decideTime.withLock { $0 }
        return times
    }
    private let decideTime = Locked(Duration.zero)
    /// Faces described, and faces found on a settled track's spot that needed no embedding.
    public var facesDescribed: (described: Int, notDescribed: Int) {
        let stats = analyzer.stats
        return (stats.facesDescribed, stats.facesNotDescribed)
    }
    /// Detector runs per reason (full, track, motion): how many, the picture pixels they searched, and their time.
    public var detectorRuns: [String: (runs: Int, pixels: Int, time: Duration)] {
        Dictionary(uniqueKeysWithValues: analyzer.stats.jobs.map { ($0.key.rawValue, $0.value) })
    }
    /// The tracker as `settle` left it after each frame, for `look` to plan with.
    private let trackers = TrackerHandoff()
    private var lookedFrames = 0
    /// Told of each door action's result once it is logged (on another thread).
    public var reportAction: @Sendable (AuditEvent) -> Void {
        get { recording.reportAction }
        set { recording.reportAction = newValue }
    }
    /// Frames that could not be decoded or described, and the last such failure.
    public var badFrames: Int { watch.badFrames }
    public private(set) var lastBadFrame: String?
    /// Told of each frame looked at (neither dark nor failed): its index and the faces found in it,
    /// in camera pixels; on the pipeline's thread. For benchmarks that score detection (facebench recall).
    public var facesFound: ((_ frame: Int, _ boxes: [PixelRect]) -> Void)?
    /// Told of how each followed face's surface moved since a frame about `SurfaceWatch.step`
    /// before (the liveness measurement): its track, the frame's index, the measurement; on the
    /// pipeline's thread. For benchmarks.
    public var surfaceMeasured: ((_ track: Int64, _ frame: Int, _ motion: SurfaceMotion) -> Void)?
    private var surfaces = SurfaceWatch()
    /// The largest frame a replay may claim, in pixels; a camera's frames must have its negotiated size.
    public var maxFramePixels: Int {
        get { analyzer.maxFramePixels }
        set { analyzer.maxFramePixels = newValue }
    }

    /// A pipeline over `store`, spooling beside it when it cannot be written.
    public convenience init(engine: FaceEngine, describer: FaceEngine? = nil, helper: FaceEngine? = nil, store: FaceStore,
                            settings: PipelineSettings,
                            logger: Logger = Logger(label: "faced", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        let gallery = GalleryHandle(store: store, logger: logger)
        try self.init(engine: engine, describer: describer, helper: helper, recorder: EventRecorder(gallery: gallery, logger: logger),
                      settings: settings, logger: logger)
    }

    /// `describer`: a second engine for the describe stage, so that it runs beside detection
    /// when the stages have a thread each (`Runner`); without one they share `engine`. `helper`: a
    /// third engine, on a thread of its own, that runs part of each frame's detection (HOG).
    public init(engine: FaceEngine, describer: FaceEngine? = nil, helper: FaceEngine? = nil, recorder: EventRecorder, settings: PipelineSettings,
                logger: Logger = Logger(label: "faced", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        self.engine = engine
        gallery = recorder.gallery
        self.settings = settings
        self.logger = logger
        analyzer = FrameAnalyzer(engine: engine, describer: describer, helper: helper, minFace: settings.minFace, detector: settings.detector)
        watch = CameraWatch(reportAfter: settings.darkReportAfter)
        guard let (store, epoch) = gallery.current() else {
            throw StoreError.cannotOpen(path: gallery.path, reason: gallery.problem ?? "no gallery")
        }
        galleryEpoch = epoch
        snapshot = try store.snapshot()
        people = Dictionary(uniqueKeysWithValues: snapshot.people.map { ($0.personID, $0) })
        // Cooldown survives a restart: start from the last grants in the log.
        var lastGrant = [Int64: Date]()
        let since = Date().addingTimeInterval(-settings.policy.cooldown)
        for event in try store.events(EventFilter(since: since, decision: .granted, camera: settings.camera)) {
            if let id = event.personID, let time = event.date { lastGrant[id] = max(time, lastGrant[id] ?? time) }
        }
        decider = DoorDecider(policy: settings.policy, snapshot: snapshot, lastGrant: lastGrant)
        recording = DecisionRecorder(recorder: recorder, settings: settings, logger: logger)
    }

    /// New settings from a config reload, between two frames. Undecided tracks start their
    /// evidence afresh, so that no decision mixes frames weighed under two policies.
    public func apply(_ new: PipelineSettings) throws {
        try analyzer.configure(minFace: new.minFace, detector: new.detector)
        settings = new
        decider.apply(new.policy)
        watch.reportAfter = new.darkReportAfter
        recording.settings = new
        lastCrop.removeAll()
    }

    /// The gallery in use: people with templates, templates, and its generation.
    public var galleryInUse: (people: Int, templates: Int, generation: Int64) {
        (snapshot.people.count, snapshot.count, snapshot.generation)
    }

    /// Processes one frame and returns the events it caused. A frame that cannot be decoded or
    /// described is skipped and counted; tracks age as if it had shown nothing.
    @discardableResult
    public func process(_ frame: Frame) -> [AuditEvent] {
        settle(look(frame))
    }

    /// The look stage: thumbnail, motion gate, detection where the planner says. Frames go through
    /// `look` and then `settle` in the order they came; the two may run on two threads (one
    /// thread each), `look` a frame or two ahead.
    func look(_ frame: Frame) -> LookedFrame {
        look(glance(frame))
    }

    /// The cheap look alone (thumbnail, motion gate): it may run on a thread of its own, on every
    /// frame, ahead of `look`, which then takes the newest glance, merged with those it had no time for.
    func glance(_ frame: Frame) -> Glance { analyzer.glance(frame) }

    func look(_ glance: Glance) -> LookedFrame {
        // Where followed faces should be, as of two frames back: what `settle` has surely done by
        // now when the stages overlap, so one thread or two plan alike.
        let sequence = lookedFrames
        lookedFrames += 1
        let tracker = trackers.tracker(after: sequence - 2)
        return analyzer.look(glance, sequence: sequence, tracks: tracker?.searchAreas(at: glance.frame.time) ?? [])
    }

    /// The settle stage: describe the faces found, decide, record.
    func settle(_ looked: LookedFrame) -> [AuditEvent] {
        defer { trackers.publish(decider.tracker, after: looked.sequence) }
        recording.tick()
        reloadGalleryIfChanged()
        let frame = looked.frame
        var seen: (faces: [SeenFace], image: RGBImage?, gray: GrayImage?, scale: Double)?
        switch looked.outcome {
        case let .failed(error):
            return badFrame(frame, error)
        case .dark:
            break
        case let .looked(detections, picture, scale):
            guard var picture, !detections.isEmpty else {
                seen = ([], nil, nil, scale)
                break
            }
            do {
                let skip = Self.settled(detections.map { $0.box.scaled(by: scale) }, among: decider.tracker.claimedAreas(at: frame.time),
                                        settled: decider.settledAreas(at: frame.time) + decider.strangerAreas(at: frame.time))
                let (faces, image) = try analyzer.describe(detections, in: &picture, skipping: skip)
                seen = (faces, image, picture.gray, scale)
            } catch {
                return badFrame(frame, error)
            }
        }
        framesProcessed += 1
        var events = [AuditEvent]()
        if let change = watch.decoded(at: frame.time) { events.append(recording.camera(change, at: frame.time)) }
        if let seen {
            if let change = watch.light(at: frame.time) { events.append(recording.camera(change, at: frame.time)) }
            facesFound?(frame.index, seen.faces.map { $0.detection.box.scaled(by: seen.scale) })
            events += decide(seen.faces, image: seen.image, gray: seen.gray, scale: seen.scale, at: frame.time, frame: frame.index)
        } else {
            events += decide([], image: nil, at: frame.time)
            if let change = watch.dark(at: frame.time) { events.append(recording.camera(change, at: frame.time)) }
        }
        return events
    }

    /// The detections (camera pixels) that need no embedding: each the only face on a settled
    /// track's spot, of the size its face was, with no other followed face near it (two faces
    /// close together are described, so that the tracker can tell them apart; a face of another
    /// size is described, as it may be someone else).
    static func settled(_ boxes: [PixelRect], among areas: [PixelRect], settled: [PixelRect]) -> Set<Int> {
        guard !settled.isEmpty else { return [] }
        var skip = Set<Int>()
        for (i, box) in boxes.enumerated() {
            let onSettled = settled.filter {
                let ratio = Double(box.width) / Double(max(1, $0.width))
                return FaceTracker.iou($0, box) >= 0.5 && ratio >= 0.9 && ratio <= 1.1
            }
            guard onSettled.count == 1 else { continue }
            let alone = boxes.indices.allSatisfy { $0 == i || FaceTracker.iou(boxes[$0], onSettled[0]) < 0.1 }
            let othersNear = areas.filter { FaceTracker.iou($0, box) >= 0.1 }.count
            if alone && othersNear == 1 { skip.insert(i) }
        }
        return skip
    }

    /// The settle stage will take no more frames: a look stage waiting for it goes on alone.
    func stagesEnded() { trackers.close() }

    /// A frame that failed: counted, logged at most once a minute, and a camera event once every
    /// frame has failed for `darkReportAfter` seconds (a camera sending only garbage is as good as lost).
    private func badFrame(_ frame: Frame, _ error: Error) -> [AuditEvent] {
        let reason = "frame \(frame.index) of \(settings.camera): \(error)"
        lastBadFrame = reason
        if badFrameLog.allow() {
            let more = badFrameLog.suppressed > 0 ? " (\(badFrameLog.suppressed) more since the last report)" : ""
            logger.warning("skipped \(reason)\(more)")
        }
        var events = decide([], image: nil, at: frame.time)
        if let change = watch.failed(error, at: frame.time) { events.append(recording.camera(change, at: frame.time)) }
        return events
    }

    /// The faces of one frame through the decider, and its outcomes through the recorder.
    private func decide(_ faces: [SeenFace], image: RGBImage?, gray: GrayImage? = nil, scale: Double = 1, at time: Date,
                        frame: Int = 0) -> [AuditEvent] {
        let start = ContinuousClock.now
        defer { decideTime.withLock { $0 += ContinuousClock.now - start } }
        // In camera pixels: the picture's scale changes with where the detector looked.
        let live = faces.map { seen in
            let box = seen.detection.box
            var face = LiveFace(box: box.scaled(by: scale), embedding: nil, width: Int((Double(box.width) * scale).rounded()))
            if case let .described(described) = seen {
                face.embedding = described.embedding.values
                face.sharpness = described.quality.sharpness
                face.yaw = described.pose.yaw
            }
            return face
        }
        // The liveness evidence: how each open track's face moved since its earlier frames.
        var measure: (([(track: Int64, face: Int)], [Int64]) -> [Int64: SurfaceMotion])?
        if let gray, decider.needsLiveness || surfaceMeasured != nil {
            let rule = decider.policy.livenessRule
            measure = { [self] wanted, trackIDs in
                // Every face in view is kept, so that a face of a picture can be compared with
                // the picture's other faces whether or not those may still be let in.
                let patches = zip(trackIDs, faces).map { id, face in
                    let box = face.detection.box
                    // Landmarks for every face: a track kept only for comparison may be wanted
                    // later, and its steps are then measured from these patches.
                    let landmarks: FaceLandmarks? = if case let .described(described) = face { described.landmarks }
                        else { try? analyzer.describer.landmarks(of: box, in: gray) }
                    return (id: id, patch: FacePatch(gray: gray, box: box, landmarks: landmarks, cameraPixels: scale))
                }
                let motions = surfaces.observe(patches, wanted: Set(wanted.map(\.track)), at: time, rule: rule)
                for (id, _) in wanted { if let motion = motions[id] { surfaceMeasured?(id, frame, motion) } }
                return motions
            }
        }
        let step = decider.step(live, at: time, surfaces: measure, measureEveryTrack: surfaceMeasured != nil)
        var crops = [Int64: RGBImage]()
        if settings.snapshotDirectory != nil, let image {
            for (id, face) in zip(step.trackIDs, faces) { crops[id] = Self.faceCrop(image, face.detection.box) }
        }
        var events = [AuditEvent]()
        for outcome in step.outcomes {
            events.append(recording.record(outcome, people: people, crop: crops[outcome.trackID] ?? lastCrop[outcome.trackID]))
        }
        for id in step.ended {
            surfaces.ended(id)
            recording.trackEnded(id)
            lastCrop[id] = nil
        }
        for (id, crop) in crops { lastCrop[id] = crop }
        return events
    }

    /// End of stream: decides the tracks that gathered at least K frames, then waits for door
    /// actions and tries once more to write what is spooled.
    public func finish(at time: Date) async -> [AuditEvent] {
        let events = finishTracks(at: time)
        await waitForActions()
        recorder.flush()
        return events
    }

    /// Decides the tracks still open; for a caller on the pipeline's own thread.
    public func finishTracks(at time: Date) -> [AuditEvent] {
        let events = decider.finish(at: time).map { recording.record($0, people: people, crop: lastCrop[$0.trackID]) }
        lastCrop.removeAll()
        surfaces.removeAll()
        return events
    }

    public func waitForActions() async { await recording.waitForActions() }

    /// Door actions still running.
    public var runningActions: Int { recording.runningActions }

    /// The face with half its size as margin on every side, clipped to the frame; nil when
    /// the box lies outside it.
    private static func faceCrop(_ image: RGBImage, _ face: PixelRect) -> RGBImage? {
        let pad = face.width / 2
        let grown = PixelRect(x: face.x - pad, y: face.y - pad, width: face.width + 2 * pad, height: face.height + 2 * pad)
        guard let region = grown.intersection(image.bounds) else { return nil }
        return try? image.cropped(to: region)
    }

    /// A camera name as a file name part: only letters, digits, '.', '_' and '-', never a path.
    static func fileSafe(_ name: String) -> String {
        let kept = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
        let trimmed = kept.drop { $0 == "." }
        return trimmed.isEmpty ? "camera" : String(trimmed.prefix(64))
    }

    /// The gallery's generation, or another file at its path, means a new snapshot.
    /// Without a usable gallery the pipeline keeps deciding on the snapshot it has.
    private func reloadGalleryIfChanged() {
        // Another file at the path is seen at the next frame (a stat); a change inside the file
        // at most a second later (a read).
        guard let (store, epoch) = gallery.current() else { return }
        let due = ContinuousClock.now - lastGenerationCheck >= .seconds(1)
        guard epoch != galleryEpoch || due else { return }
        if due { lastGenerationCheck = .now }
        do {
            if try epoch != galleryEpoch || store.generation() != snapshot.generation {
                snapshot = try store.snapshot()
                people = Dictionary(uniqueKeysWithValues: snapshot.people.map { ($0.personID, $0) })
                galleryEpoch = epoch
                decider.use(snapshot)
            }
        } catch {
            logger.warning("gallery \(store.path) could not be read: \(error); deciding with the gallery in memory")
        }
    }
}

/// The tracker after each settled frame, from the settle stage to the look stage. The look stage
/// plans frame n with the tracker as of frame n - 2, waiting for it if need be: with the stages
/// on two threads, settle is then at most one frame behind, and one thread or two plan alike.
final class TrackerHandoff: @unchecked Sendable {
    private let condition = NSCondition()
    private var kept = [(sequence: Int, tracker: FaceTracker)]()
    private var closed = false

    func publish(_ tracker: FaceTracker, after sequence: Int) {
        condition.lock()
        kept.append((sequence, tracker))
        if kept.count > 3 { kept.removeFirst(kept.count - 3) }
        condition.broadcast()
        condition.unlock()
    }

    /// The tracker as settle left it after frame `wanted` (nil for none); waits until it is published.
    func tracker(after wanted: Int) -> FaceTracker? {
        guard wanted >= 0 else { return nil }
        condition.lock()
        defer { condition.unlock() }
        while !closed, (kept.last?.sequence ?? -1) < wanted { condition.wait() }
        return kept.last { $0.sequence <= wanted }?.tracker
    }

    /// The settle stage stopped: nothing waits any more.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Allows one report per interval and counts the ones it held back.
struct RateLimit {
    let every: Duration
    private var last: ContinuousClock.Instant?
    private(set) var suppressed = 0
    private var pending = 0

    init(every: Duration) { self.every = every }

    mutating func allow() -> Bool {
        let now = ContinuousClock.now
        if let last, now - last < every {
            pending += 1
            return false
        }
        last = now
        suppressed = pending
        pending = 0
        return true
    }
}

/// A frame in the forms the stages need: gray for detection on every frame, RGB only for frames
/// with a face to describe. Each is made once, on first use.
struct DecodedFrame {
    private var grayImage: GrayImage?
    private var rgbImage: RGBImage?
    private let yuyv: YUYVImage?

    /// `limit`: what the source's frames may claim (a camera's negotiated size, a replay's pixel
    /// budget), checked from the header before anything is decoded.
    init(_ payload: Frame.Payload, decoder: ImageDecoder, scale: JPEGScale, limit: SizeLimit) throws {
        var yuyv: YUYVImage?
        switch payload {
        case let .jpeg(bytes): rgbImage = try decoder.decode(bytes, scale: scale, limit: limit)
        case let .png(bytes): rgbImage = try decoder.decode(bytes, limit: limit)
        case let .rgb(rgb): rgbImage = rgb
        case let .gray(gray): grayImage = gray
        case let .yuyv(packed): yuyv = packed
        }
        self.yuyv = yuyv
    }

    var gray: GrayImage {
        mutating get {
            if let grayImage { return grayImage }
            let made = yuyv?.grayscale() ?? rgbImage!.grayscale()
            grayImage = made
            return made
        }
    }

    /// For a GREY camera this is the gray replicated: the embedder was trained on colour, so
    /// distances from IR frames run higher than from colour ones.
    var rgb: RGBImage {
        mutating get {
            if let rgbImage { return rgbImage }
            let made = yuyv?.rgb() ?? grayImage!.rgb()
            rgbImage = made
            return made
        }
    }
}
