import FaceTestSupport
import FaceVision
import Foundation
import Testing
@testable import FaceCapture

func collect(_ source: some FrameSource) async throws -> [Frame] {
    var frames = [Frame]()
    for try await frame in source.frames() { frames.append(frame) }
    return frames
}

func jpegBytes(_ frame: Frame) -> [UInt8]? {
    if case let .jpeg(bytes) = frame.payload { return bytes }
    return nil
}

@Suite struct MJPEGSplitterTests {
    let photos = ["obama.jpg", "t1.jpg", "biden.jpg"]

    @Test func cutsConcatenatedPhotosBackApart() throws {
        // These photos carry Exif thumbnails: a search for FFD9 would cut them short.
        let originals = try photos.map(Fixtures.bytes)
        var stream = [UInt8]()
        for (i, jpeg) in originals.enumerated() {
            stream += jpeg
            if i == 0 { stream += Array("--boundary\r\nContent-Type: image/jpeg\r\n\r\n".utf8) }
        }
        for chunk in [1 << 20, 4096, 1000, 7] {
            var splitter = MJPEGSplitter()
            var frames = [[UInt8]]()
            var i = 0
            while i < stream.count {
                frames += splitter.push(stream[i ..< min(stream.count, i + chunk)])
                i += chunk
            }
            splitter.finish()
            #expect(frames == originals, "chunk \(chunk)")
            #expect(splitter.skippedBytes == 40 && splitter.droppedFrames == 0, "chunk \(chunk)")
        }
    }

    @Test func dropsACutFrameAndResynchronises() throws {
        let a = try Fixtures.bytes("obama2.jpg"), b = try Fixtures.bytes("t1.jpg")
        var splitter = MJPEGSplitter()
        let frames = splitter.push(Array(a.prefix(a.count / 2)) + [0x00, 0x13, 0x37] + b + Array(a.prefix(100)))
        splitter.finish()
        #expect(frames == [b])
        #expect(splitter.droppedFrames == 2)
        #expect(try ImageDecoder().decode(frames[0]).width == 1280)
    }

    @Test func garbageAloneYieldsNothing() {
        var splitter = MJPEGSplitter()
        #expect(splitter.push(Array(repeating: UInt8(0xFF), count: 1000)).isEmpty)
        splitter.finish()
        #expect(splitter.skippedBytes == 1000)
    }
}

@Suite struct FrameSourceTests {
    @Test func mjpegFileYieldsDecodableFrames() async throws {
        let dir = try TempDirectory()
        let path = try dir.write("replay.mjpeg", try Fixtures.bytes("obama3.jpg") + [1, 2, 3] + (try Fixtures.bytes("t1.jpg")))
        let source = try MJPEGFileSource(path: path)
        #expect(source.name == "mjpeg:\(path)")
        let frames = try await collect(source)
        #expect(frames.map(\.index) == [0, 1])
        #expect(try ImageDecoder().decode(#require(jpegBytes(frames[1]))).width == 1280)
    }

    @Test func directoryFramesComeInNaturalOrder() async throws {
        let dir = try TempDirectory()
        let jpeg = try JPEGEncoder().encode(try GrayImage(width: 8, height: 8, fill: 0))
        for name in ["frame10.jpg", "frame2.jpg", "frame1.jpg", "notes.txt"] { try dir.write(name, jpeg) }
        let source = try ImageDirectorySource(path: dir.path)
        #expect(source.files.map { ($0 as NSString).lastPathComponent } == ["frame1.jpg", "frame2.jpg", "frame10.jpg"])
        #expect(try await collect(source).count == 3)
    }

    @Test func pacedSourceTakesAtLeastItsFrameTime() async throws {
        let dir = try TempDirectory()
        let jpeg = try JPEGEncoder().encode(try GrayImage(width: 8, height: 8, fill: 0))
        for i in 0 ..< 6 { try dir.write("f\(i).jpg", jpeg) }
        let start = ContinuousClock.now
        _ = try await collect(try ImageDirectorySource(path: dir.path, fps: 50))
        #expect(ContinuousClock.now - start >= .milliseconds(100), "5 frame intervals at 50 fps")
    }

    @Test func missingOrEmptySourcesAreNamed() throws {
        let dir = try TempDirectory()
        #expect(throws: FrameSourceError.notFound(dir.file("nope"))) { try ImageDirectorySource(path: dir.file("nope")) }
        #expect(throws: FrameSourceError.empty(dir.path)) { try ImageDirectorySource(path: dir.path) }
        #expect(throws: FrameSourceError.notFound(dir.file("x.mjpeg"))) { try MJPEGFileSource(path: dir.file("x.mjpeg")) }
    }

    @Test func aFileWithoutFramesFails() async throws {
        let dir = try TempDirectory()
        let path = try dir.write("garbage.mjpeg", Array("not video".utf8))
        await #expect(throws: FrameSourceError.self) { try await collect(try MJPEGFileSource(path: path)) }
    }
}

@Suite struct JPEGEncoderTests {
    @Test func roundTripsAPhoto() throws {
        let image = try Fixtures.image("obama.jpg")
        let encoded = try JPEGEncoder(quality: 92).encode(image)
        let back = try ImageDecoder().decode(encoded)
        #expect(back.width == image.width && back.height == image.height)
        var diff = 0
        for i in stride(from: 0, to: image.pixels.count, by: 97) { diff += abs(Int(image.pixels[i]) - Int(back.pixels[i])) }
        #expect(diff / (image.pixels.count / 97) < 6, "mean error per sample")
        let face = try Fixtures.engine.faces(in: back)
        #expect(face.count == 1)
    }
}
