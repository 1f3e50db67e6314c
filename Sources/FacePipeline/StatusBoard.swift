import FacedModel
import Foundation

/// The daemon's status, posted to from the pipeline's task, the capture thread and the signal
/// tasks, and read by the task that publishes it.
public final class StatusBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var status: DaemonStatus
    /// (time, frames processed) a few seconds back, for the rate.
    private var samples = [(time: Date, frames: Int)]()

    public init(_ status: DaemonStatus) { self.status = status }

    public func update(_ change: (inout DaemonStatus) -> Void) { lock.withLock { change(&status) } }

    /// The status as of now, with the rate over the last five seconds or so.
    public func current(at now: Date = Date()) -> DaemonStatus {
        lock.withLock {
            samples.append((now, status.frames))
            samples.removeAll { now.timeIntervalSince($0.time) > 5.5 }
            if let first = samples.first, now.timeIntervalSince(first.time) >= 0.5 {
                status.fps = Double(status.frames - first.frames) / now.timeIntervalSince(first.time)
            }
            status.updated = now
            return status
        }
    }
}
