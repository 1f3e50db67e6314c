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

    /// The shared labelled photo set, or nil (with the reason) when this machine lacks it.
    public static var facesDev: String? {
        let path = root.deletingLastPathComponent().appendingPathComponent("shared/faces-dev").path
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
