import FaceStore
import Foundation

/// Camera health as the frames themselves show it: runs of dark frames (IR emitter off, lens
/// covered) and of frames that fail to decode. Pure bookkeeping; each change it reports is one
/// `camera` row in the log.
public struct CameraWatch: Sendable {
    public enum Change: Sendable, Hashable {
        case dark(String), light(String), lost(String), restored(String)

        /// The row's reason in the audit log.
        public var reason: CameraChange {
            switch self {
            case .dark: .dark
            case .light: .light
            case .lost: .lost
            case .restored: .restored
            }
        }

        public var detail: String {
            switch self {
            case let .dark(d), let .light(d), let .lost(d), let .restored(d): d
            }
        }
    }

    /// Dark or failing frames for this long in a row are reported.
    public var reportAfter: TimeInterval
    public private(set) var darkFrames = 0
    public private(set) var darkRun = 0
    public private(set) var badFrames = 0
    private var darkSince: Date?
    private var darkReported = false
    private var failingSince: Date?
    private var failingReported = false

    public init(reportAfter: TimeInterval) { self.reportAfter = reportAfter }

    public mutating func dark(at time: Date) -> Change? {
        darkFrames += 1
        darkRun += 1
        let since = darkSince ?? time
        darkSince = since
        guard !darkReported, time.timeIntervalSince(since) >= reportAfter else { return nil }
        darkReported = true
        return .dark(String(format: "%d dark frames in a row over %.0f s: IR emitter off or lens covered?", darkRun, time.timeIntervalSince(since)))
    }

    /// A frame with a picture in it.
    public mutating func light(at time: Date) -> Change? {
        defer { darkRun = 0; darkSince = nil; darkReported = false }
        guard darkReported, let since = darkSince else { return nil }
        return .light(String(format: "picture back after %.0f s and %d dark frames", time.timeIntervalSince(since), darkRun))
    }

    /// A frame that failed: a camera sending only garbage for `reportAfter` seconds is as good as lost.
    public mutating func failed(_ error: Error, at time: Date) -> Change? {
        badFrames += 1
        let since = failingSince ?? time
        failingSince = since
        guard !failingReported, time.timeIntervalSince(since) >= reportAfter else { return nil }
        failingReported = true
        return .lost(String(format: "every frame for %.0f s failed to decode (%d skipped in all); last: %@",
                            time.timeIntervalSince(since), badFrames, String(describing: error)))
    }

    /// A frame that decoded.
    public mutating func decoded(at time: Date) -> Change? {
        defer { failingSince = nil; failingReported = false }
        guard failingReported, let since = failingSince else { return nil }
        return .restored(String(format: "frames decode again after %.0f s", time.timeIntervalSince(since)))
    }
}
