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

/// The looking stage: decode, gray, dark check, detect, describe. Owns the decoder, the engine
/// calls and their timings; decides nothing.
final class FrameAnalyzer {
    let engine: FaceEngine
    private(set) var minFace: Int
    private(set) var detector: FaceDetector
    /// When the smallest wanted face is larger than the detector's window, JPEG frames are decoded
    /// at a DCT scale that brings it down to the window: detection costs fall with the square.
    private var decodeScale: JPEGScale
    private let decoder = ImageDecoder(rejectsJPEGWarnings: false)
    /// Time spent per stage over all frames: decode, gray, detect, convert (to RGB, for frames
    /// with a face to describe), describe (landmarks and embeddings).
    private(set) var stageTime = [String: Duration]()
    private(set) var framesWithFaces = 0
    private(set) var facesSeen = 0
    /// The largest frame a replay may claim, in pixels; a camera's frames must have its negotiated size.
    var maxFramePixels = 8192 * 8192

    init(engine: FaceEngine, minFace: Int, detector: FaceDetector) {
        self.engine = engine
        self.minFace = minFace
        self.detector = detector
        decodeScale = JPEGScale.atLeast(FaceEngine.detectionScale(minFace: minFace, detector: detector))
    }

    func configure(minFace: Int, detector: FaceDetector) throws {
        if detector == .cnn && !engine.hasCNN { throw FaceEngineError.cnnNotLoaded }
        self.minFace = minFace
        self.detector = detector
        decodeScale = JPEGScale.atLeast(FaceEngine.detectionScale(minFace: minFace, detector: detector))
    }

    func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer { stageTime[stage, default: .zero] += ContinuousClock.now - start }
        return try body()
    }

    /// Throws when the frame cannot be decoded or described.
    func analyze(_ frame: Frame) throws -> FrameAnalysis {
        var decoded = try timed("decode") {
            try DecodedFrame(frame.payload, decoder: decoder, scale: decodeScale, limit: frame.sizeLimit ?? .pixels(maxFramePixels))
        }
        let gray = timed("gray") { decoded.gray }
        if gray.isDark() { return .dark }
        // The minimum face in the pixels of the decoded picture (smaller when decoded at a reduced scale).
        let reduced: Bool = if case .jpeg = frame.payload, decodeScale != .full { true } else { false }
        let scale = reduced ? decodeScale.factor : 1
        let wanted = reduced ? max(1, Int((Double(minFace) * scale).rounded())) : minFace
        let detections = try timed("detect") {
            detector == .hog
                ? try engine.detect(gray, minFace: wanted)
                : try engine.detect(decoded.rgb, gray: gray, minFace: wanted, detector: detector)
        }
        framesWithFaces += detections.isEmpty ? 0 : 1
        facesSeen += detections.count
        if detections.isEmpty { return .faces([], image: nil, scale: 1 / scale) }
        // Every face is described: its embedding tells the tracker who it is (a swap at the same
        // spot, a person coming back) as well as being evidence.
        let image = timed("convert") { decoded.rgb }
        let faces = try timed("describe") { try engine.describe(detections, in: image, gray: gray) }
        return .faces(faces, image: image, scale: 1 / scale)
    }
}
