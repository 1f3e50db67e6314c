import Foundation
import GRDB

public enum StoreError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case noDatabase(String)
    case invalidName(String)
    case invalidDisplayName(String, String)
    /// The name differs from an enrolled person's only in case (after Unicode case folding).
    case nameTaken(name: String, existing: String)
    /// The name looks like an enrolled person's (same UTS #39 skeleton); `character` is the odd one out.
    case lookalikeName(name: String, existing: String, character: String?)
    case lookalikeGroup(name: String, existing: String)
    case personNotFound(String)
    case duplicatePhoto(person: String, source: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): "cannot open database \(path): \(reason)"
        case let .noDatabase(path): "no database at \(path); enroll someone first, or pass --db or set FACED_DB"
        case let .invalidName(name):
            "invalid name '\(Names.shown(name))'\(Names.nameProblem(name).map { " (\($0))" } ?? ""): use letters, digits, "
                + "'.', '_' or '-', at most \(Names.maxNameBytes) bytes, starting with a letter or digit"
        case let .invalidDisplayName(text, problem): "invalid display name '\(text)': \(problem)"
        case let .nameTaken(name, existing):
            "'\(name)' differs only in case from enrolled person '\(existing)'; use '\(existing)' or another name"
        case let .lookalikeName(name, existing, character):
            "'\(name)' looks like enrolled person '\(existing)'\(character.map { " (it holds \($0))" } ?? ""); choose a name that cannot be mistaken for theirs"
        case let .lookalikeGroup(name, existing):
            "group '\(name)' looks like existing group '\(existing)'; use '\(existing)' or a name that cannot be mistaken for it"
        case let .personNotFound(name): "no person named '\(name)' is enrolled (see `facectl list`)"
        case let .duplicatePhoto(person, source): "\(source) is already enrolled for \(person)"
        }
    }
}

/// The gallery database: people and their face templates, in SQLite (WAL mode).
public final class FaceStore: Sendable {
    public let path: String
    let writer: any DatabaseWriter

    public static let defaultPath = "/var/lib/faced/faced.db"

    /// `explicit`, else $FACED_DB, else the default path.
    public static func resolvePath(_ explicit: String? = nil,
                                   environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["FACED_DB"], !env.isEmpty { return env }
        return defaultPath
    }

    /// Opens the database at `path` and brings its schema up to date. With `create`, a missing
    /// file (and its parent directory, mode 0700) is created; without, it is a `noDatabase` error.
    public init(path: String, create: Bool = true) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        if !create && !FileManager.default.fileExists(atPath: path) { throw StoreError.noDatabase(path) }
        do {
            let dir = url.deletingLastPathComponent()
            if !FileManager.default.fileExists(atPath: dir.path) {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            var config = Configuration()
            config.foreignKeysEnabled = true
            config.busyMode = .timeout(5)
            let pool = try DatabasePool(path: path, configuration: config)
            try Schema.migrator.migrate(pool)
            writer = pool
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? error.description)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: error.localizedDescription)
        }
    }

    // MARK: Reading

    public func person(named name: String) throws -> Person? {
        try writer.read { db in try Person.filter(Column("name") == Names.normalized(name)).fetchOne(db) }
    }

    public func people() throws -> [PersonSummary] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT people.*, (SELECT COUNT(*) FROM templates WHERE person_id = people.id) AS template_count
                FROM people ORDER BY name COLLATE NOCASE
                """).map { PersonSummary(person: try Person(row: $0), templateCount: $0["template_count"]) }
        }
    }

    public func templates(ofPersonID id: Int64) throws -> [FaceTemplate] {
        try writer.read { db in try FaceTemplate.filter(Column("person_id") == id).order(Column("id")).fetchAll(db) }
    }

    public func counts() throws -> (people: Int, templates: Int) {
        try writer.read { db in (try Person.fetchCount(db), try FaceTemplate.fetchCount(db)) }
    }

    /// Increases with every change to people or templates.
    public func generation() throws -> Int64 {
        try writer.read { db in try Int64.fetchOne(db, sql: "SELECT generation FROM gallery_state WHERE id = 1") ?? 0 }
    }

    /// Every template with its owner, read in one transaction.
    public func snapshot() throws -> GallerySnapshot {
        try writer.read { db in
            let generation = try Int64.fetchOne(db, sql: "SELECT generation FROM gallery_state WHERE id = 1") ?? 0
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.id AS template_id, t.vector, p.id AS person_id, p.name, p.display_name, p.enabled,
                       p.valid_from, p.valid_until, p.security_level
                FROM templates t JOIN people p ON p.id = t.person_id ORDER BY p.id, t.id
                """)
            let access = try Self.accessRows(db)
            var people = [GallerySnapshot.Entry](), owner = [Int32](), ids = [Int64](), vectors = [Float]()
            while let row = try rows.next() {
                let personID: Int64 = row["person_id"]
                if people.last?.personID != personID {
                    let name: String = row["name"], displayName: String = row["display_name"], enabled: Bool = row["enabled"]
                    let validFrom: Date? = row["valid_from"], validUntil: Date? = row["valid_until"]
                    var entry = GallerySnapshot.Entry(personID: personID, name: name, displayName: displayName, enabled: enabled,
                                                      validFrom: validFrom, validUntil: validUntil,
                                                      groups: access.groups[personID] ?? [], schedules: access.schedules[personID] ?? [])
                    entry.securityLevel = row["security_level"]
                    people.append(entry)
                }
                owner.append(Int32(people.count - 1))
                ids.append(row["template_id"])
                let blob: Data = row["vector"]
                vectors += FaceTemplate.decode(blob)
            }
            return GallerySnapshot(people: people, owner: owner, templateIDs: ids, vectors: vectors, generation: generation)
        }
    }

    // MARK: Writing

    /// Adds templates to `name`, creating the person when new, in one transaction: all or nothing.
    @discardableResult
    public func enroll(name: String, displayName: String? = nil, templates: [FaceTemplate]) throws -> Person {
        guard Person.isValidName(name) else { throw StoreError.invalidName(name) }
        let name = Names.normalized(name), displayName = try displayName.map(Person.checkedDisplayName)
        return try writer.write { db in
            var person: Person
            if let existing = try Person.filter(Column("name") == name).fetchOne(db) {
                person = existing
                if let displayName, displayName != existing.displayName {
                    person.displayName = displayName
                    try person.update(db)
                }
            } else {
                try Person.checkDistinct(name, in: db)
                person = Person(name: name, displayName: displayName)
                try person.insert(db)
            }
            for var template in templates {
                template.personID = person.id!
                if try FaceTemplate.filter(Column("person_id") == person.id! && Column("source_sha256") == template.sourceSHA256)
                    .fetchCount(db) > 0 {
                    throw StoreError.duplicatePhoto(person: person.name, source: template.sourceName)
                }
                try template.insert(db)
            }
            return person
        }
    }

    /// Deletes the person and, by cascade, their templates. Returns how many templates went with them.
    @discardableResult
    public func remove(name: String) throws -> Int {
        try writer.write { db in
            guard let person = try Person.filter(Column("name") == Names.normalized(name)).fetchOne(db) else {
                throw StoreError.personNotFound(name)
            }
            let count = try FaceTemplate.filter(Column("person_id") == person.id!).fetchCount(db)
            try person.delete(db)
            return count
        }
    }
}
