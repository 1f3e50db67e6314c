import Foundation

/// The whole gallery in memory for matching: every template vector in one contiguous array.
public struct GallerySnapshot: Sendable {
    public struct Entry: Sendable, Hashable {
        public var personID: Int64
        public var name: String
        public var displayName: String
        public var enabled: Bool
        public var validFrom: Date?
        public var validUntil: Date?
        public var groups: [String]
        /// The person's own schedules and those of their groups, as written ("mon-fri 07:00-19:00").
        public var schedules: [String]
        /// The person's own security level, if any (stricter than the door's).
        public var securityLevel: String?
        /// The person's own liveness mode, if any (stricter than the door's).
        public var liveness: String?

        public init(personID: Int64, name: String, displayName: String, enabled: Bool, validFrom: Date? = nil,
                    validUntil: Date? = nil, groups: [String] = [], schedules: [String] = []) {
            self.personID = personID
            self.name = name
            self.displayName = displayName
            self.enabled = enabled
            self.validFrom = validFrom
            self.validUntil = validUntil
            self.groups = groups
            self.schedules = schedules
        }
    }

    /// People that own at least one template, in person-id order.
    public let people: [Entry]
    /// For template `i`: its index into `people`.
    public let owner: [Int32]
    public let templateIDs: [Int64]
    /// `count * dimension` floats, template `i` at `i * dimension`.
    public let vectors: [Float]
    /// The gallery generation this snapshot was read at.
    public let generation: Int64

    public static let dimension = FaceTemplate.dimension
    public var count: Int { owner.count }
    public var isEmpty: Bool { owner.isEmpty }

    public init(people: [Entry], owner: [Int32], templateIDs: [Int64], vectors: [Float], generation: Int64) {
        precondition(owner.count == templateIDs.count && vectors.count == owner.count * Self.dimension,
                     "snapshot arrays disagree in length")
        precondition(owner.allSatisfy { $0 >= 0 && Int($0) < people.count }, "template owner out of range")
        self.people = people
        self.owner = owner
        self.templateIDs = templateIDs
        self.vectors = vectors
        self.generation = generation
    }

    public static let empty = GallerySnapshot(people: [], owner: [], templateIDs: [], vectors: [], generation: 0)
}
