import Foundation
import GRDB
import Locking

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
    private let lock = Locked(())

    /// The spool for the gallery at `galleryPath`: the same path with ".spool" added.
    public init(galleryPath: String) {
        path = galleryPath + ".spool"
    }

    public init(path: String) {
        self.path = path
    }

    /// Appends one event durably. A line that a crash cut short is closed first, so it never
    /// swallows the event after it.
    public func append(_ entry: SpooledEvent) throws {
        var line = try JSONEncoder().encode(entry)
        line.append(UInt8(ascii: "\n"))
        try lock.withLock { _ in
            let fd = try openSpool(O_RDWR | O_APPEND | O_CREAT)
            defer { close(fd) }
            var info = stat()
            fstat(fd, &info)
            fchmod(fd, 0o600)
            let created = info.st_size == 0
            if !created {
                var last: UInt8 = 0
                if pread(fd, &last, 1, info.st_size - 1) == 1, last != UInt8(ascii: "\n") { line.insert(UInt8(ascii: "\n"), at: 0) }
            }
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

    /// Opens the spool without blocking (a FIFO planted there must not hang faced), never through
    /// a symlink, and only if it is a regular file; locked against another process's replay.
    private func openSpool(_ flags: Int32) throws -> Int32 {
        let fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "is a symbolic link; move it away" : String(cString: strerror(errno))
            throw SpoolError(path: path, reason: reason)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw SpoolError(path: path, reason: "not a regular file; move it away")
        }
        flock(fd, LOCK_EX)
        return fd
    }

    /// The events waiting, oldest first. Lines that are not events (a crash cut them short) are left out.
    public func entries() throws -> [SpooledEvent] {
        try lock.withLock { _ in try readEntries().entries }
    }

    /// True when no event waits: no spool file, or an empty regular one.
    public var isEmpty: Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return true }
        return info.st_mode & S_IFMT == S_IFREG && info.st_size == 0
    }

    /// Replays the waiting events into `store`'s chain in one transaction, then empties the
    /// spool. Returns the events as stored, with their keys, and how many lines were not events:
    /// those are kept in `rejectedPath` for a person to look at, never silently dropped.
    public func replay(into store: FaceStore) throws -> (stored: [(key: String, event: AuditEvent)], rejectedLines: Int) {
        try lock.withLock { _ in
            let (waiting, rejected) = try readEntries()
            if waiting.isEmpty && rejected.isEmpty { return ([], 0) }
            let stored = try store.appendSpooled(waiting)
            if !rejected.isEmpty {
                let keep = open(rejectedPath, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
                if keep >= 0 {
                    for line in rejected { _ = (line + [UInt8(ascii: "\n")]).withUnsafeBytes { write(keep, $0.baseAddress, $0.count) } }
                    fsync(keep)
                    close(keep)
                }
            }
            let fd = try openSpool(O_WRONLY)
            defer { close(fd) }
            guard ftruncate(fd, 0) == 0, fsync(fd) == 0 else { throw SpoolError(path: path, reason: String(cString: strerror(errno))) }
            return (stored, rejected.count)
        }
    }

    /// Where lines that were not events go at a replay.
    public var rejectedPath: String { path + ".rejected" }

    private func readEntries() throws -> (entries: [SpooledEvent], rejected: [[UInt8]]) {
        let fd: Int32
        do { fd = try openSpool(O_RDONLY) } catch {
            if errno == ENOENT || !FileManager.default.fileExists(atPath: path) { return ([], []) }
            throw error
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let data = try handle.readToEnd() ?? Data()
        let decoder = JSONDecoder()
        var entries = [SpooledEvent](), rejected = [[UInt8]]()
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            if let entry = try? decoder.decode(SpooledEvent.self, from: Data(line)) { entries.append(entry) } else { rejected.append(Array(line)) }
        }
        return (entries, rejected)
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
    /// Appends spooled events in order, in one transaction. An event whose key the chain already
    /// holds is skipped; a door action's reference to its grant is resolved through the keys.
    func appendSpooled(_ entries: [SpooledEvent]) throws -> [(key: String, event: AuditEvent)] {
        try writer.write { db in
            var stored = [(key: String, event: AuditEvent)]()
            for entry in entries {
                if try Int64.fetchOne(db, sql: "SELECT event_id FROM spool_keys WHERE key = ?", arguments: [entry.key]) != nil { continue }
                var event = entry.event
                if let ref = entry.refKey,
                   let id = try Int64.fetchOne(db, sql: "SELECT event_id FROM spool_keys WHERE key = ?", arguments: [ref]) {
                    event.refEventID = id
                }
                let row = try Self.appendRow(event, db)
                try db.execute(sql: "INSERT INTO spool_keys (key, event_id) VALUES (?, ?)", arguments: [entry.key, row.id])
                stored.append((entry.key, row))
            }
            return stored
        }
    }

    /// The id a spooled event got in this chain, if it is there.
    public func eventID(spooledAs key: String) throws -> Int64? {
        try reader.read { db in try Int64.fetchOne(db, sql: "SELECT event_id FROM spool_keys WHERE key = ?", arguments: [key]) }
    }
}
