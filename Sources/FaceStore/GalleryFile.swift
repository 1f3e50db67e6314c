import Foundation

/// Which file a path names: device and inode. A gallery replaced or deleted under a running
/// daemon has another identity (or none) than the one it opened.
public struct FileIdentity: Sendable, Hashable, CustomStringConvertible {
    public let device: UInt64
    public let inode: UInt64

    /// The identity of the file at `path`, following symlinks; nil when there is none.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    public var description: String { "device \(device) inode \(inode)" }
}

/// Creating and checking the files that hold faces: the gallery, its folder, its spool.
/// Modes are set explicitly (fchmod), so the umask never widens them.
enum GalleryFile {
    /// Creates the folder (0700) when missing. An existing folder is left as it is.
    static func ensureFolder(_ dir: String) throws {
        var info = stat()
        if stat(dir, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw StoreError.cannotOpen(path: dir, reason: "not a directory") }
            return
        }
        guard errno == ENOENT else { throw StoreError.cannotOpen(path: dir, reason: String(cString: strerror(errno))) }
        try ensureFolder((dir as NSString).deletingLastPathComponent)
        guard mkdir(dir, 0o700) == 0 || errno == EEXIST else {
            throw StoreError.cannotOpen(path: dir, reason: "cannot create the folder: \(String(cString: strerror(errno)))")
        }
        chmod(dir, 0o700)
    }

    /// Creates an empty gallery file, mode 0600. When root creates it, it takes the owner and
    /// group of its folder, so a gallery first made by `sudo facectl enroll` in /var/lib/faced
    /// stays writable by the service user. Returns false when the file already existed.
    @discardableResult
    static func createExclusive(_ path: String) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw StoreError.cannotOpen(path: path, reason: "cannot create the file: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        fchmod(fd, 0o600)
        if geteuid() == 0 {
            var dir = stat()
            if stat((path as NSString).deletingLastPathComponent, &dir) == 0 { fchown(fd, dir.st_uid, dir.st_gid) }
        }
        return true
    }

    /// An existing gallery must be a regular file (after symlinks): never a FIFO, device or folder.
    static func checkRegular(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StoreError.noDatabase(path) }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            let what = type == S_IFDIR ? "a directory" : type == S_IFIFO ? "a FIFO" : type == S_IFCHR || type == S_IFBLK ? "a device" : "not a regular file"
            throw StoreError.cannotOpen(path: path, reason: "is \(what), not a gallery database")
        }
    }

    static func checkNotEmpty(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0, info.st_size == 0 {
            throw StoreError.cannotOpen(path: path, reason: "is empty, not a gallery (a copy still being written?)")
        }
    }

    /// Narrows a gallery written by an older build (0644) to 0600, with its -wal and -shm, when
    /// this process owns it. Templates are biometric data: no other local user reads them.
    static func tighten(_ path: String) {
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(),
                  info.st_mode & 0o077 != 0 else { continue }
            chmod(file, 0o600)
        }
    }
}

/// What an SQLite file's header says about its length. A file still being copied (`cp`
/// writes from the front) or cut short is shorter than its header's page count says.
public struct SQLiteHeader: Sendable, Equatable {
    public let pageSize: Int
    public let pageCount: Int
    /// The page count is kept by SQLite 3.7 and later, valid when this equals the change counter.
    public let countIsValid: Bool

    public init?(path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 100) else { return nil }
        self.init(bytes: [UInt8](data))
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count >= 100, bytes.starts(with: Array("SQLite format 3\0".utf8)) else { return nil }
        func u32(_ at: Int) -> Int { bytes[at ..< at + 4].reduce(0) { $0 << 8 | Int($1) } }
        let size = Int(bytes[16]) << 8 | Int(bytes[17])
        pageSize = size == 1 ? 65536 : size
        guard pageSize >= 512, pageSize.nonzeroBitCount == 1 else { return nil }
        pageCount = u32(28)
        countIsValid = pageCount > 0 && u32(92) == u32(24)
    }

    /// The bytes of the pages the header counts.
    public var byteCount: Int64 { Int64(pageCount) * Int64(pageSize) }

    /// True when a file of `size` bytes lacks pages its header counts: a copy cut short or still being written.
    public func isCut(fileSize size: Int64) -> Bool { countIsValid && size < byteCount }
}
