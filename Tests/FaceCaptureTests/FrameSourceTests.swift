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

    @Test func oneByteChunksGiveTheSameFramesAsOneChunk() throws {
        let originals = try photos.map(Fixtures.bytes)
        let stream = originals[0] + [0x00, 0xFF, 0xD8] + originals[1] + Array("junk".utf8) + originals[2] + [0xFF, 0xD8]
        var whole = MJPEGSplitter()
        let once = whole.push(stream)
        whole.finish()
        var bytewise = MJPEGSplitter()
        var frames = [[UInt8]]()
        for byte in stream { frames += bytewise.push(CollectionOfOne(byte)) }
        bytewise.finish()
        #expect(once == originals)
        #expect(frames == originals)
        #expect(bytewise.skippedBytes == whole.skippedBytes && bytewise.skippedBytes == 9)
        #expect(bytewise.droppedFrames == whole.droppedFrames)
    }

    @Test func anOversizeFrameIsDroppedAndTheNextStillComesOut() throws {
        let big = try Fixtures.bytes("obama.jpg"), small = try Fixtures.bytes("obama2.jpg")
        #expect(big.count > small.count)
        for chunk in [1 << 20, 4096, 1] {
            var splitter = MJPEGSplitter(maxFrameBytes: small.count)
            let stream = big + small + big + small
            var frames = [[UInt8]]()
            var held = 0
            var i = 0
            while i < stream.count {
                frames += splitter.push(stream[i ..< min(stream.count, i + chunk)])
                held = max(held, splitter.bufferedBytes)
                i += chunk
            }
            splitter.finish()
            #expect(frames == [small, small], "chunk \(chunk)")
            #expect(splitter.oversizeFrames == 2 && splitter.droppedFrames == 2, "chunk \(chunk)")
            #expect(splitter.skippedBytes == 2 * big.count, "chunk \(chunk)")
            // The oversize frame is let go once it passes the cap, not kept to its end.
            #expect(held <= small.count + 65_540 + chunk, "chunk \(chunk)")
        }
        // A frame of exactly the cap passes.
        var exact = MJPEGSplitter(maxFrameBytes: big.count)
        #expect(exact.push(big) == [big])
    }

    @Test func randomGarbageBetweenFramesIsSkipped() throws {
        let originals = try photos.map(Fixtures.bytes)
        var random = SplitMix64(seed: 11)
        for round in 0 ..< 8 {
            var stream = [UInt8]()
            var garbage = 0
            for jpeg in originals {
                // Random bytes, with FF and FF D8 (a start of image that never completes) made common.
                let junk = (0 ..< Int(random.next() % 3000)).map { _ -> UInt8 in
                    switch random.next() % 8 { case 0: 0xFF; case 1: 0xD8; default: UInt8(truncatingIfNeeded: random.next()) }
                }
                stream += junk + jpeg
                garbage += junk.count
            }
            var splitter = MJPEGSplitter()
            var frames = [[UInt8]]()
            var i = 0
            while i < stream.count {
                let chunk = 1 + Int(random.next() % 70_000)
                frames += splitter.push(stream[i ..< min(stream.count, i + chunk)])
                i += chunk
            }
            splitter.finish()
            // Compared as a Bool: a failure would otherwise print megabytes of frame bytes.
            let same = frames == originals
            #expect(same, "round \(round): frames of \(frames.map(\.count)) bytes, expected \(originals.map(\.count))")
            #expect(splitter.skippedBytes == garbage, "round \(round)")
        }
    }

    @Test func anEndOfImageWithoutAScanIsNoFrame() throws {
        let jpeg = try Fixtures.bytes("t1.jpg")
        var splitter = MJPEGSplitter()
        let frames = splitter.push([0xFF, 0xD8, 0xFF, 0xD9] + jpeg)
        splitter.finish()
        #expect(frames.count == 1 && frames.first == jpeg)
        #expect(splitter.droppedFrames == 1 && splitter.skippedBytes == 4)
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

    @Test func mediaTimeStampsFrameIAtIOverTheRateAndDoesNotPace() async throws {
        let dir = try TempDirectory()
        let path = try dir.write("replay.mjpeg", try Fixtures.bytes("obama3.jpg") + (try Fixtures.bytes("t1.jpg")) + (try Fixtures.bytes("biden.jpg")))
        let before = Date()
        // 0.5 fps: paced, four frames would take 6 s, and the last one would be stamped before the read ended.
        var frames = [Frame]()
        for try await frame in try MJPEGFileSource(path: path, fps: 0.5, loop: true, clock: .media).frames() {
            frames.append(frame)
            if frames.count == 5 { break }
        }
        let after = Date()
        #expect(frames.map(\.index) == [0, 1, 2, 3, 4], "the loop goes on counting")
        #expect(frames[0].time >= before && frames[0].time <= after)
        for (i, frame) in frames.enumerated() {
            #expect(abs(frame.time.timeIntervalSince(frames[0].time) - Double(i) * 2) < 1e-6, "frame \(i) at \(i)/0.5 s")
        }
        #expect(frames[4].time > after.addingTimeInterval(4), "stamped 8 s on without waiting for it")
        #expect(jpegBytes(frames[3]) == jpegBytes(frames[0]))
    }

    @Test func mediaTimeOfAFolderAndWithoutARate() async throws {
        let dir = try TempDirectory()
        let jpeg = try JPEGEncoder().encode(try GrayImage(width: 8, height: 8, fill: 0))
        for i in 0 ..< 4 { try dir.write("f\(i).jpg", jpeg) }
        let frames = try await collect(try ImageDirectorySource(path: dir.path, fps: 25, clock: .media))
        #expect(frames.map { ($0.time.timeIntervalSince(frames[0].time) * 1000).rounded() } == [0, 40, 80, 120])
        #expect(throws: FrameSourceError.mediaTimeWithoutRate("dir:\(dir.path)")) { try ImageDirectorySource(path: dir.path, clock: .media) }
        let file = try dir.write("r.mjpeg", jpeg)
        #expect(throws: FrameSourceError.mediaTimeWithoutRate("mjpeg:\(file)")) { try MJPEGFileSource(path: file, clock: .media) }
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

/// A seeded generator, so a failing random test fails the same way again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
