import FaceVision
import FuzzSupport

// What a replay frame or a photo goes through: the header look, then decodes under a small
// budget (so a 60000x60000 header costs nothing), at full and DCT-reduced scale, tolerant and
// strict, and against a camera's size. Any thrown error is fine; a crash or sanitizer report is not.
let tolerant = ImageDecoder(maxPixels: 512 * 512, rejectsJPEGWarnings: false)
let strict = ImageDecoder(maxPixels: 512 * 512)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let header = try? tolerant.size(of: bytes) {
        precondition(header.width >= 0 && header.height >= 0)
    }
    if let image = try? tolerant.decode(bytes) {
        precondition(image.width * image.height <= 512 * 512 && image.pixels.count == image.width * image.height * 3)
    }
    _ = try? tolerant.decode(bytes, scale: .atLeast(0.125))
    _ = try? strict.decode(bytes, scale: .atLeast(0.5), limit: .exactly(width: 64, height: 48))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    Seeds.write(Seeds.images())
    return 0
}
