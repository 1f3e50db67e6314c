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
}
