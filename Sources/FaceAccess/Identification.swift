import FaceStore
import FaceVision

/// One face of a photo, and who it is.
public struct Identification: Sendable {
    public var detection: DetectedFace
    public var landmarks: FaceLandmarks
    public var result: MatchResult
    public var verdict: Verdict
}

/// Finds every face of an image and matches each against the gallery.
public struct Identifier: Sendable {
    public let engine: FaceEngine
    public let matcher: Matcher
    public let level: SecurityLevel

    public init(engine: FaceEngine, matcher: Matcher, level: SecurityLevel) {
        self.engine = engine
        self.matcher = matcher
        self.level = level
    }

    public func identify(_ image: RGBImage, minFace: Int, detector: FaceDetector = .hog) throws -> [Identification] {
        try engine.faces(in: image, minFace: minFace, detector: detector).map { face in
            let result = matcher.match(face.embedding.values)
            return Identification(detection: face.detection, landmarks: face.landmarks, result: result, verdict: level.verdict(for: result))
        }
    }
}
