import FaceStore
import Foundation
import Logging
import Locking

/// An event as the recorder took it: in the chain (with its id), or spooled until the gallery
/// can take it.
public struct RecordedEvent: Sendable {
    /// Refers to this event before it has an id: a door action's row names its grant by it.
    public var key: String
    public var event: AuditEvent
    public var spooled: Bool
}

/// Writes events into the gallery's hash chain and never loses one. A gallery that is busy
/// (another writer holds it), failing, replaced or deleted does not stop a decision: the event
/// goes to a durable spool beside the gallery, and the spool is replayed in order into the
/// chain once the gallery takes writes again. While events wait, new ones queue behind them,
/// so the chain keeps the order in which things happened. Thread-safe.
public final class EventRecorder: Sendable {
    public let gallery: GalleryHandle
    public let spool: EventSpool
    private let logger: Logger
    private let state = Locked(State())
    private let replayed: @Sendable ([AuditEvent]) -> Void

    private struct State {
        /// Events neither the gallery nor the spool file took (disk full): kept in order here.
        var memory = [SpooledEvent]()
        /// Ids of recent events by key, for door actions that refer to them, with the epoch of
        /// the gallery file that holds them: an id means nothing in another file.
        var ids = [String: (id: Int64, epoch: Int)]()
        var idOrder = [String]()
        var nextAttempt = ContinuousClock.now
        var backoff = Duration.milliseconds(250)
        /// Why events are being spooled; nil while they go straight to the chain.
        var spooling: String?
        var failures = 0
    }

    /// `replayed` hears of spooled events once they are in the chain, with their ids.
    public init(gallery: GalleryHandle, spool: EventSpool? = nil, logger: Logger = Logger(label: "faced", factory: { _ in SwiftLogNoOpLogHandler() }),
                replayed: @escaping @Sendable ([AuditEvent]) -> Void = { _ in }) {
        self.gallery = gallery
        self.spool = spool ?? EventSpool(galleryPath: gallery.path)
        self.logger = logger
        self.replayed = replayed
    }

    /// Events waiting for the gallery (spool file and memory).
    public var pending: Int {
        let inMemory = state.withLock { $0.memory.count }
        return inMemory + ((try? spool.entries().count) ?? 0)
    }

    /// Why events are being spooled now, if they are.
    public var spoolReason: String? { state.withLock { $0.spooling } }

    /// Writes `event` to the chain, or spools it. `refersTo` is the key of an earlier event this
    /// one refers to (a door action's grant), resolved to its id when that is known.
    @discardableResult
    public func record(_ event: AuditEvent, refersTo ref: String? = nil) -> RecordedEvent {
        var outcome = [AuditEvent]()
        let recorded: RecordedEvent = state.withLock { state in
            outcome = replayIfDue(&state, force: false)
            var event = event
            var refKey: String?
            let current = gallery.current()
            if let ref {
                // Known in another file (the gallery was replaced since): nothing here to refer to.
                if let known = state.ids[ref] {
                    if known.epoch == current?.epoch { event.refEventID = known.id }
                } else if !state.memory.isEmpty || !spool.isEmpty {
                    // Still waiting: resolved when the spool is replayed.
                    refKey = ref
                }
                // Neither remembered nor waiting: long since written and forgotten; the event
                // goes to the chain without the reference rather than into the spool.
            }
            let key = UUID().uuidString
            if state.memory.isEmpty, spool.isEmpty, refKey == nil, let (store, epoch) = current {
                do {
                    let stored = try store.append(event)
                    remember(&state, key, stored.id, epoch: epoch)
                    if state.spooling != nil { resumed(&state) }
                    // Replaced between the check and the write: the event may be in the old
                    // file only. Spool it too; the new gallery gets it from there.
                    guard store.isStillAtPath else {
                        startSpooling(&state, because: "the gallery was replaced while an event was written")
                        try spool.append(SpooledEvent(key: key, event: event))
                        return RecordedEvent(key: key, event: stored, spooled: true)
                    }
                    return RecordedEvent(key: key, event: stored, spooled: false)
                } catch {
                    startSpooling(&state, because: String(describing: error))
                }
            } else if state.spooling == nil {
                startSpooling(&state, because: gallery.problem ?? "earlier events are still waiting")
            }
            let entry = SpooledEvent(key: key, refKey: refKey, event: event)
            if state.memory.isEmpty {
                do {
                    try spool.append(entry)
                    return RecordedEvent(key: key, event: event, spooled: true)
                } catch {
                    logger.critical("\(error); keeping the event in memory until the gallery or the spool takes it")
                }
            }
            state.memory.append(entry)
            return RecordedEvent(key: key, event: event, spooled: true)
        }
        if !outcome.isEmpty { replayed(outcome) }
        return recorded
    }

    /// Replays waiting events if the backoff allows; call it now and then (faced: every second).
    public func tick() {
        let outcome = state.withLock { replayIfDue(&$0, force: false) }
        if !outcome.isEmpty { replayed(outcome) }
    }

    /// Tries to replay everything now; true when nothing is left waiting.
    @discardableResult
    public func flush() -> Bool {
        let outcome = state.withLock { replayIfDue(&$0, force: true) }
        if !outcome.isEmpty { replayed(outcome) }
        return state.withLock { $0.memory.isEmpty } && spool.isEmpty
    }

    private func replayIfDue(_ state: inout State, force: Bool) -> [AuditEvent] {
        guard !state.memory.isEmpty || !spool.isEmpty else { return [] }
        let now = ContinuousClock.now
        guard force || now >= state.nextAttempt else { return [] }
        do {
            // What only memory holds goes to the spool first, so the spool holds the whole order.
            while let first = state.memory.first {
                try spool.append(first)
                state.memory.removeFirst()
            }
            guard let (store, epoch) = gallery.current() else { throw SpoolError(path: gallery.path, reason: gallery.problem ?? "no gallery") }
            let (stored, rejected) = try spool.replay(into: store)
            for (key, row) in stored { remember(&state, key, row.id, epoch: epoch) }
            logger.notice("gallery \(gallery.path) takes writes again: \(stored.count) spooled event\(stored.count == 1 ? "" : "s") written to the audit log")
            if rejected > 0 {
                logger.critical("\(rejected) line\(rejected == 1 ? "" : "s") of \(spool.path) were not events (cut short by a crash?); kept in \(spool.rejectedPath)")
            }
            resumed(&state)
            return stored.map(\.event)
        } catch {
            state.failures += 1
            state.nextAttempt = now + state.backoff
            state.backoff = min(state.backoff * 2, .seconds(5))
            if state.spooling == nil { startSpooling(&state, because: String(describing: error)) }
            return []
        }
    }

    private func startSpooling(_ state: inout State, because reason: String) {
        if state.spooling == nil {
            logger.warning("cannot write to the gallery (\(reason)); decisions go to \(spool.path) until it can")
        }
        state.spooling = reason
        state.nextAttempt = ContinuousClock.now + state.backoff
    }

    private func resumed(_ state: inout State) {
        state.spooling = nil
        state.backoff = .milliseconds(250)
        state.nextAttempt = .now
    }

    private func remember(_ state: inout State, _ key: String, _ id: Int64?, epoch: Int) {
        guard let id else { return }
        state.ids[key] = (id, epoch)
        state.idOrder.append(key)
        if state.idOrder.count > 256 { state.ids[state.idOrder.removeFirst()] = nil }
    }
}
