import Foundation
import GRDB

/// One person as a manifest wants them: every field is set, templates are added and removed.
public struct PersonSync: Sendable {
    public var name: String
    public var displayName: String
    public var enabled: Bool
    public var validFrom: Date?
    public var validUntil: Date?
    public var securityLevel: String?
    /// The person's own liveness mode; nil: the door's.
    public var liveness: String?
    public var groups: [String]
    public var schedules: [String]
    public var addTemplates: [FaceTemplate]
    /// Templates to delete, by the sha256 of their source photo.
    public var removeSHA256: [String]

    public init(name: String, displayName: String, enabled: Bool, validFrom: Date?, validUntil: Date?, securityLevel: String?,
                liveness: String? = nil, groups: [String], schedules: [String], addTemplates: [FaceTemplate], removeSHA256: [String]) {
        self.name = name
        self.displayName = displayName
        self.enabled = enabled
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.securityLevel = securityLevel
        self.liveness = liveness
        self.groups = groups
        self.schedules = schedules
        self.addTemplates = addTemplates
        self.removeSHA256 = removeSHA256
    }
}

/// A whole gallery change from a manifest, applied in one transaction.
public struct GallerySync: Sendable {
    public var people: [PersonSync]
    /// Every group's schedules; groups with schedules in the store but not here lose them.
    public var groupSchedules: [String: [String]]
    /// People to delete with their templates.
    public var remove: [String]

    public init(people: [PersonSync], groupSchedules: [String: [String]], remove: [String]) {
        self.people = people
        self.groupSchedules = groupSchedules
        self.remove = remove
    }
}

extension GallerySync {
    /// What the sync changes, in counts, for the admin event.
    var summary: String {
        let added = people.reduce(0) { $0 + $1.addTemplates.count }, removed = people.reduce(0) { $0 + $1.removeSHA256.count }
        return "\(people.count) \(people.count == 1 ? "person" : "people") written, \(remove.count) removed; "
            + "\(added) template\(added == 1 ? "" : "s") added, \(removed) removed; \(groupSchedules.count) group schedule\(groupSchedules.count == 1 ? "" : "s")"
    }
}

extension FaceStore {
    /// Applies `sync` in one transaction: any failure leaves the gallery as it was.
    public func apply(_ sync: GallerySync, by actor: AdminActor = .current) throws {
        for person in sync.people where !Person.isValidName(person.name) { throw StoreError.invalidName(person.name) }
        try writer.write { db in
            for name in sync.remove {
                guard let person = try Person.filter(Column("name") == Names.normalized(name)).fetchOne(db) else { throw StoreError.personNotFound(name) }
                try person.delete(db)
            }
            for wanted in sync.people {
                let name = Names.normalized(wanted.name)
                let stored = try Person.filter(Column("name") == name).fetchOne(db)
                if stored == nil { try Person.checkDistinct(name, in: db) }
                var person = stored ?? Person(name: name)
                person.displayName = try Person.checkedDisplayName(wanted.displayName)
                person.enabled = wanted.enabled
                person.validFrom = wanted.validFrom
                person.validUntil = wanted.validUntil
                person.securityLevel = wanted.securityLevel
                person.liveness = wanted.liveness
                if stored == nil { try person.insert(db) } else if person != stored { try person.update(db) }
                let id = person.id!
                for sha in wanted.removeSHA256 {
                    try db.execute(sql: "DELETE FROM templates WHERE person_id = ? AND source_sha256 = ?", arguments: [id, sha])
                }
                for var template in wanted.addTemplates {
                    template.personID = id
                    try template.insert(db)
                }
                let groups = try String.fetchAll(db, sql: "SELECT group_name FROM person_groups WHERE person_id = ? ORDER BY 1", arguments: [id])
                let wantedGroups = Set(wanted.groups.map(Names.groupKey)).sorted()
                if groups != wantedGroups {
                    try Person.checkGroups(wantedGroups, in: db)
                    try db.execute(sql: "DELETE FROM person_groups WHERE person_id = ?", arguments: [id])
                    for g in wantedGroups {
                        try db.execute(sql: "INSERT INTO person_groups (person_id, group_name) VALUES (?, ?)", arguments: [id, g])
                    }
                }
                let schedules = try String.fetchAll(db, sql: "SELECT spec FROM schedules WHERE person_id = ? ORDER BY id", arguments: [id])
                if schedules != wanted.schedules {
                    try db.execute(sql: "DELETE FROM schedules WHERE person_id = ?", arguments: [id])
                    for spec in wanted.schedules {
                        try db.execute(sql: "INSERT INTO schedules (person_id, spec) VALUES (?, ?)", arguments: [id, spec])
                    }
                }
            }
            let stored = try String.fetchAll(db, sql: "SELECT DISTINCT group_name FROM schedules WHERE group_name IS NOT NULL")
            for group in Set(stored).union(sync.groupSchedules.keys.map(Names.groupKey)) {
                let wanted = sync.groupSchedules[group] ?? []
                let current = try String.fetchAll(db, sql: "SELECT spec FROM schedules WHERE group_name = ? ORDER BY id", arguments: [group])
                if current == wanted { continue }
                try db.execute(sql: "DELETE FROM schedules WHERE group_name = ?", arguments: [group])
                for spec in wanted {
                    try db.execute(sql: "INSERT INTO schedules (group_name, spec) VALUES (?, ?)", arguments: [group, spec])
                }
            }
            try Self.logAdmin(.sync, subject: nil, sync.summary, by: actor, db)
        }
    }
}
