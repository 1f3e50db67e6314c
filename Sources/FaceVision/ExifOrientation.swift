/// The EXIF orientation tag (1...8) of a JPEG: how the stored pixels must be turned to stand upright.
public enum ExifOrientation: Int, Sendable {
    case up = 1, upMirrored, down, downMirrored, leftMirrored, right, rightMirrored, left

    /// Reads tag 0x0112 from the APP1 Exif segment; nil when absent or malformed.
    public static func read(fromJPEG data: [UInt8]) -> ExifOrientation? {
        var i = 2
        while i + 4 <= data.count, data[i] == 0xFF {
            let marker = data[i + 1]
            if marker == 0xDA || marker == 0xD9 { return nil }  // image data starts: no more metadata
            let length = Int(data[i + 2]) << 8 | Int(data[i + 3])
            guard length >= 2, i + 2 + length <= data.count else { return nil }
            if marker == 0xE1, length >= 16,
               Array(data[(i + 4) ..< (i + 10)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                return parseTIFF(data[(i + 10) ..< (i + 2 + length)])
            }
            i += 2 + length
        }
        return nil
    }

    private static func parseTIFF(_ tiff: ArraySlice<UInt8>) -> ExifOrientation? {
        let base = tiff.startIndex
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[base], tiff[base + 1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            let a = Int(tiff[base + at]), b = Int(tiff[base + at + 1])
            return little ? a | b << 8 : a << 8 | b
        }
        func u32(_ at: Int) -> Int? {
            guard let lo = u16(little ? at : at + 2), let hi = u16(little ? at + 2 : at) else { return nil }
            return hi << 16 | lo
        }
        guard let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for n in 0 ..< entries {
            let entry = ifd + 2 + n * 12
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112, let value = u16(entry + 8) { return ExifOrientation(rawValue: value) }
        }
        return nil
    }
}

extension Image {
    /// The image turned upright according to an EXIF orientation.
    public func oriented(_ orientation: ExifOrientation) -> Image {
        if orientation == .up { return self }
        let c = Format.channels
        let swaps = orientation.rawValue >= 5
        let outW = swaps ? height : width, outH = swaps ? width : height
        let w = width, h = height
        return pixels.withUnsafeBufferPointer { src in
            Image(unsafeWidth: outW, height: outH) { dst in
                for y in 0 ..< outH {
                    for x in 0 ..< outW {
                        // (sx, sy): the stored pixel that lands at (x, y) once upright.
                        let (sx, sy): (Int, Int) = switch orientation {
                        case .up: (x, y)
                        case .upMirrored: (w - 1 - x, y)
                        case .down: (w - 1 - x, h - 1 - y)
                        case .downMirrored: (x, h - 1 - y)
                        case .leftMirrored: (y, x)
                        case .right: (y, h - 1 - x)
                        case .rightMirrored: (w - 1 - y, h - 1 - x)
                        case .left: (w - 1 - y, x)
                        }
                        let from = (sy * w + sx) * c, to = (y * outW + x) * c
                        for ch in 0 ..< c { dst[to + ch] = src[from + ch] }
                    }
                }
            }
        }
    }
}
