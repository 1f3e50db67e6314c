import FaceCapture

/// A frame source as written on the command line: `dir:PATH`, `mjpeg:PATH` or `v4l2:DEVICE`.
public enum SourceSpec: Sendable, Hashable, CustomStringConvertible {
    case directory(String)
    case mjpeg(String)
    case v4l2(String)

    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "unknown source '\(text)'; use v4l2:/dev/video0 (a camera), dir:PATH (a folder of JPEG frames) or mjpeg:PATH (concatenated JPEGs)" }
    }

    public init(parsing text: String) throws {
        if text.hasPrefix("dir:"), text.count > 4 { self = .directory(String(text.dropFirst(4))) }
        else if text.hasPrefix("mjpeg:"), text.count > 6 { self = .mjpeg(String(text.dropFirst(6))) }
        else if text.hasPrefix("v4l2:"), text.count > 5 { self = .v4l2(String(text.dropFirst(5))) }
        else { throw ParseError(text: text) }
    }

    /// Opens the source. For a camera, `camera` gives size, rate, format and controls (its path is
    /// replaced by the spec's), and `onHealth` hears about losses and returns. `clock` is for
    /// replays (a camera's frames carry the time they were captured).
    public func open(fps: Double?, loop: Bool = false, clock: FrameClock = .wall, camera: CameraRequest = CameraRequest(path: ""),
                     onHealth: @escaping @Sendable (CameraHealth) -> Void = { _ in }) throws -> any FrameSource {
        switch self {
        case let .directory(path): return try ImageDirectorySource(path: path, fps: fps, clock: clock)
        case let .mjpeg(path): return try MJPEGFileSource(path: path, fps: fps, loop: loop, clock: clock)
        case let .v4l2(path):
            var request = camera
            request.path = path
            if let fps { request.fps = fps }
            return CameraSource(request: request, onHealth: onHealth)
        }
    }

    /// Live sources hand the pipeline only their newest frame.
    public var isLive: Bool { if case .v4l2 = self { true } else { false } }

    public var description: String {
        switch self {
        case let .directory(path): "dir:\(path)"
        case let .mjpeg(path): "mjpeg:\(path)"
        case let .v4l2(path): "v4l2:\(path)"
        }
    }
}

/// Holds at most one waiting frame: a newer frame replaces one not yet taken (latest wins).
public actor LatestFrameSlot {
    private var waiting: Frame?
    private var consumer: CheckedContinuation<Frame?, Never>?
    private var ended = false
    public private(set) var replaced = 0

    public init() {}

    public func put(_ frame: Frame) {
        if let consumer {
            self.consumer = nil
            consumer.resume(returning: frame)
        } else {
            if waiting != nil { replaced += 1 }
            waiting = frame
        }
    }

    public func end() {
        ended = true
        if waiting == nil, let consumer {
            self.consumer = nil
            consumer.resume(returning: nil)
        }
    }

    /// The newest frame, waiting for one if needed; nil once the source ended and nothing waits.
    public func take() async -> Frame? {
        if let frame = waiting {
            waiting = nil
            return frame
        }
        if ended { return nil }
        return await withCheckedContinuation { consumer = $0 }
    }
}
