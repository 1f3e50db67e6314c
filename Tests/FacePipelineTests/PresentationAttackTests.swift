import FaceCapture
import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import Testing

/// The generated attack visits: the face is where the scene says, and the pipeline's liveness
/// measurement follows it.
@Suite struct PresentationAttackTests {
    static let obama = VisitReplayTests.visitor("obama", ["obama3.jpg"])

    static func scene(_ kind: AttackKind, faceWidth: Double = 120, frames: Int = 50, seed: UInt64 = 3) throws -> AttackScene {
        try AttackScene(photo: obama.photos[0], kind: kind, seed: seed, faceWidth: faceWidth, width: 640, height: 480, frames: frames)
    }

    @Test(arguments: AttackKind.allCases)
    func theFaceIsFoundWhereTheSceneSaysAtTheStartAndTheEnd(_ kind: AttackKind) throws {
        let scene = try Self.scene(kind)
        for frame in [0, scene.frameCount - 1] {
            let truth = scene.faceBox(at: frame)
            let found = try VisitReplayTests.detected(near: truth, in: scene.render(frame: frame))
            #expect(found != nil, "\(kind.rawValue), frame \(frame): no face near \(truth)")
        }
        // At the start the face is as wide as asked; a still picture stays where it is.
        #expect(abs(Double(scene.faceBox(at: 0).width) - 120) < 120 * 0.15)
        if kind == .still {
            #expect(scene.faceBox(at: 0) == scene.faceBox(at: scene.frameCount - 1))
        } else {
            #expect(scene.faceBox(at: 0) != scene.faceBox(at: scene.frameCount - 1))
        }
    }

    /// A bowed sheet is drawn in strips: where two strips share a camera pixel, it is all card
    /// (no seam of background shows through).
    @Test func aBentPrintHasNoSeams() throws {
        let dark = try RGBImage(width: 300, height: 360, fill: 0)
        let photo = VisitorPhotos.Photo(path: "dark", levels: [dark], faces: [PixelRect(x: 90, y: 90, width: 120, height: 120)])
        for seed: UInt64 in 1 ... 3 {
            let scene = try AttackScene(photo: photo, kind: .bentPrint, seed: seed, faceWidth: 120, width: 640, height: 480, frames: 5)
            let image = scene.render(frame: 2)
            let box = scene.faceBox(at: 2)
            var off = 0, counted = 0
            for y in box.y ..< box.maxY {
                for x in box.x ..< box.maxX {
                    let v = Int(image.pixels[(y * image.width + x) * 3 + 1])
                    counted += 1
                    // Black ink prints at 21 (22 dimmed by the card's light), noise adds at most 8; the
                    // background is about 50-140, so a quarter of it in a seam shows.
                    if v > 33 { off += 1 }
                }
            }
            #expect(counted > 5000)
            #expect(off == 0, "seed \(seed): \(off) pixels of the face's box show the background")
        }
    }

    @Test func theSameSeedDrawsTheSameFrames() throws {
        let a = try Self.scene(.screen), b = try Self.scene(.screen)
        #expect(a.render(frame: 7) == b.render(frame: 7))
        #expect(try Self.scene(.screen, seed: 4).render(frame: 7) != a.render(frame: 7))
    }

    static func scene(_ kind: AttackKind, exposure: Double, fps: Double = 25) throws -> AttackScene {
        try AttackScene(photo: obama.photos[0], kind: kind, seed: 3, faceWidth: 120, width: 640, height: 480, fps: fps, frames: 50,
                        exposure: exposure)
    }

    static func mean(_ image: RGBImage) -> Double {
        Double(image.pixels.reduce(0) { $0 + Int($1) }) / Double(image.pixels.count)
    }

    /// Sum of the horizontal steps between neighbouring pixels' green in `box`: what a blur lowers.
    static func detail(_ image: RGBImage, in box: PixelRect) -> Int {
        var sum = 0
        for y in box.y ..< box.maxY {
            for x in box.x ..< box.maxX - 1 {
                sum += abs(Int(image.pixels[(y * image.width + x) * 3 + 1]) - Int(image.pixels[(y * image.width + x + 1) * 3 + 1]))
            }
        }
        return sum
    }

    /// A picture moved by hand smears over the shutter's time; one held still does not.
    @Test(arguments: [AttackKind.print, .screen])
    func theShutterSmearsAMovingPicture(_ kind: AttackKind) throws {
        let frame = 20
        let sharp = try Self.scene(kind, exposure: 0).render(frame: frame)
        let scene = try Self.scene(kind, exposure: 0.04)
        let blurred = scene.render(frame: frame)
        let box = scene.faceBox(at: frame)
        let lost = 1 - Double(Self.detail(blurred, in: box)) / Double(Self.detail(sharp, in: box))
        #expect(lost > 0.05, "\(kind.rawValue): the face's detail fell by \(lost) under a 0.04 s shutter")
        // Spread, not added: the card and its glare are as bright over the frame as at an instant.
        #expect(abs(Self.mean(blurred) - Self.mean(sharp)) < 0.3, "\(kind.rawValue): \(Self.mean(blurred)) against \(Self.mean(sharp))")
    }

    @Test func aStillPictureDoesNotSmear() throws {
        #expect(try Self.scene(.still, exposure: 0.04).render(frame: 20) == Self.scene(.still, exposure: 0).render(frame: 20))
    }

    @Test(arguments: [(25.0, -0.01), (25, 0.05), (25, .nan), (25, .infinity), (0, 0), (-25, 0), (.nan, 0), (.infinity, 0)])
    func aShutterTimeOrRateThatCannotBeIsRefused(_ fps: Double, _ exposure: Double) {
        #expect(throws: SceneError.self) { try Self.scene(.print, exposure: exposure, fps: fps) }
    }

    /// A printed photo moved by hand, through the pipeline: every step of its track is measured,
    /// and the picture's surface fits a plane (the figure a real face must rise above).
    @Test func aHeldPrintIsMeasuredAsAPlane() async throws {
        let scene = try Self.scene(.print, faceWidth: 140, frames: 30)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("faced-attack-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var bytes = [UInt8]()
        for f in 0 ..< scene.frameCount { bytes += try scene.jpeg(frame: f) }
        try Data(bytes).write(to: URL(fileURLWithPath: work + "/print.mjpeg"))
        let store = try FaceStore(path: work + "/gallery.db")
        defer { _ = store.close() }
        let pipeline = try Pipeline(engine: Fixtures.engine, store: store, settings: PipelineSettings(minFace: 60))
        let steps = StepLog()
        pipeline.surfaceMeasured = { track, _, motion in steps.add(track, motion) }
        var runner = Runner(pipeline: pipeline, source: try MJPEGFileSource(path: work + "/print.mjpeg", fps: 25, clock: .media),
                            latestWins: false) { _ in }
        runner.mediaTime = true
        try await runner.run()
        let byTrack = steps.byTrack
        #expect(byTrack.count == 1)
        let track = try #require(byTrack.values.first)
        let residuals = track.map(\.residual).sorted()
        // 30 frames, each measured against the one 3 frames before once 3 have passed.
        #expect(residuals.count >= 20)
        #expect(residuals[residuals.count / 2] < 0.008)
        // The print's margin and the rest of the photo move with its face.
        let surround = track.compactMap(\.rigidSurround).sorted()
        #expect(surround.count >= 10)
        #expect(surround[surround.count / 2] > 0.6)
    }
}

final class StepLog: @unchecked Sendable {
    private(set) var byTrack = [Int64: [SurfaceMotion]]()
    func add(_ track: Int64, _ motion: SurfaceMotion) { byTrack[track, default: []].append(motion) }
}
