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
    /// The gallery holds schema changes this build does not know: a newer faced wrote it.
    case newerSchema(path: String, unknown: [String])
    /// The gallery lacks schema changes this build needs, and a reader may not make them.
    case olderSchema(path: String, missing: [String])
    /// Another process holds the gallery's write lock.
    case busy(path: String)
    /// A write through a store opened for reading.
    case readOnly(path: String)

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
        case let .newerSchema(path, unknown):
            "database \(path) was written by a newer faced (schema \(unknown.joined(separator: ", "))); this build "
                + "(schema \(Schema.currentVersion)) leaves it untouched: upgrade faced and facectl"
        case let .olderSchema(path, missing):
            "database \(path) was written by an older faced and lacks \(missing.joined(separator: ", ")); "
                + "start faced or run a facectl command that changes the gallery once to upgrade it"
        case let .busy(path): "database \(path) is locked by another process (a backup, sqlite3, a long facectl sync?)"
        case let .readOnly(path): "database \(path) was opened for reading only"
        }
    }
}

/// The gallery database: people and their face templates, in SQLite (WAL mode).
/// Opened for writing, it brings the schema up to date; opened for reading, it runs no migration
/// and never writes, so it works on read-only files and while another process writes.
public final class FaceStore: Sendable {
    public let path: String
    /// The file this store opened; compare with `FileIdentity(path:)` to learn that it was replaced.
    public let identity: FileIdentity?
    let reader: any DatabaseReader
    private let writerIfAny: (any DatabaseWriter)?

    var writer: any DatabaseWriter {
        get throws {
            guard let writerIfAny else { throw StoreError.readOnly(path: path) }
            return writerIfAny
        }
    }

    public var isReadOnly: Bool { writerIfAny == nil }

    public static let defaultPath = "/var/lib/faced/faced.db"

    /// `explicit`, else $FACED_DB, else the default path.
    public static func resolvePath(_ explicit: String? = nil,
                                   environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["FACED_DB"], !env.isEmpty { return env }
        return defaultPath
    }

    /// Opens the database at `path` for writing and brings its schema up to date. With `create`,
    /// a missing file is created (mode 0600; its folder 0700); without, it is a `noDatabase`
    /// error. A gallery from a newer build is refused before anything is written to it.
    /// `busyTimeout` is how long one write waits for another process's lock.
    public init(path: String, create: Bool = true, busyTimeout: TimeInterval = 5) throws {
        self.path = path
        let pool = try Self.mappingErrors(path) { () throws -> DatabasePool in
            if create {
                try GalleryFile.ensureFolder((path as NSString).deletingLastPathComponent.isEmpty
                    ? "." : (path as NSString).deletingLastPathComponent)
                try GalleryFile.createExclusive(path)
            }
            try GalleryFile.checkRegular(path)
            // An existing file must already be a gallery: an empty one may be a restore that
            // `cp` is still writing, and is never made into a gallery under its feet.
            if !create { try GalleryFile.checkNotEmpty(path) }
            // Read the schema through a read-only connection first: opening a pool writes
            // (WAL setup), and a newer gallery must stay byte-for-byte as it is.
            let pending = try Self.checkSchema(path, busyTimeout: busyTimeout)
            var config = Configuration()
            config.foreignKeysEnabled = true
            config.busyMode = .timeout(busyTimeout)
            let pool = try DatabasePool(path: path, configuration: config)
            if pending { try Schema.migrator.migrate(pool) }
            GalleryFile.tighten(path)
            return pool
        }
        writerIfAny = pool
        reader = pool
        identity = FileIdentity(path: path)
    }

    /// Opens the database for reading only: no migration, no write, no lock held. Works on a
    /// read-only file or folder and while a writer holds the gallery.
    public init(readingAt path: String) throws {
        self.path = path
        reader = try Self.mappingErrors(path) { () throws -> DatabaseQueue in
            try GalleryFile.checkRegular(path)
            try GalleryFile.checkNotEmpty(path)
            var config = Configuration()
            config.readonly = true
            config.busyMode = .timeout(5)
            var queue: DatabaseQueue
            do {
                queue = try DatabaseQueue(path: path, configuration: config)
                try queue.read { db in _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CANTOPEN || error.resultCode == .SQLITE_READONLY {
                // A WAL gallery in a folder this user cannot write: SQLite cannot make the -shm
                // file. Nobody writes it then either, so read it as an immutable file, unless
                // changes wait in its -wal, which an immutable read would not see.
                var wal = stat()
                if stat(path + "-wal", &wal) == 0, wal.st_size > 0 {
                    throw StoreError.cannotOpen(path: path, reason: "its folder is read-only and changes wait in \(path)-wal; "
                        + "read it as a user who may write the folder, or copy the gallery with its -wal elsewhere")
                }
                queue = try DatabaseQueue(path: "file:\(path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)?immutable=1",
                                          configuration: config)
            }
            try queue.read { db in try Self.checkVersion(db, path: path, forWriting: false) }
            return queue
        }
        writerIfAny = nil
        identity = FileIdentity(path: path)
    }

    /// Runs `body`, turning SQLite's and Foundation's errors into a `StoreError` naming the gallery.
    private static func mappingErrors<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw storeError(error, path: path)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: error.localizedDescription)
        }
    }

    /// Whether the schema needs migrating; throws for a gallery from a newer build.
    private static func checkSchema(_ path: String, busyTimeout: TimeInterval) throws -> Bool {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(busyTimeout)
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read { db in try checkVersion(db, path: path, forWriting: true) }
    }

    /// Throws for a newer schema (and, for a reader, an older one); returns whether migrations are pending.
    @discardableResult
    static func checkVersion(_ db: Database, path: String, forWriting: Bool) throws -> Bool {
        let migrator = Schema.migrator
        guard try db.tableExists("grdb_migrations") else {
            if forWriting { return true }
            throw StoreError.olderSchema(path: path, missing: Schema.versions)
        }
        let applied = try migrator.appliedIdentifiers(db)
        let unknown = applied.filter { !Schema.versions.contains($0) }.sorted()
        if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknown: unknown) }
        let missing = Schema.versions.filter { !applied.contains($0) }
        if !forWriting, case let needed = missing.filter({ !Schema.readerOptional.contains($0) }), !needed.isEmpty {
            throw StoreError.olderSchema(path: path, missing: needed)
        }
        return !missing.isEmpty
    }

    static func storeError(_ error: DatabaseError, path: String) -> StoreError {
        if error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED { return .busy(path: path) }
        return .cannotOpen(path: path, reason: error.message ?? error.description)
    }

    /// Closes the connections. SQLite checkpoints and removes the -wal of a gallery nobody else
    /// has open: needed before another file at the same path is opened, whose -wal would otherwise
    /// be the old gallery's. False when a connection is still in use.
    @discardableResult
    public func close() -> Bool {
        do {
            // Empty the -wal into this store's own file first, so the name is free of its changes
            // even if SQLite keeps the file.
            try writerIfAny?.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            if let pool = reader as? DatabasePool { try pool.close() } else if let queue = reader as? DatabaseQueue { try queue.close() }
            return true
        } catch {
            return false
        }
    }

    /// The gallery file this store opened is still the one at its path (not deleted, not replaced).
    public var isStillAtPath: Bool {
        guard let identity else { return false }
        return FileIdentity(path: path) == identity
    }

    // MARK: Reading

    public func person(named name: String) throws -> Person? {
        try reader.read { db in try Person.filter(Column("name") == Names.normalized(name)).fetchOne(db) }
    }

    public func people() throws -> [PersonSummary] {
        try reader.read { db in
            try Row.fetchAll(db, sql: """
                SELECT people.*, (SELECT COUNT(*) FROM templates WHERE person_id = people.id) AS template_count
                FROM people ORDER BY name COLLATE NOCASE
                """).map { PersonSummary(person: try Person(row: $0), templateCount: $0["template_count"]) }
        }
    }

    public func templates(ofPersonID id: Int64) throws -> [FaceTemplate] {
        try reader.read { db in try FaceTemplate.filter(Column("person_id") == id).order(Column("id")).fetchAll(db) }
    }

    public func counts() throws -> (people: Int, templates: Int) {
        try reader.read { db in (try Person.fetchCount(db), try FaceTemplate.fetchCount(db)) }
    }

    /// Increases with every change to people or templates.
    public func generation() throws -> Int64 {
        try reader.read { db in try Int64.fetchOne(db, sql: "SELECT generation FROM gallery_state WHERE id = 1") ?? 0 }
    }

    /// Every template with its owner, read in one transaction.
    public func snapshot() throws -> GallerySnapshot {
        try reader.read { db in
            let generation = try Int64.fetchOne(db, sql: "SELECT generation FROM gallery_state WHERE id = 1") ?? 0
            // A reader may read a gallery from before v8, which has no liveness column.
            let liveness = try db.columns(in: "people").contains { $0.name == "liveness" } ? "p.liveness" : "NULL AS liveness"
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.id AS template_id, t.vector, p.id AS person_id, p.name, p.display_name, p.enabled,
                       p.valid_from, p.valid_until, p.security_level, \(liveness)
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
                    entry.liveness = row["liveness"]
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
    public func enroll(name: String, displayName: String? = nil, templates: [FaceTemplate], action: AdminAction = .enroll,
                       note: String? = nil, by actor: AdminActor = .current) throws -> Person {
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
            let total = try FaceTemplate.filter(Column("person_id") == person.id!).fetchCount(db)
            let added = "\(templates.count) photo\(templates.count == 1 ? "" : "s") added (\(templates.map(\.sourceName).joined(separator: ", "))), \(total) in total"
            try Self.logAdmin(action, subject: person.name, (note.map { $0 + "; " } ?? "") + added, by: actor, db)
            return person
        }
    }

    /// Deletes the person and, by cascade, their templates. Returns how many templates went with them.
    @discardableResult
    public func remove(name: String, by actor: AdminActor = .current) throws -> Int {
        try writer.write { db in
            guard let person = try Person.filter(Column("name") == Names.normalized(name)).fetchOne(db) else {
                throw StoreError.personNotFound(name)
            }
            let count = try FaceTemplate.filter(Column("person_id") == person.id!).fetchCount(db)
            try person.delete(db)
            try Self.logAdmin(.remove, subject: person.name, "removed with \(count) template\(count == 1 ? "" : "s")", by: actor, db)
            return count
        }
    }
}
