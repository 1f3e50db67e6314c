import ArgumentParser
import FaceAccess
import FaceStore
import FaceVision
import Foundation

/// Where the gallery lives; shared by every subcommand.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Gallery database.", valueName: "path"))
    var db: String?

    var path: String { FaceStore.resolvePath(db) }

    /// For commands that change the gallery: brings its schema up to date.
    func open(create: Bool) throws -> FaceStore { try FaceStore(path: path, create: create) }

    /// For commands that only read: no migration, no write, works on a read-only or locked gallery.
    func openForReading() throws -> FaceStore {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.noDatabase(path) }
        return try FaceStore(readingAt: path)
    }
}

/// The face engine's inputs; for subcommands that look at photos.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Directory holding the dlib model files.", valueName: "dir"))
    var models: String?

    @Option(name: .long, help: ArgumentHelp("Smallest face to accept, in pixels (side of the face box).", valueName: "px"))
    var minFace: Int = EnrollmentOptions.defaultMinFace

    @Option(name: .long, help: "Face detector: hog (fast) or cnn (slower, finds turned faces).")
    var detector: FaceDetector = .hog

    @Option(name: .long, help: ArgumentHelp("Refuse photos larger than this, checked before decoding.", valueName: "mp"))
    var maxMegapixels: Int = ImageDecoder.defaultMaxPixels / 1_000_000

    func validate() throws {
        guard (20 ... 2000).contains(minFace) else { throw ValidationError("--min-face must be between 20 and 2000 pixels") }
        guard (1 ... 1000).contains(maxMegapixels) else { throw ValidationError("--max-megapixels must be between 1 and 1000") }
    }

    var decoder: ImageDecoder { ImageDecoder(maxPixels: maxMegapixels * 1_000_000) }

    func engine() throws -> FaceEngine {
        try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)), loadCNN: detector == .cnn)
    }
}

/// Overrides of the enrollment quality gate's limits.
struct QualityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Refuse faces less sharp than this (variance of the Laplacian of the aligned face; default \(QualityLimits().minSharpness)).",
                               valueName: "n"))
    var minSharpness: Double?

    @Option(help: ArgumentHelp("Refuse faces darker than this mean luma (0-255; default \(QualityLimits().minBrightness)).", valueName: "n"))
    var minBrightness: Double?

    @Option(help: ArgumentHelp("Refuse faces brighter than this mean luma (default \(QualityLimits().maxBrightness)).", valueName: "n"))
    var maxBrightness: Double?

    @Option(help: ArgumentHelp("Refuse faces flatter than this luma standard deviation (default \(QualityLimits().minContrast)).", valueName: "n"))
    var minContrast: Double?

    @Option(help: ArgumentHelp("Refuse faces turned more than this many degrees (default \(QualityLimits().maxYaw)).", valueName: "deg"))
    var maxYaw: Double?

    @Option(help: ArgumentHelp("Refuse heads tilted more than this many degrees (default \(QualityLimits().maxRoll)).", valueName: "deg"))
    var maxRoll: Double?

    /// The defaults with the options given laid over them.
    func limits(minFace: Int, over base: QualityLimits = QualityLimits()) -> QualityLimits {
        var limits = base
        limits.minFace = minFace
        if let minSharpness { limits.minSharpness = minSharpness }
        if let minBrightness { limits.minBrightness = minBrightness }
        if let maxBrightness { limits.maxBrightness = maxBrightness }
        if let minContrast { limits.minContrast = minContrast }
        if let maxYaw { limits.maxYaw = maxYaw }
        if let maxRoll { limits.maxRoll = maxRoll }
        return limits
    }
}

/// One line per quality figure set, for listings of enrolled photos.
func qualityRow(_ q: PhotoQuality) -> [String] {
    ["\(q.faceSize)", fixed(q.sharpness), fixed(q.brightness), fixed(q.contrast), fixed(q.yaw), fixed(q.roll)]
}

let qualityHeader = ["face px", "sharpness", "brightness", "contrast", "yaw°", "roll°"]

extension FaceDetector: ExpressibleByArgument {}

extension SecurityLevel: ExpressibleByArgument {
    public init?(argument: String) {
        guard let level = SecurityLevel.named(argument) else { return nil }
        self = level
    }

    public static var allValueStrings: [String] { presets.map(\.name) }
    public var defaultValueDescription: String { name }
}

/// Pretty JSON with sorted keys and ISO 8601 dates, one document on stdout.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func fixed(_ value: Float, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
func fixed(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// Columns padded to their widest cell.
func columns(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    let widths = first.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
