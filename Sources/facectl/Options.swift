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

    /// `withCNN` loads the CNN detector even for --detector hog: enrollment falls back to it.
    func engine(withCNN: Bool = false) throws -> FaceEngine {
        try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)), loadCNN: withCNN || detector == .cnn)
    }
}

/// Overrides of the enrollment quality gate's limits; each option is named after its manifest key.
struct QualityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Refuse faces more than this fraction of whose box lies beyond the image edge (at most \(QualityLimit.edgeTolerance.hardLimit); default \(QualityLimits().edgeTolerance)).",
                               valueName: "fraction"))
    var edgeTolerance: Double?

    @Option(help: ArgumentHelp("Refuse faces less sharp than this (variance of the Laplacian of the aligned face; at least \(QualityLimit.minSharpness.hardLimit); default \(QualityLimits().minSharpness)).",
                               valueName: "n"))
    var minSharpness: Double?

    @Option(help: ArgumentHelp("Refuse faces darker than this mean luma (0-255; at least \(QualityLimit.minBrightness.hardLimit); default \(QualityLimits().minBrightness)).", valueName: "n"))
    var minBrightness: Double?

    @Option(help: ArgumentHelp("Refuse faces brighter than this mean luma (at most \(QualityLimit.maxBrightness.hardLimit); default \(QualityLimits().maxBrightness)).", valueName: "n"))
    var maxBrightness: Double?

    @Option(help: ArgumentHelp("Refuse faces flatter than this luma standard deviation (at least \(QualityLimit.minContrast.hardLimit); default \(QualityLimits().minContrast)).", valueName: "n"))
    var minContrast: Double?

    @Option(help: ArgumentHelp("Refuse faces turned more than this many degrees (at most \(QualityLimit.maxYaw.hardLimit); default \(QualityLimits().maxYaw)).", valueName: "deg"))
    var maxYaw: Double?

    @Option(help: ArgumentHelp("Refuse heads tilted more than this many degrees (at most \(QualityLimit.maxRoll.hardLimit); default \(QualityLimits().maxRoll)).", valueName: "deg"))
    var maxRoll: Double?

    /// The limits given on the command line.
    var given: [QualityLimit: Double] {
        let all: [(QualityLimit, Double?)] = [(.edgeTolerance, edgeTolerance), (.minSharpness, minSharpness), (.minBrightness, minBrightness),
                                              (.maxBrightness, maxBrightness), (.minContrast, minContrast), (.maxYaw, maxYaw), (.maxRoll, maxRoll)]
        return Dictionary(uniqueKeysWithValues: all.compactMap { limit, value in value.map { (limit, $0) } })
    }

    func validate() throws {
        for (limit, value) in given.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if let problem = limit.problem(with: value) { throw ValidationError("\(limit.flag) \(problem)") }
        }
    }

    /// The defaults with the options given laid over them.
    func limits(minFace: Int, over base: QualityLimits = QualityLimits()) -> QualityLimits {
        var limits = base.with(given)
        limits.minFace = minFace
        return limits
    }
}

/// One line per quality figure set, for listings of enrolled photos.
func qualityRow(_ q: PhotoQuality) -> [String] {
    ["\(q.faceSize)", fixed(q.sharpness), fixed(q.brightness), fixed(q.contrast), fixed(q.yaw), fixed(q.roll)]
}

let qualityHeader = ["face px", "sharpness", "brightness", "contrast", "yaw°", "roll°"]

extension FaceDetector: ExpressibleByArgument {}

extension QualityLimit {
    /// The command-line option that sets this limit: the manifest key with dashes.
    var flag: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
}

extension QualityFailure {
    /// " (--min-sharpness to relax)": which option lets the photo through.
    var relaxHint: String { " (\(relaxedBy.flag) to relax)" }
}

extension SecurityLevel: ExpressibleByArgument {
    public init?(argument: String) {
        guard let level = SecurityLevel.named(argument) else { return nil }
        self = level
    }

    public static var allValueStrings: [String] { presets.map(\.name) }
    public var defaultValueDescription: String { name }
}

/// Pretty JSON with sorted keys and ISO 8601 dates, one document on stdout.
func printJSON(_ value: some Encodable) throws { print(try jsonText(value)) }

/// The same document as text, for the pager.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self)
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
