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

/// Frames in, decisions out: decode, detect, describe, track, weigh the evidence,
/// grant a track once it earns it, log a refusal once its patience runs out, chain every
/// decision in the audit log, and start the door action.
/// A frame that cannot be decoded or described is skipped and counted; a gallery that cannot
/// be written spools its decisions (`EventRecorder`). Use from one thread at a time.
public final class Pipeline {
    public let engine: FaceEngine
    public let gallery: GalleryHandle
    public let recorder: EventRecorder
    public private(set) var settings: PipelineSettings
    private let logger: Logger
    private var tracker: FaceTracker
    private var evidence = [Int64: [Observation]]()
    /// Tracks let in: at most one grant per track, and no more evidence needed.
    private var granted = Set<Int64>()
    /// Tracks logged as refused (unknown, ambiguous, denied): the event's key, what it said, when.
    /// Such a track is still weighed: a grant may follow, as an event of its own.
    private var refusals = [Int64: Refusal]()
    private var lastGrant = [Int64: Date]()
    private var snapshot: GallerySnapshot
    private var matcher: Matcher
    private var rights = [Int64: AccessRights]()
    private var lastGenerationCheck = ContinuousClock.now
    private var galleryEpoch = 0
    private let actions = ActionTracker()
    /// The latest crop of each undecided track's face, for the snapshot if it is decided as it leaves.
    private var lastCrop = [Int64: RGBImage]()
    private var lastRetentionSweep: ContinuousClock.Instant?
    private let decoder = ImageDecoder(rejectsJPEGWarnings: false)
    /// When the smallest wanted face is larger than the detector's window, JPEG frames are decoded
    /// at a DCT scale that brings it down to the window: detection costs fall with the square.
    private var decodeScale: JPEGScale

    /// Frames processed, frames with at least one face, and faces seen in them.
    public private(set) var framesProcessed = 0
    public private(set) var framesWithFaces = 0
    public private(set) var facesSeen = 0
    /// Frames skipped as dark (IR emitter off, lens covered), and how many in a row up to now.
    public private(set) var darkFrames = 0
    public private(set) var darkRun = 0
    private var darkSince: Date?
    private var darkReported = false
    /// Time spent per stage over all frames: decode, gray, detect, convert (to RGB, for frames
    /// with a face to describe), describe (landmarks and embeddings), decide (match, policy, log).
    public private(set) var stageTime = [String: Duration]()
    /// Told of each door action's result once it is logged (on another thread).
    public var reportAction: @Sendable (AuditEvent) -> Void = { _ in }
    /// Frames that could not be decoded or described, and the last such failure.
    public private(set) var badFrames = 0
    public private(set) var lastBadFrame: String?
    private var badFrameLog = RateLimit(every: .seconds(60))
    private var failingSince: Date?
    private var failingReported = false
    /// The largest frame a replay may claim, in pixels; a camera's frames must have its negotiated size.
    public var maxFramePixels = 8192 * 8192

    /// The minimum face in the pixels of the decoded image (smaller when decoded at a reduced scale).
    private func minFace(for frame: Frame) -> Int {
        guard case .jpeg = frame.payload, decodeScale != .full else { return settings.minFace }
        return max(1, Int((Double(settings.minFace) * decodeScale.factor).rounded()))
    }

    private func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer { stageTime[stage, default: .zero] += ContinuousClock.now - start }
        return try body()
    }

    /// A pipeline over `store`, spooling beside it when it cannot be written.
    public convenience init(engine: FaceEngine, store: FaceStore, settings: PipelineSettings,
                            logger: Logger = Logger(label: "faced", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        let gallery = GalleryHandle(store: store, logger: logger)
        try self.init(engine: engine, recorder: EventRecorder(gallery: gallery, logger: logger), settings: settings, logger: logger)
    }

    public init(engine: FaceEngine, recorder: EventRecorder, settings: PipelineSettings,
                logger: Logger = Logger(label: "faced", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        self.engine = engine
        self.recorder = recorder
        gallery = recorder.gallery
        self.settings = settings
        self.logger = logger
        tracker = FaceTracker(rejoinWithin: settings.policy.rejoin)
        decodeScale = JPEGScale.atLeast(FaceEngine.detectionScale(minFace: settings.minFace, detector: settings.detector))
        guard let (store, epoch) = gallery.current() else {
            throw StoreError.cannotOpen(path: gallery.path, reason: gallery.problem ?? "no gallery")
        }
        galleryEpoch = epoch
        snapshot = try store.snapshot()
        matcher = Matcher(snapshot: snapshot)
        rights = Self.rights(of: snapshot)
        // Cooldown survives a restart: start from the last grants in the log.
        let since = Date().addingTimeInterval(-settings.policy.cooldown)
        for event in try store.events(EventFilter(since: since, decision: .granted, camera: settings.camera)) {
            if let id = event.personID, let time = event.date { lastGrant[id] = max(time, lastGrant[id] ?? time) }
        }
        sweepSnapshots()
    }

    /// New settings from a config reload, between two frames. Undecided tracks start their
    /// evidence afresh, so that no decision mixes frames weighed under two policies.
    public func apply(_ new: PipelineSettings) throws {
        if new.detector == .cnn && !engine.hasCNN { throw FaceEngineError.cnnNotLoaded }
        settings = new
        tracker.rejoinWithin = new.policy.rejoin
        decodeScale = JPEGScale.atLeast(FaceEngine.detectionScale(minFace: new.minFace, detector: new.detector))
        for id in evidence.keys where !granted.contains(id) {
            evidence[id] = nil
            lastCrop[id] = nil
        }
    }

    private static func rights(of snapshot: GallerySnapshot) -> [Int64: AccessRights] {
        Dictionary(uniqueKeysWithValues: snapshot.people.map { ($0.personID, AccessRights($0)) })
    }

    /// The gallery in use: people with templates, templates, and its generation.
    public var galleryInUse: (people: Int, templates: Int, generation: Int64) {
        (snapshot.people.count, snapshot.count, snapshot.generation)
    }

    /// Processes one frame and returns the events it caused. A frame that cannot be decoded or
    /// described is skipped and counted; tracks age as if it had shown nothing.
    @discardableResult
    public func process(_ frame: Frame) -> [AuditEvent] {
        recorder.tick()
        reloadGalleryIfChanged()
        if let last = lastRetentionSweep, ContinuousClock.now - last >= .seconds(3600) { sweepSnapshots() }
        do {
            var events = try processDecoded(frame)
            if failingSince != nil { events += frameRecovered(at: frame.time) }
            return events
        } catch {
            return badFrame(frame, error)
        }
    }

    /// A frame that failed: counted, logged at most once a minute, and a camera event once every
    /// frame has failed for `darkReportAfter` seconds (a camera sending only garbage is as good as lost).
    private func badFrame(_ frame: Frame, _ error: Error) -> [AuditEvent] {
        badFrames += 1
        let reason = "frame \(frame.index) of \(settings.camera): \(error)"
        lastBadFrame = reason
        if badFrameLog.allow() {
            let more = badFrameLog.suppressed > 0 ? " (\(badFrameLog.suppressed) more since the last report)" : ""
            logger.warning("skipped \(reason)\(more)")
        }
        var events = [AuditEvent]()
        for track in tracker.update(faces: [], at: frame.time).ended { events += close(track, at: frame.time) }
        let since = failingSince ?? frame.time
        failingSince = since
        if !failingReported, frame.time.timeIntervalSince(since) >= settings.darkReportAfter {
            failingReported = true
            events.append(cameraEvent(.lost, at: frame.time, detail: String(
                format: "every frame for %.0f s failed to decode (%d skipped in all); last: %@", frame.time.timeIntervalSince(since),
                badFrames, String(describing: error))))
        }
        return events
    }

    private func frameRecovered(at time: Date) -> [AuditEvent] {
        defer { failingSince = nil; failingReported = false }
        guard failingReported, let since = failingSince else { return [] }
        return [cameraEvent(.restored, at: time, detail: String(format: "frames decode again after %.0f s", time.timeIntervalSince(since)))]
    }

    private func processDecoded(_ frame: Frame) throws -> [AuditEvent] {
        var frameImage = try timed("decode") {
            try DecodedFrame(frame.payload, decoder: decoder, scale: decodeScale, limit: frame.sizeLimit ?? .pixels(maxFramePixels))
        }
        let gray = timed("gray") { frameImage.gray }
        framesProcessed += 1
        if gray.isDark() {
            // IR emitter off or lens covered: nothing to detect; tracks still age out.
            darkFrames += 1
            darkRun += 1
            var events = [AuditEvent]()
            for track in tracker.update(faces: [], at: frame.time).ended { events += close(track, at: frame.time) }
            let since = darkSince ?? frame.time
            darkSince = since
            if !darkReported, frame.time.timeIntervalSince(since) >= settings.darkReportAfter {
                darkReported = true
                events.append(cameraEvent(.dark, at: frame.time, detail: String(
                    format: "%d dark frames in a row over %.0f s: IR emitter off or lens covered?", darkRun, frame.time.timeIntervalSince(since))))
            }
            return events
        }
        var lightEvents = [AuditEvent]()
        if darkReported, let since = darkSince {
            lightEvents.append(cameraEvent(.light, at: frame.time, detail: String(
                format: "picture back after %.0f s and %d dark frames", frame.time.timeIntervalSince(since), darkRun)))
        }
        darkRun = 0
        darkSince = nil
        darkReported = false
        let minFace = minFace(for: frame)
        let detections = try timed("detect") {
            settings.detector == .hog
                ? try engine.detect(gray, minFace: minFace)
                : try engine.detect(frameImage.rgb, gray: gray, minFace: minFace, detector: settings.detector)
        }
        framesWithFaces += detections.isEmpty ? 0 : 1
        facesSeen += detections.count
        if detections.isEmpty {
            var events = lightEvents
            for track in tracker.update(faces: [], at: frame.time).ended { events += close(track, at: frame.time) }
            return events
        }
        // Every face is described: its embedding tells the tracker who it is (a swap at the same
        // spot, a person coming back) as well as being evidence.
        let image = timed("convert") { frameImage.rgb }
        let faces = try timed("describe") { try engine.describe(detections, in: image, gray: gray) }
        let (ids, ended) = tracker.update(faces: faces.map { TrackedFace(box: $0.detection.box, embedding: $0.embedding.values) }, at: frame.time)
        var events = lightEvents
        for track in ended { events += close(track, at: frame.time) }
        let decideStart = ContinuousClock.now
        defer { stageTime["decide", default: .zero] += ContinuousClock.now - decideStart }
        for (id, face) in zip(ids, faces) where !granted.contains(id) {
            evidence[id, default: []].append(observe(face.embedding.values))
            // Only the window counts; a refused track can stay in view for long.
            if evidence[id]!.count > 2 * settings.policy.evidence.window { evidence[id]!.removeFirst() }
            guard let track = tracker.tracks.first(where: { $0.id == id }) else { continue }
            if let event = weigh(track, crop: { self.faceCrop(image, face.detection.box) }, at: frame.time) {
                events.append(event)
            } else if settings.snapshotDirectory != nil {
                lastCrop[id] = faceCrop(image, face.detection.box)
            }
        }
        return events
    }

    /// A track's evidence after a new frame: a grant as soon as it is earned; a refusal, once,
    /// when the track's patience runs out without one.
    private func weigh(_ track: Track, crop: () -> RGBImage?, at time: Date) -> AuditEvent? {
        // Only "nobody we know" can turn into a grant; a denial for cooldown, schedule, validity
        // or a disabled person stands for the whole visit.
        if let refusal = refusals[track.id], ![.unknown, .ambiguous].contains(refusal.reason) { return nil }
        let frames = evidence[track.id] ?? []
        let summary = settings.policy.summarise(frames, levelOf: { self.rights[$0]?.level })
        if let decision = decide(summary, at: time), case .granted = decision {
            return record(decision, summary: summary, track: track, crop: crop(), at: time)
        }
        guard refusals[track.id] == nil, time.timeIntervalSince(track.firstSeen) >= settings.policy.patience,
              let (decision, final) = finalDecision(frames, at: time) else { return nil }
        return record(decision, summary: final, track: track, crop: crop(), at: time)
    }

    /// What a track's frames come to when no more are waited for: undecided evidence is unknown,
    /// or ambiguous when most frames were. Nil when there are too few frames to say anything.
    private func finalDecision(_ frames: [Observation], at time: Date) -> (Decision, EvidenceSummary)? {
        guard frames.count >= settings.policy.evidence.required else { return nil }
        var summary = settings.policy.summarise(frames, levelOf: { self.rights[$0]?.level })
        if summary.finding == .undecided {
            let ambiguous = frames.filter { $0.verdict == .ambiguous }.count
            summary.finding = ambiguous * 2 > frames.count ? .ambiguous : .unknown
        }
        return decide(summary, at: time).map { ($0, summary) }
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
        var events = [AuditEvent]()
        for track in tracker.finish() { events += close(track, at: time) }
        return events
    }

    public func waitForActions() async { await actions.waitForAll() }

    /// Door actions still running.
    public var runningActions: Int { actions.running }

    private func observe(_ embedding: [Float]) -> Observation {
        let result = matcher.match(embedding)
        return Observation(result: result, verdict: settings.policy.level.verdict(for: result), embedding: embedding)
    }

    private func decide(_ summary: EvidenceSummary, at time: Date) -> Decision? {
        settings.policy.decide(summary, rights: { self.rights[$0] }, lastGrant: { self.lastGrant[$0] }, at: time)
    }

    /// A track ended (out of sight for longer than the rejoin time, or the stream ended). One
    /// neither granted nor refused yet gets its decision now if it has enough frames; shorter
    /// ones (a passer-by, a false detection) leave no event.
    private func close(_ track: Track, at time: Date) -> [AuditEvent] {
        defer { evidence[track.id] = nil; granted.remove(track.id); lastCrop[track.id] = nil; refusals[track.id] = nil }
        guard !granted.contains(track.id), refusals[track.id] == nil,
              var (decision, summary) = finalDecision(evidence[track.id] ?? [], at: time) else { return [] }
        // Whoever the frames match, nobody is at the door any more: no grant without a face in
        // view (frames re-matched after a gallery change can say "recognised" here).
        if case .granted = decision { decision = .denied(personID: nil, reason: .unknown) }
        return [record(decision, summary: summary, track: track, crop: lastCrop[track.id], at: time)]
    }

    private func record(_ decision: Decision, summary: EvidenceSummary, track: Track, crop: RGBImage?,
                        at time: Date) -> AuditEvent {
        let earlier = decision.reason == nil ? refusals[track.id] : nil
        if decision.reason == nil { granted.insert(track.id) }
        let frames = evidence[track.id] ?? []
        let last = frames.last?.result
        var event = AuditEvent(kind: .decision, time: time, camera: settings.camera)
        event.trackID = track.id
        switch decision {
        case .granted: event.decision = .granted
        case let .denied(_, reason): event.decision = reason == .unknown ? .unknown : .denied; event.reason = .denial(reason)
        }
        let personID: Int64? = switch decision {
        case let .granted(id): id
        case let .denied(id, _): id
        }
        if let personID, let entry = snapshot.people.first(where: { $0.personID == personID }) {
            event.personID = personID
            event.personName = entry.name
        }
        let best = summary.medianDistance ?? last?.best?.distance
        event.bestDistance = best.map(Double.init)
        if let runner = last?.runnerUp {
            event.runnerUpName = runner.name
            event.runnerUpDistance = Double(runner.distance)
        }
        event.margin = summary.medianMargin.flatMap { $0.isFinite ? Double($0) : nil }
        event.framesUsed = summary.framesUsed
        event.evidence = "[" + summary.distances.map { String(format: "%.4f", $0) }.joined(separator: ",") + "]"
        if event.personID == nil, let closest = last?.best {
            event.closestName = closest.name
        } else if let personID, let entry = snapshot.people.first(where: { $0.personID == personID }) {
            let windows = entry.schedules.isEmpty ? "none (any time)" : entry.schedules.joined(separator: "; ")
            event.detail = "schedules in force: \(windows); time zone \(settings.policy.timeZone.identifier)"
        }
        event.latencyMs = (time.timeIntervalSince(track.firstSeen) * 1000).rounded()
        if let crop, settings.snapshotDirectory != nil, decision.reason != nil || settings.snapshotGranted {
            do {
                event.snapshotPath = try saveSnapshot(crop, track: track.id, at: time)
            } catch {
                logger.warning("snapshot for track \(track.id) not saved: \(error)")
                event.detail = (event.detail.map { $0 + "; " } ?? "") + "snapshot not saved: \(error)"
            }
        }
        // Said in words too: a refusal in a gallery file since replaced has no id in this chain.
        if let earlier {
            event.detail = "after this track was logged \(earlier.decision.rawValue) at " + earlier.time.formatted(.iso8601)
                + (event.detail.map { "; " + $0 } ?? "")
        }
        let recorded = recorder.record(event, refersTo: earlier?.key)
        if let reason = decision.reason, let logged = event.decision {
            refusals[track.id] = Refusal(key: recorded.key, reason: reason, decision: logged, time: time)
        }
        if case let .granted(id) = decision {
            lastGrant[id] = time
            // The door opens whether or not the gallery took the event: it may be spooled.
            if let action = settings.doorAction { startAction(action, for: recorded) }
        }
        return recorded.event
    }

    private func cameraEvent(_ what: CameraChange, at time: Date, detail: String) -> AuditEvent {
        recorder.record(CameraHealthLog.event(what, camera: settings.camera, at: time, detail: detail)).event
    }

    private func startAction(_ action: DoorAction, for grant: RecordedEvent) {
        let recorder = recorder, camera = settings.camera, reportAction = reportAction
        let event = grant.event
        let env = [
            "FACED_EVENT_ID": event.id.map(String.init) ?? "", "FACED_PERSON": event.personName ?? "",
            "FACED_DISTANCE": event.bestDistance.map { String(format: "%.4f", $0) } ?? "", "FACED_CAMERA": camera,
        ]
        actions.start {
            let outcome = action.runBlocking(environment: env)
            var row = AuditEvent(kind: .action, time: Date(), camera: camera)
            row.refEventID = event.id
            row.personName = event.personName
            row.reason = .action(outcome.result)
            row.detail = outcome.detail
            reportAction(recorder.record(row, refersTo: event.id == nil ? grant.key : nil).event)
        }
    }

    /// The face with half its size as margin on every side, clipped to the frame; nil when
    /// the box lies outside it.
    private func faceCrop(_ image: RGBImage, _ face: PixelRect) -> RGBImage? {
        let pad = face.width / 2
        let grown = PixelRect(x: face.x - pad, y: face.y - pad, width: face.width + 2 * pad, height: face.height + 2 * pad)
        guard let region = grown.intersection(image.bounds) else { return nil }
        return try? image.cropped(to: region)
    }

    /// A face crop as JPEG under DIR/YYYY-MM-DD/, 0600 in a 0700 folder.
    private func saveSnapshot(_ crop: RGBImage, track: Int64, at time: Date) throws -> String {
        let jpeg = try JPEGEncoder(quality: 85).encode(crop)
        let day = String(AuditEvent(kind: .decision, time: time, camera: "").time.prefix(10))
        let root = settings.snapshotDirectory!
        for dir in [root, root + "/" + day] {
            if mkdir(dir, 0o700) == 0 { chmod(dir, 0o700) } else if errno != EEXIST {
                throw SnapshotError(path: dir, reason: String(cString: strerror(errno)))
            }
        }
        let stamp = Int64(time.timeIntervalSince1970 * 1000)
        let file = root + "/" + day + "/\(Self.fileSafe(settings.camera))-\(stamp)-track\(track).jpg"
        // A new name each time: O_EXCL refuses anything already there, O_NOFOLLOW a planted link.
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SnapshotError(path: file, reason: String(cString: strerror(errno))) }
        fchmod(fd, 0o600)
        let written = jpeg.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let failure = written == jpeg.count ? nil : written < 0 ? String(cString: strerror(errno)) : "short write (disk full?)"
        Foundation.close(fd)
        if let failure {
            unlink(file)
            throw SnapshotError(path: file, reason: failure)
        }
        return file
    }

    /// A camera name as a file name part: only letters, digits, '.', '_' and '-', never a path.
    static func fileSafe(_ name: String) -> String {
        let kept = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
        let trimmed = kept.drop { $0 == "." }
        return trimmed.isEmpty ? "camera" : String(trimmed.prefix(64))
    }

    /// Deletes snapshot day folders older than the retention period.
    private func sweepSnapshots() {
        lastRetentionSweep = .now
        guard let dir = settings.snapshotDirectory, FileManager.default.fileExists(atPath: dir) else { return }
        let cutoff = String(AuditEvent(kind: .decision, time: Date().addingTimeInterval(-Double(settings.snapshotRetentionDays) * 86400),
                                       camera: "").time.prefix(10))
        do {
            for day in try FileManager.default.contentsOfDirectory(atPath: dir)
            where day.count == 10 && day.first?.isNumber == true && day < cutoff {
                try FileManager.default.removeItem(atPath: dir + "/" + day)
            }
        } catch {
            logger.warning("snapshot retention sweep in \(dir) failed: \(error)")
        }
    }

    /// After a gallery change, the frames of tracks not let in yet are matched again against the
    /// new gallery (no decision mixes two galleries): a person enrolled or restored while at the
    /// door (`enroll --from-event`) is let in from the next frame, without stepping away and back.
    private func reweighTracks() {
        for (id, frames) in evidence where !granted.contains(id) {
            evidence[id] = frames.compactMap { $0.embedding.map(observe) }
        }
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
                matcher = Matcher(snapshot: snapshot)
                rights = Self.rights(of: snapshot)
                galleryEpoch = epoch
                reweighTracks()
            }
        } catch {
            logger.warning("gallery \(store.path) could not be read: \(error); deciding with the gallery in memory")
        }
    }
}

/// A track's logged refusal, for the grant that may follow it after a gallery change.
struct Refusal {
    let key: String
    let reason: DenialReason
    let decision: AuditEvent.Decision
    let time: Date
}

public struct SnapshotError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
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

/// Door actions in flight, each on a thread of its own: the pipeline never waits for one, and
/// a finished one leaves nothing behind.
final class ActionTracker: Sendable {
    private let state = Locked((running: 0, waiters: [CheckedContinuation<Void, Never>]()))

    var running: Int { state.withLock { $0.running } }

    func start(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.running += 1 }
        let thread = Thread {
            body()
            let waiters: [CheckedContinuation<Void, Never>] = self.state.withLock { state in
                state.running -= 1
                guard state.running == 0 else { return [] }
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = "faced-door-action"
        thread.start()
    }

    func waitForAll() async {
        await withCheckedContinuation { continuation in
            let now: Bool = state.withLock { state in
                if state.running == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
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
