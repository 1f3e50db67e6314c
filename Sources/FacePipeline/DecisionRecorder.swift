import FaceAccess
import FaceStore
import FaceVision
import Foundation
import Locking
import Logging

/// The recording stage: turns the decider's outcomes into audit events, keeps face snapshots and
/// starts the door action of a grant. Writing (and spooling) is `EventRecorder`'s.
final class DecisionRecorder {
    let recorder: EventRecorder
    private let logger: Logger
    var settings: PipelineSettings
    /// The log key of each open track's refusal, for the grant that may follow it.
    private var refusalKeys = [Int64: String]()
    private let actions = ActionTracker()
    private var lastRetentionSweep: ContinuousClock.Instant?
    /// Told of each door action's result once it is logged (on another thread).
    var reportAction: @Sendable (AuditEvent) -> Void = { _ in }

    init(recorder: EventRecorder, settings: PipelineSettings, logger: Logger) {
        self.recorder = recorder
        self.settings = settings
        self.logger = logger
        sweepSnapshots()
    }

    /// Once an hour, snapshots past their retention go.
    func tick() {
        recorder.tick()
        if let last = lastRetentionSweep, ContinuousClock.now - last >= .seconds(3600) { sweepSnapshots() }
    }

    func trackEnded(_ id: Int64) { refusalKeys[id] = nil }

    func record(_ outcome: TrackOutcome, people: [Int64: GallerySnapshot.Entry], crop: RGBImage?) -> AuditEvent {
        let decision = outcome.decision, summary = outcome.summary
        let last = outcome.lastMatch
        var event = AuditEvent(kind: .decision, time: outcome.time, camera: settings.camera)
        event.trackID = outcome.trackID
        switch decision {
        case .granted: event.decision = .granted
        case let .denied(_, reason): event.decision = reason == .unknown ? .unknown : .denied; event.reason = .denial(reason)
        }
        let personID: Int64? = switch decision {
        case let .granted(id): id
        case let .denied(id, _): id
        }
        let entry = personID.flatMap { people[$0] }
        if let personID, let entry {
            event.personID = personID
            event.personName = entry.name
        }
        let best = summary.medianDistance ?? last?.best?.distance
        event.bestDistance = best.flatMap { $0.isFinite ? Double($0) : nil }
        if let runner = last?.runnerUp {
            event.runnerUpName = runner.name
            event.runnerUpDistance = Double(runner.distance)
        }
        event.margin = summary.medianMargin.flatMap { $0.isFinite ? Double($0) : nil }
        event.framesUsed = summary.framesUsed
        event.evidence = "[" + summary.distances.map { String(format: "%.4f", $0) }.joined(separator: ",") + "]"
        if event.personID == nil, let closest = last?.best {
            event.closestName = closest.name
        } else if let entry {
            let windows = entry.schedules.isEmpty ? "none (any time)" : entry.schedules.joined(separator: "; ")
            event.detail = "schedules in force: \(windows); time zone \(settings.policy.timeZone.identifier)"
        }
        event.frameEvidence = outcome.frames.map { frame in
            let best = frame.observation.result.best
            return FrameEvidence(offsetMs: Int((frame.time.timeIntervalSince(outcome.firstSeen) * 1000).rounded()),
                                 distance: best.map { Double($0.distance) }, person: best?.name, faceWidth: frame.width,
                                 sharpness: frame.sharpness, yaw: frame.yaw, skipped: frame.issues)
        }
        event.livenessEvidence = outcome.liveness?.evidence
        if let average = outcome.average?.best {
            let words = String(format: "the average of its %d best frames is %.3f from %@", outcome.averageOf, average.distance, average.name)
            event.detail = event.detail.map { $0 + "; " + words } ?? words
        }
        event.latencyMs = (outcome.time.timeIntervalSince(outcome.firstSeen) * 1000).rounded()
        if let crop, settings.snapshotDirectory != nil, decision.reason != nil || settings.snapshotGranted {
            do {
                event.snapshotPath = try saveSnapshot(crop, track: outcome.trackID, at: outcome.time)
            } catch {
                logger.warning("snapshot for track \(outcome.trackID) not saved: \(error)")
                event.detail = (event.detail.map { $0 + "; " } ?? "") + "snapshot not saved: \(error)"
            }
        }
        let earlierKey = outcome.earlier == nil ? nil : refusalKeys[outcome.trackID]
        if let earlier = outcome.earlier {
            let said = earlier.decision.reason == .unknown ? "unknown" : "denied"
            // Said in words too: a refusal in a gallery file since replaced has no id in this chain.
            event.detail = "after this track was logged \(said) at " + earlier.time.formatted(.iso8601)
                + (event.detail.map { "; " + $0 } ?? "")
        }
        let recorded = recorder.record(event, refersTo: earlierKey)
        if decision.reason != nil, !outcome.atEnd { refusalKeys[outcome.trackID] = recorded.key }
        // The door opens whether or not the gallery took the event: it may be spooled.
        if case .granted = decision, let action = settings.doorAction { startAction(action, for: recorded) }
        return recorded.event
    }

    func camera(_ change: CameraWatch.Change, at time: Date) -> AuditEvent {
        recorder.record(CameraHealthLog.event(change.reason, camera: settings.camera, at: time, detail: change.detail)).event
    }

    func waitForActions() async { await actions.waitForAll() }

    /// Door actions still running.
    var runningActions: Int { actions.running }

    private func startAction(_ action: DoorAction, for grant: RecordedEvent) {
        let recorder = recorder, camera = settings.camera, reportAction = reportAction
        let event = grant.event
        let env = [
            "FACED_EVENT_ID": event.id.map(String.init) ?? "", "FACED_PERSON": event.personName ?? "",
            "FACED_DISTANCE": event.bestDistance.map { String(format: "%.4f", $0) } ?? "", "FACED_CAMERA": camera,
        ]
        actions.start {
            let outcome = action.runBlocking(environment: env)
            var row = AuditEvent(kind: .action, time: Date(), camera: camera)
            row.refEventID = event.id
            row.personName = event.personName
            row.reason = .action(outcome.result)
            row.detail = outcome.detail
            reportAction(recorder.record(row, refersTo: event.id == nil ? grant.key : nil).event)
        }
    }

    /// A face crop as JPEG under DIR/YYYY-MM-DD/, 0600 in a 0700 folder.
    private func saveSnapshot(_ crop: RGBImage, track: Int64, at time: Date) throws -> String {
        let jpeg = try JPEGEncoder(quality: 85).encode(crop)
        let day = String(AuditEvent(kind: .decision, time: time, camera: "").time.prefix(10))
        let root = settings.snapshotDirectory!
        for dir in [root, root + "/" + day] {
            if mkdir(dir, 0o700) == 0 { chmod(dir, 0o700) } else if errno != EEXIST {
                throw SnapshotError(path: dir, reason: String(cString: strerror(errno)))
            }
        }
        let stamp = Int64(time.timeIntervalSince1970 * 1000)
        let file = root + "/" + day + "/\(Pipeline.fileSafe(settings.camera))-\(stamp)-track\(track).jpg"
        // A new name each time: O_EXCL refuses anything already there, O_NOFOLLOW a planted link.
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SnapshotError(path: file, reason: String(cString: strerror(errno))) }
        fchmod(fd, 0o600)
        let written = jpeg.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let failure = written == jpeg.count ? nil : written < 0 ? String(cString: strerror(errno)) : "short write (disk full?)"
        Foundation.close(fd)
        if let failure {
            unlink(file)
            throw SnapshotError(path: file, reason: failure)
        }
        return file
    }

    /// Deletes snapshot day folders older than the retention period.
    private func sweepSnapshots() {
        lastRetentionSweep = .now
        guard let dir = settings.snapshotDirectory, FileManager.default.fileExists(atPath: dir) else { return }
        let cutoff = String(AuditEvent(kind: .decision, time: Date().addingTimeInterval(-Double(settings.snapshotRetentionDays) * 86400),
                                       camera: "").time.prefix(10))
        do {
            for day in try FileManager.default.contentsOfDirectory(atPath: dir)
            where day.count == 10 && day.first?.isNumber == true && day < cutoff {
                try FileManager.default.removeItem(atPath: dir + "/" + day)
            }
        } catch {
            logger.warning("snapshot retention sweep in \(dir) failed: \(error)")
        }
    }
}

public struct SnapshotError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Door actions in flight, each on a thread of its own: the pipeline never waits for one, and
/// a finished one leaves nothing behind.
final class ActionTracker: Sendable {
    private let state = Locked((running: 0, waiters: [CheckedContinuation<Void, Never>]()))

    var running: Int { state.withLock { $0.running } }

    func start(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.running += 1 }
        let thread = Thread {
            body()
            let waiters: [CheckedContinuation<Void, Never>] = self.state.withLock { state in
                state.running -= 1
                guard state.running == 0 else { return [] }
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = "faced-door-action"
        thread.start()
    }

    func waitForAll() async {
        await withCheckedContinuation { continuation in
            let now: Bool = state.withLock { state in
                if state.running == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
