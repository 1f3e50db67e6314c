import Foundation

/// Why an output file was not written.
public enum SafeFileError: Error, CustomStringConvertible, Equatable {
    /// The target exists and is not a regular file: it is left as it is.
    case notARegularFile(path: String, kind: String)
    case failed(path: String, step: String, errno: Int32)

    public var description: String {
        switch self {
        case let .notARegularFile(path, kind):
            "\(path) is \(kind), not a regular file: refusing to replace it; choose another path"
        case let .failed(path, step, code):
            "cannot write \(path): \(step): \(String(cString: strerror(code)))"
        }
    }
}

/// Writes output files (annotated photos, contact sheets, the status file) so that a reader sees
/// the old file or the new one, never half, and so that a planted symlink, FIFO or device at the
/// target, or a planted file at the temporary name, is never written through or replaced.
public enum SafeFile {
    /// Writes `bytes` to `path` with exactly `mode` (whatever the umask): a new temporary file
    /// in the same folder (O_EXCL, O_NOFOLLOW), fsync, then rename over the target.
    public static func write(_ bytes: some DataProtocol, to path: String, mode: mode_t) throws {
        try refuseUnlessRegularOrMissing(path)
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let (fd, temporary) = try createTemporary(in: folder.isEmpty ? "." : folder, for: name, target: path)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw SafeFileError.failed(path: path, step: "chmod", errno: errno) }
            try writeAll(fd, Array(bytes), path: path)
            guard fsync(fd) == 0 else { throw SafeFileError.failed(path: path, step: "fsync", errno: errno) }
        }
        // Checked again just before the rename, which replaces a name and so never writes into
        // whatever the target is; this narrows the window for a swap to the rename itself.
        try refuseUnlessRegularOrMissing(path)
        guard rename(temporary, path) == 0 else { throw SafeFileError.failed(path: path, step: "rename", errno: errno) }
        renamed = true
    }

    /// Throws unless `path` is missing or a regular file: lets a command refuse its output
    /// before the work (`write` checks again).
    public static func checkTarget(_ path: String) throws { try refuseUnlessRegularOrMissing(path) }

    /// The target, if it exists, is a regular file (not followed through a symlink).
    static func refuseUnlessRegularOrMissing(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw SafeFileError.failed(path: path, step: "lstat", errno: errno)
        }
        let kind: String
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFLNK: kind = "a symbolic link"
        case S_IFDIR: kind = "a directory"
        case S_IFIFO: kind = "a FIFO"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "a special file"
        }
        throw SafeFileError.notARegularFile(path: path, kind: kind)
    }

    /// A new file with a random name; a name already taken (even by a dangling symlink) is
    /// skipped, never opened.
    private static func createTemporary(in folder: String, for name: String, target: String) throws -> (Int32, String) {
        for _ in 0 ..< 16 {
            let suffix = String(UInt64.random(in: 0 ... UInt64.max), radix: 36)
            let temporary = "\(folder)/.\(name).\(suffix).tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { return (fd, temporary) }
            if errno != EEXIST { throw SafeFileError.failed(path: target, step: "create a temporary file in \(folder)", errno: errno) }
        }
        throw SafeFileError.failed(path: target, step: "create a temporary file in \(folder)", errno: EEXIST)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SafeFileError.failed(path: path, step: "write", errno: errno)
            }
            offset += n
        }
    }
}
