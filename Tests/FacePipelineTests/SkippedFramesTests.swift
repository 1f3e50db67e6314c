import FaceCapture
import FaceTestSupport
import FaceVision
import Foundation
import Testing
@testable import FacePipeline

/// A face walks in while the detector is busy with an older frame, then holds still, long enough
/// for the motion gate to learn it: the frames it walked in on are merged into the newest, and
/// it is found there all the same (it differs from what was last searched there), not left to
/// the safety net. (From a cold review: held 30 frames or more, it was missed.)
@Suite struct SkippedFramesTests {
    @Test(arguments: [5, 30, 55]) func aFaceThatWalkedInWhileTheDetectorWasBusyIsFound(heldFrames: Int) throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let photo = try Fixtures.image("obama.jpg").grayscale()
        let face = try #require(try Fixtures.engine.detect(photo, minFace: 80).first?.box)
        let context = try #require(face.insetBy(-face.width / 2, -face.height / 2).intersection(photo.bounds))
        // A 120 px face on a plain wall with a few lines.
        let patch = try photo.cropped(to: context).scaled(by: 120 / Double(face.width))
        var wall = try GrayImage(width: 1280, height: 720, fill: 110)
        for y in stride(from: 0, to: 720, by: 40) { try wall.paste(GrayImage(width: 1280, height: 2, fill: 90), x: 0, y: y) }
        // The safety net later than the look (a full scan would find the face however it came).
        let analyzer = FrameAnalyzer(engine: Fixtures.engine, minFace: 80, detector: .hog, fullScanEvery: 5)
        func frame(_ i: Int, patchAt x: Int?) -> Frame {
            var picture = wall
            if let x { picture.paste(patch, x: x, y: 200) }
            return Frame(index: i, time: t0.addingTimeInterval(Double(i) / 30), payload: .gray(picture))
        }
        for i in 0 ..< 30 { _ = analyzer.look(frame(i, patchAt: nil), tracks: []) }
        // Busy from frame 30: the face walks in over 10 frames, then holds still.
        var merged: Glance?
        for i in 30 ..< 40 + heldFrames {
            let glance = analyzer.glance(frame(i, patchAt: min(600, 100 + (i - 30) * 50)))
            merged = merged.map { $0.merged(into: glance) } ?? glance
        }
        let looked = analyzer.look(try #require(merged), sequence: 0, tracks: [])
        guard case let .looked(detections, _, _) = looked.outcome else {
            Issue.record("not looked at: \(looked.outcome)")
            return
        }
        #expect(detections.count == 1, "held \(heldFrames) frames")
    }
}
