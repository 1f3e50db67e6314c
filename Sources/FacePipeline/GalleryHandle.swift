import FaceStore
import Foundation
import Logging
import Synchronization

/// The gallery file faced decides with and writes to, watched by device and inode. When the
/// file at the path is replaced (a restore, `mv new.db faced.db`), the new one is opened; when
/// it is deleted, there is no store until a file is back, and nothing is ever written into the
/// unlinked one.
public final class GalleryHandle: Sendable {
    public let path: String
    private let busyTimeout: TimeInterval
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var store: FaceStore?
        /// Bumps each time another file is opened, so readers know to reload.
        var epoch = 0
        var lastAttempt: ContinuousClock.Instant?
        var problem: String?
    }

    /// How often a missing or unusable gallery is looked for again.
    static let retryInterval = Duration.milliseconds(500)

    public init(store: FaceStore, busyTimeout: TimeInterval = 0.2, logger: Logger = Logger(label: "faced", factory: { _ in SwiftLogNoOpLogHandler() })) {
        path = store.path
        self.busyTimeout = busyTimeout
        self.logger = logger
        state = Mutex(State(store: store))
    }

    /// The store for the file at the path now, and its epoch; nil while the path holds no usable gallery.
    public func current() -> (store: FaceStore, epoch: Int)? {
        state.withLock { state in
            if let store = state.store {
                if store.isStillAtPath { return (store, state.epoch) }
                state.store = nil
                let now = FileIdentity(path: path)
                let what = now == nil ? "gallery \(path) was deleted" : "gallery \(path) was replaced by another file"
                logger.warning("\(what); deciding with the gallery in memory and spooling decisions until a gallery is there")
                state.problem = nil
            }
            let now = ContinuousClock.now
            if let last = state.lastAttempt, now - last < Self.retryInterval { return nil }
            state.lastAttempt = now
            guard FileIdentity(path: path) != nil else { return nil }
            do {
                let store = try FaceStore(path: path, create: false, busyTimeout: busyTimeout)
                state.store = store
                state.epoch += 1
                state.problem = nil
                logger.notice("gallery \(path) opened again (\(store.identity?.description ?? "?"))")
                return (store, state.epoch)
            } catch {
                let problem = String(describing: error)
                if problem != state.problem { logger.error("cannot use gallery \(path): \(problem); spooling decisions") }
                state.problem = problem
                return nil
            }
        }
    }

    /// Why there is no usable gallery, if there is none.
    public var problem: String? { state.withLock { $0.store == nil ? ($0.problem ?? "no gallery file at \(path)") : nil } }
}
