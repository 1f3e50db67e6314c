import ArgumentParser
import FaceCapture
import FacePipeline
import FaceVision
import Foundation

struct Capture: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture cost per frame: from a V4L2 camera (negotiated format, granted rate, copy and conversion), or MJPEG decode at full and half scale from an MJPEG file.",
        discussion: """
            Examples:
              facebench capture --source v4l2:/dev/video0 --format yuyv --size 1280x720 --fps 30 --frames 90
              facebench capture --source mjpeg:/tmp/door.mjpeg
            """)

    @Option(help: "v4l2:DEVICE or mjpeg:PATH.")
    var source: String

    @Option(help: "Camera frame size to ask for, WIDTHxHEIGHT.")
    var size = "1280x720"

    @Option(help: "Camera frame rate to ask for.")
    var fps: Double = 30

    @Option(help: "Camera format: auto, mjpeg, yuyv, grey or rgb.")
    var format = "auto"

    @Option(help: "Frames to capture.")
    var frames = 60

    @Option(help: ArgumentHelp("Write the last captured frame, converted to RGB, as JPEG here.", valueName: "path"))
    var saveLast: String?

    @Flag(help: "Print JSON.")
    var json = false

    struct CameraReport: Encodable {
        var device: String
        var card: String
        var format: StreamFormat
        var buffers: Int
        var frames: Int
        var decodedWidth: Int
        var decodedHeight: Int
        /// Frames per second between the first and last driver timestamps.
        var measuredFps: Double
        /// Dequeue, copy and re-queue, per frame (thread CPU time).
        var copyMs: Double
        /// To gray for the detector, per frame: every frame pays it.
        var grayMs: Double
        /// To RGB, per frame that has a face to describe.
        var rgbMs: Double
        /// Process CPU time over wall time while capturing (copy + gray per frame), in % of one core.
        var cpuPercentOfCore: Double
    }

    func run() throws {
        switch try SourceSpec(parsing: source) {
        case let .v4l2(path): try camera(path)
        case let .mjpeg(path): try mjpeg(path)
        case .directory: throw ValidationError("capture measures cameras (v4l2:) and MJPEG files (mjpeg:)")
        }
    }

    private func camera(_ path: String) throws {
        guard let (w, h) = CameraRequest.parseSize(size), let choice = CameraFormatChoice(rawValue: format) else {
            throw ValidationError("bad --size or --format")
        }
        let device = try V4L2Device(path: path)
        let granted = try device.configure(CameraRequest(path: path, width: w, height: h, fps: fps, format: choice))
        try device.start(buffers: 4)
        var copy = Duration.zero, grayTime = Duration.zero, rgbTime = Duration.zero
        var stamps = [Int64](), last: Frame.Payload?
        var decoded = (0, 0)
        let cpuStart = processCPU(), wallStart = ContinuousClock.now
        while stamps.count < frames {
            let t0 = threadCPU()
            let captured = try device.withNextFrame(timeout: .seconds(5)) { buffer, info in
                (try CameraBuffer.payload(buffer, info, granted), info.timestampMicros)
            }
            guard let (payload, stamp) = captured, let payload else { throw CameraError.stalled(path, seconds: 5) }
            let t1 = threadCPU()
            let gray: GrayImage = switch payload {
            case let .yuyv(image): image.grayscale()
            case let .gray(image): image
            case let .rgb(image): image.grayscale()
            case let .jpeg(bytes): try ImageDecoder(rejectsJPEGWarnings: false).decode(bytes).grayscale()
            case let .png(bytes): try ImageDecoder().decode(bytes).grayscale()
            }
            let t2 = threadCPU()
            copy += t1 - t0
            grayTime += t2 - t1
            decoded = (gray.width, gray.height)
            stamps.append(stamp)
            last = payload
        }
        let wall = ContinuousClock.now - wallStart, cpu = processCPU() - cpuStart
        var lastRGB: RGBImage?
        if let last {
            let t0 = threadCPU()
            for _ in 0 ..< 5 { lastRGB = try rgb(of: last) }
            rgbTime = (threadCPU() - t0) / 5
        }
        if let saveLast, let lastRGB { try Data(JPEGEncoder(quality: 90).encode(lastRGB)).write(to: URL(fileURLWithPath: saveLast)) }
        let span = Double(stamps.last! - stamps.first!) / 1e6
        let report = CameraReport(
            device: path, card: device.card, format: granted, buffers: device.bufferCount, frames: stamps.count,
            decodedWidth: decoded.0, decodedHeight: decoded.1, measuredFps: span > 0 ? Double(stamps.count - 1) / span : 0,
            copyMs: ms(copy) / Double(frames), grayMs: ms(grayTime) / Double(frames), rgbMs: ms(rgbTime),
            cpuPercentOfCore: 100 * ms(cpu) / ms(wall))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
        print("\(path) (\(device.card)): \(granted), \(device.bufferCount) buffers")
        print(String(format: "%d frames of %dx%d at %.2f fps measured from driver timestamps", report.frames, decoded.0, decoded.1, report.measuredFps))
        print(String(format: "per frame: copy %.2f ms, to gray %.2f ms; to RGB %.2f ms (only frames with a face)", report.copyMs,
                     report.grayMs, report.rgbMs))
        print(String(format: "capture thread CPU: %.1f%% of one core", report.cpuPercentOfCore))
    }

    private func rgb(of payload: Frame.Payload) throws -> RGBImage {
        switch payload {
        case let .yuyv(image): image.rgb()
        case let .gray(image): image.rgb()
        case let .rgb(image): image
        case let .jpeg(bytes): try ImageDecoder(rejectsJPEGWarnings: false).decode(bytes)
        case let .png(bytes): try ImageDecoder().decode(bytes)
        }
    }

    private func mjpeg(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var splitter = MJPEGSplitter()
        let jpegs = splitter.push(bytes)
        guard let first = jpegs.first else { throw ValidationError("\(path) holds no JPEG frames") }
        let decoder = ImageDecoder(rejectsJPEGWarnings: false)
        let size = try decoder.decode(first)
        print("\(path): \(jpegs.count) frames of \(size.width)x\(size.height), \(bytes.count / jpegs.count / 1024) KiB each on average")
        for scale in [JPEGScale.full, JPEGScale.supported.first { $0.factor == 0.5 }!] {
            let t0 = threadCPU()
            for jpeg in jpegs { _ = try decoder.decode(jpeg, scale: scale) }
            let per = ms(threadCPU() - t0) / Double(jpegs.count)
            print(String(format: "decode at %@ scale: %.2f ms per frame, %.1f%% of one core at 30 fps", scale.factor == 1 ? "full" : "half",
                         per, per * 30 / 10))
        }
        // The same frame as a YUYV camera would deliver it: what the capture thread and the
        // pipeline pay per frame instead of the JPEG decode.
        let packed = try size.yuyv()
        let rounds = 50
        var t0 = threadCPU()
        for _ in 0 ..< rounds { _ = try packed.bytes.withUnsafeBytes { try YUYVImage(width: size.width, height: size.height, bytesPerLine: size.width * 2, buffer: $0) } }
        let copy = ms(threadCPU() - t0) / Double(rounds)
        t0 = threadCPU()
        for _ in 0 ..< rounds { _ = packed.grayscale() }
        let gray = ms(threadCPU() - t0) / Double(rounds)
        t0 = threadCPU()
        for _ in 0 ..< rounds { _ = packed.rgb() }
        let rgb = ms(threadCPU() - t0) / Double(rounds)
        print(String(format: "YUYV %dx%d: copy %.3f ms, to gray %.3f ms (every frame), to RGB %.3f ms (frames with a face); copy + gray = %.1f%% of one core at 30 fps",
                     size.width, size.height, copy, gray, rgb, (copy + gray) * 3))
    }
}

private func threadCPU() -> Duration { cpuClock(CLOCK_THREAD_CPUTIME_ID) }
private func processCPU() -> Duration { cpuClock(CLOCK_PROCESS_CPUTIME_ID) }
private func cpuClock(_ id: clockid_t) -> Duration {
    var t = timespec()
    clock_gettime(id, &t)
    return .seconds(Int64(t.tv_sec)) + .nanoseconds(Int64(t.tv_nsec))
}
private func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
