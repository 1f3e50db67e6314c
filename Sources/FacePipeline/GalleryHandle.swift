import FaceStore
import Foundation
import Logging
import Locking

/// The gallery file faced decides with and writes to, watched by device and inode. When the
/// file at the path is replaced (a restore, `mv new.db faced.db`), the new one is opened; when
/// it is deleted, there is no store until a file is back, and nothing is ever written into the
/// unlinked one.
public final class GalleryHandle: Sendable {
    public let path: String
    private let busyTimeout: TimeInterval
    private let logger: Logger
    private let state: Locked<State>

    private struct State {
        var store: FaceStore?
        /// Stores of replaced files that could not be closed yet (a read in flight).
        var closing = [FaceStore]()
        /// Bumps each time another file is opened, so readers know to reload.
        var epoch = 0
        var lastAttempt: ContinuousClock.Instant?
        var problem: String?
        /// A new file at the path, and since when it has looked the same.
        var candidate: (look: FileLook, since: ContinuousClock.Instant)?
    }

    /// How often a missing or unusable gallery is looked for again.
    static let retryInterval = Duration.milliseconds(100)
    /// How long a new file must stay unchanged before it is opened: a restore still being copied,
    /// or whose -wal has not followed yet, is not.
    static let settleTime = Duration.milliseconds(300)

    /// Told of each other file opened at the path (a restore, a replacement), on the thread that noticed.
    private let reopened: @Sendable (FaceStore) -> Void

    public init(store: FaceStore, busyTimeout: TimeInterval = 0.2, logger: Logger = Logger(label: "faced", factory: { _ in SwiftLogNoOpLogHandler() }),
                reopened: @escaping @Sendable (FaceStore) -> Void = { _ in }) {
        path = store.path
        self.busyTimeout = busyTimeout
        self.logger = logger
        self.reopened = reopened
        state = Locked(State(store: store))
    }

    /// The store for the file at the path now, and its epoch; nil while the path holds no usable gallery.
    public func current() -> (store: FaceStore, epoch: Int)? {
        var opened: FaceStore?
        let result: (store: FaceStore, epoch: Int)? = state.withLock { state in
            if let store = state.store {
                if store.isStillAtPath { return (store, state.epoch) }
                state.store = nil
                let now = FileIdentity(path: path)
                let what = now == nil ? "gallery \(path) was deleted" : "gallery \(path) was replaced by another file"
                logger.warning("\(what); deciding with the gallery in memory and spooling decisions until a gallery is there")
                state.problem = nil
                // Close the old file's connections first: its -wal and -shm keep the names the
                // new file's would have.
                state.closing.append(store)
            }
            state.closing.removeAll { $0.close() }
            let now = ContinuousClock.now
            if let last = state.lastAttempt, now - last < Self.retryInterval { return nil }
            state.lastAttempt = now
            guard let look = FileLook(path: path) else { return nil }
            guard let candidate = state.candidate, candidate.look == look else {
                state.candidate = (look, now)
                return nil
            }
            // Even a file that looks whole waits: its -wal may be on its way (`mv faced.db*`).
            guard now - candidate.since >= Self.settleTime else { return nil }
            let problem: String
            if let header = SQLiteHeader(path: path), header.isCut(fileSize: look.size) {
                // A copy that stalled: opening it would read a broken gallery.
                problem = "the file holds \(look.size) bytes of the \(header.byteCount) its header counts "
                    + "(a copy still being written?); waiting for the rest"
            } else if !state.closing.isEmpty {
                problem = "the replaced gallery is still in use; waiting to close it"
            } else if let wal = FileLook(path: path + "-wal"), wal.size > 0 {
                // Either the replaced gallery's changes, which SQLite would read into the new
                // file, or another program writing the new one now: wait until it is gone.
                problem = "\(path)-wal still holds the replaced gallery's changes (another program has it open?); "
                    + "replace a gallery with faced and facectl stopped, or remove the old -wal"
            } else {
                do {
                    let store = try FaceStore(path: path, create: false, busyTimeout: busyTimeout)
                    state.store = store
                    state.epoch += 1
                    state.problem = nil
                    state.candidate = nil
                    logger.notice("gallery \(path) opened again (\(store.identity?.description ?? "?"))")
                    opened = store
                    return (store, state.epoch)
                } catch {
                    problem = String(describing: error)
                }
            }
            if problem != state.problem { logger.error("cannot use gallery \(path): \(problem); spooling decisions") }
            state.problem = problem
            return nil
        }
        if let opened { reopened(opened) }
        return result
    }

    /// Why there is no usable gallery, if there is none.
    public var problem: String? { state.withLock { $0.store == nil ? ($0.problem ?? "no gallery file at \(path)") : nil } }
}

/// What a file looks like from outside: which file, how big, when last changed.
struct FileLook: Equatable {
    let identity: FileIdentity
    let size: Int64
    let modified: Double

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0, let identity = FileIdentity(path: path) else { return nil }
        self.identity = identity
        size = Int64(info.st_size)
        modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }
}
