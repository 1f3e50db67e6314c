/// A packed YUYV 4:2:2 frame (Y0 U Y1 V per pixel pair), as USB cameras deliver it uncompressed.
/// Assumes BT.601 limited range (16–235 luma), which UVC cameras use.
public struct YUYVImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Rows packed without padding: width * 2 bytes each.
    public let bytes: [UInt8]

    public init(width: Int, height: Int, bytes: [UInt8]) throws {
        guard width > 0, height > 0, width % 2 == 0 else { throw ImageError.invalidSize(width: width, height: height) }
        guard bytes.count == width * height * 2 else { throw ImageError.bufferSize(expected: width * height * 2, actual: bytes.count) }
        self.width = width
        self.height = height
        self.bytes = bytes
    }

    /// Copies a driver buffer whose rows may be padded to `bytesPerLine`.
    public init(width: Int, height: Int, bytesPerLine: Int, buffer: UnsafeRawBufferPointer) throws {
        let row = width * 2
        guard width > 0, height > 0, width % 2 == 0, bytesPerLine >= row else {
            throw ImageError.invalidSize(width: width, height: height)
        }
        guard buffer.count >= bytesPerLine * (height - 1) + row else {
            throw ImageError.bufferSize(expected: bytesPerLine * height, actual: buffer.count)
        }
        self.width = width
        self.height = height
        bytes = [UInt8](unsafeUninitializedCapacity: row * height) { dst, count in
            let src = buffer.baseAddress!
            if bytesPerLine == row {
                UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: src, byteCount: row * height)
            } else {
                for y in 0 ..< height {
                    UnsafeMutableRawPointer(dst.baseAddress! + y * row).copyMemory(from: src + y * bytesPerLine, byteCount: row)
                }
            }
            count = row * height
        }
    }

    /// Luma stretched from 16–235 to 0–255, 16 pixels per step: this runs on every frame.
    public func grayscale() -> GrayImage {
        let count = width * height
        return bytes.withUnsafeBytes { src in
            GrayImage(unsafeWidth: width, height: height) { dst in
                let out = UnsafeMutableRawPointer(dst.baseAddress!)
                var i = 0
                let lo = SIMD16<UInt16>(repeating: 16), hi = SIMD16<UInt16>(repeating: 235)
                while i + 16 <= count {
                    let packed = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD32<UInt8>.self)
                    let y = SIMD16<UInt16>(truncatingIfNeeded: packed.evenHalf).clamped(lowerBound: lo, upperBound: hi)
                    let scaled = ((y &- lo) &* 298 &+ 128) &>> 8
                    out.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: scaled), toByteOffset: i, as: SIMD16<UInt8>.self)
                    i += 16
                }
                while i < count {
                    let y = min(max(Int(src[2 * i]), 16), 235)
                    dst[i] = UInt8(((y - 16) * 298 + 128) >> 8)
                    i += 1
                }
            }
        }
    }

    /// BT.601 limited range to RGB in integer arithmetic. Runs only for frames with a face to
    /// describe. Scalar: a 16-pixel SIMD version measured slower (6.0–6.3 against 3.9–4.6 ms at 720p),
    /// its interleaved stores costing more than the arithmetic saves.
    public func rgb() -> RGBImage {
        let pairs = width * height / 2
        return bytes.withUnsafeBufferPointer { src in
            RGBImage(unsafeWidth: width, height: height) { dst in
                @inline(__always) func clamp(_ v: Int32) -> UInt8 { UInt8(truncatingIfNeeded: min(max(v, 0), 255)) }
                for p in 0 ..< pairs {
                    let s = 4 * p, d = 6 * p
                    let y0 = 298 * (Int32(src[s]) - 16), u = Int32(src[s + 1]) - 128
                    let y1 = 298 * (Int32(src[s + 2]) - 16), v = Int32(src[s + 3]) - 128
                    let r = 409 * v + 128, g = -100 * u - 208 * v + 128, b = 516 * u + 128
                    dst[d] = clamp((y0 + r) >> 8); dst[d + 1] = clamp((y0 + g) >> 8); dst[d + 2] = clamp((y0 + b) >> 8)
                    dst[d + 3] = clamp((y1 + r) >> 8); dst[d + 4] = clamp((y1 + g) >> 8); dst[d + 5] = clamp((y1 + b) >> 8)
                }
            }
        }
    }
}

extension Image where Format == RGB8 {
    /// BT.601 limited-range YUYV, chroma averaged over each pixel pair; for writing test frames
    /// to a V4L2 output device. Needs an even width.
    public func yuyv() throws -> YUYVImage {
        guard width % 2 == 0 else { throw ImageError.invalidSize(width: width, height: height) }
        var out = [UInt8](repeating: 0, count: width * height * 2)
        pixels.withUnsafeBufferPointer { src in
            for p in 0 ..< width * height / 2 {
                let s = 6 * p
                func luma(_ o: Int) -> Int32 {
                    (66 * Int32(src[s + o]) + 129 * Int32(src[s + o + 1]) + 25 * Int32(src[s + o + 2]) + 128) >> 8 + 16
                }
                let r = (Int32(src[s]) + Int32(src[s + 3])) / 2, g = (Int32(src[s + 1]) + Int32(src[s + 4])) / 2
                let b = (Int32(src[s + 2]) + Int32(src[s + 5])) / 2
                let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128
                let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128
                out[4 * p] = UInt8(luma(0)); out[4 * p + 1] = UInt8(u); out[4 * p + 2] = UInt8(luma(3)); out[4 * p + 3] = UInt8(v)
            }
        }
        return try YUYVImage(width: width, height: height, bytes: out)
    }
}

extension Image where Format == Gray8 {
    /// True when almost the whole frame is dark: the IR emitter is off or the lens is covered.
    /// Samples every 4th pixel of every 4th row.
    public func isDark(threshold: UInt8 = 24, fraction: Double = 0.98) -> Bool {
        pixels.withUnsafeBufferPointer { px in
            var dark = 0, total = 0
            for y in stride(from: 0, to: height, by: 4) {
                let row = y * width
                for x in stride(from: 0, to: width, by: 4) {
                    total += 1
                    if px[row + x] < threshold { dark += 1 }
                }
            }
            return Double(dark) >= fraction * Double(total)
        }
    }
}

extension Image {
    /// Copies a driver buffer (V4L2 GREY or RGB24) whose rows may be padded to `bytesPerLine`.
    public init(width: Int, height: Int, bytesPerLine: Int, buffer: UnsafeRawBufferPointer) throws {
        let row = width * Format.channels
        guard width > 0, height > 0, bytesPerLine >= row else { throw ImageError.invalidSize(width: width, height: height) }
        guard buffer.count >= bytesPerLine * (height - 1) + row else {
            throw ImageError.bufferSize(expected: bytesPerLine * height, actual: buffer.count)
        }
        self.init(unsafeWidth: width, height: height) { dst in
            for y in 0 ..< height {
                UnsafeMutableRawPointer(dst.baseAddress! + y * row).copyMemory(from: buffer.baseAddress! + y * bytesPerLine, byteCount: row)
            }
        }
    }
}
