import FaceVision
import Foundation

/// A camera's state changes, as the capture thread sees them.
public enum CameraHealth: Sendable, Equatable {
    /// Streaming started (the first time).
    case streaming(StreamFormat)
    /// The camera is gone or failing; capture retries with backoff.
    case lost(reason: String)
    /// Streaming again after a loss that lasted `downtime` seconds.
    case restored(StreamFormat, downtime: Double)
    /// Requested controls the camera lacks, or that it reset and were re-applied.
    case controls(missing: [String], reapplied: [String])
    /// Another attempt to open a lost camera failed: capture is alive, the camera still gone.
    case retrying
}

/// Frames from a V4L2 camera. A capture thread owns the device: it polls with a timeout, copies
/// what the pipeline keeps, re-queues the buffer at once, and hands over only the newest frame.
/// A camera that is missing, unplugged or stalls does not end the stream: the thread reports
/// `lost`, retries with backoff (0.5 s doubling to 10 s) and reports `restored` when it is back.
/// A wrong device (not a capture device, no usable format, no permission, busy) ends the stream
/// with its error if that happens on the first attempt.
public struct CameraSource: FrameSource {
    public let request: CameraRequest
    /// Frame gap after which the camera counts as stalled and is reopened.
    public let stallTimeout: Duration
    public let onHealth: @Sendable (CameraHealth) -> Void

    public init(request: CameraRequest, stallTimeout: Duration = .seconds(5),
                onHealth: @escaping @Sendable (CameraHealth) -> Void = { _ in }) {
        self.request = request
        self.stallTimeout = stallTimeout
        self.onHealth = onHealth
    }

    public var name: String { "v4l2:\(request.path)" }

    public func frames() -> AsyncThrowingStream<Frame, Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Frame.self, bufferingPolicy: .bufferingNewest(1))
        let stop = StopFlag()
        continuation.onTermination = { _ in stop.set() }
        let capture = CaptureLoop(request: request, stallTimeout: stallTimeout, onHealth: onHealth, stop: stop,
                                  continuation: continuation)
        let thread = Thread { capture.run() }
        thread.name = "faced-capture"
        thread.start()
        return stream
    }
}

final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    func set() { lock.withLock { stopped = true } }
    var isSet: Bool { lock.withLock { stopped } }
}

private struct CaptureLoop: @unchecked Sendable {
    let request: CameraRequest
    let stallTimeout: Duration
    let onHealth: @Sendable (CameraHealth) -> Void
    let stop: StopFlag
    let continuation: AsyncThrowingStream<Frame, Error>.Continuation

    func run() {
        var backoff = 0.5
        var everStreamed = false, reportedMissing = false
        var lostAt: Date?
        var index = 0
        while !stop.isSet {
            do {
                let device = try V4L2Device(path: request.path)
                let format = try device.configure(request)
                try device.start(buffers: request.buffers)
                let missing = request.controls.isEmpty ? [] : device.apply(request.controls)
                if !missing.isEmpty, !reportedMissing {
                    reportedMissing = true
                    onHealth(.controls(missing: missing, reapplied: []))
                }
                // Back only once a frame arrives: a camera that opens but stays silent is still lost.
                try stream(device, format, index: &index) {
                    if let since = lostAt {
                        onHealth(.restored(format, downtime: Date().timeIntervalSince(since)))
                        lostAt = nil
                    } else if !everStreamed {
                        onHealth(.streaming(format))
                    }
                    everStreamed = true
                    backoff = 0.5
                }
                return
            } catch let error as CameraError {
                if error.isPermanent && !everStreamed && lostAt == nil {
                    continuation.finish(throwing: error)
                    return
                }
                if lostAt == nil {
                    lostAt = Date()
                    onHealth(.lost(reason: error.description))
                } else {
                    onHealth(.retrying)
                }
            } catch {
                continuation.finish(throwing: error)
                return
            }
            let until = Date().addingTimeInterval(backoff)
            while !stop.isSet, Date() < until { Thread.sleep(forTimeInterval: 0.05) }
            backoff = min(backoff * 2, 10)
        }
        continuation.finish()
    }

    /// Streams until stopped (returns) or the camera fails (throws).
    private func stream(_ device: V4L2Device, _ format: StreamFormat, index: inout Int, firstFrame: () -> Void) throws {
        var lastFrame = ContinuousClock.now
        var flowing = false
        var lastControlCheck = ContinuousClock.now
        while !stop.isSet {
            let frame = try device.withNextFrame(timeout: .milliseconds(500)) { buffer, info -> Frame? in
                guard !info.corrupt, info.bytesUsed > 0 else { return nil }
                guard let payload = try CameraBuffer.payload(buffer, info, format) else { return nil }
                // An MJPEG frame must be the negotiated size: a glitched header is refused before decoding.
                return Frame(index: index, time: Self.wallTime(ofMonotonicMicros: info.timestampMicros), payload: payload,
                             sizeLimit: .exactly(width: format.width, height: format.height))
            }
            let now = ContinuousClock.now
            if let frame = frame ?? nil {
                if !flowing {
                    flowing = true
                    firstFrame()
                }
                index += 1
                lastFrame = now
                continuation.yield(frame)
            } else if now - lastFrame > stallTimeout {
                let gap = now - lastFrame
                throw CameraError.stalled(request.path, seconds: Double(gap.components.seconds) + Double(gap.components.attoseconds) / 1e18)
            }
            if !request.controls.isEmpty, now - lastControlCheck >= .seconds(2) {
                lastControlCheck = now
                let drifted = device.enforce(request.controls)
                if !drifted.isEmpty { onHealth(.controls(missing: [], reapplied: drifted)) }
            }
        }
    }

    /// Drivers stamp buffers on CLOCK_MONOTONIC; the log wants wall time.
    static func wallTime(ofMonotonicMicros micros: Int64) -> Date {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let age = Double(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000 - micros) / 1e6
        return (0 ... 10).contains(age) ? Date().addingTimeInterval(-age) : Date()
    }
}

/// What the capture thread keeps of a driver buffer.
public enum CameraBuffer {
    /// Copies one driver buffer into a frame payload; nil for a buffer that holds no frame.
    public static func payload(_ buffer: UnsafeRawBufferPointer, _ info: V4L2Device.BufferInfo, _ format: StreamFormat) throws -> Frame.Payload? {
        let used = UnsafeRawBufferPointer(rebasing: buffer.prefix(info.bytesUsed))
        switch format.fourcc {
        case .mjpeg, .jpeg:
            return jpeg(in: used).map { .jpeg($0) }
        case .yuyv:
            return .yuyv(try YUYVImage(width: format.width, height: format.height, bytesPerLine: format.bytesPerLine, buffer: used))
        case .grey:
            return .gray(try GrayImage(width: format.width, height: format.height, bytesPerLine: format.bytesPerLine, buffer: used))
        case .rgb24:
            return .rgb(try RGBImage(width: format.width, height: format.height, bytesPerLine: format.bytesPerLine, buffer: used))
        default:
            return nil
        }
    }

    /// The JPEG in a UVC camera's MJPEG buffer. Cameras leave padding after the end of image and
    /// report only `bytesused` of the buffer, so the frame is cut out by walking its markers.
    public static func jpeg(in buffer: UnsafeRawBufferPointer) -> [UInt8]? {
        guard buffer.count >= 4, buffer[0] == 0xFF, buffer[1] == 0xD8 else { return nil }
        var splitter = MJPEGSplitter()
        if let frame = splitter.push(buffer).first { return frame }
        // No end-of-image marker: a frame cut short. Hand it on without the trailing zeros;
        // the decoder fills what is missing.
        var end = buffer.count
        while end > 2, buffer[end - 1] == 0 { end -= 1 }
        return Array(buffer.prefix(end))
    }
}
