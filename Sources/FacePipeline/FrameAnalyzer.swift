import FaceCapture
import FaceVision
import Locking
import Foundation

/// What one frame shows.
enum FrameAnalysis {
    /// Too dark to look at (IR emitter off, lens covered).
    case dark
    /// The faces found and described (none is a frame like any other), with the frame's picture
    /// for snapshots when there is a face. Boxes are in the picture's pixels; `scale` is how many
    /// of the camera's pixels one of them spans.
    case faces([Face], image: RGBImage?, scale: Double)
}

/// What the look stage found in one frame, for the describe stage (which may run on another thread).
struct LookedFrame {
    enum Outcome {
        /// The frame could not be decoded.
        case failed(Error)
        case dark
        /// Faces found (maybe none), in the picture's pixels; the picture is decoded only when
        /// the detector ran. `scale`: camera pixels per picture pixel.
        case looked([DetectedFace], picture: DecodedFrame?, scale: Double)
    }

    var frame: Frame
    /// Which frame of the run this is, counting every frame looked at from 0 (`Pipeline` counts).
    var sequence: Int
    var outcome: Outcome
}

/// What the cheap look saw of a frame: its thumbnail through the motion gate. Frames glanced at
/// while the detector was busy with an older one are merged into the newest: its picture and its
/// motion, and where the others saw motion (searched again where the picture still differs from
/// what was searched there); the gate's background learns from every frame.
struct Glance {
    enum Outcome {
        /// The frame could not be decoded.
        case failed(Error)
        case dark
        /// `step`: camera pixels per thumbnail pixel; `size`: the upright frame in camera pixels;
        /// `decoded`: the whole frame, for payloads that have no cheaper thumbnail.
        case seen(thumbnail: GrayImage, step: Double, size: PixelRect, motion: MotionReport, decoded: DecodedFrame?)
    }

    var frame: Frame
    var outcome: Outcome
    /// A dark frame came among those merged: the gate started afresh since the detector last looked.
    var wasDark = false
    /// Frames merged into this one.
    var merged = 0
    /// Where the frames merged into this one saw motion that this one's motion does not take in
    /// as still changing, thumbnail pixels: the detector searches there again only where the
    /// picture differs from what it last searched there (see `FrameAnalyzer.detect`).
    var movedBefore = [PixelRect]()

    /// More places than this merged (a look stage held up a long while): the nearest joined.
    static let mostRegions = 64

    /// `newer` with what this one saw: where it saw motion, whether a frame was dark, whether the
    /// whole picture changed. A newer frame that failed keeps this one (a picture to detect on,
    /// with its motion).
    func merged(into newer: Glance) -> Glance {
        if case .failed = newer.outcome, case .seen = outcome {
            var glance = self
            glance.merged = merged + newer.merged + 1
            glance.wasDark = wasDark || newer.wasDark
            glance.movedBefore += newer.movedBefore
            return glance
        }
        var glance = newer
        glance.merged = merged + newer.merged + 1
        glance.wasDark = wasDark || newer.wasDark
        if case .dark = outcome { glance.wasDark = true }
        guard case let .seen(_, _, oldSize, old, _) = outcome, case .seen(let thumbnail, let step, let size, var motion, let decoded) = newer.outcome else {
            return glance
        }
        motion.movedFraction = max(motion.movedFraction, old.movedFraction)
        motion.isFirst = motion.isFirst || old.isFirst || oldSize != size
        glance.outcome = .seen(thumbnail: thumbnail, step: step, size: size, motion: motion, decoded: decoded)
        // Places within what changes now count as changed with it (not within what moves now but
        // holds still since the frame before: a face that turned while skipped); the same place once.
        for place in movedBefore + old.regions.map(\.box) + newer.movedBefore
        where !motion.regions.contains(where: { $0.changing > 0 && $0.box.intersection(place) == place }) && !glance.movedBefore.contains(place) {
            glance.movedBefore.append(place)
        }
        // Too many: the two places whose union adds the least area become one, until few enough.
        while glance.movedBefore.count > Self.mostRegions {
            var best = (i: 0, j: 1, added: Int.max)
            let places = glance.movedBefore
            for i in places.indices {
                for j in places.indices where j > i {
                    let added = places[i].union(places[j]).area - places[i].area - places[j].area
                    if added < best.added { best = (i, j, added) }
                }
            }
            glance.movedBefore[best.i] = places[best.i].union(places[best.j])
            glance.movedBefore.remove(at: best.j)
        }
        return glance
    }
}

/// The faces the helper found per detection job (by index), or its error; written on its thread,
/// read on the look thread once it is done.
private final class DetectionBatch: @unchecked Sendable {
    var found = [Int: [DetectedFace]]()
    var error: Error?
}

/// A face of one frame after the describe stage: described (landmarks, embedding, quality), or
/// only detected where its track needs no embedding now.
enum SeenFace {
    case described(Face)
    case detected(DetectedFace)

    var detection: DetectedFace {
        switch self {
        case let .described(face): face.detection
        case let .detected(detection): detection
        }
    }
}

/// The looking and describing stages. Every frame gets a cheap look: a thumbnail (a JPEG decoded
/// at 1/8 scale, luma subsampled) through the motion gate, which also tells a dark frame. The
/// detector then runs only where `DetectionPlanner` says (around followed faces, where something
/// moved, the whole frame now and then), on the frame decoded at the scale the smallest face
/// searched for needs. `look` and `describe` may run on two threads, each with its own engine
/// (dlib's calls on one engine are serialised); counters and timings are shared under a lock.
/// Decides nothing.
final class FrameAnalyzer: @unchecked Sendable {
    /// The look stage's engine (detection) and the describe stage's (landmarks, embeddings).
    let engine: FaceEngine
    let describer: FaceEngine
    private var minFace: Int
    private var detector: FaceDetector
    /// Settings a reload changed, taken up by the look stage before its next frame.
    private let pendingSettings = Locked<(minFace: Int, detector: FaceDetector)?>(nil)
    private let decoder = ImageDecoder(rejectsJPEGWarnings: false)
    /// The glance's own (it may run on a thread of its own), and the gate only it uses.
    private let glanceDecoder = ImageDecoder(rejectsJPEGWarnings: false)
    private var gate: MotionGate
    private var planner: DetectionPlanner
    let helper: DetectionHelper?
    /// The thumbnail as the detector last searched it down to the smallest face: from the last
    /// full scan, with each region searched that way since copied in from its frame. The safety
    /// net scans again only a picture that changed since.
    private var scanned: GrayImage?
    /// The thumbnail of the last full scan, as it was: a place where a walker was searched since
    /// and has moved on looks like it again.
    private var wholeScanned: GrayImage?
    /// Faces found in the frame looked at last, in camera pixels.
    private var lastFound = [PixelRect]()

    struct Stats {
        /// Time spent per stage: look (thumbnail and motion gate), decode, gray, detect, convert
        /// (to RGB, for frames with a face to describe), describe (landmarks and embeddings).
        var stageTime = [String: Duration]()
        var framesWithFaces = 0
        var facesSeen = 0
        /// Frames on which the detector ran, and on which it scanned the whole frame.
        var framesSearched = 0
        var fullScans = 0
        /// Faces described, and faces whose track needed no embedding at that frame.
        var facesDescribed = 0
        var facesNotDescribed = 0
        /// Detector runs per reason, the picture pixels they searched and their time.
        var jobs = [DetectionJob.Reason: (runs: Int, pixels: Int, time: Duration)]()
    }
    private let statsLock = Locked(Stats())
    var stats: Stats { statsLock.withLock { $0 } }
    var stageTime: [String: Duration] { stats.stageTime }
    var framesWithFaces: Int { stats.framesWithFaces }
    var facesSeen: Int { stats.facesSeen }
    var framesSearched: Int { stats.framesSearched }
    var fullScans: Int { stats.fullScans }

    /// The largest frame a replay may claim, in pixels; a camera's frames must have its negotiated size.
    /// Set before frames flow.
    var maxFramePixels = 8192 * 8192
    /// Thumbnail pixels span this many frame pixels a side (YUYV, gray and decoded frames).
    static let thumbnailStep = 8

    /// `helper`: a third engine, on a thread of its own, that runs part of each frame's detection.
    init(engine: FaceEngine, describer: FaceEngine? = nil, helper: FaceEngine? = nil, minFace: Int, detector: FaceDetector,
         fullScanEvery: TimeInterval = 2, gate: MotionGate = MotionGate()) {
        self.engine = engine
        self.describer = describer ?? engine
        self.helper = helper.map(DetectionHelper.init)
        self.gate = gate
        self.minFace = minFace
        self.detector = detector
        planner = DetectionPlanner(minFace: minFace, fullScanEvery: fullScanEvery)
    }

    deinit { helper?.close() }

    /// From any thread; the look stage takes it up before its next frame.
    func configure(minFace: Int, detector: FaceDetector) throws {
        if detector == .cnn && !engine.hasCNN { throw FaceEngineError.cnnNotLoaded }
        pendingSettings.withLock { $0 = (minFace, detector) }
    }

    private func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer {
            let spent = ContinuousClock.now - start
            statsLock.withLock { $0.stageTime[stage, default: .zero] += spent }
        }
        return try body()
    }

    /// Look, detect and describe every face found, on the calling thread (tests, tools).
    /// Throws when the frame cannot be decoded or described. `tracks`: where the faces followed
    /// now should be, in camera pixels.
    func analyze(_ frame: Frame, tracks: [PixelRect] = []) throws -> FrameAnalysis {
        let looked = look(frame, tracks: tracks)
        switch looked.outcome {
        case let .failed(error): throw error
        case .dark: return .dark
        case let .looked(detections, picture, scale):
            guard var picture, !detections.isEmpty else { return .faces([], image: nil, scale: scale) }
            let (seen, image) = try describe(detections, in: &picture, skipping: [])
            return .faces(seen.compactMap { if case let .described(face) = $0 { face } else { nil } }, image: image, scale: scale)
        }
    }

    /// The look stage: thumbnail, gate, plan, decode and detect. Never throws: a frame that
    /// cannot be decoded comes out as `.failed`. `tracks`: where the faces followed should be,
    /// in camera pixels.
    func look(_ frame: Frame, sequence: Int = 0, tracks: [PixelRect]) -> LookedFrame {
        look(glance(frame), sequence: sequence, tracks: tracks)
    }

    /// The cheap look: thumbnail, dark check and motion gate. Never throws: a frame that cannot be
    /// decoded comes out as `.failed`. May run on a thread of its own, one frame after another.
    func glance(_ frame: Frame) -> Glance {
        let limit = frame.sizeLimit ?? .pixels(maxFramePixels)
        do {
            var decoded: DecodedFrame?
            let (thumbnail, step, size) = try timed("look") { () throws -> (GrayImage, Double, PixelRect) in
                switch frame.payload {
                case let .jpeg(bytes):
                    let (thumbnail, step) = try glanceDecoder.decodeThumbnail(bytes, limit: limit)
                    var (w, h) = try glanceDecoder.size(of: bytes)
                    // Upright, as the decoder turns the picture: an EXIF quarter turn swaps the sides,
                    // or every box would reach the tracker (and the evidence's size check) scaled wrong.
                    if glanceDecoder.appliesExifOrientation, let turn = ExifOrientation.read(fromJPEG: bytes), turn.rawValue >= 5 { swap(&w, &h) }
                    return (thumbnail, step, PixelRect(x: 0, y: 0, width: w, height: h))
                case let .yuyv(packed):
                    return (packed.lumaThumbnail(step: Self.thumbnailStep), Double(Self.thumbnailStep), PixelRect(x: 0, y: 0, width: packed.width, height: packed.height))
                case let .gray(gray):
                    return (gray.thumbnail(step: Self.thumbnailStep), Double(Self.thumbnailStep), gray.bounds)
                case .png, .rgb:
                    var whole = try DecodedFrame(frame.payload, decoder: glanceDecoder, scale: .full, limit: limit)
                    let gray = whole.gray
                    decoded = whole
                    return (gray.thumbnail(step: Self.thumbnailStep), Double(Self.thumbnailStep), gray.bounds)
                }
            }
            if thumbnail.isDark() {
                // The light comes back to a scene the background no longer knows.
                gate.reset()
                return Glance(frame: frame, outcome: .dark)
            }
            let motion = timed("look") { gate.look(thumbnail) }
            return Glance(frame: frame, outcome: .seen(thumbnail: thumbnail, step: step, size: size, motion: motion, decoded: decoded))
        } catch {
            return Glance(frame: frame, outcome: .failed(error))
        }
    }

    /// Plan, decode and detect, after the glance. Never throws: a frame that cannot be decoded
    /// comes out as `.failed`. `tracks`: where the faces followed should be, in camera pixels.
    func look(_ glance: Glance, sequence: Int, tracks: [PixelRect]) -> LookedFrame {
        let frame = glance.frame
        if let new = pendingSettings.withLock({ pending in defer { pending = nil }; return pending }),
           new.minFace != minFace || new.detector != detector {
            minFace = new.minFace
            detector = new.detector
            planner.minFace = new.minFace
            // What was searched, and the picture last scanned, were searched for other faces.
            planner.restart()
            scanned = nil
            wholeScanned = nil
            lastFound = []
        }
        if glance.wasDark {
            // The gate started afresh since: what was searched, and the picture scanned, say nothing of now.
            planner.forgetSearched()
            scanned = nil
            wholeScanned = nil
            lastFound = []
        }
        switch glance.outcome {
        case let .failed(error):
            return LookedFrame(frame: frame, sequence: sequence, outcome: .failed(error))
        case .dark:
            planner.forgetSearched()
            scanned = nil
            wholeScanned = nil
            lastFound = []
            return LookedFrame(frame: frame, sequence: sequence, outcome: .dark)
        case let .seen(thumbnail, step, size, motion, decoded):
            do {
                let outcome = try detect(frame, thumbnail: thumbnail, step: step, size: size, motion: motion, movedBefore: glance.movedBefore,
                                         decoded: decoded, tracks: tracks)
                return LookedFrame(frame: frame, sequence: sequence, outcome: outcome)
            } catch {
                return LookedFrame(frame: frame, sequence: sequence, outcome: .failed(error))
            }
        }
    }

    private func detect(_ frame: Frame, thumbnail: GrayImage, step: Double, size: PixelRect, motion: MotionReport,
                        movedBefore: [PixelRect], decoded: DecodedFrame?, tracks: [PixelRect]) throws -> LookedFrame.Outcome {
        let limit = frame.sizeLimit ?? .pixels(maxFramePixels)
        let reference = scanned.flatMap { $0.width == thumbnail.width && $0.height == thumbnail.height ? $0 : nil }
        // Where frames skipped while the detector was busy saw motion: a place inside what moves
        // now is searched with it, and counts as changed (the part that moved may hold still now).
        // Elsewhere, searched where the picture still differs from what was last searched there
        // (someone who came and stood still long enough for the gate to learn them); where it
        // looks as it did (a walker who moved on), what was searched there holds.
        var motion = motion
        let regionsNow = motion.regions.map(\.box)
        let clipped = movedBefore.compactMap { $0.intersection(thumbnail.bounds) }
        let insideNow = { (place: PixelRect) in regionsNow.contains { $0.intersection(place) == place } }
        var changedBefore = clipped.filter(insideNow)
        let places = clipped.filter { !insideNow($0) }
        if !places.isEmpty {
            // Changed from what was last searched there, and from the last full scan's picture
            // (where a walker was searched since, then moved on, it looks as it did then).
            let references = [reference, wholeScanned].compactMap { $0 }
            let changed = reference == nil ? places.map(\.area)
                : timed("look") { Self.changedPixels(thumbnail, from: references, threshold: Self.changeThreshold, inside: places) }
            for (place, count) in zip(places, changed) where count >= min(Self.changedEnough, max(1, place.area / 4)) {
                motion.regions.append(MotionRegion(box: place, pixels: count))
                changedBefore.append(place)
            }
        }
        // The faces found in the last frame too: the tracker, on the other stage, may not know them yet.
        let jobs = planner.plan(frame: size, motion: motion, step: step, tracks: tracks + lastFound, at: frame.time,
                                movedBefore: changedBefore) { searchedNow in
            guard let reference else { return true }
            return timed("look") {
                let ignored = searchedNow.compactMap { Self.thumbnailPixels(inside: $0, step: step) }
                return Self.changedPixels(thumbnail, reference, threshold: Self.changeThreshold, ignoring: ignored) >= Self.changedEnough
            }
        }
        lastFound = []
        guard !jobs.isEmpty else { return .looked([], picture: nil, scale: 1) }
        let fullScan = jobs.contains { $0.reason == .fullScan }
        statsLock.withLock {
            $0.framesSearched += 1
            if fullScan { $0.fullScans += 1 }
        }

        // Decoded once, at the scale the narrowest face searched for needs; never upsampled whole.
        let window = detector == .hog ? FaceEngine.hogWindow : FaceEngine.cnnWindow
        let needed = jobs.map { Double(window) / Double(max(1, $0.pictureFace)) }.max() ?? 1
        let jpegScale: JPEGScale = if case .jpeg = frame.payload { JPEGScale.atLeast(min(1, needed)) } else { .full }
        var picture = try decoded ?? timed("decode") { try DecodedFrame(frame.payload, decoder: decoder, scale: jpegScale, limit: limit) }
        let gray = timed("gray") { picture.gray }
        // Picture pixels per camera pixel.
        let factor = Double(gray.width) / Double(max(1, size.width))
        let found = try timed("detect") { try detect(jobs, gray: gray, picture: &picture, factor: factor) }
        // Only now is the search done: a frame that failed before it does not count.
        planner.searched()
        if fullScan {
            planner.scanned(at: frame.time)
            scanned = thumbnail
            wholeScanned = thumbnail
        } else if var reference {
            for job in jobs where job.minFace <= minFace {
                if let inside = Self.thumbnailPixels(inside: job.region, step: step)?.intersection(thumbnail.bounds),
                   let part = try? thumbnail.cropped(to: inside) {
                    reference.paste(part, x: inside.x, y: inside.y)
                }
            }
            scanned = reference
        }
        let detections = Self.distinct(found)
        lastFound = detections.map { $0.box.scaled(by: 1 / factor) }
        statsLock.withLock {
            $0.framesWithFaces += detections.isEmpty ? 0 : 1
            $0.facesSeen += detections.count
        }
        return .looked(detections, picture: detections.isEmpty ? nil : picture, scale: 1 / factor)
    }

    /// Runs the detector on each job's region of the picture (`factor`: picture pixels per camera
    /// pixel); with a helper and HOG, part of them on the helper's thread, the costliest first to
    /// whichever thread has less to do. Faces come back in the order of the jobs, whichever ran them.
    private func detect(_ jobs: [DetectionJob], gray: GrayImage, picture: inout DecodedFrame, factor: Double) throws -> [DetectedFace] {
        let detector = detector
        func run(_ job: DetectionJob, on engine: FaceEngine, rgb: RGBImage?) throws -> [DetectedFace] {
            let started = ContinuousClock.now
            let wanted = max(1, Int((Double(job.minFace) * factor).rounded()))
            // On the 8-pixel grid of HOG's cells, as a full scan sees it: at scale 1, a face found
            // in a region and in the whole frame gets the same box (resized, or at a coarser level
            // of the pyramid, the grids differ: a box may shift a few pixels, a face on the
            // detector's threshold may be found in one and not the other).
            let scaled = job.region.scaled(by: factor)
            let aligned = PixelRect(x: scaled.x & ~7, y: scaled.y & ~7, width: scaled.maxX - (scaled.x & ~7), height: scaled.maxY - (scaled.y & ~7))
            // A sliver (a followed face's area mostly past the edge) cannot hold a face.
            guard let region = aligned.intersection(gray.bounds), region.width >= wanted, region.height >= wanted else { return [] }
            let boxes = if let rgb {
                try engine.detect(try rgb.cropped(to: region), minFace: wanted, detector: detector)
            } else {
                try engine.detect(try gray.cropped(to: region), minFace: wanted)
            }
            // Per reason too, for facebench: where the detector's time goes.
            let spent = ContinuousClock.now - started
            statsLock.withLock {
                $0.jobs[job.reason, default: (0, 0, .zero)].runs += 1
                $0.jobs[job.reason, default: (0, 0, .zero)].pixels += region.area
                $0.jobs[job.reason, default: (0, 0, .zero)].time += spent
            }
            return boxes.map { DetectedFace(box: PixelRect(x: $0.box.x + region.x, y: $0.box.y + region.y, width: $0.box.width, height: $0.box.height),
                                            score: $0.score) }
        }
        guard detector == .hog else {
            let rgb = picture.rgb
            return try jobs.flatMap { try run($0, on: engine, rgb: rgb) }
        }
        var planned = jobs
        // One job costlier than all the others (a full scan, a large region): in three, so that
        // both threads share it.
        if helper != nil, let costliest = planned.indices.max(by: { planned[$0].cost < planned[$1].cost }),
           planned[costliest].cost > planned.reduce(0) { $0 + $1.cost } / 2, let parts = planned[costliest].split() {
            planned.replaceSubrange(costliest ... costliest, with: parts)
        }
        let jobs = planned
        // The costliest job first to whichever thread has less to do.
        var load = (mine: 0.0, helpers: 0.0)
        var mine = [Int](), helpers = [Int]()
        let costs = jobs.map(\.cost)
        for index in jobs.indices.sorted(by: { costs[$0] > costs[$1] }) {
            if helper != nil, load.helpers < load.mine {
                helpers.append(index)
                load.helpers += costs[index]
            } else {
                mine.append(index)
                load.mine += costs[index]
            }
        }
        let batch = DetectionBatch()
        if let helper, !helpers.isEmpty {
            helper.start { engine in
                do {
                    for index in helpers { batch.found[index] = try run(jobs[index], on: engine, rgb: nil) }
                } catch {
                    batch.error = error
                }
            }
        }
        // Joined before anything is thrown: the helper's batch reads this frame's picture.
        defer { helper?.wait() }
        var found = [Int: [DetectedFace]]()
        for index in mine { found[index] = try run(jobs[index], on: engine, rgb: nil) }
        helper?.wait()
        if let error = batch.error { throw error }
        found.merge(batch.found) { mine, _ in mine }
        return jobs.indices.flatMap { found[$0] ?? [] }
    }

    /// The describe stage: landmarks and embedding of each detection but those at `skipping`
    /// (indices: faces whose track needs no embedding at this frame), and the picture in RGB.
    func describe(_ detections: [DetectedFace], in picture: inout DecodedFrame, skipping: Set<Int>) throws -> ([SeenFace], RGBImage) {
        let image = timed("convert") { picture.rgb }
        let wanted = detections.indices.filter { !skipping.contains($0) }
        let gray = picture.gray
        let described = try timed("describe") { try describer.describe(wanted.map { detections[$0] }, in: image, gray: gray) }
        statsLock.withLock {
            $0.facesDescribed += described.count
            $0.facesNotDescribed += detections.count - described.count
        }
        var seen = detections.map(SeenFace.detected)
        for (index, face) in zip(wanted, described) { seen[index] = .described(face) }
        return (seen, image)
    }

    /// A thumbnail pixel this much brighter or darker than at the last full scan, beyond the change
    /// of the whole picture's brightness, has changed: twice the gate's noise floor (a thumbnail
    /// pixel averages 64 of the camera's, whose noise mostly cancels).
    static let changeThreshold = 16
    /// This many changed thumbnail pixels (a patch of about 32x32 camera pixels; a face of 80 px
    /// covers 100) make a picture worth scanning again.
    static let changedEnough = 16

    /// Pixels of `a` that differ from `b` by more than `threshold`, once the change of the
    /// picture's tone curve is taken out (gain, gamma, the light of the whole scene): each pixel is
    /// compared with the median change of the pixels that were as bright as it in `b` (16 bands).
    /// Pixels inside `ignoring` (thumbnail rectangles) count neither way.
    static func changedPixels(_ a: GrayImage, _ b: GrayImage, threshold: Int, ignoring: [PixelRect] = []) -> Int {
        let counted = countedPixels(a, b, ignoring: ignoring)
        let medians = toneMedians(a, b, counted: counted)
        var changed = 0
        a.pixels.withUnsafeBufferPointer { pa in
            b.pixels.withUnsafeBufferPointer { pb in
                for i in counted.indices where counted[i] && abs(Int(pa[i]) - Int(pb[i]) - medians[Int(pb[i]) / 16]) > threshold { changed += 1 }
            }
        }
        return changed
    }

    /// Pixels inside each of `places` (thumbnail rectangles) that differ from every one of
    /// `references` as `changedPixels` tells, the tone curve's change taken from the whole picture
    /// (a face that replaced a wall changes most of its own place). A reference of another size
    /// differs everywhere.
    static func changedPixels(_ a: GrayImage, from references: [GrayImage], threshold: Int, inside places: [PixelRect]) -> [Int] {
        let compared = references.filter { $0.width == a.width && $0.height == a.height }
        guard compared.count == references.count, !compared.isEmpty else { return places.map { $0.intersection(a.bounds)?.area ?? 0 } }
        let medians = compared.map { toneMedians(a, $0, counted: countedPixels(a, $0, ignoring: [])) }
        return places.map { place in
            guard let place = place.intersection(a.bounds) else { return 0 }
            var changed = 0
            for y in place.y ..< place.maxY {
                for x in place.x ..< place.maxX {
                    let i = y * a.width + x
                    if zip(compared, medians).allSatisfy({ b, median in abs(Int(a.pixels[i]) - Int(b.pixels[i]) - median[Int(b.pixels[i]) / 16]) > threshold }) {
                        changed += 1
                    }
                }
            }
            return changed
        }
    }

    /// Which pixels count: all but those inside `ignoring` (thumbnail rectangles).
    private static func countedPixels(_ a: GrayImage, _ b: GrayImage, ignoring: [PixelRect]) -> [Bool] {
        var counted = [Bool](repeating: true, count: min(a.pixels.count, b.pixels.count))
        for rect in ignoring {
            guard let rect = rect.intersection(a.bounds) else { continue }
            for y in rect.y ..< rect.maxY where (y + 1) * a.width <= counted.count {
                for x in rect.x ..< rect.maxX { counted[y * a.width + x] = false }
            }
        }
        return counted
    }

    /// The median change from `b` to `a` of the counted pixels in each of 16 bands of `b`'s brightness.
    private static func toneMedians(_ a: GrayImage, _ b: GrayImage, counted: [Bool]) -> [Int] {
        let bands = 16
        var histogram = [Int](repeating: 0, count: bands * 511)
        a.pixels.withUnsafeBufferPointer { pa in
            b.pixels.withUnsafeBufferPointer { pb in
                for i in counted.indices where counted[i] { histogram[Int(pb[i]) / 16 * 511 + Int(pa[i]) - Int(pb[i]) + 255] += 1 }
            }
        }
        return (0 ..< bands).map { band in
            let counts = histogram[band * 511 ..< (band + 1) * 511]
            let total = counts.reduce(0, +)
            guard total > 0 else { return 0 }
            var seen = 0
            for (bin, n) in zip(0..., counts) {
                seen += n
                if seen * 2 > total { return bin - 255 }
            }
            return 0
        }
    }

    /// The thumbnail pixels wholly inside `region` (camera pixels), `step` camera pixels a side each; nil for none.
    static func thumbnailPixels(inside region: PixelRect, step: Double) -> PixelRect? {
        let x0 = Int((Double(region.x) / step).rounded(.up)), y0 = Int((Double(region.y) / step).rounded(.up))
        let x1 = Int((Double(region.maxX) / step).rounded(.down)), y1 = Int((Double(region.maxY) / step).rounded(.down))
        guard x1 > x0, y1 > y0 else { return nil }
        return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// One detection per face where regions met: the surest of those that overlap.
    static func distinct(_ found: [DetectedFace]) -> [DetectedFace] {
        var kept = [DetectedFace]()
        for face in found.sorted(by: { $0.score > $1.score }) where !kept.contains(where: { FaceTracker.iou($0.box, face.box) > 0.4 }) {
            kept.append(face)
        }
        return kept
    }
}
