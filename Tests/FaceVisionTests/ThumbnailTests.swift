import Testing
@testable import FaceVision
import FaceTestSupport

@Suite struct ThumbnailTests {
    @Test func grayThumbnailIsBlockMeansWithPartialEdges() throws {
        // 5×3, step 2: blocks 2×2, 2×2, 1×2 on top and 2×1, 2×1, 1×1 below.
        let image = try GrayImage(width: 5, height: 3, pixels: [
            0, 10, 20, 30, 40,
            2, 12, 22, 33, 41,
            100, 200, 50, 51, 255,
        ])
        let thumb = image.thumbnail(step: 2)
        #expect(thumb.width == 3 && thumb.height == 2)
        // (0+10+2+12)/4 = 6, (20+30+22+33)/4 = 26.25, (40+41)/2 = 40.5 → 41 (half up), 150, 50.5 → 51, 255
        #expect(thumb.pixels == [6, 26, 41, 150, 51, 255])
        #expect(image.thumbnail(step: 1) == image)
        let whole = image.thumbnail(step: 7)
        #expect(whole.width == 1 && whole.height == 1 && whole.pixels == [UInt8((image.pixels.reduce(0) { $0 + Int($1) } * 2 + 15) / 30)])
    }

    @Test func lumaThumbnailIsTheGrayscaleThumbnail() throws {
        // 6×3 YUYV, luma 16...235 and beyond (clamped), chroma arbitrary.
        let ys: [UInt8] = [16, 235, 100, 101, 0, 255,
                           50, 60, 70, 80, 90, 110,
                           17, 18, 19, 20, 21, 240]
        var bytes = [UInt8]()
        for (i, y) in ys.enumerated() { bytes += [y, UInt8(i * 13 & 255)] }
        let frame = try YUYVImage(width: 6, height: 3, bytes: bytes)
        for step in 1 ... 4 {
            #expect(frame.lumaThumbnail(step: step) == frame.grayscale().thumbnail(step: step), "step \(step)")
        }
        // Step 4: a 4×3 block and a 2×3 one, of the stretched luma.
        let gray = frame.grayscale().pixels.map(Int.init)
        let left = [0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15].map { gray[$0] }.reduce(0, +)
        let right = [4, 5, 10, 11, 16, 17].map { gray[$0] }.reduce(0, +)
        #expect(frame.lumaThumbnail(step: 4).pixels == [UInt8((left + 6) / 12), UInt8((right + 3) / 6)])
    }
}

@Suite struct ThumbnailDecodeTests {
    /// Pixel differences between the 1/8 DCT decode and the 8×8 block means of the full decode:
    /// the largest over whole blocks, the mean over all. A partial block at the right or bottom
    /// edge is left out of the largest: its DCT mean covers the encoder's padding past the edge
    /// (obama.jpg, 910 wide, differs by up to 18 in its last column).
    func compare(_ bytes: [UInt8]) throws -> (max: Int, mean: Double, size: (Int, Int), thumb: (Int, Int), step: Double) {
        let decoder = ImageDecoder()
        let (thumb, step) = try decoder.decodeThumbnail(bytes)
        let full = try decoder.decode(bytes).grayscale()
        let blocks = full.thumbnail(step: 8)
        #expect(blocks.width == thumb.width && blocks.height == thumb.height)
        let diffs = zip(thumb.pixels, blocks.pixels).map { abs(Int($0) - Int($1)) }
        let wholeW = full.width / 8, wholeH = full.height / 8
        let whole = diffs.indices.filter { $0 % thumb.width < wholeW && $0 / thumb.width < wholeH }.map { diffs[$0] }
        return (whole.max() ?? 0, Double(diffs.reduce(0, +)) / Double(diffs.count), (full.width, full.height), (thumb.width, thumb.height), step)
    }

    static func camera720p() throws -> [UInt8] {
        let frame = try Fixtures.image("obama.jpg").resized(width: 1280, height: 720)
        return try JPEGEncoder(quality: 85).encode(frame)
    }

    @Test func eighthScaleGrayMatchesBlockMeans() throws {
        for (name, bytes) in [("obama.jpg", try Fixtures.bytes("obama.jpg")), ("720p", try Self.camera720p())] {
            let c = try compare(bytes)
            #expect(c.thumb.0 == (c.size.0 + 7) / 8 && c.thumb.1 == (c.size.1 + 7) / 8, "\(name)")
            #expect(c.step == Double(c.size.0) / Double(c.thumb.0), "\(name)")
            #expect(c.max <= 6 && c.mean <= 2, "\(name): max difference \(c.max), mean \(c.mean)")
        }
        #expect(try ImageDecoder().decodeThumbnail(Self.camera720p()).step == 8)
    }

    @Test func corruptAndOversizedJPEGsThrow() throws {
        let jpeg = try Self.camera720p()
        let decoder = ImageDecoder()
        do {
            _ = try decoder.decodeThumbnail(Array(jpeg.prefix(jpeg.count / 2)))
            Issue.record("a truncated JPEG decoded without error")
        } catch let ImageError.corrupt(why) {
            #expect(!why.isEmpty)
        }
        #expect(throws: ImageError.unsupportedFormat) { try decoder.decodeThumbnail(try Fixtures.bytes("32bit.png")) }
        #expect(throws: ImageError.emptyData) { try decoder.decodeThumbnail([]) }
        // The header alone is enough to refuse: cut right after it, the data could not decode.
        let headerOnly = Array(jpeg.prefix(700))
        #expect(throws: ImageError.tooLarge(width: 1280, height: 720, limit: 1280 * 720 - 1)) {
            try decoder.decodeThumbnail(headerOnly, limit: .pixels(1280 * 720 - 1))
        }
        #expect(throws: ImageError.sizeMismatch(width: 1280, height: 720, expectedWidth: 640, expectedHeight: 480)) {
            try decoder.decodeThumbnail(headerOnly, limit: .exactly(width: 640, height: 480))
        }
        #expect(try decoder.decodeThumbnail(jpeg, limit: .exactly(width: 1280, height: 720)).image.width == 160)
    }
}
