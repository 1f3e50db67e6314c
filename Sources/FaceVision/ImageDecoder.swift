import CPNG
import CTurboJPEG
import Foundation

/// Image file formats the decoder recognises by their first bytes.
public enum ImageFormat: String, Sendable {
    case jpeg, png

    public static func sniff(_ bytes: some Collection<UInt8>) -> ImageFormat? {
        let head = Array(bytes.prefix(8))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }
}

/// A TurboJPEG DCT scaling factor: the decoded image is `num/denom` of the full size.
public struct JPEGScale: Sendable, Hashable, CustomStringConvertible {
    public let num: Int
    public let denom: Int
    public static let full = JPEGScale(num: 1, denom: 1)
    public var factor: Double { Double(num) / Double(denom) }
    public var description: String { "\(num)/\(denom)" }

    /// The factors this libjpeg-turbo supports, largest first.
    public static let supported: [JPEGScale] = {
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count), count > 0 else { return [.full] }
        return (0 ..< Int(count)).map { JPEGScale(num: Int(factors[$0].num), denom: Int(factors[$0].denom)) }
            .sorted { $0.factor > $1.factor }
    }()

    /// The smallest supported factor that still yields at least `factor` of the full size.
    public static func atLeast(_ factor: Double) -> JPEGScale {
        supported.last { $0.factor >= factor } ?? .full
    }

    func scaled(_ side: Int) -> Int { (side * num + denom - 1) / denom }
}

/// Decodes JPEG and PNG into RGB, checking the pixel budget from the header before allocating.
public struct ImageDecoder: Sendable {
    /// Largest accepted width x height of the stored image, in pixels.
    public var maxPixels: Int
    /// Rotate and flip JPEGs as their EXIF orientation tag says (phone photos need it).
    public var appliesExifOrientation: Bool
    /// Fail on libjpeg warnings such as "premature end of data" instead of returning a partly gray image.
    public var rejectsJPEGWarnings: Bool

    public static let defaultMaxPixels = 40_000_000

    public init(maxPixels: Int = ImageDecoder.defaultMaxPixels, appliesExifOrientation: Bool = true,
                rejectsJPEGWarnings: Bool = true) {
        self.maxPixels = maxPixels
        self.appliesExifOrientation = appliesExifOrientation
        self.rejectsJPEGWarnings = rejectsJPEGWarnings
    }

    /// Width and height as stored in the file's header, without decoding pixels.
    public func size(of data: [UInt8]) throws -> (width: Int, height: Int) {
        guard !data.isEmpty else { throw ImageError.emptyData }
        switch ImageFormat.sniff(data) {
        case .jpeg: return try jpegHeader(data)
        case .png: return try pngHeader(data)
        case nil: throw ImageError.unsupportedFormat
        }
    }

    /// Decodes to RGB. For JPEG, `scale` selects a DCT-scaled decode (nearly free downscaling).
    public func decode(_ data: [UInt8], scale: JPEGScale = .full) throws -> RGBImage {
        guard !data.isEmpty else { throw ImageError.emptyData }
        switch ImageFormat.sniff(data) {
        case .jpeg:
            var image = try decodeJPEG(data, scale: scale)
            if appliesExifOrientation, let orientation = ExifOrientation.read(fromJPEG: data) {
                image = image.oriented(orientation)
            }
            return image
        case .png: return try decodePNG(data)
        case nil: throw ImageError.unsupportedFormat
        }
    }

    private func checkBudget(_ width: Int, _ height: Int) throws {
        guard width > 0, height > 0 else { throw ImageError.invalidSize(width: width, height: height) }
        guard width * height <= maxPixels else { throw ImageError.tooLarge(width: width, height: height, limit: maxPixels) }
    }

    private func jpegHeader(_ data: [UInt8]) throws -> (width: Int, height: Int) {
        guard let handle = tjInitDecompress() else { throw ImageError.corrupt("cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        return try jpegHeader(data, handle)
    }

    private func jpegHeader(_ data: [UInt8], _ handle: tjhandle) throws -> (width: Int, height: Int) {
        var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let rc = data.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &w, &h, &subsamp, &colorspace)
        }
        guard rc == 0 else { throw ImageError.corrupt(String(cString: tjGetErrorStr2(handle))) }
        return (Int(w), Int(h))
    }

    private func decodeJPEG(_ data: [UInt8], scale: JPEGScale) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw ImageError.corrupt("cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        let (w, h) = try jpegHeader(data, handle)
        try checkBudget(w, h)
        let outW = scale.scaled(w), outH = scale.scaled(h)
        var failure: String?
        let image = data.withUnsafeBufferPointer { src in
            RGBImage(unsafeWidth: outW, height: outH) { dst in
                let flags = rejectsJPEGWarnings ? TJFLAG_STOPONWARNING : 0
                let rc = tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress,
                                       Int32(outW), Int32(outW * 3), Int32(outH), Int32(TJPF_RGB.rawValue), flags)
                if rc != 0 {
                    let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
                    if rejectsJPEGWarnings || !isWarning { failure = String(cString: tjGetErrorStr2(handle)) }
                }
            }
        }
        if let failure { throw ImageError.corrupt(failure) }
        return image
    }

    private func pngHeader(_ data: [UInt8]) throws -> (width: Int, height: Int) {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&png) }
        let ok = data.withUnsafeBufferPointer { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw ImageError.corrupt(pngMessage(&png)) }
        return (Int(png.width), Int(png.height))
    }

    private func decodePNG(_ data: [UInt8]) throws -> RGBImage {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&png) }
        let begun = data.withUnsafeBufferPointer { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw ImageError.corrupt(pngMessage(&png)) }
        try checkBudget(Int(png.width), Int(png.height))
        png.format = UInt32(PNG_FORMAT_RGB)
        var white = png_color(red: 255, green: 255, blue: 255)  // transparent areas become white
        var failure: String?
        let image = RGBImage(unsafeWidth: Int(png.width), height: Int(png.height)) { dst in
            if png_image_finish_read(&png, &white, dst.baseAddress, 0, nil) == 0 { failure = pngMessage(&png) }
        }
        if let failure { throw ImageError.corrupt(failure) }
        return image
    }

    private func pngMessage(_ png: inout png_image) -> String {
        withUnsafeBytes(of: &png.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// An image file could not be read or decoded; names the file.
public struct ImageFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

extension ImageDecoder {
    /// Reads and decodes a file; errors name the file and what is wrong with it.
    public func decode(contentsOf path: String, scale: JPEGScale = .full) throws -> RGBImage {
        try decode(bytes: Self.read(path), path: path, scale: scale)
    }

    public func decode(bytes: [UInt8], path: String, scale: JPEGScale = .full) throws -> RGBImage {
        try Self.checkExtension(path: path, bytes: bytes)
        do {
            return try decode(bytes, scale: scale)
        } catch let error as ImageError {
            throw ImageFileError(path: path, reason: error.description)
        }
    }

    /// A file named .jpg that holds a PNG (or the reverse) is refused: it is often the wrong file.
    static func checkExtension(path: String, bytes: [UInt8]) throws {
        let named: ImageFormat? = switch (path as NSString).pathExtension.lowercased() {
        case "jpg", "jpeg", "jpe": .jpeg
        case "png": .png
        default: nil
        }
        guard let named, let actual = ImageFormat.sniff(bytes), actual != named else { return }
        throw ImageFileError(path: path, reason: "the file holds a \(actual.rawValue.uppercased()) image but is named "
                             + ".\((path as NSString).pathExtension); rename it to .\(actual == .jpeg ? "jpg" : "png")")
    }

    /// The file's bytes; a missing, unreadable or directory path is an `ImageFileError`.
    public static func read(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageFileError(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw ImageFileError(path: path, reason: "is a directory, not an image file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageFileError(path: path, reason: "cannot read the file (check its permissions)")
        }
        return [UInt8](data)
    }
}
