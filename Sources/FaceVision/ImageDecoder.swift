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

/// What an image's header may claim, checked before a pixel is decoded: a frame whose header
/// says otherwise is a glitch or an attack, and decoding it would cost memory and time.
public enum SizeLimit: Sendable, Hashable, CustomStringConvertible {
    /// Exactly this stored size: a camera's negotiated format.
    case exactly(width: Int, height: Int)
    /// At most this many pixels (width x height): a replay's or a photo's budget.
    case pixels(Int)

    public var description: String {
        switch self {
        case let .exactly(w, h): "\(w)x\(h)"
        case let .pixels(n): "at most \(n) pixels"
        }
    }
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
    /// `limit` is what the source's frames may claim (see `SizeLimit`), checked from the header
    /// in addition to `maxPixels`; a JPEG this decoder cannot decode faithfully (12-bit,
    /// lossless, arithmetic-coded, hierarchical) is refused before decoding.
    public func decode(_ data: [UInt8], scale: JPEGScale = .full, limit: SizeLimit? = nil) throws -> RGBImage {
        guard !data.isEmpty else { throw ImageError.emptyData }
        switch ImageFormat.sniff(data) {
        case .jpeg:
            var image = try decodeJPEG(data, scale: scale, limit: limit)
            if appliesExifOrientation, let orientation = ExifOrientation.read(fromJPEG: data) {
                image = image.oriented(orientation)
            }
            return image
        case .png: return try decodePNG(data, limit: limit)
        case nil: throw ImageError.unsupportedFormat
        }
    }

    func checkBudget(_ width: Int, _ height: Int, _ limit: SizeLimit?) throws {
        if case let .exactly(w, h) = limit, width != w || height != h {
            throw ImageError.sizeMismatch(width: width, height: height, expectedWidth: w, expectedHeight: h)
        }
        guard width > 0, height > 0 else { throw ImageError.invalidSize(width: width, height: height) }
        var budget = maxPixels
        if case let .pixels(n) = limit { budget = min(budget, n) }
        // Both sides fit in 32 bits (JPEG: 16), so the product cannot overflow.
        guard width * height <= budget else { throw ImageError.tooLarge(width: width, height: height, limit: budget) }
    }

    /// Refuses what libjpeg-turbo's 8-bit decoder would fail on or get wrong, and sizes outside
    /// the limit, from the frame header alone. Without a frame header TurboJPEG says what is wrong.
    func checkJPEGFrame(_ data: [UInt8], _ limit: SizeLimit?) throws {
        guard let frame = JPEGFrameHeader(data) else { return }
        switch frame.marker {
        case 0xC0, 0xC1, 0xC2: break  // baseline, extended and progressive Huffman
        case 0xC3: throw ImageError.unsupportedJPEG("lossless coding")
        case 0xC5 ... 0xC7, 0xCD ... 0xCF: throw ImageError.unsupportedJPEG("hierarchical coding")
        default: throw ImageError.unsupportedJPEG("arithmetic coding")
        }
        guard frame.precision == 8 else { throw ImageError.unsupportedJPEG("\(frame.precision)-bit samples") }
        try checkBudget(frame.width, frame.height, limit)
    }

    private func jpegHeader(_ data: [UInt8]) throws -> (width: Int, height: Int) {
        guard let handle = tjInitDecompress() else { throw ImageError.corrupt("cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        return try jpegHeader(data, handle)
    }

    func jpegHeader(_ data: [UInt8], _ handle: tjhandle) throws -> (width: Int, height: Int) {
        var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let rc = data.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &w, &h, &subsamp, &colorspace)
        }
        guard rc == 0 else { throw ImageError.corrupt(String(cString: tjGetErrorStr2(handle))) }
        return (Int(w), Int(h))
    }

    private func decodeJPEG(_ data: [UInt8], scale: JPEGScale, limit: SizeLimit?) throws -> RGBImage {
        try checkJPEGFrame(data, limit)
        guard let handle = tjInitDecompress() else { throw ImageError.corrupt("cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        let (w, h) = try jpegHeader(data, handle)
        try checkBudget(w, h, limit)
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
        try data.withUnsafeBufferPointer { src in
            var png = png_image()
            png.version = UInt32(PNG_IMAGE_VERSION)
            defer { png_image_free(&png) }
            guard png_image_begin_read_from_memory(&png, src.baseAddress, src.count) != 0 else {
                throw ImageError.corrupt(pngMessage(&png))
            }
            return (Int(png.width), Int(png.height))
        }
    }

    private func decodePNG(_ data: [UInt8], limit: SizeLimit?) throws -> RGBImage {
        // libpng keeps the pointer from begin_read and reads through it in finish_read, so the
        // whole read (and the free) happens while the buffer pointer is valid.
        try data.withUnsafeBufferPointer { src in
            var png = png_image()
            png.version = UInt32(PNG_IMAGE_VERSION)
            defer { png_image_free(&png) }
            guard png_image_begin_read_from_memory(&png, src.baseAddress, src.count) != 0 else {
                throw ImageError.corrupt(pngMessage(&png))
            }
            try checkBudget(Int(png.width), Int(png.height), limit)
            png.format = UInt32(PNG_FORMAT_RGB)
            var white = png_color(red: 255, green: 255, blue: 255)  // transparent areas become white
            var failure: String?
            let image = RGBImage(unsafeWidth: Int(png.width), height: Int(png.height)) { dst in
                if png_image_finish_read(&png, &white, dst.baseAddress, 0, nil) == 0 { failure = pngMessage(&png) }
            }
            if let failure { throw ImageError.corrupt(failure) }
            return image
        }
    }

    private func pngMessage(_ png: inout png_image) -> String {
        withUnsafeBytes(of: &png.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// The first frame header (SOFn) of a JPEG, found by walking the markers from SOI.
struct JPEGFrameHeader: Equatable {
    var marker: UInt8
    var precision: Int
    var width: Int
    var height: Int

    init?(_ d: [UInt8]) {
        var i = 2
        while i + 3 < d.count {
            guard d[i] == 0xFF else { return nil }
            let marker = d[i + 1]
            switch marker {
            case 0xFF: i += 1; continue  // fill byte
            case 0x01, 0xD0 ... 0xD7: i += 2; continue
            case 0xD8, 0xD9, 0xDA: return nil  // no frame header before the image data
            default: break
            }
            let length = Int(d[i + 2]) << 8 | Int(d[i + 3])
            guard length >= 2 else { return nil }
            // C4 (DHT), C8 (reserved) and CC (DAC) share the SOF range without being frame headers.
            if (0xC0 ... 0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                guard length >= 8, i + 8 < d.count else { return nil }
                self.marker = marker
                precision = Int(d[i + 4])
                height = Int(d[i + 5]) << 8 | Int(d[i + 6])
                width = Int(d[i + 7]) << 8 | Int(d[i + 8])
                return
            }
            i += 2 + length
        }
        return nil
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
    public func decode(contentsOf path: String, scale: JPEGScale = .full, limit: SizeLimit? = nil) throws -> RGBImage {
        try decode(bytes: Self.read(path), path: path, scale: scale, limit: limit)
    }

    public func decode(bytes: [UInt8], path: String, scale: JPEGScale = .full, limit: SizeLimit? = nil) throws -> RGBImage {
        try Self.checkExtension(path: path, bytes: bytes)
        do {
            return try decode(bytes, scale: scale, limit: limit)
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
