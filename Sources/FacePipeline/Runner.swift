import FaceCapture
import FaceStore
import Foundation

/// Feeds a source into a pipeline, whose two stages run on threads of their own: dlib and SQLite
/// block, and must not hold one of the few threads of Swift's cooperative pool. One thread looks
/// (thumbnail, motion gate, detection), the other settles (describe, decide, record), a frame
/// behind: on two cores, with the pipeline's second engine, detection and description overlap.
/// Live or paced sources go through a one-frame slot, so a busy pipeline skips to the newest
/// frame; an unpaced replay is processed frame by frame. Live or paced, a third thread glances at
/// every frame (thumbnail and motion gate, a few milliseconds) while the detector is busy: the
/// detector then takes the newest glance with the motion of the frames it skipped, and the gate's
/// background keeps up with the scene. Between the stages frames wait in order, one at most: a
/// frame looked at is always settled.
public struct Runner: @unchecked Sendable {
    public let pipeline: Pipeline
    public let source: any FrameSource
    public let latestWins: Bool
    public let report: (AuditEvent) -> Void
    /// How often to call `progress` (nil: never).
    public var progressInterval: Duration?
    public var progress: (PipelineProgress) -> Void = { _ in }
    /// Called after every processed frame: proof of progress for a watchdog.
    public var afterFrame: () -> Void = {}
    /// The frames carry media time (`FrameClock.media`): the tracks still open at the end are
    /// closed at the last frame's time, not at the wall clock's.
    public var mediaTime = false
    /// Stops the run between two frames: the frame in hand is decided and logged first.
    public let stopper = RunStopper()

    public init(pipeline: Pipeline, source: any FrameSource, latestWins: Bool, report: @escaping (AuditEvent) -> Void) {
        self.pipeline = pipeline
        self.source = source
        self.latestWins = latestWins
        self.report = report
    }

    private func settled(_ frame: LookedFrame, _ tally: inout PipelineProgress.Tally) {
        for event in pipeline.settle(frame) { report(event) }
        afterFrame()
        guard let interval = progressInterval else { return }
        if let summary = tally.take(pipeline, every: interval) { progress(summary) }
    }

    public func run() async throws {
        let handoff = FrameHandoff(latestWins: latestWins)
        let source = source, stopper = stopper
        let producer = Task {
            defer { handoff.end(discardingPending: false) }
            for try await frame in source.frames() {
                if stopper.isStopped { break }
                await handoff.put(frame)
            }
        }
        stopper.onStop {
            handoff.end(discardingPending: true)
            producer.cancel()
        }
        // Unchecked: the runner and its pipeline move to the threads; `look` is called on one and
        // `settle` on the other only, until the settle thread resumes the continuation.
        let runner = self
        let looked = StageSlot<LookedFrame>()
        let glances = latestWins ? GlanceHandoff() : nil
        let glancer = glances.map { glances in
            Thread {
                while let frame = handoff.take() { glances.put(runner.pipeline.glance(frame)) }
                glances.end()
            }
        }
        let looker = Thread {
            if let glances {
                while let glance = glances.take() { looked.put(runner.pipeline.look(glance)) }
            } else {
                while let frame = handoff.take() { looked.put(runner.pipeline.look(frame)) }
            }
            looked.end()
        }
        looker.name = "faced-look"
        looker.stackSize = 16 << 20
        glancer?.name = "faced-glance"
        glancer?.stackSize = 16 << 20
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let settler = Thread {
                var tally = PipelineProgress.Tally()
                var last: Date?
                while let frame = looked.take() {
                    runner.settled(frame, &tally)
                    last = frame.frame.time
                }
                runner.pipeline.stagesEnded()
                let end = runner.mediaTime ? last ?? Date() : Date()
                for event in runner.pipeline.finishTracks(at: end) { runner.report(event) }
                done.resume()
            }
            settler.name = "faced-settle"
            settler.stackSize = 16 << 20
            settler.start()
            looker.start()
            glancer?.start()
        }
        if stopper.isStopped {
            // Cancelled on purpose: its CancellationError is no failure.
            producer.cancel()
            _ = try? await producer.value
        } else {
            try await producer.value
        }
        await pipeline.waitForActions()
        pipeline.recorder.flush()
    }
}

/// Frames from the source's task to the pipeline's thread. With `latestWins` a new frame
/// replaces one still waiting (never a queue); without, the producer waits for the pipeline.
final class FrameHandoff: @unchecked Sendable {
    private let condition = NSCondition()
    private let latestWins: Bool
    private var pending: Frame?
    private var ended = false
    private var producerWaiting: CheckedContinuation<Void, Never>?
    /// Frames replaced before the pipeline took them.
    private(set) var replaced = 0

    init(latestWins: Bool) { self.latestWins = latestWins }

    func put(_ frame: Frame) async {
        if !latestWins {
            await withCheckedContinuation { (resume: CheckedContinuation<Void, Never>) in
                if !waitForRoom(resume) { resume.resume() }
            }
        }
        deposit(frame)
    }

    /// Parks the producer until the pipeline takes the waiting frame; false when there is room now.
    private func waitForRoom(_ resume: CheckedContinuation<Void, Never>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard pending != nil && !ended else { return false }
        producerWaiting = resume
        return true
    }

    private func deposit(_ frame: Frame) {
        condition.lock()
        defer { condition.unlock() }
        guard !ended else { return }
        if pending != nil { replaced += 1 }
        pending = frame
        condition.signal()
    }

    /// The next frame, waiting for one; nil once the source ended (or the run was stopped).
    func take() -> Frame? {
        condition.lock()
        while pending == nil && !ended { condition.wait() }
        let frame = pending
        pending = nil
        let waiting = producerWaiting
        producerWaiting = nil
        condition.unlock()
        waiting?.resume()
        return frame
    }

    /// No more frames. A stop discards the one waiting; the end of a source lets it be processed.
    func end(discardingPending: Bool) {
        condition.lock()
        ended = true
        if discardingPending { pending = nil }
        let waiting = producerWaiting
        producerWaiting = nil
        condition.broadcast()
        condition.unlock()
        waiting?.resume()
    }
}

/// Glances from the glance thread to the look thread: a new one merges with one still waiting
/// (its motion kept), so `put` never waits.
final class GlanceHandoff: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: Glance?
    private var ended = false

    func put(_ glance: Glance) {
        condition.lock()
        defer { condition.unlock() }
        guard !ended else { return }
        pending = pending.map { $0.merged(into: glance) } ?? glance
        condition.signal()
    }

    /// The newest glance, waiting for one; nil once ended and empty.
    func take() -> Glance? {
        condition.lock()
        defer { condition.unlock() }
        while pending == nil && !ended { condition.wait() }
        let glance = pending
        pending = nil
        return glance
    }

    /// No more glances; the one waiting is still taken.
    func end() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }
}

/// One item at a time from one thread to another, in order: `put` waits while the slot is full.
final class StageSlot<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var item: Item?
    private var ended = false

    func put(_ new: Item) {
        condition.lock()
        defer { condition.unlock() }
        while item != nil && !ended { condition.wait() }
        guard !ended else { return }
        item = new
        condition.broadcast()
    }

    /// The next item, waiting for one; nil once ended and empty.
    func take() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while item == nil && !ended { condition.wait() }
        let taken = item
        item = nil
        condition.broadcast()
        return taken
    }

    /// No more items; the one waiting is still taken.
    func end() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Asks a run to end: thread-safe, callable from a signal handler's task.
public final class RunStopper: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var actions = [@Sendable () -> Void]()

    public init() {}

    public var isStopped: Bool { lock.withLock { stopped } }

    public func stop() {
        let run: [@Sendable () -> Void] = lock.withLock {
            stopped = true
            defer { actions.removeAll() }
            return actions
        }
        for action in run { action() }
    }

    /// Runs `action` on stop, or now if already stopped.
    func onStop(_ action: @escaping @Sendable () -> Void) {
        let now: Bool = lock.withLock {
            if stopped { return true }
            actions.append(action)
            return false
        }
        if now { action() }
    }
}

/// What the pipeline did since the last report: for the daemon's log and status.
public struct PipelineProgress: Sendable {
    public var seconds: Double
    public var frames: Int
    public var framesWithFaces: Int
    public var darkFrames: Int
    /// Mean milliseconds per processed frame.
    public var msPerFrame: Double

    public var fps: Double { seconds > 0 ? Double(frames) / seconds : 0 }

    public var description: String {
        String(format: "%d frames in %.0f s (%.1f fps, %.0f ms each), %d with a face, %d dark", frames, seconds, fps, msPerFrame,
               framesWithFaces, darkFrames)
    }

    struct Tally {
        private var since = ContinuousClock.now
        private var frames = 0, withFaces = 0, dark = 0
        private var busy = Duration.zero

        mutating func take(_ pipeline: Pipeline, every interval: Duration) -> PipelineProgress? {
            let now = ContinuousClock.now
            guard now - since >= interval else { return nil }
            let busyNow = pipeline.stageTime.values.reduce(Duration.zero, +)
            let n = pipeline.framesProcessed - frames
            let elapsed = now - since
            let result = PipelineProgress(
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, frames: n,
                framesWithFaces: pipeline.framesWithFaces - withFaces, darkFrames: pipeline.darkFrames - dark,
                msPerFrame: n > 0 ? Double((busyNow - busy).components.attoseconds / 1_000_000_000_000_000
                    + (busyNow - busy).components.seconds * 1000) / Double(n) : 0)
            since = now
            frames = pipeline.framesProcessed
            withFaces = pipeline.framesWithFaces
            dark = pipeline.darkFrames
            busy = busyNow
            return result
        }
    }
}
