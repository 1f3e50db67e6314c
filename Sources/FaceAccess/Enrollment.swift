import Crypto
import FaceStore
import FaceVision
import Foundation

/// Why a photo cannot be enrolled.
public enum PhotoRejection: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(String)
    case noFace(minFace: Int)
    case severalFaces(count: Int)
    case faceTooSmall(size: Int, minFace: Int)
    case alreadyEnrolled(person: String)
    case repeatedInCommand(String)

    public var description: String {
        switch self {
        case let .unreadable(reason): reason
        case let .noFace(minFace): "no face of at least \(minFace) px found; use a sharper, closer photo"
        case let .severalFaces(count): "\(count) faces found; crop the photo to one face or pass --largest"
        case let .faceTooSmall(size, minFace): "the face is \(size) px, below the \(minFace) px minimum; use a closer photo"
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
    public var quality: FaceQuality
}

/// A prepared face that already looks like someone else enrolled.
public struct EnrollmentConflict: Sendable, Hashable {
    public var path: String
    public var otherPerson: String
    public var distance: Float
}

public struct EnrollmentOptions: Sendable {
    /// Smallest accepted face side in pixels.
    public var minFace: Int
    /// Take the largest face of a photo with several instead of rejecting it.
    public var takeLargest: Bool
    public var detector: FaceDetector

    public static let defaultMinFace = 80

    public init(minFace: Int = EnrollmentOptions.defaultMinFace, takeLargest: Bool = false, detector: FaceDetector = .hog) {
        self.minFace = minFace
        self.takeLargest = takeLargest
        self.detector = detector
    }
}

/// Turns photos into templates: one face per photo, checked, embedded, and stored all at once.
public struct Enroller: Sendable {
    public let engine: FaceEngine
    public let store: FaceStore
    public var decoder = ImageDecoder()

    public init(engine: FaceEngine, store: FaceStore) {
        self.engine = engine
        self.store = store
    }

    /// Checks and embeds each photo. The result keeps the input order.
    public func prepare(_ paths: [String], for name: String, options: EnrollmentOptions) throws
        -> [(path: String, result: Result<PreparedPhoto, PhotoRejection>)] {
        let existing = try store.person(named: name)
        let knownHashes = Set(try existing.map { try store.templates(ofPersonID: $0.id!).map(\.sourceSHA256) } ?? [])
        var seen = [String: String]()
        return try paths.map { path in
            (path, try prepareOne(path, options: options, person: existing?.name, knownHashes: knownHashes, seen: &seen))
        }
    }

    private func prepareOne(_ path: String, options: EnrollmentOptions, person: String?, knownHashes: Set<String>,
                            seen: inout [String: String]) throws -> Result<PreparedPhoto, PhotoRejection> {
        let bytes: [UInt8], image: RGBImage
        do {
            bytes = try ImageDecoder.read(path)
            image = try decoder.decode(bytes: bytes, path: path)
        } catch let error as ImageFileError {
            return .failure(.unreadable(error.reason))
        }
        let sha = Self.sha256(bytes)
        if let person, knownHashes.contains(sha) { return .failure(.alreadyEnrolled(person: person)) }
        if let first = seen[sha] { return .failure(.repeatedInCommand(first)) }
        seen[sha] = path
        let gray = image.grayscale()
        var found = try engine.detect(image, gray: gray, minFace: options.minFace, detector: options.detector)
        if found.isEmpty { return .failure(.noFace(minFace: options.minFace)) }
        if found.count > 1 {
            guard options.takeLargest else { return .failure(.severalFaces(count: found.count)) }
            found = [found.max { $0.box.area < $1.box.area }!]
        }
        let size = min(found[0].box.width, found[0].box.height)
        if size < options.minFace { return .failure(.faceTooSmall(size: size, minFace: options.minFace)) }
        let face = try engine.describe(found, in: image, gray: gray)[0]
        return .success(PreparedPhoto(path: path, sha256: sha, face: face, quality: face.quality))
    }

    /// Prepared faces that match a *different* enrolled person at `level`'s distance.
    public func conflicts(_ photos: [PreparedPhoto], for name: String, level: SecurityLevel = .standard) throws -> [EnrollmentConflict] {
        let snapshot = try store.snapshot()
        let own = snapshot.people.first { $0.name.lowercased() == name.lowercased() }?.personID
        let matcher = Matcher(snapshot: snapshot)
        return photos.compactMap { photo in
            guard let best = matcher.match(photo.face.embedding.values, excludingPersonID: own).best,
                  best.distance <= level.maxDistance else { return nil }
            return EnrollmentConflict(path: photo.path, otherPerson: best.name, distance: best.distance)
        }
    }

    /// Stores every prepared photo under `name` in one transaction.
    @discardableResult
    public func commit(_ photos: [PreparedPhoto], name: String, displayName: String? = nil) throws -> Person {
        let templates = photos.map { p in
            let box = p.face.detection.box
            return FaceTemplate(vector: p.face.embedding.values, sourceName: URL(fileURLWithPath: p.path).lastPathComponent,
                                sourceSHA256: p.sha256, box: (box.x, box.y, box.width, box.height),
                                detectorScore: Double(p.face.detection.score), sharpness: p.quality.sharpness,
                                brightness: p.quality.brightness)
        }
        return try store.enroll(name: name, displayName: displayName, templates: templates)
    }

    public static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
