import FaceVision
import Foundation

/// A frame as a source delivers it: still encoded, so the pipeline decodes it once, at the
/// scale it needs.
public struct Frame: Sendable {
    public enum Payload: Sendable {
        case jpeg([UInt8])
        case png([UInt8])
        case rgb(RGBImage)
        case gray(GrayImage)
        /// Uncompressed camera frame, kept packed: luma is all detection needs.
        case yuyv(YUYVImage)
    }

    /// Position in the source, from 0.
    public var index: Int
    /// When the frame was captured (replays: when it was read, or its media time; `FrameClock`).
    public var time: Date
    public var payload: Payload
    /// What an encoded payload's header may claim, for `ImageDecoder.decode(_:scale:limit:)`:
    /// a camera's negotiated size. Nil when the source knows none (replays: the pipeline's budget).
    public var sizeLimit: SizeLimit?

    public init(index: Int, time: Date, payload: Payload, sizeLimit: SizeLimit? = nil) {
        self.index = index
        self.time = time
        self.payload = payload
        self.sizeLimit = sizeLimit
    }
}

/// Anything that yields frames: a camera, a folder of stills, a recorded MJPEG stream.
public protocol FrameSource: Sendable {
    /// How the source names itself in logs and events, e.g. "dir:/srv/replay".
    var name: String { get }
    /// The frames, in order. The stream ends at the end of a finite source; errors end it too.
    func frames() -> AsyncThrowingStream<Frame, Error>
}

public enum FrameSourceError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case notADirectory(String)
    case empty(String)
    case unreadable(String, reason: String)
    case mediaTimeWithoutRate(String)

    public var description: String {
        switch self {
        case let .notFound(path): "\(path): no such file or directory"
        case let .notADirectory(path): "\(path): not a directory"
        case let .empty(path): "\(path): holds no .jpg, .jpeg or .png frames"
        case let .unreadable(path, reason): "\(path): \(reason)"
        case let .mediaTimeWithoutRate(name): "\(name): media time needs a frame rate (frame i is stamped i / fps seconds after the start)"
        }
    }
}

/// How a replay stamps its frames.
public enum FrameClock: Sendable, Hashable {
    /// The wall clock when the frame is read; with a rate the replay is also paced to it, so a
    /// slow consumer sees fewer frames, as from a camera.
    case wall
    /// Frame i is stamped `start + i / fps` and nothing is paced: every frame is processed,
    /// however long it takes, and timed decisions (patience, rejoin, cooldown) come out as a
    /// camera at that rate would give them, on any machine.
    case media

    /// The time of frame `index`: media time from `start`, or now.
    func time(of index: Int, fps: Double?, start: Date) -> Date {
        guard self == .media, let fps, fps > 0 else { return Date() }
        return start.addingTimeInterval(Double(index) / fps)
    }
}

/// Waits until `index / fps` seconds after `start`; no wait without a rate.
func pace(index: Int, fps: Double?, start: ContinuousClock.Instant) async throws {
    guard let fps, fps > 0 else { return }
    let due = start + .nanoseconds(Int64(Double(index) / fps * 1e9))
    if due > .now { try await Task.sleep(until: due, clock: .continuous) }
}
