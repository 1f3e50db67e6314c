import FaceCapture
import FaceVision
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

/// The looking stage. Every frame gets a cheap look: a thumbnail (a JPEG decoded at 1/8 scale,
/// luma subsampled) through the motion gate, which also tells a dark frame. The detector then runs
/// only where `DetectionPlanner` says (around followed faces, where something moved, the whole
/// frame now and then), on the frame decoded at the scale the smallest face searched for needs.
/// Owns the decoder, the gate, the engine calls and their timings; decides nothing.
final class FrameAnalyzer {
    let engine: FaceEngine
    private(set) var minFace: Int
    private(set) var detector: FaceDetector
    private let decoder = ImageDecoder(rejectsJPEGWarnings: false)
    private var gate: MotionGate
    private(set) var planner: DetectionPlanner
    /// Time spent per stage over all frames: look (thumbnail and motion gate), decode, gray,
    /// detect, convert (to RGB, for frames with a face to describe), describe (landmarks and embeddings).
    private(set) var stageTime = [String: Duration]()
    private(set) var framesWithFaces = 0
    private(set) var facesSeen = 0
    /// Frames on which the detector ran, and on which it scanned the whole frame.
    private(set) var framesSearched = 0
    private(set) var fullScans = 0
    /// The largest frame a replay may claim, in pixels; a camera's frames must have its negotiated size.
    var maxFramePixels = 8192 * 8192
    /// Thumbnail pixels span this many frame pixels a side (YUYV, gray and decoded frames).
    static let thumbnailStep = 8

    init(engine: FaceEngine, minFace: Int, detector: FaceDetector, fullScanEvery: TimeInterval = 2, gate: MotionGate = MotionGate()) {
        self.engine = engine
        self.gate = gate
        self.minFace = minFace
        self.detector = detector
        planner = DetectionPlanner(minFace: minFace, fullScanEvery: fullScanEvery)
    }

    func configure(minFace: Int, detector: FaceDetector) throws {
        if detector == .cnn && !engine.hasCNN { throw FaceEngineError.cnnNotLoaded }
        self.minFace = minFace
        self.detector = detector
        planner.minFace = minFace
    }

    func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer { stageTime[stage, default: .zero] += ContinuousClock.now - start }
        return try body()
    }

    /// Throws when the frame cannot be decoded or described. `tracks`: where the faces followed
    /// now should be, in camera pixels.
    func analyze(_ frame: Frame, tracks: [PixelRect] = []) throws -> FrameAnalysis {
        let limit = frame.sizeLimit ?? .pixels(maxFramePixels)
        var decoded: DecodedFrame?
        let (thumbnail, step, size) = try timed("look") { () throws -> (GrayImage, Double, PixelRect) in
            switch frame.payload {
            case let .jpeg(bytes):
                let (thumbnail, step) = try decoder.decodeThumbnail(bytes, limit: limit)
                var (w, h) = try decoder.size(of: bytes)
                // Upright, as the decoder turns the picture: an EXIF quarter turn swaps the sides,
                // or every box would reach the tracker (and the evidence's size check) scaled wrong.
                if decoder.appliesExifOrientation, let turn = ExifOrientation.read(fromJPEG: bytes), turn.rawValue >= 5 { swap(&w, &h) }
                return (thumbnail, step, PixelRect(x: 0, y: 0, width: w, height: h))
            case let .yuyv(packed):
                return (packed.lumaThumbnail(step: Self.thumbnailStep), Double(Self.thumbnailStep), PixelRect(x: 0, y: 0, width: packed.width, height: packed.height))
            case let .gray(gray):
                return (gray.thumbnail(step: Self.thumbnailStep), Double(Self.thumbnailStep), gray.bounds)
            case .png, .rgb:
                var whole = try DecodedFrame(frame.payload, decoder: decoder, scale: .full, limit: limit)
                let gray = whole.gray
                decoded = whole
                return (gray.thumbnail(step: Self.thumbnailStep), Double(Self.thumbnailStep), gray.bounds)
            }
        }
        if thumbnail.isDark() {
            // The light comes back to a scene the background no longer knows.
            gate.reset()
            return .dark
        }
        let motion = timed("look") { gate.look(thumbnail) }
        let jobs = planner.plan(frame: size, motion: motion, step: step, tracks: tracks, at: frame.time)
        guard !jobs.isEmpty else { return .faces([], image: nil, scale: 1) }
        framesSearched += 1
        if jobs.contains(where: { $0.reason == .fullScan }) { fullScans += 1 }

        // Decoded once, at the scale the narrowest face searched for needs; never upsampled whole.
        let window = detector == .hog ? FaceEngine.hogWindow : FaceEngine.cnnWindow
        let needed = jobs.map { Double(window) / Double(max(1, $0.minFace)) }.max() ?? 1
        let jpegScale: JPEGScale = if case .jpeg = frame.payload { JPEGScale.atLeast(min(1, needed)) } else { .full }
        var picture = try decoded ?? timed("decode") { try DecodedFrame(frame.payload, decoder: decoder, scale: jpegScale, limit: limit) }
        let gray = timed("gray") { picture.gray }
        // Picture pixels per camera pixel.
        let factor = Double(gray.width) / Double(max(1, size.width))
        var found = [DetectedFace]()
        try timed("detect") {
            for job in jobs {
                let wanted = max(1, Int((Double(job.minFace) * factor).rounded()))
                // On the 8-pixel grid of HOG's cells, as a full scan sees it: a face found in a
                // region and in the whole frame gets the same box.
                let scaled = job.region.scaled(by: factor)
                let aligned = PixelRect(x: scaled.x & ~7, y: scaled.y & ~7, width: scaled.maxX - (scaled.x & ~7), height: scaled.maxY - (scaled.y & ~7))
                // A sliver (a followed face's area mostly past the edge) cannot hold a face.
                guard let region = aligned.intersection(gray.bounds), region.width >= wanted, region.height >= wanted else { continue }
                let boxes = detector == .hog
                    ? try engine.detect(try gray.cropped(to: region), minFace: wanted)
                    : try engine.detect(try picture.rgb.cropped(to: region), minFace: wanted, detector: detector)
                found += boxes.map { DetectedFace(box: PixelRect(x: $0.box.x + region.x, y: $0.box.y + region.y, width: $0.box.width, height: $0.box.height),
                                                  score: $0.score) }
            }
        }
        // Only now is the safety net's scan done: a frame that failed before it does not count.
        if jobs.contains(where: { $0.reason == .fullScan }) { planner.scanned(at: frame.time) }
        let detections = Self.distinct(found)
        framesWithFaces += detections.isEmpty ? 0 : 1
        facesSeen += detections.count
        if detections.isEmpty { return .faces([], image: nil, scale: 1 / factor) }
        // Every face is described: its embedding tells the tracker who it is (a swap at the same
        // spot, a person coming back) as well as being evidence.
        let image = timed("convert") { picture.rgb }
        let faces = try timed("describe") { try engine.describe(detections, in: image, gray: gray) }
        return .faces(faces, image: image, scale: 1 / factor)
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
