import Foundation
/// A pixel layout: how many interleaved 8-bit channels one pixel has.
public protocol PixelFormat: Sendable {
    static var channels: Int { get }
}

/// Packed 8-bit red, green, blue.
public enum RGB8: PixelFormat { public static let channels = 3 }
/// 8-bit luma.
public enum Gray8: PixelFormat { public static let channels = 1 }

/// An integer rectangle in pixel coordinates; `x`/`y` is the top-left corner.
public struct PixelRect: Sendable, Hashable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var midX: Int { x + width / 2 }
    public var midY: Int { y + height / 2 }
    public var area: Int { max(0, width) * max(0, height) }

    public func intersection(_ other: PixelRect) -> PixelRect? {
        let x0 = max(x, other.x), y0 = max(y, other.y)
        let x1 = min(maxX, other.maxX), y1 = min(maxY, other.maxY)
        guard x1 > x0, y1 > y0 else { return nil }
        return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// The smallest rectangle holding both.
    public func union(_ other: PixelRect) -> PixelRect {
        let x0 = min(x, other.x), y0 = min(y, other.y)
        return PixelRect(x: x0, y: y0, width: max(maxX, other.maxX) - x0, height: max(maxY, other.maxY) - y0)
    }

    /// Moved in by `dx` on the left and right and `dy` on the top and bottom; negative grows it.
    public func insetBy(_ dx: Int, _ dy: Int) -> PixelRect {
        PixelRect(x: x + dx, y: y + dy, width: width - 2 * dx, height: height - 2 * dy)
    }

    /// Each coordinate multiplied by `factor`, the box rounded outwards.
    public func scaled(by factor: Double) -> PixelRect {
        let x0 = Int((Double(x) * factor).rounded(.down)), y0 = Int((Double(y) * factor).rounded(.down))
        let x1 = Int((Double(maxX) * factor).rounded(.up)), y1 = Int((Double(maxY) * factor).rounded(.up))
        return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// X11 geometry: WIDTHxHEIGHT+X+Y, with '-' for an offset left of or above the image.
    public var description: String {
        func offset(_ v: Int) -> String { v < 0 ? "\(v)" : "+\(v)" }
        return "\(width)x\(height)\(offset(x))\(offset(y))"
    }
}

/// A point in pixel coordinates, sub-pixel.
public struct Point: Sendable, Hashable, Codable {
    public var x: Float
    public var y: Float
    public init(x: Float, y: Float) { self.x = x; self.y = y }
}

public enum ImageError: Error, Equatable, CustomStringConvertible {
    case invalidSize(width: Int, height: Int)
    case bufferSize(expected: Int, actual: Int)
    case outOfBounds(PixelRect, width: Int, height: Int)
    case emptyData
    case unsupportedFormat
    case tooLarge(width: Int, height: Int, limit: Int)
    /// The header claims a size other than the one the source delivers (a camera's negotiated size).
    case sizeMismatch(width: Int, height: Int, expectedWidth: Int, expectedHeight: Int)
    /// A valid JPEG this decoder does not decode, e.g. 12-bit samples or arithmetic coding.
    case unsupportedJPEG(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case let .invalidSize(w, h): "invalid image size \(w)x\(h)"
        case let .bufferSize(e, a): "pixel buffer holds \(a) bytes, expected \(e)"
        case let .outOfBounds(r, w, h): "rectangle \(r) lies outside the \(w)x\(h) image"
        case .emptyData: "the file is empty (0 bytes)"
        case .unsupportedFormat: "not a JPEG or PNG image"
        case let .tooLarge(w, h, limit) where limit >= 1_000_000:
            "image is \(w)x\(h) (\(w * h / 1_000_000) MP), above the \(limit / 1_000_000) MP limit"
        case let .tooLarge(w, h, limit): "image is \(w)x\(h) (\(w * h) pixels), above the limit of \(limit) pixels"
        case let .sizeMismatch(w, h, ew, eh): "the image header claims \(w)x\(h), the source delivers \(ew)x\(eh)"
        case let .unsupportedJPEG(what): "unsupported JPEG (\(what)); only 8-bit Huffman-coded JPEGs are decoded"
        case let .corrupt(why): "corrupt image data: \(why)"
        }
    }
}

/// An 8-bit image with interleaved channels, rows packed without padding.
public struct Image<Format: PixelFormat>: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public internal(set) var pixels: [UInt8]

    public static var channels: Int { Format.channels }

    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else { throw ImageError.invalidSize(width: width, height: height) }
        let expected = width * height * Format.channels
        guard pixels.count == expected else { throw ImageError.bufferSize(expected: expected, actual: pixels.count) }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: UInt8 = 0) throws {
        guard width > 0, height > 0 else { throw ImageError.invalidSize(width: width, height: height) }
        self.width = width
        self.height = height
        self.pixels = [UInt8](repeating: fill, count: width * height * Format.channels)
    }

    /// Builds an image by letting `body` fill a zeroed buffer; for decoders and converters.
    init(unsafeWidth width: Int, height: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> Void) rethrows {
        self.width = width
        self.height = height
        self.pixels = try [UInt8](unsafeUninitializedCapacity: width * height * Format.channels) { buf, count in
            buf.initialize(repeating: 0)
            count = buf.count
            try body(buf)
        }
    }

    public var bounds: PixelRect { PixelRect(x: 0, y: 0, width: width, height: height) }
    public var rowBytes: Int { width * Format.channels }

    /// The pixel's channel values at (x, y).
    public subscript(x: Int, y: Int) -> ArraySlice<UInt8> {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)x\(height)")
        let start = (y * width + x) * Format.channels
        return pixels[start ..< start + Format.channels]
    }

    /// The part of the image inside `rect`, which must lie wholly within the image.
    public func cropped(to rect: PixelRect) throws -> Image {
        guard rect.width > 0, rect.height > 0, rect.x >= 0, rect.y >= 0,
              rect.maxX <= width, rect.maxY <= height
        else { throw ImageError.outOfBounds(rect, width: width, height: height) }
        let c = Format.channels
        return pixels.withUnsafeBufferPointer { src in
            Image(unsafeWidth: rect.width, height: rect.height) { dst in
                let rowLen = rect.width * c
                for row in 0 ..< rect.height {
                    let from = ((rect.y + row) * width + rect.x) * c
                    let to = row * rowLen
                    (dst.baseAddress! + to).update(from: src.baseAddress! + from, count: rowLen)
                }
            }
        }
    }

    /// Bilinear resize to exactly `width` x `height` (pixel-centre aligned).
    public func resized(width newWidth: Int, height newHeight: Int) throws -> Image {
        guard newWidth > 0, newHeight > 0 else { throw ImageError.invalidSize(width: newWidth, height: newHeight) }
        if newWidth == width && newHeight == height { return self }
        let c = Format.channels
        let sx = Float(width) / Float(newWidth), sy = Float(height) / Float(newHeight)
        let w = width, h = height
        // Column taps are the same for every row: compute them once.
        var x0s = [Int](repeating: 0, count: newWidth), x1s = x0s
        var fxs = [Float](repeating: 0, count: newWidth)
        for x in 0 ..< newWidth {
            let fx = max(0, (Float(x) + 0.5) * sx - 0.5)
            let ix = min(Int(fx), w - 1)
            x0s[x] = ix * c
            x1s[x] = min(ix + 1, w - 1) * c
            fxs[x] = fx - Float(ix)
        }
        return pixels.withUnsafeBufferPointer { src in
            Image(unsafeWidth: newWidth, height: newHeight) { dst in
                for y in 0 ..< newHeight {
                    let fy = max(0, (Float(y) + 0.5) * sy - 0.5)
                    let iy = min(Int(fy), h - 1)
                    let wy = fy - Float(iy)
                    let row0 = iy * w * c, row1 = min(iy + 1, h - 1) * w * c
                    var out = y * newWidth * c
                    for x in 0 ..< newWidth {
                        let wx = fxs[x]
                        let a = row0 + x0s[x], b = row0 + x1s[x], d = row1 + x0s[x], e = row1 + x1s[x]
                        for ch in 0 ..< c {
                            let top = Float(src[a + ch]) + (Float(src[b + ch]) - Float(src[a + ch])) * wx
                            let bottom = Float(src[d + ch]) + (Float(src[e + ch]) - Float(src[d + ch])) * wx
                            dst[out] = UInt8(min(255, max(0, top + (bottom - top) * wy + 0.5)))
                            out += 1
                        }
                    }
                }
            }
        }
    }

    /// Resize by a factor, keeping the aspect ratio; each side is at least one pixel.
    public func scaled(by factor: Double) throws -> Image {
        guard factor > 0, factor.isFinite else { throw ImageError.invalidSize(width: width, height: height) }
        return try resized(width: max(1, Int((Double(width) * factor).rounded())),
                           height: max(1, Int((Double(height) * factor).rounded())))
    }
}

public typealias RGBImage = Image<RGB8>
public typealias GrayImage = Image<Gray8>

extension Image where Format == RGB8 {
    /// ITU-R BT.601 luma, in integer arithmetic.
    public func grayscale() -> GrayImage {
        pixels.withUnsafeBufferPointer { src in
            GrayImage(unsafeWidth: width, height: height) { dst in
                for i in 0 ..< dst.count {
                    let r = UInt32(src[3 * i]), g = UInt32(src[3 * i + 1]), b = UInt32(src[3 * i + 2])
                    dst[i] = UInt8((r * 77 + g * 150 + b * 29 + 128) >> 8)
                }
            }
        }
    }
}

extension Image where Format == Gray8 {
    /// The gray value replicated into three channels.
    public func rgb() -> RGBImage {
        pixels.withUnsafeBufferPointer { src in
            RGBImage(unsafeWidth: width, height: height) { dst in
                for i in 0 ..< src.count {
                    let v = src[i]
                    dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                }
            }
        }
    }
}

extension Image {
    /// Copies `other` into this image with its top-left corner at (x, y); parts outside are clipped.
    public mutating func paste(_ other: Image, x: Int, y: Int) {
        guard let region = PixelRect(x: x, y: y, width: other.width, height: other.height).intersection(bounds) else { return }
        let c = Format.channels, rowLen = region.width * c, w = width, ow = other.width
        other.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for row in 0 ..< region.height {
                    let from = ((region.y - y + row) * ow + (region.x - x)) * c
                    let to = ((region.y + row) * w + region.x) * c
                    (dst.baseAddress! + to).update(from: src.baseAddress! + from, count: rowLen)
                }
            }
        }
    }
}

extension Image {
    /// A box blur of the given radius (each pixel the mean of its (2r+1)² neighbourhood, edges
    /// clamped), in two separable passes.
    public func boxBlurred(radius: Int) -> Image {
        guard radius > 0, width > 0, height > 0 else { return self }
        let c = Format.channels, w = width, h = height, n = 2 * radius + 1
        func pass(_ src: [UInt8], horizontal: Bool) -> [UInt8] {
            var dst = [UInt8](repeating: 0, count: src.count)
            let lines = horizontal ? h : w, length = horizontal ? w : h
            src.withUnsafeBufferPointer { s in
                dst.withUnsafeMutableBufferPointer { d in
                    for line in 0 ..< lines {
                        func index(_ i: Int) -> Int {
                            let k = min(max(i, 0), length - 1)
                            return (horizontal ? line * w + k : k * w + line) * c
                        }
                        for ch in 0 ..< c {
                            var sum = 0
                            for i in -radius ... radius { sum += Int(s[index(i) + ch]) }
                            for i in 0 ..< length {
                                d[index(i) + ch] = UInt8((sum + n / 2) / n)
                                sum += Int(s[index(i + radius + 1) + ch]) - Int(s[index(i - radius) + ch])
                            }
                        }
                    }
                }
            }
            return dst
        }
        var out = self
        out.pixels = pass(pass(pixels, horizontal: true), horizontal: false)
        return out
    }

    /// Every sample times `gain` plus `offset`, clamped to 0...255: darker, brighter, flatter.
    public func adjusted(gain: Double, offset: Double = 0) -> Image {
        var table = [UInt8](repeating: 0, count: 256)
        for v in 0 ..< 256 { table[v] = UInt8(max(0, min(255, (Double(v) * gain + offset).rounded()))) }
        var out = self
        out.pixels = pixels.map { table[Int($0)] }
        return out
    }
}

extension Image {
    /// Turned by `degrees` (clockwise on screen) about the centre, same size; corners that come
    /// from outside are black. Bilinear sampling.
    public func rotated(degrees: Double) -> Image {
        let c = Format.channels, w = width, h = height
        let angle = degrees * .pi / 180, cosA = cos(angle), sinA = sin(angle)
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        var out = self
        out.pixels = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< h {
                    for x in 0 ..< w {
                        // The source point that lands here: the inverse rotation.
                        let dx = Double(x) - cx, dy = Double(y) - cy
                        let sx = cosA * dx + sinA * dy + cx, sy = -sinA * dx + cosA * dy + cy
                        guard sx >= 0, sy >= 0, sx <= Double(w - 1), sy <= Double(h - 1) else { continue }
                        let x0 = Int(sx), y0 = Int(sy), x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                        let fx = sx - Double(x0), fy = sy - Double(y0)
                        for ch in 0 ..< c {
                            let top = Double(src[(y0 * w + x0) * c + ch]) * (1 - fx) + Double(src[(y0 * w + x1) * c + ch]) * fx
                            let bottom = Double(src[(y1 * w + x0) * c + ch]) * (1 - fx) + Double(src[(y1 * w + x1) * c + ch]) * fx
                            dst[(y * w + x) * c + ch] = UInt8((top * (1 - fy) + bottom * fy).rounded())
                        }
                    }
                }
            }
        }
        return out
    }
}
