import CTurboJPEG

extension Image where Format == Gray8 {
    /// The mean of each step×step block, rounded; blocks at the right and bottom edges that the
    /// image does not fill are averaged over the pixels they have. The size is ceil(width/step) ×
    /// ceil(height/step).
    public func thumbnail(step: Int) -> GrayImage {
        precondition(step >= 1, "thumbnail step \(step) is below 1")
        if step == 1 { return self }
        return pixels.withUnsafeBufferPointer { px in
            Self.blockMeans(width: width, height: height, step: step) { y, sums in
                let row = y * width
                var x = 0, out = 0
                while x < width {
                    let end = min(x + step, width)
                    var s: UInt32 = 0
                    for i in row + x ..< row + end { s &+= UInt32(px[i]) }
                    sums[out] &+= s
                    out += 1; x = end
                }
            }
        }
    }

    /// Block means of a `width`×`height` image whose rows `addRow` adds into per-block sums.
    static func blockMeans(width: Int, height: Int, step: Int,
                           _ addRow: (Int, UnsafeMutableBufferPointer<UInt32>) -> Void) -> GrayImage {
        let outW = (width + step - 1) / step, outH = (height + step - 1) / step
        var sums = [UInt32](repeating: 0, count: outW)
        return GrayImage(unsafeWidth: outW, height: outH) { dst in
            sums.withUnsafeMutableBufferPointer { acc in
                for by in 0 ..< outH {
                    let y0 = by * step, y1 = min(y0 + step, height)
                    for i in 0 ..< outW { acc[i] = 0 }
                    for y in y0 ..< y1 { addRow(y, acc) }
                    let rows = UInt32(y1 - y0)
                    for bx in 0 ..< outW {
                        let n = rows * UInt32(min(step, width - bx * step))
                        dst[by * outW + bx] = UInt8((acc[bx] + n / 2) / n)
                    }
                }
            }
        }
    }
}

extension YUYVImage {
    /// `grayscale().thumbnail(step:)` from the Y samples, without converting the frame.
    public func lumaThumbnail(step: Int) -> GrayImage {
        precondition(step >= 1, "thumbnail step \(step) is below 1")
        // The same 16–235 stretch as `grayscale()`, by table.
        var stretch = [UInt32](repeating: 0, count: 256)
        for v in 0 ..< 256 { stretch[v] = UInt32(((min(max(v, 16), 235) - 16) * 298 + 128) >> 8) }
        let w = width
        return bytes.withUnsafeBufferPointer { src in
            stretch.withUnsafeBufferPointer { lut in
                GrayImage.blockMeans(width: w, height: height, step: step) { y, sums in
                    let row = 2 * y * w
                    var x = 0, out = 0
                    while x < w {
                        let end = min(x + step, w)
                        var s: UInt32 = 0
                        for i in x ..< end { s &+= lut[Int(src[row + 2 * i])] }
                        sums[out] &+= s
                        out += 1; x = end
                    }
                }
            }
        }
    }
}

extension ImageDecoder {
    /// A JPEG decoded straight to gray at DCT scale 1/8: the size is ceil(width/8) × ceil(height/8)
    /// and each pixel about the mean of its 8×8 block, for a fraction of a full decode's cost.
    /// The header is checked against `limit` (and `maxPixels`) before decoding, as `decode` does.
    /// Returns the thumbnail and how many full-size pixels one thumbnail pixel spans per side
    /// (8, or the exact ratio width / thumbnail width).
    public func decodeThumbnail(_ data: [UInt8], limit: SizeLimit? = nil) throws -> (image: GrayImage, step: Double) {
        guard !data.isEmpty else { throw ImageError.emptyData }
        guard ImageFormat.sniff(data) == .jpeg else { throw ImageError.unsupportedFormat }
        try checkJPEGFrame(data, limit)
        guard let handle = tjInitDecompress() else { throw ImageError.corrupt("cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        let (w, h) = try jpegHeader(data, handle)
        try checkBudget(w, h, limit)
        let eighth = JPEGScale(num: 1, denom: 8)
        let outW = eighth.scaled(w), outH = eighth.scaled(h)
        var failure: String?
        var image = data.withUnsafeBufferPointer { src in
            GrayImage(unsafeWidth: outW, height: outH) { dst in
                let flags = rejectsJPEGWarnings ? TJFLAG_STOPONWARNING : 0
                let rc = tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress,
                                       Int32(outW), Int32(outW), Int32(outH), Int32(TJPF_GRAY.rawValue), flags)
                if rc != 0 {
                    let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
                    if rejectsJPEGWarnings || !isWarning { failure = String(cString: tjGetErrorStr2(handle)) }
                }
            }
        }
        if let failure { throw ImageError.corrupt(failure) }
        // Upright like `decode`, so thumbnail boxes map onto the decoded frame.
        var fullWidth = w
        if appliesExifOrientation, let orientation = ExifOrientation.read(fromJPEG: data), orientation != .up {
            image = image.oriented(orientation)
            if orientation.rawValue >= 5 { fullWidth = h }
        }
        return (image, Double(fullWidth) / Double(image.width))
    }
}
