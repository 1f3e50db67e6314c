import CTurboJPEG

/// Encodes RGB and gray images to JPEG through TurboJPEG (snapshots, replays, annotated photos).
public struct JPEGEncoder: Sendable {
    /// 1...100.
    public var quality: Int

    public init(quality: Int = 90) {
        self.quality = max(1, min(100, quality))
    }

    public func encode<F>(_ image: Image<F>) throws -> [UInt8] {
        guard let handle = tjInitCompress() else { throw ImageError.corrupt("cannot start the JPEG encoder") }
        defer { tjDestroy(handle) }
        let gray = F.channels == 1
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let rc = image.pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), Int32(image.rowBytes), Int32(image.height),
                        Int32(gray ? TJPF_GRAY.rawValue : TJPF_RGB.rawValue), &output, &size,
                        Int32(gray ? TJSAMP_GRAY.rawValue : TJSAMP_420.rawValue), Int32(quality), 0)
        }
        defer { if let output { tjFree(output) } }
        guard rc == 0, let output else { throw ImageError.corrupt(String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
