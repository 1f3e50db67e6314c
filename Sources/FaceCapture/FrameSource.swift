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
    /// When the frame was captured (replays: when it was read).
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

    public var description: String {
        switch self {
        case let .notFound(path): "\(path): no such file or directory"
        case let .notADirectory(path): "\(path): not a directory"
        case let .empty(path): "\(path): holds no .jpg, .jpeg or .png frames"
        case let .unreadable(path, reason): "\(path): \(reason)"
        }
    }
}

/// Waits until `index / fps` seconds after `start`; no wait without a rate.
func pace(index: Int, fps: Double?, start: ContinuousClock.Instant) async throws {
    guard let fps, fps > 0 else { return }
    let due = start + .nanoseconds(Int64(Double(index) / fps * 1e9))
    if due > .now { try await Task.sleep(until: due, clock: .continuous) }
}
