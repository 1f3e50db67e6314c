import Testing
@testable import FaceVision
import FaceTestSupport

@Suite struct ImageTests {
    func ramp(width: Int, height: Int) throws -> RGBImage {
        var px = [UInt8]()
        for y in 0 ..< height { for x in 0 ..< width { px += [UInt8(x & 255), UInt8(y & 255), 7] } }
        return try RGBImage(width: width, height: height, pixels: px)
    }

    @Test func rejectsWrongBufferAndSize() {
        #expect(throws: ImageError.bufferSize(expected: 12, actual: 11)) { try RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 11)) }
        #expect(throws: ImageError.invalidSize(width: 0, height: 3)) { try GrayImage(width: 0, height: 3) }
    }

    @Test func cropCopiesTheRightPixels() throws {
        let image = try ramp(width: 10, height: 8)
        let crop = try image.cropped(to: PixelRect(x: 3, y: 2, width: 4, height: 5))
        #expect(crop.width == 4 && crop.height == 5)
        #expect(Array(crop[0, 0]) == [3, 2, 7])
        #expect(Array(crop[3, 4]) == [6, 6, 7])
    }

    @Test(arguments: [
        PixelRect(x: -1, y: 0, width: 2, height: 2), PixelRect(x: 9, y: 0, width: 2, height: 2),
        PixelRect(x: 0, y: 7, width: 1, height: 2), PixelRect(x: 0, y: 0, width: 0, height: 2),
    ])
    func cropOutsideThrows(rect: PixelRect) throws {
        let image = try ramp(width: 10, height: 8)
        #expect(throws: ImageError.outOfBounds(rect, width: 10, height: 8)) { try image.cropped(to: rect) }
    }

    @Test func resizeKeepsFlatColourAndSize() throws {
        let flat = try RGBImage(width: 33, height: 17, fill: 200)
        let small = try flat.resized(width: 11, height: 5)
        #expect(small.width == 11 && small.height == 5)
        #expect(small.pixels.allSatisfy { $0 == 200 })
        let big = try flat.scaled(by: 2)
        #expect(big.width == 66 && big.height == 34)
        #expect(throws: ImageError.self) { try flat.resized(width: 0, height: 4) }
    }

    @Test func resizeInterpolatesARamp() throws {
        let image = try ramp(width: 200, height: 2)
        let half = try image.resized(width: 100, height: 1)
        // Pixel i of the half-size image sits between source columns 2i and 2i+1.
        #expect(abs(Int(half[10, 0].first!) - 21) <= 1)
        #expect(abs(Int(half[90, 0].first!) - 181) <= 1)
    }

    @Test func grayscaleUsesBT601Weights() throws {
        let image = try RGBImage(width: 3, height: 1, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255])
        #expect(image.grayscale().pixels == [77, 149, 29])
        let back = try GrayImage(width: 2, height: 1, pixels: [10, 250]).rgb()
        #expect(back.pixels == [10, 10, 10, 250, 250, 250])
    }

    @Test func exifOrientationTurnsPixels() throws {
        // 2x1: left pixel red, right pixel blue.
        let image = try RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255])
        let right = image.oriented(.right)  // stored rotated 90° CCW; turn clockwise to fix
        #expect(right.width == 1 && right.height == 2)
        #expect(Array(right[0, 0]) == [255, 0, 0])
        let left = image.oriented(.left)
        #expect(Array(left[0, 0]) == [0, 0, 255])
        let mirrored = image.oriented(.upMirrored)
        #expect(Array(mirrored[0, 0]) == [0, 0, 255])
    }

    @Test func drawingStaysInsideWhatItSaysItCovered() throws {
        var image = try RGBImage(width: 80, height: 40, fill: 200)
        let covered = image.draw("A1-", x: 5, y: 6, scale: 2, .black, background: .white)
        #expect(covered == PixelRect(x: 5, y: 6, width: 3 * 12 - 2 + 4, height: 14 + 4))
        for y in 0 ..< 40 {
            for x in 0 ..< 80 where !(covered.x ..< covered.maxX).contains(x) || !(covered.y ..< covered.maxY).contains(y) {
                #expect(image[x, y].elementsEqual([200, 200, 200]), "(\(x), \(y)) outside the label changed")
            }
        }
        // The 'A' apex: its top row is .###., so (1,0) of the glyph is ink and (0,0) is not.
        #expect(image[5 + 2 + 2, 6 + 2].elementsEqual([0, 0, 0]))
        #expect(image[5 + 2, 6 + 2].elementsEqual([255, 255, 255]))
        #expect(BitmapFont.glyph("a") == BitmapFont.glyph("A") && BitmapFont.glyph("é") == BitmapFont.glyph("?"))
        var boxed = try RGBImage(width: 20, height: 20, fill: 0)
        boxed.stroke(PixelRect(x: 2, y: 2, width: 10, height: 10), .red, thickness: 2)
        #expect(boxed[2, 2].elementsEqual([235, 40, 40]) && boxed[5, 5].elementsEqual([0, 0, 0]) && boxed[10, 10].elementsEqual([235, 40, 40]))
    }

    @Test func blurAdjustAndRotate() throws {
        let flat = try RGBImage(width: 30, height: 20, fill: 90)
        #expect(flat.boxBlurred(radius: 3) == flat, "a blur keeps a flat image")
        var edge = try GrayImage(width: 20, height: 1, fill: 0)
        edge.paste(try GrayImage(width: 10, height: 1, fill: 200), x: 10, y: 0)
        let soft = edge.boxBlurred(radius: 2)
        #expect(soft.pixels[7] == 0 && soft.pixels[9] == 80 && soft.pixels[10] == 120 && soft.pixels[12] == 200)
        #expect(flat.adjusted(gain: 3).pixels.allSatisfy { $0 == 255 } && flat.adjusted(gain: 0.5, offset: -50).pixels.allSatisfy { $0 == 0 })
        var marked = try GrayImage(width: 21, height: 21, fill: 0)
        marked.paste(try GrayImage(width: 1, height: 1, fill: 255), x: 20, y: 10)
        let turned = marked.rotated(degrees: 90)
        #expect(turned[10, 20].first == 255, "clockwise on screen: right middle goes to bottom middle")
    }
}
