import CDlibFace
import Foundation
import Locking

/// Where the three dlib model files live.
public struct FaceModels: Sendable, Equatable {
    public var landmarks: String
    public var embedder: String
    public var cnnDetector: String

    public static let landmarksFile = "shape_predictor_5_face_landmarks.dat"
    public static let embedderFile = "dlib_face_recognition_resnet_model_v1.dat"
    public static let cnnDetectorFile = "mmod_human_face_detector.dat"
    public static let installedDirectory = "/usr/share/faced/models"

    public init(directory: String) {
        let dir = URL(fileURLWithPath: directory)
        landmarks = dir.appendingPathComponent(Self.landmarksFile).path
        embedder = dir.appendingPathComponent(Self.embedderFile).path
        cnnDetector = dir.appendingPathComponent(Self.cnnDetectorFile).path
    }

    /// `explicit`, else $FACED_MODELS, else ./Models when it holds the models, else the installed directory.
    public static func resolveDirectory(_ explicit: String? = nil,
                                        environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["FACED_MODELS"], !env.isEmpty { return env }
        let local = FileManager.default.currentDirectoryPath + "/Models"
        if FileManager.default.fileExists(atPath: local + "/" + embedderFile) { return local }
        return installedDirectory
    }
}

public enum FaceDetector: String, Sendable, CaseIterable, Codable {
    /// dlib's HOG + linear SVM: fast on a CPU, frontal faces.
    case hog
    /// dlib's MMOD CNN: finds more turned and small faces, about 10-50x slower on a CPU.
    case cnn
}

/// A face found by a detector. `box` is in the coordinates of the image given to `detect`.
public struct DetectedFace: Sendable, Hashable, Codable {
    public var box: PixelRect
    /// Detector confidence; higher is surer. HOG and CNN scores are not on one scale.
    public var score: Float

    public init(box: PixelRect, score: Float) {
        self.box = box
        self.score = score
    }
}

/// The 5 dlib landmarks: two corners of each eye, then the base of the nose.
public struct FaceLandmarks: Sendable, Hashable, Codable {
    public var points: [Point]
}

/// A 128-D face descriptor. Two descriptors of one person lie close in Euclidean distance.
public struct FaceEmbedding: Sendable, Hashable {
    public static let dimension = Int(FD_EMBEDDING_DIM)
    public let values: [Float]

    public init(_ values: [Float]) {
        precondition(values.count == Self.dimension, "an embedding has \(Self.dimension) values, got \(values.count)")
        self.values = values
    }

    public func distance(to other: FaceEmbedding) -> Float {
        var sum: Float = 0
        for i in 0 ..< Self.dimension {
            let d = values[i] - other.values[i]
            sum += d * d
        }
        return sum.squareRoot()
    }
}

/// Everything the engine knows about one face in one image.
public struct Face: Sendable {
    public var detection: DetectedFace
    public var landmarks: FaceLandmarks
    public var embedding: FaceEmbedding
    /// The aligned 150x150 chip the embedding was computed from.
    public var chip: RGBImage

    public var quality: FaceQuality { FaceQuality(chip: chip) }
}

public enum FaceEngineError: Error, CustomStringConvertible {
    case modelMissing(String)
    case modelUnreadable(path: String, reason: String)
    case cnnNotLoaded
    case engine(String)

    public var description: String {
        switch self {
        case let .modelMissing(path): "model file \(path) is missing; run `make setup` or set FACED_MODELS to the models directory"
        case let .modelUnreadable(path, reason): "model file \(path) cannot be loaded (\(reason)); re-run `make setup` to fetch it again"
        case .cnnNotLoaded: "the CNN detector was not loaded; open the engine with loadCNN: true"
        case let .engine(message): "face engine: \(message)"
        }
    }
}

/// dlib's detector, 5-point landmarks and ResNet embedder. Calls are serialised: dlib's networks
/// keep per-call state, so give each worker thread its own engine for parallel work.
public final class FaceEngine: Sendable {
    /// The smallest face side, in pixels, that dlib's HOG detector finds at scale 1 (its 80x80 window).
    public static let hogWindow = 80
    /// The same for the MMOD CNN detector.
    public static let cnnWindow = 40
    public static let chipSize = Int(FD_CHIP_SIZE)

    private let handle: Locked<OpaquePointer>
    public let hasCNN: Bool
    private let embedded = Locked(0)

    /// Faces embedded by this engine so far: what bulk jobs are measured by (a sync with nothing
    /// new must embed nothing).
    public var embeddingsComputed: Int { embedded.withLock { $0 } }

    public init(models: FaceModels, loadCNN: Bool = false) throws {
        for path in [models.landmarks, models.embedder] + (loadCNN ? [models.cnnDetector] : []) {
            guard FileManager.default.fileExists(atPath: path) else { throw FaceEngineError.modelMissing(path) }
        }
        var err = [CChar](repeating: 0, count: 512)
        let opened: OpaquePointer? = loadCNN
            ? fd_engine_open(models.landmarks, models.embedder, models.cnnDetector, &err, err.count)
            : fd_engine_open(models.landmarks, models.embedder, nil, &err, err.count)
        guard let opened else {
            let message = cMessage(err)
            let path = [models.landmarks, models.embedder, models.cnnDetector].first { message.hasPrefix($0) } ?? models.embedder
            var reason = String(message.dropFirst(path.count)).trimmingCharacters(in: .whitespacesAndNewlines)
            if reason.hasPrefix(":") { reason = String(reason.dropFirst()).trimmingCharacters(in: .whitespacesAndNewlines) }
            if let firstLine = reason.split(separator: "\n").first { reason = String(firstLine) }
            throw FaceEngineError.modelUnreadable(path: path, reason: reason.isEmpty ? "unreadable" : reason)
        }
        handle = Locked(opened)
        hasCNN = loadCNN
    }

    deinit {
        handle.withLock { fd_engine_close($0) }
    }

    /// Which build of dlib's HOG detector runs. Its feature extraction and filtering are most of
    /// the detector's time, and dlib's vector code takes 8 floats at a time only when built for AVX.
    public enum HOGBuild: String, Sendable {
        /// Built for AVX2 and FMA: the default on CPUs that have them.
        case avx2 = "AVX2"
        /// Built for every x86-64 (SSE2) or the host's baseline elsewhere.
        case baseline
    }

    /// Whether this build and CPU can run the AVX2 build of the detector.
    public static var avx2HOGSupported: Bool { fd_wide_hog_available() == 1 }

    /// The HOG build detection runs on.
    public var hogBuild: HOGBuild { handle.withLock { fd_engine_wide_hog_in_use($0) } == 1 ? .avx2 : .baseline }

    /// Asks for a HOG build (the AVX2 one is granted only where the CPU has it); returns the one in use.
    @discardableResult
    public func useHOGBuild(_ build: HOGBuild) -> HOGBuild {
        handle.withLock { fd_engine_use_wide_hog($0, build == .avx2 ? 1 : 0) } == 1 ? .avx2 : .baseline
    }

    /// Threads OpenBLAS may use within one call, for the whole process. Workers that each own an
    /// engine set it to 1: on 2 cores, 2 workers then embed 2.1x as fast as 1, against 1.1x with
    /// OpenBLAS's own threads competing (facectl sync of faces-dev, release build).
    public static func setBLASThreads(_ threads: Int) { fd_set_blas_threads(Int32(threads)) }

    /// The resize factor at which faces of `minFace` pixels fill the detector's window.
    public static func detectionScale(minFace: Int, detector: FaceDetector = .hog) -> Double {
        let window = detector == .hog ? hogWindow : cnnWindow
        return min(2.0, Double(window) / Double(max(1, minFace)))
    }

    /// Faces of at least about `minFace` pixels, most confident first. HOG runs on `image`
    /// resized so that `minFace` fills its window; boxes come back in `image` coordinates.
    public func detect(_ image: GrayImage, minFace: Int = 80, threshold: Double = 0) throws -> [DetectedFace] {
        try runDetector(FD_DETECTOR_HOG, image.pixels, image.width, image.height, channels: 1,
                        scale: Self.detectionScale(minFace: minFace, detector: .hog), threshold: threshold)
    }

    /// Detects on an RGB image: HOG on its gray copy, or the CNN on the colour image.
    public func detect(_ image: RGBImage, minFace: Int = 80, detector: FaceDetector = .hog,
                       threshold: Double = 0) throws -> [DetectedFace] {
        switch detector {
        case .hog:
            return try detect(image.grayscale(), minFace: minFace, threshold: threshold)
        case .cnn:
            guard hasCNN else { throw FaceEngineError.cnnNotLoaded }
            return try runDetector(FD_DETECTOR_MMOD, image.pixels, image.width, image.height, channels: 3,
                                   scale: Self.detectionScale(minFace: minFace, detector: .cnn), threshold: threshold)
        }
    }

    /// Detects with a gray copy the caller already made (HOG uses it; the CNN uses `image`).
    public func detect(_ image: RGBImage, gray: GrayImage, minFace: Int, detector: FaceDetector) throws -> [DetectedFace] {
        detector == .hog ? try detect(gray, minFace: minFace) : try detect(image, minFace: minFace, detector: .cnn)
    }

    private func runDetector(_ kind: Int, _ pixels: [UInt8], _ width: Int, _ height: Int, channels: Int,
                             scale: Double, threshold: Double) throws -> [DetectedFace] {
        var capacity = 64
        while true {
            var rects = [fd_rect](repeating: fd_rect(), count: capacity)
            var err = [CChar](repeating: 0, count: 256)
            let found = handle.withLock { engine in
                fd_detect(engine, Int32(kind), pixels, Int32(width), Int32(height), Int32(channels),
                          scale, threshold, &rects, Int32(capacity), &err, err.count)
            }
            guard found >= 0 else { throw FaceEngineError.engine(cMessage(err)) }
            if Int(found) > capacity { capacity = Int(found); continue }
            return rects.prefix(Int(found)).map {
                DetectedFace(box: PixelRect(x: Int($0.left), y: Int($0.top),
                                            width: Int($0.right - $0.left + 1), height: Int($0.bottom - $0.top + 1)),
                             score: $0.score)
            }
        }
    }

    /// The 5 landmarks of the face in `box`.
    public func landmarks<F>(of box: PixelRect, in image: Image<F>) throws -> FaceLandmarks {
        var out = [fd_point](repeating: fd_point(), count: 5)
        var err = [CChar](repeating: 0, count: 256)
        let rect = fd_rect(left: Int32(box.x), top: Int32(box.y), right: Int32(box.maxX - 1),
                           bottom: Int32(box.maxY - 1), score: 0)
        let rc = handle.withLock { engine in
            fd_landmarks(engine, image.pixels, Int32(image.width), Int32(image.height), Int32(F.channels),
                         rect, &out, &err, err.count)
        }
        guard rc == 0 else { throw FaceEngineError.engine(cMessage(err)) }
        return FaceLandmarks(points: out.map { Point(x: $0.x, y: $0.y) })
    }

    /// The descriptor of one face given its landmarks.
    public func embedding(of landmarks: FaceLandmarks, in image: RGBImage) throws -> FaceEmbedding {
        try embeddings(of: [landmarks], in: image)[0]
    }

    /// Descriptors for several faces of one image, in one network pass.
    public func embeddings(of faces: [FaceLandmarks], in image: RGBImage) throws -> [FaceEmbedding] {
        try embeddingsAndChips(of: faces, in: image, keepChips: false).map(\.0)
    }

    func embeddingsAndChips(of faces: [FaceLandmarks], in image: RGBImage, keepChips: Bool) throws -> [(FaceEmbedding, RGBImage?)] {
        if faces.isEmpty { return [] }
        let dim = FaceEmbedding.dimension, chipBytes = Self.chipSize * Self.chipSize * 3
        var points = [fd_point]()
        points.reserveCapacity(faces.count * 5)
        for face in faces {
            precondition(face.points.count == 5, "5-point landmarks expected")
            points += face.points.map { fd_point(x: $0.x, y: $0.y) }
        }
        var out = [Float](repeating: 0, count: faces.count * dim)
        var chips = [UInt8](repeating: 0, count: keepChips ? faces.count * chipBytes : 0)
        var err = [CChar](repeating: 0, count: 256)
        let rc = handle.withLock { engine in
            chips.withUnsafeMutableBufferPointer { chipBuf in
                fd_embed(engine, image.pixels, Int32(image.width), Int32(image.height), points, Int32(faces.count),
                         &out, keepChips ? chipBuf.baseAddress : nil, &err, err.count)
            }
        }
        guard rc == 0 else { throw FaceEngineError.engine(cMessage(err)) }
        embedded.withLock { $0 += faces.count }
        return try (0 ..< faces.count).map { i in
            let embedding = FaceEmbedding(Array(out[i * dim ..< (i + 1) * dim]))
            let chip = keepChips
                ? try RGBImage(width: Self.chipSize, height: Self.chipSize, pixels: Array(chips[i * chipBytes ..< (i + 1) * chipBytes]))
                : nil
            return (embedding, chip)
        }
    }

    /// Detect, landmark and embed every face of at least `minFace` pixels, most confident first.
    public func faces(in image: RGBImage, minFace: Int = 80, detector: FaceDetector = .hog) throws -> [Face] {
        let gray = image.grayscale()
        return try describe(detect(image, gray: gray, minFace: minFace, detector: detector), in: image, gray: gray)
    }

    /// Landmarks, embedding and aligned chip for chosen detections of `image`.
    /// Pass `gray` when the caller already has the gray copy.
    public func describe(_ detections: [DetectedFace], in image: RGBImage, gray: GrayImage? = nil) throws -> [Face] {
        if detections.isEmpty { return [] }
        let gray = gray ?? image.grayscale()
        let marks = try detections.map { try landmarks(of: $0.box, in: gray) }
        let described = try embeddingsAndChips(of: marks, in: image, keepChips: true)
        return zip(detections, zip(marks, described)).map { d, rest in
            Face(detection: d, landmarks: rest.0, embedding: rest.1.0, chip: rest.1.1!)
        }
    }
}

/// The NUL-terminated message a C call wrote into `buffer`.
func cMessage(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
