import Foundation
import Testing
@testable import FaceVision
import FaceTestSupport

@Suite struct FaceEngineTests {
    let engine = Fixtures.engine

    @Test func findsSixFacesInTheGroupPhoto() throws {
        let image = try Fixtures.image("t1.jpg")
        let faces = try engine.detect(image, minFace: 40)
        #expect(faces.count == 6)
        for face in faces { #expect(image.bounds.intersection(face.box) != nil) }
    }

    @Test func cnnDetectorAlsoFindsTheGroup() throws {
        let image = try Fixtures.image("t1.jpg")
        let faces = try engine.detect(image, minFace: 40, detector: .cnn)
        #expect(faces.count == 6)
    }

    @Test func largerMinFaceFindsFewerOrEqualAndCostsLess() throws {
        #expect(FaceEngine.detectionScale(minFace: 80) == 1)
        #expect(FaceEngine.detectionScale(minFace: 160) == 0.5)
        #expect(FaceEngine.detectionScale(minFace: 10) == 2)
        let image = try Fixtures.image("obama.jpg")
        let faces = try engine.detect(image, minFace: 200)
        #expect(faces.count == 1)
        #expect(faces[0].box.width >= 150)
    }

    @Test func landmarksLieInsideTheFace() throws {
        let image = try Fixtures.image("obama.jpg")
        let face = try #require(try engine.detect(image).first)
        let marks = try engine.landmarks(of: face.box, in: image.grayscale())
        #expect(marks.points.count == 5)
        let grown = PixelRect(x: face.box.x - face.box.width / 4, y: face.box.y - face.box.height / 4,
                              width: face.box.width * 3 / 2, height: face.box.height * 3 / 2)
        for p in marks.points {
            #expect(Int(p.x) >= grown.x && Int(p.x) <= grown.maxX && Int(p.y) >= grown.y && Int(p.y) <= grown.maxY)
        }
    }

    @Test func samePersonIsCloserThanAnotherPerson() throws {
        func embed(_ name: String) throws -> FaceEmbedding {
            let faces = try engine.faces(in: Fixtures.image(name))
            try #require(faces.count == 1, "\(name): \(faces.count) faces")
            return faces[0].embedding
        }
        let obama = try embed("obama.jpg"), obama2 = try embed("obama2.jpg"), biden = try embed("biden.jpg")
        let same = obama.distance(to: obama2), different = obama.distance(to: biden)
        #expect(same < 0.6)
        #expect(different > 0.6)
        // face_recognition reports about 0.34 and 0.86 for these pairs with the same models.
        #expect(abs(same - 0.34) < 0.05 && abs(different - 0.86) < 0.05, "same \(same), different \(different)")
    }

    @Test func batchEmbeddingsEqualSingleOnes() throws {
        let image = try Fixtures.image("t1.jpg")
        let gray = image.grayscale()
        let boxes = try engine.detect(gray, minFace: 40)
        let marks = try boxes.map { try engine.landmarks(of: $0.box, in: gray) }
        let batch = try engine.embeddings(of: marks, in: image)
        #expect(batch.count == 6)
        let single = try engine.embedding(of: marks[2], in: image)
        #expect(batch[2].distance(to: single) < 1e-4)
        #expect(try engine.faces(in: image, minFace: 40).allSatisfy { $0.chip.width == 150 && $0.chip.height == 150 })
    }

    @Test func missingOrCorruptModelNamesThePath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("faced-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let models = FaceModels(directory: dir.path)
        do {
            _ = try FaceEngine(models: models)
            Issue.record("engine opened without models")
        } catch let FaceEngineError.modelMissing(path) {
            #expect(path == models.landmarks)
        }
        let real = FaceModels(directory: Fixtures.modelsDirectory)
        try FileManager.default.copyItem(atPath: real.landmarks, toPath: models.landmarks)
        try Data("this is not a dlib model".utf8).write(to: URL(fileURLWithPath: models.embedder))
        do {
            _ = try FaceEngine(models: models)
            Issue.record("engine opened with a corrupt model")
        } catch let FaceEngineError.modelUnreadable(path, _) {
            #expect(path == models.embedder)
        }
    }
}
