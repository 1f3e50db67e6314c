import Foundation
import GRDB

/// An enrolled person. `name` is the short unique handle used on the command line.
public struct Person: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "people"
    public var id: Int64?
    public var name: String
    public var displayName: String
    public var createdAt: Date
    public var enabled: Bool
    /// Access starts at this instant, if set.
    public var validFrom: Date?
    /// Access ends at this instant, if set.
    public var validUntil: Date?
    /// A security level stricter than the door's for this person ("strict"), if set.
    public var securityLevel: String?
    /// A liveness mode stricter than the door's for this person ("motion"), if set.
    public var liveness: String?

    public init(id: Int64? = nil, name: String, displayName: String? = nil, createdAt: Date = Date(), enabled: Bool = true) {
        self.id = id
        self.name = name
        self.displayName = displayName ?? name
        self.createdAt = createdAt
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case id, name, displayName = "display_name", createdAt = "created_at", enabled
        case validFrom = "valid_from", validUntil = "valid_until", securityLevel = "security_level", liveness
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One face descriptor of a person, with where it came from and how good the photo was.
public struct FaceTemplate: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "templates"
    public static let dimension = 128

    public var id: Int64?
    public var personID: Int64
    /// 128 little-endian Float32 values (512 bytes).
    public var vector: Data
    public var sourceName: String
    public var sourceSHA256: String
    public var boxX: Int
    public var boxY: Int
    public var boxWidth: Int
    public var boxHeight: Int
    /// The detector's confidence for this face.
    public var detectorScore: Double
    /// Variance of the Laplacian of the aligned chip; low means blurred.
    public var sharpness: Double
    /// Mean luma of the aligned chip, 0...255.
    public var brightness: Double
    /// The quality gate's other figures (nil for templates enrolled before it): the face box's
    /// shorter side in px, the chip's luma standard deviation, and the rough pose in degrees.
    public var faceSize: Int?
    public var contrast: Double?
    public var yaw: Double?
    public var roll: Double?
    public var createdAt: Date

    public init(id: Int64? = nil, personID: Int64 = 0, vector: [Float], sourceName: String, sourceSHA256: String,
                box: (x: Int, y: Int, width: Int, height: Int), detectorScore: Double, sharpness: Double,
                brightness: Double, createdAt: Date = Date()) {
        precondition(vector.count == Self.dimension, "a template has \(Self.dimension) values")
        self.id = id
        self.personID = personID
        self.vector = Self.encode(vector)
        self.sourceName = sourceName
        self.sourceSHA256 = sourceSHA256
        (boxX, boxY, boxWidth, boxHeight) = box
        self.detectorScore = detectorScore
        self.sharpness = sharpness
        self.brightness = brightness
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, personID = "person_id", vector, sourceName = "source_name", sourceSHA256 = "source_sha256"
        case boxX = "box_x", boxY = "box_y", boxWidth = "box_width", boxHeight = "box_height"
        case detectorScore = "detector_score", sharpness, brightness, createdAt = "created_at"
        case faceSize = "face_size", contrast, yaw, roll
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    public var values: [Float] { Self.decode(vector) }

    static func encode(_ values: [Float]) -> Data {
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func decode(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in
            (0 ..< raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}

/// A person with how many templates they have, for listings.
public struct PersonSummary: Sendable, Hashable {
    public var person: Person
    public var templateCount: Int
}
