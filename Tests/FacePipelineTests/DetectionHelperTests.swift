import FaceCapture
import FaceTestSupport
import FaceVision
import Foundation
import Testing
@testable import FacePipeline

/// The second detector: a frame's detection split between the look thread and the helper's
/// finds what the look thread alone finds, and the helper's thread ends with its analyzer.
@Suite(.serialized) struct DetectionHelperTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func faces(_ looked: LookedFrame) -> [PixelRect]? {
        if case let .looked(detections, _, scale) = looked.outcome { detections.map { $0.box.scaled(by: scale) } } else { nil }
    }

    @Test func aFrameSearchedOnTwoThreadsGivesTheFacesOfOne() throws {
        let helper = try FaceEngine(models: FaceModels(directory: Fixtures.modelsDirectory))
        for (name, minFace) in [("t1.jpg", 48), ("t1.jpg", 80), ("obama.jpg", 48)] {
            let one = FrameAnalyzer(engine: Fixtures.engine, minFace: minFace, detector: .hog)
            let two = FrameAnalyzer(engine: Fixtures.engine, helper: helper, minFace: minFace, detector: .hog)
            let frame = Frame(index: 0, time: Self.t0, payload: .jpeg(try Fixtures.bytes(name)))
            // The first frame is scanned whole: split in three with a helper.
            let alone = try #require(Self.faces(one.look(frame, tracks: [])))
            let shared = try #require(Self.faces(two.look(frame, tracks: [])))
            #expect(!alone.isEmpty)
            // The same faces; boxes found at a coarser level of the detector's pyramid may shift by a
            // few pixels between a region and the whole frame (each has its own grid there).
            #expect(alone.count == shared.count && alone.allSatisfy { a in shared.contains { FaceTracker.iou($0, a) > 0.6 } },
                    "\(name) at \(minFace): \(alone) alone, \(shared) shared")
            // The same picture again with its faces followed: one job per face, shared out.
            let next = Frame(index: 1, time: Self.t0 + 0.1, payload: frame.payload)
            let followedAlone = try #require(Self.faces(one.look(next, tracks: alone)))
            let followedShared = try #require(Self.faces(two.look(next, tracks: alone)))
            #expect(followedAlone.count == alone.count && followedShared.count == alone.count, "\(name) at \(minFace)")
        }
    }

    @Test func theHelpersThreadEndsWithItsAnalyzer() throws {
        let engine = try FaceEngine(models: FaceModels(directory: Fixtures.modelsDirectory))
        weak var helper: DetectionHelper?
        do {
            let analyzer = FrameAnalyzer(engine: Fixtures.engine, helper: engine, minFace: 80, detector: .hog)
            _ = analyzer.look(Frame(index: 0, time: Self.t0, payload: .jpeg(try Fixtures.bytes("t1.jpg"))), tracks: [])
            helper = analyzer.helper
            #expect(helper != nil)
        }
        // Its thread holds it until the thread ends.
        let deadline = Date().addingTimeInterval(10)
        while helper != nil, Date() < deadline { usleep(10_000) }
        #expect(helper == nil, "the helper's thread still runs")
    }
}
