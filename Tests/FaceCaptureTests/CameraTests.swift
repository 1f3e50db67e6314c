import FaceTestSupport
import FaceVision
import Foundation
import Testing
@testable import FaceCapture

@Suite struct YUYVTests {
    @Test func roundTripKeepsThePictureAndItsFace() throws {
        let photo = try Fixtures.image("obama2.jpg")
        let even = try photo.cropped(to: PixelRect(x: 0, y: 0, width: photo.width & ~1, height: photo.height))
        let packed = try even.yuyv()
        #expect(packed.bytes.count == even.width * even.height * 2)
        let back = packed.rgb()
        #expect(back.width == even.width && back.height == even.height)
        var total = 0
        for i in 0 ..< back.pixels.count { total += abs(Int(back.pixels[i]) - Int(even.pixels[i])) }
        let mean = Double(total) / Double(back.pixels.count)
        #expect(mean < 4, "mean channel error \(mean) after RGB → YUYV → RGB")

        // The embedding of the converted frame is that of the photo: chroma subsampling costs nothing.
        let engine = Fixtures.engine
        let original = try #require(try engine.faces(in: even).first).embedding
        let converted = try #require(try engine.faces(in: back).first).embedding
        #expect(original.distance(to: converted) < 0.05)
    }

    @Test func grayIsTheRangeStretchedLumaOnBothPaths() throws {
        // 13 pixels per row: rows of 26 bytes, so the 16-pixel SIMD steps and the scalar tail both run.
        let width = 26, height = 3
        var bytes = [UInt8]()
        for i in 0 ..< width * height { bytes += [UInt8(truncatingIfNeeded: i * 7), 128] }
        let gray = try YUYVImage(width: width, height: height, bytes: bytes).grayscale()
        for i in 0 ..< width * height {
            let y = min(max(Int(bytes[2 * i]), 16), 235)
            #expect(Int(gray.pixels[i]) == ((y - 16) * 298 + 128) >> 8, "pixel \(i)")
        }
        #expect(try YUYVImage(width: 2, height: 1, bytes: [16, 128, 235, 128]).grayscale().pixels == [0, 255])
    }

    @Test func rgbMatchesTheBT601Formula() throws {
        let width = 34, height = 3
        var generator = SystemRandomNumberGenerator()
        let bytes = (0 ..< width * height * 2).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
        let rgb = try YUYVImage(width: width, height: height, bytes: bytes).rgb()
        func clamp(_ v: Int) -> UInt8 { UInt8(min(max(v, 0), 255)) }
        for pixel in 0 ..< width * height {
            let pair = pixel / 2 * 4
            let y = 298 * (Int(bytes[pair + (pixel % 2) * 2]) - 16), u = Int(bytes[pair + 1]) - 128, v = Int(bytes[pair + 3]) - 128
            let expected = [clamp((y + 409 * v + 128) >> 8), clamp((y - 100 * u - 208 * v + 128) >> 8), clamp((y + 516 * u + 128) >> 8)]
            #expect(Array(rgb.pixels[3 * pixel ..< 3 * pixel + 3]) == expected, "pixel \(pixel) of \(bytes)")
        }
    }

    @Test func paddedDriverRowsAreCopiedWithoutThePadding() throws {
        let rows: [[UInt8]] = [[1, 2, 3, 4], [5, 6, 7, 8]]
        let buffer = rows[0] + [0xEE, 0xEE] + rows[1] + [0xEE, 0xEE]
        let image = try buffer.withUnsafeBytes { try YUYVImage(width: 2, height: 2, bytesPerLine: 6, buffer: $0) }
        #expect(image.bytes == rows[0] + rows[1])
        let gray = try buffer.withUnsafeBytes { try GrayImage(width: 4, height: 2, bytesPerLine: 6, buffer: $0) }
        #expect(gray.pixels == rows[0] + rows[1])
        #expect(throws: ImageError.self) { try buffer.withUnsafeBytes { try YUYVImage(width: 4, height: 2, bytesPerLine: 6, buffer: $0) } }
    }

    @Test func darkFramesAreRecognised() throws {
        let photo = try Fixtures.image("obama.jpg").grayscale()
        #expect(!photo.isDark())
        let covered = try GrayImage(width: 640, height: 480, pixels: photo.resized(width: 640, height: 480).pixels.map { $0 / 20 })
        #expect(covered.isDark())
        #expect(try GrayImage(width: 64, height: 64, fill: 0).isDark())
        #expect(!(try GrayImage(width: 64, height: 64, fill: 96).isDark()))
    }
}

/// MJPEG buffers shaped as UVC cameras deliver them.
@Suite struct CameraBufferTests {
    func buffer(_ jpeg: [UInt8], padding: [UInt8], length: Int) -> [UInt8] {
        var bytes = jpeg + padding
        bytes += [UInt8](repeating: 0xA5, count: max(0, length - bytes.count))
        return bytes
    }

    func payload(_ bytes: [UInt8], used: Int, format: StreamFormat) throws -> Frame.Payload? {
        try bytes.withUnsafeBytes {
            try CameraBuffer.payload($0, V4L2Device.BufferInfo(bytesUsed: used, timestampMicros: 0, sequence: 0, corrupt: false), format)
        }
    }

    let mjpeg = StreamFormat(fourcc: .mjpeg, width: 0, height: 0, bytesPerLine: 0, sizeImage: 0, fps: 30, converted: false)

    @Test func paddingAfterEndOfImageAndUnusedBufferSpaceAreCutOff() throws {
        // obama.jpg carries an Exif thumbnail: a whole JPEG inside the JPEG.
        let jpeg = try Fixtures.bytes("obama.jpg")
        let padding: [UInt8] = [0, 0, 0, 0, 0xFF, 0xD9, 0, 0x13, 0x37]
        let raw = buffer(jpeg, padding: padding, length: jpeg.count + 65536)
        let used = jpeg.count + padding.count
        guard case let .jpeg(bytes) = try payload(raw, used: used, format: mjpeg) else { Issue.record("no JPEG payload"); return }
        #expect(bytes == jpeg)
        // The strict decoder takes it without a warning: nothing trails the end of image.
        let strict = try ImageDecoder(rejectsJPEGWarnings: true).decode(bytes, scale: JPEGScale.atLeast(0.5))
        #expect(strict.width == (910 + 1) / 2)
        #expect(try Fixtures.engine.detect(strict, minFace: 40).count == 1)
    }

    @Test func aFrameCutShortStillDecodesAndGarbageIsDropped() throws {
        let jpeg = try Fixtures.bytes("obama2.jpg")
        let cut = Array(jpeg.prefix(jpeg.count * 3 / 4))
        guard case let .jpeg(bytes) = try payload(buffer(cut, padding: [0, 0, 0], length: jpeg.count), used: cut.count + 3, format: mjpeg)
        else { Issue.record("no JPEG payload"); return }
        #expect(bytes == cut)
        let image = try ImageDecoder(rejectsJPEGWarnings: false).decode(bytes)
        #expect(image.width == 626 && image.height == 1200)
        #expect(try payload([0x00, 0x11, 0x22, 0x33, 0x44], used: 5, format: mjpeg) == nil)
        #expect(try payload(jpeg, used: 0, format: mjpeg) == nil)
    }
}

extension Frame.Payload: Equatable {
    public static func == (a: Frame.Payload, b: Frame.Payload) -> Bool {
        switch (a, b) {
        case let (.jpeg(x), .jpeg(y)), let (.png(x), .png(y)): x == y
        case let (.rgb(x), .rgb(y)): x == y
        case let (.gray(x), .gray(y)): x == y
        case let (.yuyv(x), .yuyv(y)): x == y
        default: false
        }
    }
}

@Suite struct CameraDeviceTests {
    @Test func aMissingDeviceIsNamed() {
        #expect(throws: CameraError.missing("/dev/video-not-here")) { try V4L2Device(path: "/dev/video-not-here") }
        #expect(CameraError.missing("/dev/video9").description.contains("/dev/video9"))
    }

    @Test func aDeviceThatIsNoCameraIsRefused() throws {
        #expect(throws: CameraError.notCapture("/dev/null", card: "not a V4L2 device")) { try V4L2Device(path: "/dev/null") }
        let temp = try TempDirectory()
        let file = try temp.write("video0", Array("not a camera".utf8))
        #expect(throws: CameraError.notCapture(file, card: "not a V4L2 device")) { try V4L2Device(path: file) }
    }

    @Test func sizesParse() {
        #expect(CameraRequest.parseSize("1280x720")! == (1280, 720))
        #expect(CameraRequest.parseSize("640X480")! == (640, 480))
        for bad in ["1280", "x720", "1281x720", "0x0", "-640x480", "1280x720x3", "huge"] { #expect(CameraRequest.parseSize(bad) == nil, "\(bad)") }
        #expect(FourCC("YUYV").code == 0x5659_5559)
        #expect(FourCC(0x3342_4752).description == "RGB3")
        #expect(CameraFormatChoice.auto.preference.first == .mjpeg)
    }

    @Test func listingFindsNodesAndExplainsTheUnusable() throws {
        let temp = try TempDirectory()
        #expect(CameraInfo.all(devices: temp.path).isEmpty)
        _ = try temp.write("video0", [])
        _ = try temp.write("video10", [])
        _ = try temp.write("video2", [])
        _ = try temp.write("vbi0", [])
        let listed = CameraInfo.all(devices: temp.path)
        #expect(listed.map(\.path) == ["video0", "video2", "video10"].map { temp.path + "/" + $0 })
        #expect(listed.allSatisfy { !$0.usable && $0.note?.contains("not a video capture device") == true })
    }
}

@Suite struct CameraSourceTests {
    /// A camera that is not there does not end the stream: one `lost`, then quiet retries.
    @Test func aMissingCameraIsRetriedNotFatal() async throws {
        let changes = HealthLog()
        let source = CameraSource(request: CameraRequest(path: "/dev/video-not-here-\(UUID().uuidString)")) { changes.add($0) }
        let stream = source.frames()
        let consumer = Task { () -> Int in
            var n = 0
            for try await _ in stream { n += 1 }
            return n
        }
        // Backoff 0.5 s then 1 s: a retry comes within seconds, and still one report.
        let deadline = ContinuousClock.now + .seconds(20)
        while changes.all.count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        consumer.cancel()
        #expect(try await consumer.value == 0)
        let seen = changes.all.filter { $0 != .retrying }
        #expect(seen.count == 1)
        #expect(changes.all.count >= 2, "at least one retry after the loss: \(changes.all)")
        guard case let .lost(reason) = seen.first else { Issue.record("expected lost, got \(seen)"); return }
        #expect(reason.contains("is not there"))
    }

    @Test func aDeviceThatIsNoCameraEndsTheStreamWithItsError() async throws {
        let source = CameraSource(request: CameraRequest(path: "/dev/null"))
        await #expect(throws: CameraError.notCapture("/dev/null", card: "not a V4L2 device")) {
            for try await _ in source.frames() {}
        }
    }
}

final class HealthLog: @unchecked Sendable {
    private let lock = NSLock()
    private var changes = [CameraHealth]()
    func add(_ change: CameraHealth) { lock.withLock { changes.append(change) } }
    var all: [CameraHealth] { lock.withLock { changes } }
}
