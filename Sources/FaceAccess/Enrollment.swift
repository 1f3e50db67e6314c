import Crypto
import FaceStore
import FaceVision
import Foundation

/// Why a photo cannot be enrolled.
public enum PhotoRejection: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(String)
    /// No detector of `detectors` found a face.
    case noFace(minFace: Int, detectors: [FaceDetector] = [.hog])
    case severalFaces(count: Int)
    /// The face failed a check of the quality gate.
    case quality(QualityFailure)
    case alreadyEnrolled(person: String)
    case repeatedInCommand(String)

    public var description: String {
        switch self {
        case let .unreadable(reason): reason
        case let .noFace(minFace, detectors):
            "no face of at least \(minFace) px found\(detectors.count > 1 ? " by the HOG or the CNN detector" : ""); use a sharper, closer photo"
        case let .severalFaces(count): "\(count) faces found; crop the photo to one face or pass --largest"
        case let .quality(failure): failure.description
        case let .alreadyEnrolled(person): "this exact photo is already enrolled for \(person)"
        case let .repeatedInCommand(other): "the same photo as \(other)"
        }
    }
}

/// A photo whose face passed the checks and is ready to be stored.
public struct PreparedPhoto: Sendable {
    public var path: String
    public var sha256: String
    public var face: Face
    public var quality: PhotoQuality
    /// The detector that found the face: the CNN when HOG found none.
    public var detector: FaceDetector
}

/// A prepared face that already looks like someone else enrolled.
public struct EnrollmentConflict: Sendable, Hashable {
    public var path: String
    public var otherPerson: String
    public var distance: Float
}

public struct EnrollmentOptions: Sendable {
    /// The smallest face the detector looks for, px.
    public var minFace: Int
    /// Take the largest face of a photo with several instead of rejecting it.
    public var takeLargest: Bool
    public var detector: FaceDetector
    /// The quality gate; by default its size limit is `minFace`.
    public var limits: QualityLimits
    /// When HOG finds no face, look again with the CNN detector (if the engine has it loaded):
    /// it finds tilted faces HOG misses.
    public var cnnFallback: Bool

    public static let defaultMinFace = 80

    public init(minFace: Int = EnrollmentOptions.defaultMinFace, takeLargest: Bool = false, detector: FaceDetector = .hog,
                limits: QualityLimits = QualityLimits(), cnnFallback: Bool = true) {
        self.minFace = minFace
        self.takeLargest = takeLargest
        self.detector = detector
        self.cnnFallback = cnnFallback
        self.limits = limits
        self.limits.minFace = minFace
    }
}

/// A photo read from disk with its hash, before any face work.
public struct PhotoFile: Sendable {
    public var path: String
    public var bytes: [UInt8]
    public var sha256: String

    /// Reads `path`; a missing or unreadable file is a rejection, not a throw.
    public static func read(_ path: String) -> Result<PhotoFile, PhotoRejection> {
        do {
            let bytes = try ImageDecoder.read(path)
            return .success(PhotoFile(path: path, bytes: bytes, sha256: Enroller.sha256(bytes)))
        } catch let error as ImageFileError {
            return .failure(.unreadable(error.reason))
        } catch {
            return .failure(.unreadable(String(describing: error)))
        }
    }
}

/// A photo far from the same person's other photos: likely someone else in their folder.
public struct SpreadWarning: Sendable, Hashable {
    public var person: String
    public var photo: String
    /// Median distance to the person's other photos.
    public var medianDistance: Float
}

/// Turns photos into templates: one face per photo, checked, embedded, and stored all at once.
/// With several engines, photos are examined in parallel, one engine per worker.
public struct Enroller: Sendable {
    public let engines: [FaceEngine]
    public let store: FaceStore
    public var decoder = ImageDecoder()

    public var engine: FaceEngine { engines[0] }

    public init(engine: FaceEngine, store: FaceStore) {
        self.init(engines: [engine], store: store)
    }

    public init(engines: [FaceEngine], store: FaceStore) {
        precondition(!engines.isEmpty, "an enroller needs an engine")
        self.engines = engines
        self.store = store
    }

    /// Checks and embeds each photo. The result keeps the input order.
    public func prepare(_ paths: [String], for name: String, options: EnrollmentOptions,
                        progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws
        -> [(path: String, result: Result<PreparedPhoto, PhotoRejection>)] {
        let existing = try store.person(named: name)
        let knownHashes = Set(try existing.map { try store.templates(ofPersonID: $0.id!).map(\.sourceSHA256) } ?? [])
        var seen = [String: String]()
        var results = [Result<PreparedPhoto, PhotoRejection>?](repeating: nil, count: paths.count)
        var files = [(index: Int, file: PhotoFile)]()
        for (i, path) in paths.enumerated() {
            switch PhotoFile.read(path) {
            case let .failure(rejection): results[i] = .failure(rejection)
            case let .success(file):
                if let person = existing?.name, knownHashes.contains(file.sha256) { results[i] = .failure(.alreadyEnrolled(person: person)) }
                else if let first = seen[file.sha256] { results[i] = .failure(.repeatedInCommand(first)) }
                else {
                    seen[file.sha256] = path
                    files.append((i, file))
                }
            }
        }
        for (slot, result) in zip(files.map(\.index), examine(files.map(\.file), options: options, progress: progress)) {
            results[slot] = result
        }
        return zip(paths, results).map { ($0, $1!) }
    }

    /// Decodes, detects, gates and embeds `files` on all workers; results in input order.
    /// `progress(done, total)` is called after each photo, from the worker threads.
    public func examine(_ files: [PhotoFile], options: EnrollmentOptions,
                        progress: @Sendable (Int, Int) -> Void = { _, _ in }) -> [Result<PreparedPhoto, PhotoRejection>] {
        examine(files, options: Array(repeating: options, count: files.count), progress: progress)
    }

    /// The same with options per photo (a manifest's people differ in `largest`).
    public func examine(_ files: [PhotoFile], options: [EnrollmentOptions],
                        progress: @Sendable (Int, Int) -> Void = { _, _ in }) -> [Result<PreparedPhoto, PhotoRejection>] {
        precondition(options.count == files.count, "one set of options per photo")
        let results = ResultSlots(count: files.count)
        let workers = min(engines.count, files.count)
        guard workers > 0 else { return [] }
        if workers > 1 { FaceEngine.setBLASThreads(1) }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while let i = results.claim() {
                let result: Result<PreparedPhoto, PhotoRejection>
                do { result = try examineOne(files[i], options: options[i], engine: engines[worker]) }
                catch { result = .failure(.unreadable("the face engine failed: \(error)")) }
                progress(results.finish(i, result), files.count)
            }
        }
        return results.all
    }

    private func examineOne(_ file: PhotoFile, options: EnrollmentOptions, engine: FaceEngine) throws -> Result<PreparedPhoto, PhotoRejection> {
        let image: RGBImage
        do { image = try decoder.decode(bytes: file.bytes, path: file.path) }
        catch let error as ImageFileError { return .failure(.unreadable(error.reason)) }
        let gray = image.grayscale()
        var detector = options.detector
        var found = try engine.detect(image, gray: gray, minFace: options.minFace, detector: detector)
        if found.isEmpty, detector == .hog, options.cnnFallback, engine.hasCNN {
            detector = .cnn
            found = try engine.detect(image, minFace: options.minFace, detector: .cnn)
        }
        if found.isEmpty {
            // A face smaller than asked for is worth naming with its size: --min-face can take it.
            let floor = Int(QualityLimit.minFace.hardLimit)
            if options.minFace > floor, let small = try engine.detect(gray, minFace: floor).max(by: { $0.box.area < $1.box.area }),
               min(small.box.width, small.box.height) < options.limits.minFace {
                let size = min(small.box.width, small.box.height)
                return .failure(.quality(QualityFailure(check: .size, value: Double(size), limit: Double(options.limits.minFace), isMinimum: true)))
            }
            return .failure(.noFace(minFace: options.minFace, detectors: detector == options.detector ? [detector] : [.hog, .cnn]))
        }
        if found.count > 1 {
            guard options.takeLargest else { return .failure(.severalFaces(count: found.count)) }
            found = [found.max { $0.box.area < $1.box.area }!]
        }
        let face = try engine.describe(found, in: image, gray: gray)[0]
        let quality = PhotoQuality(face: face, imageWidth: image.width, imageHeight: image.height)
        if let failure = options.limits.failure(of: quality) { return .failure(.quality(failure)) }
        return .success(PreparedPhoto(path: file.path, sha256: file.sha256, face: face, quality: quality, detector: detector))
    }

    /// Prepared faces that match a *different* enrolled person at `level`'s distance.
    public func conflicts(_ photos: [PreparedPhoto], for name: String, level: SecurityLevel = .standard) throws -> [EnrollmentConflict] {
        let snapshot = try store.snapshot()
        let own = snapshot.people.first { Names.folded($0.name) == Names.folded(name) }?.personID
        let matcher = Matcher(snapshot: snapshot)
        return photos.compactMap { photo in
            guard let best = matcher.match(photo.face.embedding.values, excludingPersonID: own).best,
                  best.distance <= level.maxDistance else { return nil }
            return EnrollmentConflict(path: photo.path, otherPerson: best.name, distance: best.distance)
        }
    }

    /// Photos whose median distance to the person's other photos is above `limit`. Two photos far
    /// apart are both named: either may be the stranger.
    public static func spread(of person: String, _ photos: [(name: String, vector: [Float])], limit: Float = spreadLimit) -> [SpreadWarning] {
        guard photos.count >= 2 else { return [] }
        return photos.indices.compactMap { i in
            let distances = photos.indices.filter { $0 != i }.map { FaceEmbedding(photos[i].vector).distance(to: FaceEmbedding(photos[$0].vector)) }
            let sorted = distances.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            return median > limit ? SpreadWarning(person: person, photo: photos[i].name, medianDistance: median) : nil
        }
    }

    /// Photos of one person are rarely farther apart than this, photos of two people rarely closer.
    public static let spreadLimit: Float = 0.6

    /// Stores every prepared photo under `name` in one transaction.
    @discardableResult
    public func commit(_ photos: [PreparedPhoto], name: String, displayName: String? = nil, action: AdminAction = .enroll,
                       note: String? = nil) throws -> Person {
        try store.enroll(name: name, displayName: displayName, templates: photos.map(\.template), action: action, note: note)
    }

    public static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}

extension PreparedPhoto {
    /// The row to store, with its provenance and quality figures.
    public var template: FaceTemplate {
        let box = face.detection.box
        var template = FaceTemplate(vector: face.embedding.values, sourceName: URL(fileURLWithPath: path).lastPathComponent,
                                    sourceSHA256: sha256, box: (box.x, box.y, box.width, box.height),
                                    detectorScore: Double(face.detection.score), sharpness: quality.sharpness,
                                    brightness: quality.brightness)
        template.faceSize = quality.faceSize
        template.contrast = quality.contrast
        template.yaw = quality.yaw
        template.roll = quality.roll
        return template
    }
}

/// Work slots shared by the workers: each claims the next photo and files its result.
final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0, done = 0
    private var results: [Result<PreparedPhoto, PhotoRejection>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        lock.withLock {
            guard next < results.count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    /// Files a result; returns how many are done.
    func finish(_ index: Int, _ result: Result<PreparedPhoto, PhotoRejection>) -> Int {
        lock.withLock {
            results[index] = result
            done += 1
            return done
        }
    }

    var all: [Result<PreparedPhoto, PhotoRejection>] { lock.withLock { results.map { $0! } } }
}

/// Why an audit event's snapshot cannot be enrolled.
public enum EventPhotoError: Error, Equatable, CustomStringConvertible {
    case noEvent(Int64)
    case notADecision(Int64, kind: String)
    case granted(Int64, person: String)
    case noSnapshot(Int64)
    case snapshotGone(Int64, path: String)

    public var description: String {
        switch self {
        case let .noEvent(id): "no event \(id) in the audit log (see `facectl log`)"
        case let .notADecision(id, kind): "event \(id) is a \(kind) event; --from-event takes an unknown or denied visitor"
        case let .granted(id, person): "event \(id) granted \(person); --from-event takes an unknown or denied visitor"
        case let .noSnapshot(id): "event \(id) has no snapshot; faced keeps them only with --snapshots (snapshots.directory)"
        case let .snapshotGone(id, path): "the snapshot of event \(id), \(path), is gone (deleted after the retention period?)"
        }
    }
}

extension Enroller {
    /// The face snapshot faced kept of an unknown or denied visitor: the "teach it this person" photo.
    public static func snapshot(ofEvent id: Int64, in store: FaceStore) throws -> String {
        guard let event = try store.event(id: id) else { throw EventPhotoError.noEvent(id) }
        guard event.kind == .decision else { throw EventPhotoError.notADecision(id, kind: event.kind.rawValue) }
        if event.decision == .granted { throw EventPhotoError.granted(id, person: event.personName ?? "someone") }
        guard let path = event.snapshotPath else { throw EventPhotoError.noSnapshot(id) }
        guard FileManager.default.fileExists(atPath: path) else { throw EventPhotoError.snapshotGone(id, path: path) }
        return path
    }
}
