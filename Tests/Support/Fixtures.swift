import FaceStore
import FaceVision
import Foundation

/// Paths to the fetched test photos and models (`make setup` places them), and temp files.
public enum Fixtures {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    public static let modelsDirectory = root.appendingPathComponent("Models").path

    public static func photo(_ name: String) -> String { root.appendingPathComponent("Tests/Fixtures/\(name)").path }

    public static func bytes(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: photo(name)) else { throw MissingFixture(path: photo(name)) }
        return [UInt8](data)
    }

    public static func image(_ name: String) throws -> RGBImage {
        try ImageDecoder().decode(contentsOf: photo(name))
    }

    /// One engine for the whole test run: loading the models costs about half a second.
    public static let engine: FaceEngine = {
        do { return try FaceEngine(models: FaceModels(directory: modelsDirectory), loadCNN: true) }
        catch { fatalError("cannot load models from \(modelsDirectory): \(error); run `make setup`") }
    }()

    /// A group photo of two faces with texture enough to follow points on: obama.jpg, and beside
    /// it the same photo at 70 %, in gray; with both faces' boxes, the larger first.
    public static func twoFaces() throws -> (gray: GrayImage, boxes: [PixelRect]) {
        let large = try image("obama.jpg").grayscale()
        let small = try large.resized(width: large.width * 7 / 10, height: large.height * 7 / 10)
        let width = large.width + small.width
        var pixels = [UInt8](repeating: 128, count: width * large.height)
        for y in 0 ..< large.height {
            for x in 0 ..< large.width { pixels[y * width + x] = large.pixels[y * large.width + x] }
            guard y < small.height else { continue }
            for x in 0 ..< small.width { pixels[y * width + large.width + x] = small.pixels[y * small.width + x] }
        }
        let gray = try GrayImage(width: width, height: large.height, pixels: pixels)
        let boxes = try engine.detect(gray, minFace: 60).map(\.box).sorted { $0.width > $1.width }
        guard boxes.count == 2 else { throw MissingFixture(path: "two faces in the group of obama.jpg (found \(boxes.count))") }
        return (gray, boxes)
    }

    /// The shared labelled photo set, or nil (with the reason) when this machine lacks it.
    public static var facesDev: String? {
        let path = root.deletingLastPathComponent().appendingPathComponent("shared/faces-dev").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// A clip of the shared video folder (`../shared/videos`), or nil when this machine lacks it.
    public static func sharedVideo(_ name: String) -> String? {
        let path = root.deletingLastPathComponent().appendingPathComponent("shared/videos/\(name)").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

public struct MissingFixture: Error, CustomStringConvertible {
    public let path: String
    public var description: String { "fixture \(path) is missing: run `make setup`" }
}

/// A fresh directory under /tmp, removed when the value is released.
public final class TempDirectory: @unchecked Sendable {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("faced-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to a new file and returns its path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
        return file(name)
    }

    /// The bad inputs every photo-reading command must refuse, by name.
    public func badPhotos() throws -> [String: String] {
        let jpeg = try Fixtures.bytes("obama.jpg")
        return [
            "no face": Fixtures.photo("mask_white.jpg"),
            "text": try write("notes.jpg", Array("this is a text file, not a photo\n".utf8)),
            "truncated": try write("truncated.jpg", Array(jpeg.prefix(jpeg.count / 2))),
            "empty": try write("empty.jpg", []),
            "png named jpg": try write("renamed.jpg", try Fixtures.bytes("32bit.png")),
            "missing": file("does-not-exist.jpg"),
        ]
    }
}

/// What a test compares to prove the gallery did not change.
public struct GalleryFingerprint: Equatable, Sendable {
    public let people: Int
    public let templates: Int
    public let generation: Int64

    public init(_ store: FaceStore) throws {
        let counts = try store.counts()
        people = counts.people
        templates = counts.templates
        generation = try store.generation()
    }
}

/// A fixture photo spoiled so that one quality limit refuses it at its default, and a value of
/// that limit, within its hard limit, that lets it through.
public struct SpoiledPhoto: Sendable {
    /// The limit's manifest key.
    public var key: String
    public var file: String
    public var image: RGBImage
    public var relaxed: Double
    /// A second limit the photo fails once the first is relaxed (a dark photo is flat too), and its value.
    public var then: (key: String, relaxed: Double)?

    /// The relaxed value as an option or TOML value: integers without a fraction.
    public static func text(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }

    /// Every limit to relax, the first one first.
    public var relaxations: [(key: String, value: Double)] { [(key, relaxed)] + (then.map { [($0.key, $0.relaxed)] } ?? []) }

    /// One per limit a fixture can be spoiled for; yaw needs a real turned face (`turnedFace`).
    public static func all() throws -> [SpoiledPhoto] {
        let obama = try Fixtures.image("obama.jpg")
        return [
            SpoiledPhoto(key: "min_face", file: "small.jpg", image: try obama.scaled(by: 0.25), relaxed: 60),
            SpoiledPhoto(key: "edge_tolerance", file: "cut.jpg", image: try Fixtures.image("obama_partial_face2.jpg"), relaxed: 0.25),
            SpoiledPhoto(key: "min_sharpness", file: "blurred.jpg", image: obama.boxBlurred(radius: 10), relaxed: 2),
            SpoiledPhoto(key: "min_brightness", file: "dark.jpg", image: obama.adjusted(gain: 0.25), relaxed: 10, then: ("min_contrast", 5)),
            SpoiledPhoto(key: "max_brightness", file: "bright.jpg", image: obama.adjusted(gain: 0.4, offset: 190), relaxed: 245, then: ("min_contrast", 5)),
            SpoiledPhoto(key: "min_contrast", file: "flat.jpg", image: obama.adjusted(gain: 0.25, offset: 96), relaxed: 5),
            SpoiledPhoto(key: "max_roll", file: "tilted.jpg", image: obama.rotated(degrees: 32), relaxed: 45),
        ]
    }

    /// A faces-dev photo turned about 40°, refused at the default 35° yaw, or nil without faces-dev.
    public static var turnedFace: String? { Fixtures.facesDev.map { $0 + "/maria_soledad_alvear_valenzuela/01.jpg" } }

    /// Writes the photo as a JPEG into `dir` and returns its path.
    public func write(in dir: TempDirectory, as name: String? = nil) throws -> String {
        try dir.write(name ?? file, JPEGEncoder(quality: 95).encode(image))
    }
}
