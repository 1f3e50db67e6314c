import Foundation
import GRDB

/// A change to one person's access; nil fields stay as they are.
public struct PersonUpdate: Sendable {
    public var displayName: String?
    public var enabled: Bool?
    /// `.some(nil)` clears the date.
    public var validFrom: Date??
    public var validUntil: Date??
    /// Replaces the person's groups.
    public var groups: [String]?
    /// Replaces the person's own schedules (validated by the caller).
    public var schedules: [String]?
    /// `.some(nil)` clears the person's own security level.
    public var securityLevel: String??
    /// `.some(nil)` clears the person's own liveness mode.
    public var liveness: String??

    public init(displayName: String? = nil, enabled: Bool? = nil, validFrom: Date?? = nil, validUntil: Date?? = nil,
                groups: [String]? = nil, schedules: [String]? = nil, securityLevel: String?? = nil, liveness: String?? = nil) {
        self.displayName = displayName
        self.enabled = enabled
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.groups = groups
        self.schedules = schedules
        self.securityLevel = securityLevel
        self.liveness = liveness
    }
}

extension PersonUpdate {
    /// The fields this update sets, in words, for the admin event.
    var summary: String {
        func day(_ d: Date?) -> String { d?.formatted(.iso8601) ?? "none" }
        var parts = [String]()
        if let displayName { parts.append("display name \"\(displayName)\"") }
        if let enabled { parts.append(enabled ? "enabled" : "disabled") }
        if let validFrom { parts.append("valid from \(day(validFrom))") }
        if let validUntil { parts.append("valid until \(day(validUntil))") }
        if let groups { parts.append("groups " + (groups.isEmpty ? "none" : groups.joined(separator: ", "))) }
        if let schedules { parts.append("schedules " + (schedules.isEmpty ? "none" : schedules.joined(separator: "; "))) }
        if let securityLevel { parts.append("level \(securityLevel ?? "the door's")") }
        if let liveness { parts.append("liveness \(liveness ?? "the door's")") }
        return parts.isEmpty ? "nothing changed" : parts.joined(separator: "; ")
    }
}

/// A person's access as stored: their groups, own schedules, and the schedules they get from groups.
public struct PersonAccess: Sendable, Hashable {
    public var groups: [String]
    public var ownSchedules: [String]
    public var groupSchedules: [String: [String]]
}

extension FaceStore {
    /// Applies `update` to the person in one transaction.
    @discardableResult
    public func update(name: String, _ update: PersonUpdate, by actor: AdminActor = .current) throws -> Person {
        try writer.write { db in
            guard var person = try Person.filter(Column("name") == Names.normalized(name)).fetchOne(db) else { throw StoreError.personNotFound(name) }
            if let v = update.displayName { person.displayName = try Person.checkedDisplayName(v) }
            if let v = update.enabled { person.enabled = v }
            if let v = update.validFrom { person.validFrom = v }
            if let v = update.validUntil { person.validUntil = v }
            if let v = update.securityLevel { person.securityLevel = v }
            if let v = update.liveness { person.liveness = v }
            try person.update(db)
            if let groups = update.groups {
                try Person.checkGroups(groups.map(Names.groupKey), in: db)
                try db.execute(sql: "DELETE FROM person_groups WHERE person_id = ?", arguments: [person.id])
                for g in Set(groups.map(Names.groupKey)).sorted() {
                    try db.execute(sql: "INSERT INTO person_groups (person_id, group_name) VALUES (?, ?)", arguments: [person.id, g])
                }
            }
            if let schedules = update.schedules {
                try db.execute(sql: "DELETE FROM schedules WHERE person_id = ?", arguments: [person.id])
                for spec in schedules {
                    try db.execute(sql: "INSERT INTO schedules (person_id, spec) VALUES (?, ?)", arguments: [person.id, spec])
                }
            }
            try Self.logAdmin(.set, subject: person.name, update.summary, by: actor, db)
            return person
        }
    }

    /// Replaces the schedules of a group (validated by the caller).
    public func setSchedules(_ specs: [String], group: String, by actor: AdminActor = .current) throws {
        try writer.write { db in
            let group = Names.groupKey(group)
            try Person.checkGroups([group], in: db)
            try Self.logAdmin(.group, subject: nil, "group \(group): schedules "
                + (specs.isEmpty ? "none" : specs.joined(separator: "; ")), by: actor, db)
            try db.execute(sql: "DELETE FROM schedules WHERE group_name = ?", arguments: [group])
            for spec in specs {
                try db.execute(sql: "INSERT INTO schedules (group_name, spec) VALUES (?, ?)", arguments: [group, spec])
            }
        }
    }

    /// Every group that has members or schedules, with its schedules and members.
    public func groups() throws -> [(name: String, schedules: [String], members: [String])] {
        try reader.read { db in
            let names = try String.fetchAll(db, sql: """
                SELECT group_name FROM person_groups UNION SELECT group_name FROM schedules WHERE group_name IS NOT NULL
                ORDER BY 1
                """)
            return try names.map { g in
                (g, try String.fetchAll(db, sql: "SELECT spec FROM schedules WHERE group_name = ? ORDER BY id", arguments: [g]),
                 try String.fetchAll(db, sql: """
                    SELECT p.name FROM person_groups pg JOIN people p ON p.id = pg.person_id WHERE pg.group_name = ? ORDER BY p.name
                    """, arguments: [g]))
            }
        }
    }

    public func access(ofPersonID id: Int64) throws -> PersonAccess {
        try reader.read { db in
            let groups = try String.fetchAll(db, sql: "SELECT group_name FROM person_groups WHERE person_id = ? ORDER BY 1", arguments: [id])
            let own = try String.fetchAll(db, sql: "SELECT spec FROM schedules WHERE person_id = ? ORDER BY id", arguments: [id])
            var byGroup = [String: [String]]()
            for g in groups {
                byGroup[g] = try String.fetchAll(db, sql: "SELECT spec FROM schedules WHERE group_name = ? ORDER BY id", arguments: [g])
            }
            return PersonAccess(groups: groups, ownSchedules: own, groupSchedules: byGroup)
        }
    }

    /// Groups and effective schedules (own plus groups') of every person, by person id.
    static func accessRows(_ db: Database) throws -> (groups: [Int64: [String]], schedules: [Int64: [String]]) {
        var groups = [Int64: [String]](), schedules = [Int64: [String]]()
        for row in try Row.fetchAll(db, sql: "SELECT person_id, group_name FROM person_groups ORDER BY group_name") {
            groups[row["person_id"], default: []].append(row["group_name"])
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT person_id, spec FROM schedules WHERE person_id IS NOT NULL
            UNION ALL
            SELECT pg.person_id, s.spec FROM schedules s JOIN person_groups pg ON pg.group_name = s.group_name
            """) {
            schedules[row["person_id"], default: []].append(row["spec"])
        }
        return (groups, schedules)
    }
}
