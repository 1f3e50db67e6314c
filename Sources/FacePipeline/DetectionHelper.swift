import FaceVision
import Foundation

/// A second detector on a thread of its own: the look thread hands it part of a frame's
/// detection jobs and runs the rest itself, so that one frame's detection uses both cores
/// (the describe thread is idle most of the time while the detector works). One batch at a time.
final class DetectionHelper: @unchecked Sendable {
    let engine: FaceEngine
    private let condition = NSCondition()
    private var work: (() -> Void)?
    private var running = false
    private var closed = false

    init(engine: FaceEngine) {
        self.engine = engine
        let thread = Thread { [self] in loop() }
        thread.name = "faced-detect"
        thread.stackSize = 16 << 20
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while work == nil && !closed { condition.wait() }
            guard let body = work else {
                condition.unlock()
                return
            }
            work = nil
            condition.unlock()
            body()
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Runs `body` on the helper's thread with its engine (on the caller's, once closed); the
    /// caller joins with `wait`.
    func start(_ body: @escaping (FaceEngine) -> Void) {
        condition.lock()
        // One batch at a time: the look thread waits for one before it hands the next.
        while running { condition.wait() }
        guard !closed else {
            condition.unlock()
            body(engine)
            return
        }
        running = true
        let engine = engine
        work = { body(engine) }
        condition.broadcast()
        condition.unlock()
    }

    /// Until the batch handed last has run.
    func wait() {
        condition.lock()
        while running { condition.wait() }
        condition.unlock()
    }

    /// Ends the thread once the batch in hand, if any, has run.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
