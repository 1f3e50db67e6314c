import FaceCapture
import FaceTestSupport
import FaceVision
import Foundation
import Testing
@testable import FacePipeline

/// Frames glanced at while the detector was busy with an older one are merged into the newest.
/// A face that walked in meanwhile and held still, long enough for the motion gate to learn it,
/// is found there all the same (it differs from what was last searched there), not left to the
/// safety net (from a cold review: held 30 frames or more, it was missed); a walker who crossed
/// and left costs no search.
@Suite struct SkippedFramesTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A wall with a few lines, and a 120 px face to paste on it.
    static func scene() throws -> (wall: GrayImage, face: GrayImage) {
        let photo = try Fixtures.image("obama.jpg").grayscale()
        let face = try #require(try Fixtures.engine.detect(photo, minFace: 80).first?.box)
        let context = try #require(face.insetBy(-face.width / 2, -face.height / 2).intersection(photo.bounds))
        let patch = try photo.cropped(to: context).scaled(by: 120 / Double(face.width))
        var wall = try GrayImage(width: 1280, height: 720, fill: 110)
        for y in stride(from: 0, to: 720, by: 40) { try wall.paste(GrayImage(width: 1280, height: 2, fill: 90), x: 0, y: y) }
        return (wall, patch)
    }

    func frame(_ i: Int, _ wall: GrayImage, _ patch: GrayImage, at x: Int?, speck: Int? = nil) throws -> Frame {
        var picture = wall
        if let x { picture.paste(patch, x: x, y: 200) }
        // A small dark speck somewhere new on every frame: a place of its own each time.
        if let speck { try picture.paste(GrayImage(width: 16, height: 16, fill: 20), x: 40 + (speck * 37) % 1180, y: 560 + (speck * 13) % 120) }
        return Frame(index: i, time: t0.addingTimeInterval(Double(i) / 30), payload: .gray(picture))
    }

    /// The empty wall for a second, then frames `busy` merged while the detector is busy; the merged glance.
    func merged(_ analyzer: FrameAnalyzer, _ wall: GrayImage, _ patch: GrayImage, busy: Range<Int>,
                faceAt: (Int) -> Int?, specks: Bool = false) throws -> Glance {
        for i in 0 ..< 30 { _ = analyzer.look(try frame(i, wall, patch, at: nil), tracks: []) }
        var merged: Glance?
        for i in busy {
            let glance = analyzer.glance(try frame(i, wall, patch, at: faceAt(i), speck: specks ? i : nil))
            merged = merged.map { $0.merged(into: glance) } ?? glance
        }
        return try #require(merged)
    }

    static func found(_ looked: LookedFrame) -> Int? {
        if case let .looked(detections, _, _) = looked.outcome { detections.count } else { nil }
    }

    @Test(arguments: [5, 30, 55]) func aFaceThatWalkedInWhileTheDetectorWasBusyIsFound(heldFrames: Int) throws {
        let (wall, patch) = try Self.scene()
        // The safety net later than the look (a full scan would find the face however it came).
        let analyzer = FrameAnalyzer(engine: Fixtures.engine, minFace: 80, detector: .hog, fullScanEvery: 5)
        // Busy from frame 30: the face walks in over 10 frames, then holds still.
        let glance = try merged(analyzer, wall, patch, busy: 30 ..< 40 + heldFrames) { min(600, 100 + ($0 - 30) * 50) }
        #expect(Self.found(analyzer.look(glance, sequence: 0, tracks: [])) == 1, "held \(heldFrames) frames")
        #expect(analyzer.fullScans == 1, "found by the search where it changed, not by a full scan")
    }

    /// So many places merged that the nearest are joined (a speck somewhere new on every frame).
    @Test func soWithMoreMotionElsewhereThanTheListHolds() throws {
        let (wall, patch) = try Self.scene()
        let analyzer = FrameAnalyzer(engine: Fixtures.engine, minFace: 80, detector: .hog, fullScanEvery: 5)
        let glance = try merged(analyzer, wall, patch, busy: 30 ..< 130, faceAt: { min(600, 100 + ($0 - 30) * 50) }, specks: true)
        #expect(glance.movedBefore.count == Glance.mostRegions, "the list is full")
        #expect(Self.found(analyzer.look(glance, sequence: 0, tracks: [])) == 1)
    }

    @Test func aWalkerWhoCrossedAndLeftWhileTheDetectorWasBusyCostsNoSearch() throws {
        let (wall, patch) = try Self.scene()
        let analyzer = FrameAnalyzer(engine: Fixtures.engine, minFace: 80, detector: .hog, fullScanEvery: 5)
        // Across the wall and out of the picture within the busy frames, then the wall alone.
        let glance = try merged(analyzer, wall, patch, busy: 30 ..< 60) { i in i < 55 ? 50 + (i - 30) * 50 : nil }
        #expect(!glance.movedBefore.isEmpty)
        let searched = analyzer.framesSearched
        #expect(Self.found(analyzer.look(glance, sequence: 0, tracks: [])) == 0)
        #expect(analyzer.framesSearched == searched, "the detector ran: \(analyzer.stats.jobs)")
    }
}

/// How much of a thumbnail changed since a reference, the light of the whole picture aside.
@Suite struct ChangedPixelsTests {
    static func picture(_ fill: UInt8) throws -> GrayImage {
        var image = try GrayImage(width: 40, height: 30, fill: fill)
        // Some texture, so that brightness bands are more than one.
        for x in stride(from: 0, to: 40, by: 5) { try image.paste(GrayImage(width: 1, height: 30, fill: fill / 2), x: x, y: 0) }
        return image
    }

    @Test func aPatchCountsAndTheLightOfTheWholePictureDoesNot() throws {
        let before = try Self.picture(120)
        // Brighter all over, and a dark 6x6 patch at (10, 10).
        var after = try GrayImage(width: 40, height: 30, pixels: before.pixels.map { min(255, $0 + 30) })
        try after.paste(GrayImage(width: 6, height: 6, fill: 0), x: 10, y: 10)
        #expect(FrameAnalyzer.changedPixels(after, before, threshold: 16) == 36)
        #expect(FrameAnalyzer.changedPixels(after, before, threshold: 16, ignoring: [PixelRect(x: 10, y: 10, width: 3, height: 6)]) == 18)
        let places = [PixelRect(x: 8, y: 8, width: 10, height: 10), PixelRect(x: 25, y: 0, width: 10, height: 10),
                      PixelRect(x: 35, y: 25, width: 20, height: 20), PixelRect(x: 50, y: 50, width: 5, height: 5)]
        #expect(FrameAnalyzer.changedPixels(after, from: [before], threshold: 16, inside: places) == [36, 0, 0, 0])
        // Changed from both references, or it does not count: a place that looks as one did.
        #expect(FrameAnalyzer.changedPixels(after, from: [before, after], threshold: 16, inside: places) == [0, 0, 0, 0])
        // A reference of another size: every pixel of the place (inside the picture) counts.
        let other = try GrayImage(width: 20, height: 15, fill: 120)
        #expect(FrameAnalyzer.changedPixels(after, from: [other], threshold: 16, inside: places) == [100, 100, 25, 0])
    }
}
