import Foundation
import Testing
@testable import FaceVision
import FaceTestSupport

@Suite struct DecoderTests {
    @Test func decodesJPEGAtFullAndReducedScale() throws {
        let bytes = try Fixtures.bytes("obama.jpg")
        let decoder = ImageDecoder()
        let size = try decoder.size(of: bytes)
        let full = try decoder.decode(bytes)
        #expect(full.width == size.width && full.height == size.height)
        let quarter = try decoder.decode(bytes, scale: JPEGScale(num: 1, denom: 4))
        #expect(quarter.width == (size.width + 3) / 4 && quarter.height == (size.height + 3) / 4)
        // The DCT-scaled decode looks like the full one shrunk: mean brightness agrees.
        let meanFull = full.pixels.reduce(0) { $0 + Int($1) } / full.pixels.count
        let meanQuarter = quarter.pixels.reduce(0) { $0 + Int($1) } / quarter.pixels.count
        #expect(abs(meanFull - meanQuarter) <= 2)
    }

    @Test func scalingFactorsIncludeHalfAndEighth() {
        #expect(JPEGScale.supported.contains(JPEGScale(num: 1, denom: 2)))
        #expect(JPEGScale.supported.contains(JPEGScale(num: 1, denom: 8)))
        #expect(JPEGScale.atLeast(0.3) == JPEGScale(num: 3, denom: 8))
        #expect(JPEGScale.atLeast(1) == .full)
    }

    @Test func decodesPNGWithAlpha() throws {
        let png = try Fixtures.image("32bit.png")
        #expect(png.width > 0 && png.height > 0)
        let hanks = try Fixtures.image("Tom_Hanks_54745.png")
        #expect(hanks.width == 112 && hanks.height == 112)
    }

    @Test func pixelBudgetIsCheckedFromTheHeader() throws {
        let bytes = try Fixtures.bytes("obama.jpg")
        let size = try ImageDecoder().size(of: bytes)
        let tight = ImageDecoder(maxPixels: size.width * size.height - 1)
        #expect(throws: ImageError.tooLarge(width: size.width, height: size.height, limit: size.width * size.height - 1)) {
            try tight.decode(bytes)
        }
        let png = try Fixtures.bytes("32bit.png")
        #expect(throws: ImageError.self) { try ImageDecoder(maxPixels: 1000).decode(png) }
    }

    @Test func badInputGivesClearErrors() throws {
        let decoder = ImageDecoder()
        #expect(throws: ImageError.emptyData) { try decoder.decode([]) }
        #expect(throws: ImageError.unsupportedFormat) { try decoder.decode(Array("hello, not an image\n".utf8)) }
        let jpeg = try Fixtures.bytes("obama.jpg")
        do {
            _ = try decoder.decode(Array(jpeg.prefix(jpeg.count / 2)))
            Issue.record("a truncated JPEG decoded without error")
        } catch let ImageError.corrupt(why) {
            #expect(!why.isEmpty)
        }
        let png = try Fixtures.bytes("32bit.png")
        #expect(throws: ImageError.self) { try decoder.decode(Array(png.prefix(png.count / 3))) }
    }

    @Test func fileErrorsNameTheFile() throws {
        let missing = "/nonexistent/face.jpg"
        do {
            _ = try ImageDecoder().decode(contentsOf: missing)
            Issue.record("missing file decoded")
        } catch let error as ImageFileError {
            #expect(error.description == "\(missing): no such file")
        }
    }

    @Test func readsExifOrientation() {
        // SOI, APP1 "Exif\0\0", little-endian TIFF with one IFD entry: orientation = 6.
        var tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0, 0, 0, 0x01, 0x00]
        tiff += [0x12, 0x01, 0x03, 0x00, 0x01, 0, 0, 0, 0x06, 0x00, 0, 0]
        tiff += [0, 0, 0, 0]
        let payload: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0] + tiff
        let length = payload.count + 2
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 255)] + payload + [0xFF, 0xDA]
        #expect(ExifOrientation.read(fromJPEG: jpeg) == .right)
        #expect(ExifOrientation.read(fromJPEG: [0xFF, 0xD8, 0xFF, 0xDA]) == nil)
    }

    @Test func readsBigEndianExifFromARealFile() throws {
        // mask_black.jpg carries a Motorola-order Exif block with orientation 1 (upright).
        #expect(ExifOrientation.read(fromJPEG: try Fixtures.bytes("mask_black.jpg")) == .up)
        #expect(ExifOrientation.read(fromJPEG: try Fixtures.bytes("t1.jpg")) == nil, "t1.jpg has no Exif block")
        #expect(ExifOrientation.read(fromJPEG: try Fixtures.bytes("obama.jpg")) == .up)
    }

    @Test func refusesAPNGNamedJPG() throws {
        let dir = try TempDirectory()
        let path = try dir.write("photo.jpg", try Fixtures.bytes("32bit.png"))
        do {
            _ = try ImageDecoder().decode(contentsOf: path)
            Issue.record("a PNG named .jpg was accepted")
        } catch let error as ImageFileError {
            #expect(error.description == "\(path): the file holds a PNG image but is named .jpg; rename it to .png")
        }
    }

    // Crafted from a real photo: the frame header (SOF) or a Huffman table changed in place.

    /// Offset of the first marker `marker` at the top level of the JPEG (walked by lengths).
    static func offset(of marker: UInt8, in jpeg: [UInt8]) throws -> Int {
        var i = 2
        while i + 3 < jpeg.count, jpeg[i] == 0xFF {
            if jpeg[i + 1] == marker { return i }
            i += 2 + (Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3]))
        }
        struct NoSuchMarker: Error { let marker: UInt8 }
        throw NoSuchMarker(marker: marker)
    }

    /// obama.jpg (910x1137, baseline) with its SOF changed.
    static func craft(width: Int? = nil, height: Int? = nil, precision: UInt8? = nil, marker: UInt8? = nil) throws -> [UInt8] {
        var jpeg = try Fixtures.bytes("obama.jpg")
        let sof = try offset(of: 0xC0, in: jpeg)
        if let marker { jpeg[sof + 1] = marker }
        if let precision { jpeg[sof + 4] = precision }
        if let height { jpeg[sof + 5] = UInt8(height >> 8); jpeg[sof + 6] = UInt8(height & 255) }
        if let width { jpeg[sof + 7] = UInt8(width >> 8); jpeg[sof + 8] = UInt8(width & 255) }
        return jpeg
    }

    @Test func aHeaderClaimingAnotherSizeIsRefusedBeforeDecoding() throws {
        let decoder = ImageDecoder()
        let camera = SizeLimit.exactly(width: 910, height: 1137)
        let real = try Fixtures.bytes("obama.jpg")
        #expect(try decoder.decode(real, limit: camera).width == 910)
        #expect(throws: ImageError.sizeMismatch(width: 0, height: 0, expectedWidth: 910, expectedHeight: 1137)) {
            try decoder.decode(try Self.craft(width: 0, height: 0), limit: camera)
        }
        #expect(throws: ImageError.sizeMismatch(width: 60000, height: 60000, expectedWidth: 910, expectedHeight: 1137)) {
            try decoder.decode(try Self.craft(width: 60000, height: 60000), limit: camera)
        }
        #expect(throws: ImageError.sizeMismatch(width: 1137, height: 910, expectedWidth: 910, expectedHeight: 1137)) {
            try decoder.decode(try Self.craft(width: 1137, height: 910), limit: camera)
        }
        // Without a camera's size: the pipeline's pixel budget, and 0x0 named as such.
        #expect(throws: ImageError.invalidSize(width: 0, height: 0)) { try decoder.decode(try Self.craft(width: 0, height: 0)) }
        #expect(throws: ImageError.tooLarge(width: 60000, height: 60000, limit: 2_000_000)) {
            try decoder.decode(try Self.craft(width: 60000, height: 60000), limit: .pixels(2_000_000))
        }
        #expect(throws: ImageError.tooLarge(width: 910, height: 1137, limit: 1000)) { try decoder.decode(real, limit: .pixels(1000)) }
        let error = ImageError.sizeMismatch(width: 60000, height: 60000, expectedWidth: 1280, expectedHeight: 720)
        #expect(error.description == "the image header claims 60000x60000, the source delivers 1280x720")
    }

    @Test func unsupportedJPEGCodingsAreTypedErrors() throws {
        let decoder = ImageDecoder(rejectsJPEGWarnings: false)
        #expect(throws: ImageError.unsupportedJPEG("12-bit samples")) { try decoder.decode(try Self.craft(precision: 12)) }
        #expect(throws: ImageError.unsupportedJPEG("arithmetic coding")) { try decoder.decode(try Self.craft(marker: 0xC9)) }
        #expect(throws: ImageError.unsupportedJPEG("lossless coding")) { try decoder.decode(try Self.craft(marker: 0xC3)) }
        #expect(throws: ImageError.unsupportedJPEG("hierarchical coding")) { try decoder.decode(try Self.craft(marker: 0xC5)) }
        #expect(ImageError.unsupportedJPEG("12-bit samples").description
                == "unsupported JPEG (12-bit samples); only 8-bit Huffman-coded JPEGs are decoded")
    }

    @Test func aBadHuffmanTableIsAnErrorNotACrash() throws {
        var jpeg = try Fixtures.bytes("obama.jpg")
        let dht = try Self.offset(of: 0xC4, in: jpeg)
        // The 16 code-length counts after the table's class/id byte now sum past 256 codes.
        for k in 0 ..< 16 { jpeg[dht + 5 + k] = 0xFF }
        for decoder in [ImageDecoder(), ImageDecoder(rejectsJPEGWarnings: false)] {
            do {
                _ = try decoder.decode(jpeg)
                Issue.record("a JPEG with a bogus Huffman table decoded")
            } catch let ImageError.corrupt(why) {
                #expect(why.localizedCaseInsensitiveContains("huffman"), "\(why)")
            }
        }
    }

    @Test func truncatedAndEmptyFramesAreErrors() throws {
        let jpeg = try Fixtures.bytes("obama.jpg")
        let sof = try Self.offset(of: 0xC0, in: jpeg)
        let decoder = ImageDecoder()
        #expect(throws: ImageError.emptyData) { try decoder.decode([], limit: .exactly(width: 910, height: 1137)) }
        // Cut inside the frame header, just after it, and inside the image data.
        for cut in [3, sof + 6, sof + 20, jpeg.count / 2, jpeg.count - 2] {
            #expect(throws: ImageError.self, "cut at \(cut)") { try decoder.decode(Array(jpeg.prefix(cut)), limit: .exactly(width: 910, height: 1137)) }
        }
    }

    @Test func pngHonoursTheLimitAndDecodesFromMemoryIntact() throws {
        let bytes = try Fixtures.bytes("Tom_Hanks_54745.png")
        let decoder = ImageDecoder()
        #expect(throws: ImageError.sizeMismatch(width: 112, height: 112, expectedWidth: 640, expectedHeight: 480)) {
            try decoder.decode(bytes, limit: .exactly(width: 640, height: 480))
        }
        // Decoded twice from separate buffers: the same pixels (the read never outlives its buffer).
        let a = try decoder.decode(Array(bytes), limit: .exactly(width: 112, height: 112))
        let b = try decoder.decode(Array(bytes))
        #expect(a == b)
    }
}
