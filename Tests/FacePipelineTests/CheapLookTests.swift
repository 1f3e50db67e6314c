import FaceAccess
import FaceCapture
@testable import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import Testing

/// The cheap look at every frame and the detector only where it matters, through the real
/// pipeline with the real models: a face is found however it appears.
@Suite struct CheapLookTests {
    let dir: TempDirectory
    let pipeline: Pipeline
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let fps = 30.0

    init() throws {
        dir = try TempDirectory()
        pipeline = try Pipeline(engine: Fixtures.engine, store: FaceStore(path: dir.file("faced.db")),
                                settings: PipelineSettings(camera: "door", policy: Policy(cooldown: 0)))
    }

    func feed(_ image: RGBImage, _ index: Int) throws {
        // As a camera sends it: JPEG, so the thumbnail is the 1/8-scale decode.
        let jpeg = try JPEGEncoder(quality: 85).encode(image)
        pipeline.process(Frame(index: index, time: start.addingTimeInterval(Double(index) / Self.fps), payload: .jpeg(jpeg)))
    }

    /// `a` of `face` over `(1 - a)` of `empty`.
    static func blend(_ empty: RGBImage, _ face: RGBImage, _ a: Double) throws -> RGBImage {
        let weight = Int((a * 256).rounded())
        var pixels = empty.pixels
        pixels.withUnsafeMutableBufferPointer { out in
            face.pixels.withUnsafeBufferPointer { f in
                for i in 0 ..< out.count where out[i] != f[i] {
                    out[i] = UInt8((Int(out[i]) * (256 - weight) + Int(f[i]) * weight + 128) >> 8)
                }
            }
        }
        return try RGBImage(width: empty.width, height: empty.height, pixels: pixels)
    }

    /// A cut between two still pictures: the face is found on the frame it appears in.
    @Test func aFaceThatAppearsByACutIsFoundAtOnce() throws {
        let builder = ReplayBuilder(width: 1280, height: 720)
        let empty = try builder.frame(nil), face = try builder.frame(try Fixtures.image("obama3.jpg"))
        for i in 0 ..< 45 { try feed(empty, i) }
        #expect(pipeline.facesSeen == 0)
        let searchedBefore = pipeline.framesSearched
        // Nothing moved: after the first frame, only the safety net's full scan every 2 s.
        #expect(searchedBefore == 1, "frames searched while nothing moved: \(searchedBefore)")
        try feed(face, 45)
        #expect(pipeline.facesSeen == 1, "found on the cut frame")
        for i in 46 ..< 60 { try feed(face, i) }
        #expect(pipeline.framesWithFaces == 15, "followed on every frame after: \(pipeline.framesWithFaces)")
    }

    /// A face that walks in when the safety net is due is searched where it moved, not in a full
    /// scan (which would cost several frames' time just as the visit starts); once it has gone the
    /// picture is the one searched, so nothing is scanned whole for the whole visit.
    @Test func aFaceThatWalksInWhenTheSafetyNetIsDueIsSearchedWhereItMoved() throws {
        let builder = ReplayBuilder(width: 1280, height: 720)
        let empty = try builder.frame(nil), face = try builder.frame(try Fixtures.image("obama3.jpg"))
        for i in 0 ..< 90 { try feed(empty, i) }
        #expect(pipeline.fullScans == 1 && pipeline.facesSeen == 0)
        try feed(face, 90)
        #expect(pipeline.facesSeen == 1, "found on the frame it came in")
        for i in 91 ..< 150 { try feed(face, i) }
        for i in 150 ..< 240 { try feed(empty, i) }
        #expect(pipeline.framesWithFaces == 60)
        #expect(pipeline.fullScans == 1, "full scans: \(pipeline.fullScans), detector runs: \(pipeline.detectorRuns)")
        // A face pasted where nothing moves (the gate saw its coming and going, but not this) is
        // still the safety net's: changed where no search has looked since.
        let nobodyMoves = FrameAnalyzer(engine: Fixtures.engine, minFace: 80, detector: .hog, fullScanEvery: 2, gate: MotionGate(noiseFloor: 1000))
        var found: Int?
        for i in 0 ..< 150 where found == nil {
            let jpeg = try JPEGEncoder(quality: 85).encode(i < 75 ? empty : face)
            if case let .faces(faces, _, _) = try nobodyMoves.analyze(Frame(index: i, time: start.addingTimeInterval(Double(i) / Self.fps), payload: .jpeg(jpeg))),
               !faces.isEmpty { found = i }
        }
        #expect(found == 75 && nobodyMoves.fullScans == 2, "found at \(String(describing: found)) after \(nobodyMoves.fullScans) full scans")
    }

    /// A face that fades in slowly enough for the background model to take it in (no motion the
    /// gate sees) is found by the safety net's full scan, within 2 s of being in full view. The gate
    /// learns 4x as fast as faced's, so that 5 s of fade are slow enough for it.
    @Test func aFaceThatAppearsWithoutMotionIsFoundByTheFullScanWithinTwoSeconds() throws {
        let builder = ReplayBuilder(width: 1280, height: 720)
        let empty = try builder.frame(nil), face = try builder.frame(try Fixtures.image("obama3.jpg"))
        let analyzer = FrameAnalyzer(engine: Fixtures.engine, minFace: 80, detector: .hog, fullScanEvery: 2, gate: MotionGate(learningRate: 0.2))
        let fade = 150
        var found: (index: Int, fullScan: Bool)?
        var index = 0
        while found == nil, index < 15 + fade + 75 {
            let a = min(1, max(0, Double(index - 15) / Double(fade)))
            let scansBefore = analyzer.fullScans
            let jpeg = try JPEGEncoder(quality: 85).encode(try Self.blend(empty, face, a))
            let seen = try analyzer.analyze(Frame(index: index, time: start.addingTimeInterval(Double(index) / Self.fps), payload: .jpeg(jpeg)))
            if case let .faces(faces, _, _) = seen, !faces.isEmpty { found = (index, analyzer.fullScans > scansBefore) }
            index += 1
        }
        let first = try #require(found, "the face was never found")
        #expect(first.fullScan, "found by a full scan, not by motion (frame \(first.index))")
        #expect(Double(first.index - (15 + fade)) / Self.fps <= 2.0 + 1e-9, "found at frame \(first.index), in full view at \(15 + fade)")
        // Only the safety net searched: the gate saw no motion the whole time.
        #expect(analyzer.framesSearched == analyzer.fullScans, "\(analyzer.framesSearched) searched, \(analyzer.fullScans) full scans")
    }

    /// A JPEG whose EXIF tag turns it a quarter (a phone's photo in a frame folder) gives the boxes
    /// and widths of the same picture stored upright: sides swapped before scaling, or every face
    /// would reach the evidence check 1.78 times its size.
    @Test func aQuarterTurnedJPEGGivesTheBoxesOfItsUprightPicture() throws {
        let upright = try ReplayBuilder(width: 720, height: 1280).frame(try Fixtures.image("obama3.jpg"))
        let stored = upright.oriented(.left)
        #expect(stored.width == 1280 && stored.oriented(.right) == upright)
        var tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0, 0, 0, 0x01, 0x00]
        tiff += [0x12, 0x01, 0x03, 0x00, 0x01, 0, 0, 0, 0x06, 0x00, 0, 0]
        tiff += [0, 0, 0, 0]
        let payload: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0] + tiff
        let app1: [UInt8] = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 255)] + payload
        let plain = try JPEGEncoder(quality: 90).encode(stored)
        let turned = Array(plain.prefix(2)) + app1 + Array(plain.dropFirst(2))
        func boxes(_ jpeg: [UInt8]) throws -> [PixelRect] {
            let analyzer = FrameAnalyzer(engine: Fixtures.engine, minFace: 80, detector: .hog)
            guard case let .faces(faces, _, scale) = try analyzer.analyze(Frame(index: 0, time: start, payload: .jpeg(jpeg))) else { return [] }
            return faces.map { $0.detection.box.scaled(by: scale) }
        }
        let want = try boxes(try JPEGEncoder(quality: 90).encode(upright))
        let got = try boxes(turned)
        #expect(want.count == 1 && got.count == 1, "upright \(want), turned \(got)")
        if let w = want.first, let g = got.first {
            #expect(abs(w.width - g.width) <= 4 && abs(w.x - g.x) <= 4 && abs(w.y - g.y) <= 4, "upright \(w), turned \(g)")
        }
    }

    /// An empty scene with sensor noise looked at for 10 s: every frame looked at, the detector run
    /// once: the picture never changed from the one the first full scan saw.
    @Test func anEmptySceneIsLookedAtEveryFrameAndScannedOnceWhileItDoesNotChange() throws {
        var scene = try VisitScene(name: "idle", width: 1280, height: 720, fps: Self.fps, seed: 3, frameCount: 300, appearances: [])
        scene.noise = 3
        for i in 0 ..< scene.frameCount { try feed(scene.render(frame: i), i) }
        #expect(pipeline.framesProcessed == 300)
        #expect(pipeline.fullScans == 1 && pipeline.framesSearched == 1, "searched \(pipeline.framesSearched), full \(pipeline.fullScans)")
        #expect(pipeline.facesSeen == 0)
    }

    /// The light of the whole scene changes slowly (a cloud, dusk): not a change worth a scan.
    /// A face pasted in without motion the gate sees (a gate that learns everything at once) is:
    /// the next scan due finds it.
    @Test func theSafetyNetScansAgainWhenThePictureChangedNotWhenOnlyTheLightDid() throws {
        let builder = ReplayBuilder(width: 1280, height: 720)
        let empty = try builder.frame(nil), face = try builder.frame(try Fixtures.image("obama3.jpg"))
        let analyzer = FrameAnalyzer(engine: Fixtures.engine, minFace: 80, detector: .hog, fullScanEvery: 2,
                                     gate: MotionGate(noiseFloor: 1000))
        func frame(_ image: RGBImage, _ index: Int) throws -> Frame {
            Frame(index: index, time: start.addingTimeInterval(Double(index) / Self.fps), payload: .jpeg(try JPEGEncoder(quality: 85).encode(image)))
        }
        for i in 0 ..< 150 {
            let dimmed = try RGBImage(width: empty.width, height: empty.height, pixels: empty.pixels.map { UInt8(max(0, Int($0) - i / 10)) })
            _ = try analyzer.analyze(try frame(dimmed, i))
        }
        #expect(analyzer.fullScans == 1, "scans of a picture only dimmed: \(analyzer.fullScans)")
        var found: Int?
        for i in 150 ..< 240 where found == nil {
            if case let .faces(faces, _, _) = try analyzer.analyze(try frame(face, i)), !faces.isEmpty { found = i }
        }
        let at = try #require(found, "the face was never found")
        #expect(Double(at - 150) / Self.fps <= 2.0 + 1e-9, "found at frame \(at), pasted at 150")
        #expect(analyzer.fullScans == 2 && analyzer.framesSearched == 2)
    }

    /// A reload lowers min_face while a visitor stands still with a face between the new and the
    /// old size: what was searched, and the picture last scanned, were searched for other faces,
    /// so the next frame is scanned whole at the new size. (Found by a cold review.)
    @Test func aReloadThatLowersMinFaceFindsAStillFaceAtOnce() throws {
        let still = try JPEGEncoder(quality: 85).encode(try ReplayBuilder(width: 1280, height: 720).frame(try Fixtures.image("obama3.jpg")))
        func frame(_ index: Int) -> Frame { Frame(index: index, time: start.addingTimeInterval(Double(index) / Self.fps), payload: .jpeg(still)) }
        func found(_ analyzer: FrameAnalyzer, _ index: Int) throws -> Bool {
            if case let .faces(faces, _, _) = try analyzer.analyze(frame(index)) { return !faces.isEmpty }
            return false
        }
        let analyzer = FrameAnalyzer(engine: Fixtures.engine, minFace: 700, detector: .hog)
        for i in 0 ..< 15 { #expect(try !found(analyzer, i), "too small for min face 700") }
        try analyzer.configure(minFace: 80, detector: .hog)
        #expect(try found(analyzer, 15), "found on the first frame after the reload (full scans: \(analyzer.fullScans))")
        // The same settings again change nothing: no new full scan.
        let scans = analyzer.fullScans
        try analyzer.configure(minFace: 80, detector: .hog)
        _ = try analyzer.analyze(frame(16))
        #expect(analyzer.fullScans == scans)
    }
}

/// Glances merged while the detector is busy.
@Suite struct GlanceMergeTests {
    struct Broken: Error {}
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let size = PixelRect(x: 0, y: 0, width: 1280, height: 720)

    static let picture = try! GrayImage(width: 1280, height: 720, fill: 100)
    static let thumbnail = try! GrayImage(width: 160, height: 90, fill: 100)

    func seen(_ index: Int, _ regions: [PixelRect]) -> Glance {
        let frame = Frame(index: index, time: t0 + Double(index) / 30, payload: .gray(Self.picture))
        let motion = MotionReport(regions: regions.map { MotionRegion(box: $0, pixels: $0.area) }, movedFraction: 0.01, meanLuma: 100, isFirst: false)
        return Glance(frame: frame, outcome: .seen(thumbnail: Self.thumbnail, step: 8, size: size, motion: motion, decoded: nil))
    }

    func motion(_ glance: Glance) -> MotionReport? {
        if case let .seen(_, _, _, motion, _) = glance.outcome { motion } else { nil }
    }

    @Test func theNewestFrameKeepsWhereThoseBeforeItMovedAndAFailedOneKeepsTheLastGood() throws {
        let walker = PixelRect(x: 10, y: 10, width: 12, height: 15), other = PixelRect(x: 100, y: 50, width: 3, height: 3)
        let handoff = GlanceHandoff()
        handoff.put(seen(0, [walker]))
        handoff.put(seen(1, [other]))
        let taken = try #require(handoff.take())
        // Searched where it moves now; where the skipped frame moved counts as changed.
        #expect(taken.frame.index == 1 && taken.merged == 1)
        #expect(motion(taken)?.regions.map(\.box) == [other] && taken.movedBefore == [walker])
        // seen, failed, seen: the first one's motion is not lost.
        handoff.put(seen(2, [walker]))
        handoff.put(Glance(frame: Frame(index: 3, time: t0, payload: .jpeg([0xFF, 0xD8])), outcome: .failed(Broken())))
        handoff.put(seen(4, []))
        let after = try #require(handoff.take())
        #expect(after.frame.index == 4 && motion(after)?.regions.isEmpty == true && after.movedBefore == [walker])
        // Where the newest moves too, or the same place again: once.
        for i in 5 ..< 10 { handoff.put(seen(i, i == 9 ? [walker] : [walker, other])) }
        let again = try #require(handoff.take())
        #expect(motion(again)?.regions.map(\.box) == [walker] && again.movedBefore == [other])
        // Within what the newest frame sees holding still since the frame before: it changed, all the same.
        handoff.put(seen(10, [other]))
        var still = seen(11, [])
        if case let .seen(thumbnail, step, size, motion, decoded) = still.outcome {
            var holding = motion
            holding.regions = [MotionRegion(box: PixelRect(x: 90, y: 40, width: 30, height: 30), pixels: 400, changing: 0)]
            still.outcome = .seen(thumbnail: thumbnail, step: step, size: size, motion: holding, decoded: decoded)
        }
        handoff.put(still)
        #expect(try #require(handoff.take()).movedBefore == [other])
        // A look stage held up a long while: no endless list (past `mostRegions`, the nearest
        // places joined), and every spot that moved still inside one.
        let spots = (10 ..< 200).map { PixelRect(x: $0 % 150, y: ($0 * 7) % 80, width: 2, height: 2) }
        for (i, spot) in zip(10..., spots) { handoff.put(seen(i, [spot])) }
        let last = try #require(handoff.take())
        #expect(last.movedBefore.count <= Glance.mostRegions)
        #expect(spots.dropLast().allSatisfy { spot in last.movedBefore.contains { $0.intersection(spot) == spot } })
        // A cut among the skipped frames: the whole frame is scanned.
        handoff.put(seen(200, [walker]))
        var cut = seen(201, [])
        if case let .seen(thumbnail, step, size, motion, decoded) = cut.outcome {
            var whole = motion
            whole.movedFraction = 0.9
            cut.outcome = .seen(thumbnail: thumbnail, step: step, size: size, motion: whole, decoded: decoded)
        }
        handoff.put(cut)
        handoff.put(seen(202, []))
        let taken202 = try #require(handoff.take())
        let afterCut = try #require(motion(taken202))
        var planner = DetectionPlanner(minFace: 80)
        _ = planner.plan(frame: size, motion: nil, step: 8, tracks: [], at: t0)
        planner.searched()
        #expect(planner.plan(frame: size, motion: afterCut, step: 8, tracks: [], at: t0 + 1).map(\.reason) == [.fullScan])
    }
}
