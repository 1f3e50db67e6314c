import CV4L2
import FaceVision
import Foundation

/// A V4L2 pixel format code such as "YUYV" or "MJPG".
public struct FourCC: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: UInt32

    public init(_ code: UInt32) { self.code = code }

    public init(_ text: String) {
        let bytes = Array(text.utf8.prefix(4)) + Array(repeating: UInt8(ascii: " "), count: max(0, 4 - text.utf8.count))
        code = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    public var description: String {
        let chars = (0 ..< 4).map { UInt8(truncatingIfNeeded: code >> (8 * $0)) }
        return String(decoding: chars, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    public static let mjpeg = FourCC("MJPG"), jpeg = FourCC("JPEG"), yuyv = FourCC("YUYV")
    public static let grey = FourCC("GREY"), rgb24 = FourCC("RGB3")

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public init(from decoder: Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }

    /// The formats faced decodes itself.
    public var isSupported: Bool { [.mjpeg, .jpeg, .yuyv, .grey, .rgb24].contains(self) }
}

/// Which camera format to ask for. `auto` prefers MJPEG (least USB bandwidth, decoded at a reduced
/// scale when that is enough), then YUYV, then GREY (IR cameras), then RGB24 converted by libv4l2.
public enum CameraFormatChoice: String, Sendable, CaseIterable, Codable {
    case auto, mjpeg, yuyv, grey, rgb

    public var preference: [FourCC] {
        switch self {
        case .auto: [.mjpeg, .jpeg, .yuyv, .grey, .rgb24]
        case .mjpeg: [.mjpeg, .jpeg]
        case .yuyv: [.yuyv]
        case .grey: [.grey]
        case .rgb: [.rgb24]
        }
    }
}

public enum PowerLineFrequency: String, Sendable, CaseIterable, Codable {
    case off, hz50 = "50", hz60 = "60", auto
    var controlValue: Int32 {
        switch self { case .off: 0; case .hz50: 1; case .hz60: 2; case .auto: 3 }
    }
}

/// Optional sensor controls. Set after streaming starts (many UVC cameras reset them at STREAMON)
/// and checked again while streaming.
public struct CameraControls: Sendable, Equatable, Codable {
    /// Manual exposure in the driver's units (UVC: 100 µs); nil leaves auto exposure.
    public var exposure: Int?
    /// Manual gain; nil leaves auto gain.
    public var gain: Int?
    public var powerLine: PowerLineFrequency?

    public init(exposure: Int? = nil, gain: Int? = nil, powerLine: PowerLineFrequency? = nil) {
        self.exposure = exposure
        self.gain = gain
        self.powerLine = powerLine
    }

    public var isEmpty: Bool { exposure == nil && gain == nil && powerLine == nil }
}

/// What to open and how.
public struct CameraRequest: Sendable, Equatable {
    public var path: String
    public var width: Int
    public var height: Int
    public var fps: Double
    public var format: CameraFormatChoice
    public var controls: CameraControls
    /// mmap buffers to ask for; at least 3 so one can be filled while one is copied.
    public var buffers: Int

    public init(path: String, width: Int = 1280, height: Int = 720, fps: Double = 30, format: CameraFormatChoice = .auto,
                controls: CameraControls = CameraControls(), buffers: Int = 4) {
        self.path = path
        self.width = width
        self.height = height
        self.fps = fps
        self.format = format
        self.controls = controls
        self.buffers = max(3, buffers)
    }
}

/// The format the driver granted.
public struct StreamFormat: Sendable, Equatable, Codable, CustomStringConvertible {
    public var fourcc: FourCC
    public var width: Int
    public var height: Int
    public var bytesPerLine: Int
    public var sizeImage: Int
    /// Frames per second the driver reports after negotiation; nil when it reports none.
    public var fps: Double?
    /// True when libv4l2 converts from another camera format (costs CPU in libv4lconvert).
    public var converted: Bool

    public init(fourcc: FourCC, width: Int, height: Int, bytesPerLine: Int, sizeImage: Int, fps: Double?, converted: Bool) {
        self.fourcc = fourcc
        self.width = width
        self.height = height
        self.bytesPerLine = bytesPerLine
        self.sizeImage = sizeImage
        self.fps = fps
        self.converted = converted
    }

    public var description: String {
        "\(fourcc) \(width)x\(height)" + (fps.map { String(format: " at %.3g fps", $0) } ?? "") + (converted ? " (converted by libv4l2)" : "")
    }
}

public enum CameraError: Error, Equatable, CustomStringConvertible {
    case missing(String)
    case permission(String)
    case busy(String)
    case notCapture(String, card: String)
    case noStreaming(String)
    case noUsableFormat(String, offered: [String], wanted: [String])
    case failed(String, operation: String, errno: Int32)
    case disconnected(String, errno: Int32)
    case stalled(String, seconds: Double)

    /// Errors that retrying cannot fix: the wrong device or a setting it cannot meet.
    public var isPermanent: Bool {
        switch self {
        case .notCapture, .noStreaming, .noUsableFormat, .permission, .busy: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case let .missing(path): "camera \(path) is not there; plug it in or check --source (facectl cameras lists them)"
        case let .permission(path): "camera \(path): permission denied; add the user to group video"
        case let .busy(path): "camera \(path) is busy: another program is streaming from it; stop that program"
        case let .notCapture(path, card): "\(path) (\(card)) is not a video capture device; facectl cameras lists the ones faced can use"
        case let .noStreaming(path): "camera \(path) cannot stream (no V4L2 streaming I/O)"
        case let .noUsableFormat(path, offered, wanted):
            "camera \(path) offers \(offered.joined(separator: ", ")), none of \(wanted.joined(separator: ", ")); try another --format"
        case let .failed(path, operation, code): "camera \(path): \(operation) failed: \(String(cString: strerror(code)))"
        case let .disconnected(path, code): "camera \(path) disconnected: \(String(cString: strerror(code)))"
        case let .stalled(path, seconds): "camera \(path) delivered no frame for \(String(format: "%.1f", seconds)) s"
        }
    }
}

/// One open V4L2 capture node, through libv4l2. Not thread-safe: one capture thread owns it.
public final class V4L2Device {
    public let path: String
    public let driver: String
    public let card: String
    public let busInfo: String
    private let fd: Int32
    private var buffers = [(start: UnsafeMutableRawPointer, length: Int)]()
    private var streaming = false
    public private(set) var format: StreamFormat?

    /// True for a node that captures video and streams: one faced can use.
    public let canCapture: Bool

    /// Opens a capture node; symlinks such as /dev/v4l/by-id/... are followed. With
    /// `requireCapture` false, other nodes (metadata, output) open too, for listing.
    public init(path: String, requireCapture: Bool = true) throws {
        self.path = path
        let fd = cv4l2_open_raw(path)
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENODEV, ENXIO: throw CameraError.missing(path)
            case EACCES, EPERM: throw CameraError.permission(path)
            case EBUSY: throw CameraError.busy(path)
            case let code: throw CameraError.failed(path, operation: "open", errno: code)
            }
        }
        var cap = v4l2_capability()
        guard cv4l2_querycap_raw(fd, &cap) == 0 else {
            let code = errno
            close(fd)
            if code == ENOTTY || code == EINVAL { throw CameraError.notCapture(path, card: "not a V4L2 device") }
            throw CameraError.failed(path, operation: "VIDIOC_QUERYCAP", errno: code)
        }
        guard cv4l2_adopt(fd) == fd else {
            let code = errno
            close(fd)
            throw CameraError.failed(path, operation: "v4l2_fd_open", errno: code)
        }
        self.fd = fd
        driver = Self.string(cap.driver)
        card = Self.string(cap.card)
        busInfo = Self.string(cap.bus_info)
        let caps = cv4l2_node_caps(&cap)
        canCapture = caps & CV4L2_CAP_VIDEO_CAPTURE != 0 && caps & CV4L2_CAP_STREAMING != 0
        if !requireCapture { return }
        // Every stored property is set from here on, so a throw runs deinit, which closes the
        // fd: closing it here as well would close it twice (and maybe another thread's new fd).
        guard caps & CV4L2_CAP_VIDEO_CAPTURE != 0 else { throw CameraError.notCapture(path, card: card) }
        guard caps & CV4L2_CAP_STREAMING != 0 else { throw CameraError.noStreaming(path) }
    }

    deinit {
        stop()
        _ = cv4l2_close(fd)
    }

    private static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    // MARK: Formats

    public struct FormatInfo: Sendable, Codable, Equatable {
        public var fourcc: FourCC
        public var name: String
        /// Offered by libv4l2 through conversion, not by the camera itself.
        public var emulated: Bool
        public var sizes: [SizeInfo]
    }

    public struct SizeInfo: Sendable, Codable, Equatable {
        public var width: Int
        public var height: Int
        /// Discrete rates; for a stepwise size range, width/height are the maximum and fps the fastest.
        public var fps: [Double]
        public var stepwise: Bool
    }

    /// Every format the node offers, with its sizes and frame rates.
    public func formats() -> [FormatInfo] {
        var result = [FormatInfo]()
        var desc = v4l2_fmtdesc()
        var i: UInt32 = 0
        while cv4l2_enum_format(fd, i, &desc) == 0 {
            let fourcc = FourCC(desc.pixelformat)
            result.append(FormatInfo(fourcc: fourcc, name: Self.string(desc.description),
                                     emulated: desc.flags & CV4L2_FMT_FLAG_EMULATED != 0, sizes: sizes(of: fourcc)))
            i += 1
        }
        return result
    }

    private func sizes(of fourcc: FourCC) -> [SizeInfo] {
        var sizes = [SizeInfo]()
        var index: UInt32 = 0
        var type: UInt32 = 0, w: UInt32 = 0, h: UInt32 = 0, maxW: UInt32 = 0, maxH: UInt32 = 0, stepW: UInt32 = 0, stepH: UInt32 = 0
        while cv4l2_enum_size(fd, fourcc.code, index, &type, &w, &h, &maxW, &maxH, &stepW, &stepH) == 0 {
            let stepwise = type != 1
            sizes.append(SizeInfo(width: Int(maxW), height: Int(maxH), fps: rates(fourcc, maxW, maxH), stepwise: stepwise))
            if stepwise { break }
            index += 1
        }
        return sizes
    }

    private func rates(_ fourcc: FourCC, _ w: UInt32, _ h: UInt32) -> [Double] {
        var rates = [Double]()
        var index: UInt32 = 0, type: UInt32 = 0, num: UInt32 = 0, den: UInt32 = 0
        while index < 64, cv4l2_enum_interval(fd, fourcc.code, w, h, index, &type, &num, &den) == 0 {
            if num > 0 { rates.append(Double(den) / Double(num)) }
            if type != 1 { break }
            index += 1
        }
        return rates.sorted(by: >)
    }

    // MARK: Negotiation

    /// Picks the first wanted format the camera offers natively, falling back to one libv4l2
    /// converts to; sets the size and rate closest to the request and reports what was granted.
    public func configure(_ request: CameraRequest) throws -> StreamFormat {
        let offered = formats()
        let wanted = request.format.preference
        let native = offered.filter { !$0.emulated }.map(\.fourcc)
        let emulated = offered.filter(\.emulated).map(\.fourcc)
        guard let (chosen, converted) = wanted.lazy.compactMap({ f in native.contains(f) ? (f, false) : nil }).first
            ?? wanted.lazy.compactMap({ f in emulated.contains(f) ? (f, true) : nil }).first
        else {
            throw CameraError.noUsableFormat(path, offered: offered.map(\.fourcc.description), wanted: wanted.map(\.description))
        }
        var w = UInt32(request.width), h = UInt32(request.height), code = chosen.code, bpl: UInt32 = 0, size: UInt32 = 0
        guard cv4l2_set_format(fd, 0, &w, &h, &code, &bpl, &size) == 0 else {
            throw error("VIDIOC_S_FMT")
        }
        let granted = FourCC(code)
        guard granted.isSupported else {
            throw CameraError.noUsableFormat(path, offered: [granted.description], wanted: wanted.map(\.description))
        }
        // Rate as a fraction with a 1000 denominator handles 29.97 as well as 30.
        var num: UInt32 = 1000, den = UInt32((request.fps * 1000).rounded())
        let fps: Double? = cv4l2_frame_interval(fd, &num, &den) == 0 && num > 0 && den > 0 ? Double(den) / Double(num) : nil
        let rowBytes = Int(w) * (granted == .yuyv ? 2 : granted == .rgb24 ? 3 : 1)
        let format = StreamFormat(fourcc: granted, width: Int(w), height: Int(h),
                                  bytesPerLine: max(Int(bpl), granted == .mjpeg || granted == .jpeg ? 0 : rowBytes),
                                  sizeImage: Int(size), fps: fps, converted: converted)
        self.format = format
        return format
    }

    // MARK: Streaming

    /// Maps `count` buffers, queues them all and starts streaming.
    public func start(buffers count: Int) throws {
        var n = UInt32(max(3, count))
        guard cv4l2_request_buffers(fd, &n) == 0 else { throw error("VIDIOC_REQBUFS") }
        guard n >= 2 else { throw CameraError.failed(path, operation: "VIDIOC_REQBUFS (got \(n) buffers)", errno: ENOMEM) }
        for index in 0 ..< n {
            var length: UInt32 = 0
            guard let start = cv4l2_map_buffer(fd, index, &length), start != MAP_FAILED else { throw error("mmap") }
            buffers.append((start, Int(length)))
            guard cv4l2_queue(fd, index) == 0 else { throw error("VIDIOC_QBUF") }
        }
        guard cv4l2_stream(fd, 1) == 0 else { throw error("VIDIOC_STREAMON") }
        streaming = true
    }

    public var bufferCount: Int { buffers.count }

    /// What the driver said about one filled buffer.
    public struct BufferInfo: Sendable {
        public var bytesUsed: Int
        /// Driver timestamp in microseconds (CLOCK_MONOTONIC for almost every driver).
        public var timestampMicros: Int64
        public var sequence: UInt32
        public var corrupt: Bool
    }

    /// Waits up to `timeout` for a filled buffer, lets `body` copy what it keeps, and re-queues the
    /// buffer at once. Returns nil on timeout. ENODEV, EIO and a hang-up mean the camera is gone.
    public func withNextFrame<T>(timeout: Duration, _ body: (UnsafeRawBufferPointer, BufferInfo) throws -> T) throws -> T? {
        let ms = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        switch cv4l2_wait(fd, ms) {
        case 0: return nil
        case -2: throw CameraError.disconnected(path, errno: ENODEV)
        case -1: throw classify(errno, "poll")
        default: break
        }
        var index: UInt32 = 0, used: UInt32 = 0, stamp: Int64 = 0, sequence: UInt32 = 0, corrupt: Int32 = 0
        guard cv4l2_dequeue(fd, &index, &used, &stamp, &sequence, &corrupt) == 0 else {
            if errno == EAGAIN { return nil }
            throw classify(errno, "VIDIOC_DQBUF")
        }
        defer { _ = cv4l2_queue(fd, index) }
        guard Int(index) < buffers.count else { throw CameraError.failed(path, operation: "VIDIOC_DQBUF (index \(index))", errno: EINVAL) }
        let buffer = buffers[Int(index)]
        let info = BufferInfo(bytesUsed: min(Int(used), buffer.length), timestampMicros: stamp, sequence: sequence, corrupt: corrupt != 0)
        return try body(UnsafeRawBufferPointer(start: buffer.start, count: buffer.length), info)
    }

    public func stop() {
        if streaming { _ = cv4l2_stream(fd, 0); streaming = false }
        for buffer in buffers { _ = cv4l2_unmap(buffer.start, UInt32(buffer.length)) }
        buffers.removeAll()
    }

    // MARK: Controls

    /// Sets the requested controls the camera has; returns the ones it lacks, by name.
    @discardableResult
    public func apply(_ controls: CameraControls) -> [String] {
        var missing = [String]()
        if let exposure = controls.exposure {
            _ = cv4l2_set_control(fd, CV4L2_CID_EXPOSURE_AUTO, CV4L2_EXPOSURE_MANUAL)
            if !set(CV4L2_CID_EXPOSURE_ABSOLUTE, Int32(clamping: exposure)) { missing.append("exposure") }
        }
        if let gain = controls.gain {
            _ = cv4l2_set_control(fd, CV4L2_CID_AUTOGAIN, 0)
            if !set(CV4L2_CID_GAIN, Int32(clamping: gain)) { missing.append("gain") }
        }
        if let line = controls.powerLine, !set(CV4L2_CID_POWER_LINE_FREQUENCY, line.controlValue) { missing.append("power-line") }
        return missing
    }

    /// The requested controls whose current value differs (a camera that reset them); re-applies them.
    public func enforce(_ controls: CameraControls) -> [String] {
        var drifted = [String]()
        if let exposure = controls.exposure, let now = get(CV4L2_CID_EXPOSURE_ABSOLUTE), now != Int32(clamping: exposure) {
            drifted.append("exposure")
        }
        if let gain = controls.gain, let now = get(CV4L2_CID_GAIN), now != Int32(clamping: gain) { drifted.append("gain") }
        if let line = controls.powerLine, let now = get(CV4L2_CID_POWER_LINE_FREQUENCY), now != line.controlValue {
            drifted.append("power-line")
        }
        if !drifted.isEmpty { apply(controls) }
        return drifted
    }

    private func set(_ id: UInt32, _ value: Int32) -> Bool {
        var lo: Int32 = 0, hi: Int32 = 0, flags: UInt32 = 0
        guard cv4l2_query_control(fd, id, &lo, &hi, &flags) == 0, flags & (CV4L2_CTRL_FLAG_DISABLED | CV4L2_CTRL_FLAG_READ_ONLY) == 0
        else { return false }
        return cv4l2_set_control(fd, id, min(max(value, lo), hi)) == 0
    }

    private func get(_ id: UInt32) -> Int32? {
        var value: Int32 = 0
        return cv4l2_get_control(fd, id, &value) == 0 ? value : nil
    }

    private func error(_ operation: String) -> CameraError { classify(errno, operation) }

    private func classify(_ code: Int32, _ operation: String) -> CameraError {
        switch code {
        case ENODEV, EIO, ENXIO, EPIPE, ESHUTDOWN: .disconnected(path, errno: code)
        case EBUSY: .busy(path)
        default: .failed(path, operation: operation, errno: code)
        }
    }
}

extension CameraRequest {
    /// "1280x720" → (1280, 720); nil unless both are positive and the width is even.
    public static func parseSize(_ text: String) -> (Int, Int)? {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0, w % 2 == 0, w <= 16384, h <= 16384
        else { return nil }
        return (w, h)
    }
}

/// A V4L2 node as `facectl cameras` lists it.
public struct CameraInfo: Sendable, Codable, Equatable {
    public var path: String
    /// /dev/v4l/by-id and by-path links to this node: stable names for a config file.
    public var links: [String]
    public var driver: String?
    public var card: String?
    public var busInfo: String?
    /// Captures, streams, and offers a format faced decodes.
    public var usable: Bool
    public var formats: [V4L2Device.FormatInfo]
    /// Why the node could not be opened or used.
    public var note: String?

    /// Every /dev/videoN, in numeric order.
    public static func all(devices: String = "/dev") -> [CameraInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: devices)) ?? []
        let nodes = names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("video"), let n = Int(name.dropFirst(5)) else { return nil }
            return (n, devices + "/" + name)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        let links = stableLinks(devices: devices)
        return nodes.map { describe($0, links: links[$0] ?? []) }
    }

    public static func describe(_ path: String, links: [String] = []) -> CameraInfo {
        var info = CameraInfo(path: path, links: links, usable: false, formats: [])
        do {
            let device = try V4L2Device(path: path, requireCapture: false)
            info.driver = device.driver
            info.card = device.card
            info.busInfo = device.busInfo
            guard device.canCapture else {
                info.note = "not a video capture node (metadata or output)"
                return info
            }
            info.formats = device.formats()
            info.usable = info.formats.contains { $0.fourcc.isSupported }
            if !info.usable { info.note = "offers no format faced decodes (MJPEG, YUYV, GREY, RGB24)" }
        } catch {
            info.note = String(describing: error)
        }
        return info
    }

    private static func stableLinks(devices: String) -> [String: [String]] {
        var result = [String: [String]]()
        for folder in ["by-id", "by-path"] {
            let dir = devices + "/v4l/" + folder
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                let link = dir + "/" + name
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) else { continue }
                let resolved = URL(fileURLWithPath: target, relativeTo: URL(fileURLWithPath: dir + "/")).standardizedFileURL.path
                result[resolved, default: []].append(link)
            }
        }
        return result.mapValues { $0.sorted() }
    }
}
