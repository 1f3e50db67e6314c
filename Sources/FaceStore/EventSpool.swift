import Foundation
import GRDB
import Synchronization

/// One event waiting in the spool for the gallery to take it.
public struct SpooledEvent: Codable, Sendable, Equatable {
    /// Unique per event; the chain remembers the last one it took, so a replay is never doubled.
    public var key: String
    /// For a door action's row: the key of the grant it refers to, whose id is known only once
    /// that grant is in the chain.
    public var refKey: String?
    public var event: AuditEvent

    public init(key: String = UUID().uuidString, refKey: String? = nil, event: AuditEvent) {
        self.key = key
        self.refKey = refKey
        self.event = event
    }
}

public struct SpoolError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "event spool \(path): \(reason)" }
}

/// Decisions that could not be written to the gallery (locked, failing, replaced, deleted),
/// kept in order in a file beside it until they can be. Each event is one JSON line, appended
/// and fsynced before `append` returns: a decision survives a crash or a power cut. The file is
/// 0600 and never followed through a symlink.
public final class EventSpool: Sendable {
    public let path: String
    private let lock = Mutex(())

    /// The spool for the gallery at `galleryPath`: the same path with ".spool" added.
    public init(galleryPath: String) {
        path = galleryPath + ".spool"
    }

    public init(path: String) {
        self.path = path
    }

    /// Appends one event durably.
    public func append(_ entry: SpooledEvent) throws {
        var line = try JSONEncoder().encode(entry)
        line.append(UInt8(ascii: "\n"))
        try lock.withLock { _ in
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SpoolError(path: path, reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                throw SpoolError(path: path, reason: "not a regular file; move it away")
            }
            fchmod(fd, 0o600)
            let created = info.st_size == 0
            let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == line.count else {
                let reason = written < 0 ? String(cString: strerror(errno)) : "short write (disk full?)"
                // Cut a torn line off so the next append starts on a line of its own.
                ftruncate(fd, info.st_size)
                throw SpoolError(path: path, reason: reason)
            }
            guard fsync(fd) == 0 else { throw SpoolError(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
            if created { Self.syncFolder(of: path) }
        }
    }

    /// The events waiting, oldest first. A last line cut short by a crash is left out.
    public func entries() throws -> [SpooledEvent] {
        try lock.withLock { _ in try readEntries() }
    }

    public var isEmpty: Bool {
        var info = stat()
        return lstat(path, &info) != 0 || info.st_size == 0
    }

    /// Replays the waiting events into `store`'s chain in one transaction, then empties the
    /// spool. Returns the events as stored. Events the chain already took (a replay cut off
    /// between its commit and the truncation) are skipped.
    public func replay(into store: FaceStore) throws -> [AuditEvent] {
        try lock.withLock { _ in
            let waiting = try readEntries()
            if waiting.isEmpty { return [] }
            let stored = try store.appendSpooled(waiting)
            let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw SpoolError(path: path, reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            guard ftruncate(fd, 0) == 0, fsync(fd) == 0 else { throw SpoolError(path: path, reason: String(cString: strerror(errno))) }
            return stored
        }
    }

    private func readEntries() throws -> [SpooledEvent] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return [] }
            throw SpoolError(path: path, reason: String(cString: strerror(errno)))
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let data = try handle.readToEnd() ?? Data()
        let decoder = JSONDecoder()
        var entries = [SpooledEvent]()
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let entry = try? decoder.decode(SpooledEvent.self, from: Data(line)) else { continue }
            entries.append(entry)
        }
        return entries
    }

    private static func syncFolder(of path: String) {
        let dir = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                       O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return }
        fsync(dir)
        close(dir)
    }
}

extension FaceStore {
    /// Appends spooled events in order, in one transaction, resolving each door action's
    /// reference to its grant, and remembers the last key taken.
    func appendSpooled(_ entries: [SpooledEvent]) throws -> [AuditEvent] {
        try writer.write { db in
            let lastKey = try String.fetchOne(db, sql: "SELECT last_key FROM spool_state WHERE id = 1")
            var start = 0
            if let lastKey, let done = entries.firstIndex(where: { $0.key == lastKey }) { start = done + 1 }
            var ids = [String: Int64]()
            var stored = [AuditEvent]()
            for entry in entries[start...] {
                var event = entry.event
                if let ref = entry.refKey, let id = ids[ref] { event.refEventID = id }
                let row = try Self.appendRow(event, db)
                ids[entry.key] = row.id
                stored.append(row)
            }
            if let last = entries.last {
                try db.execute(sql: "INSERT INTO spool_state (id, last_key) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET last_key = excluded.last_key",
                               arguments: [last.key])
            }
            return stored
        }
    }
}
