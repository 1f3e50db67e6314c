import Foundation
import Testing
@testable import FaceVision

/// Paths to the fetched test photos and models (`make setup` places them).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func photo(_ name: String) -> String { root.appendingPathComponent("Tests/Fixtures/\(name)").path }
    static let modelsDirectory = root.appendingPathComponent("Models").path

    static func bytes(_ name: String) throws -> [UInt8] {
        let path = photo(name)
        guard let data = FileManager.default.contents(atPath: path) else {
            Issue.record("fixture \(path) is missing: run `make setup`")
            throw CocoaError(.fileNoSuchFile)
        }
        return [UInt8](data)
    }

    static func image(_ name: String) throws -> RGBImage {
        try ImageDecoder().decode(contentsOf: photo(name))
    }

    /// One engine for the whole test run: loading the models costs about half a second.
    static let engine: FaceEngine = {
        do { return try FaceEngine(models: FaceModels(directory: modelsDirectory), loadCNN: true) }
        catch { fatalError("cannot load models from \(modelsDirectory): \(error); run `make setup`") }
    }()
}
