@testable import FacePipeline
import FaceVision
import Foundation
import Testing

@Suite struct DetectionPlannerTests {
    static let frame = PixelRect(x: 0, y: 0, width: 1280, height: 720)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    /// Frames this far apart are each past the window in which motion near a recent search waits.
    static let pastWindow = DetectionPlanner.motionSearchEvery + 0.025
    /// The `steps`-th such frame after `t0`.
    func after(_ steps: Int) -> Date { t0 + Double(steps) * Self.pastWindow }
    /// Motion near a recent search is searched again every this many frames at 30 fps.
    static let every = DetectionPlanner.motionSearchEveryFrames

    /// Plans, and records a planned full scan as done, as the analyzer does once it ran.
    func plan(_ planner: inout DetectionPlanner, motion: MotionReport?, tracks: [PixelRect] = [], at time: Date,
              changed: Bool = true) -> [DetectionJob] {
        let jobs = planner.plan(frame: Self.frame, motion: motion, step: 8, tracks: tracks, at: time) { _ in changed }
        planner.searched()
        if jobs.contains(where: { $0.reason == .fullScan }) { planner.scanned(at: time) }
        return jobs
    }

    func still(_ regions: [PixelRect] = [], moved: Double = 0) -> MotionReport {
        MotionReport(regions: regions.map { MotionRegion(box: $0, pixels: $0.area) }, movedFraction: moved, meanLuma: 120, isFirst: false)
    }

    @Test func theFirstFrameIsScannedWholeThenNothingIsSearchedWhereNothingMoved() {
        var planner = DetectionPlanner(minFace: 80)
        let first = plan(&planner, motion: MotionReport(regions: [], movedFraction: 0, meanLuma: 120, isFirst: true), at: t0)
        #expect(first == [DetectionJob(region: Self.frame, minFace: 80, reason: .fullScan)])
        for i in 1 ..< 60 {
            #expect(plan(&planner, motion: still(), tracks: [], at: t0 + Double(i) / 30).isEmpty)
        }
    }

    /// The safety net: a face that appears without motion the gate sees is found within `fullScanEvery`.
    @Test func aFullScanComesAtLeastEveryIntervalWhateverMoves() {
        var planner = DetectionPlanner(minFace: 80, fullScanEvery: 2)
        var fullScans = [Double]()
        for i in 0 ..< 300 {
            let time = Double(i) / 30
            let jobs = plan(&planner, motion: still([PixelRect(x: 10, y: 10, width: 4, height: 4)]),
                                    tracks: [PixelRect(x: 600, y: 300, width: 120, height: 120)], at: t0 + time)
            if jobs.contains(where: { $0.reason == .fullScan }) { fullScans.append(time) }
        }
        #expect(fullScans.first == 0)
        #expect(zip(fullScans, fullScans.dropFirst()).allSatisfy { $1 - $0 <= 2.0 + 1e-9 })
        #expect(fullScans.count == 5)
        // A clock that steps back does not hold the safety net off.
        var stepped = planner
        #expect(plan(&stepped, motion: still(), tracks: [], at: t0 - 100).first?.reason == .fullScan)
    }

    @Test func aFollowedFaceIsSearchedAroundItDownToTheSizeItMayShrinkTo() {
        var planner = DetectionPlanner(minFace: 80)
        _ = plan(&planner, motion: nil, tracks: [], at: t0)
        let face = PixelRect(x: 600, y: 300, width: 200, height: 200)
        let jobs = plan(&planner, motion: still(), tracks: [face], at: t0 + 0.1)
        #expect(jobs == [DetectionJob(region: PixelRect(x: 500, y: 200, width: 400, height: 400), minFace: 140, reason: .track, pictureFace: 100)])
        // Near the edge the region is clipped; a small face is searched down to the door's smallest.
        let edge = plan(&planner, motion: still(), tracks: [PixelRect(x: 1200, y: 0, width: 90, height: 90)], at: t0 + 0.2)
        #expect(edge == [DetectionJob(region: PixelRect(x: 1155, y: 0, width: 125, height: 135), minFace: 80, reason: .track)])
    }

    @Test func aMovedRegionIsSearchedWithAFacesWidthAroundIt() {
        var planner = DetectionPlanner(minFace: 80)
        _ = plan(&planner, motion: nil, tracks: [], at: t0)
        let jobs = plan(&planner, motion: still([PixelRect(x: 20, y: 10, width: 10, height: 12)]), tracks: [], at: after(1))
        #expect(jobs == [DetectionJob(region: PixelRect(x: 80, y: 0, width: 240, height: 256), minFace: 80, reason: .motion)])
    }

    @Test func overlappingRegionsAreJoinedAndMostOfTheFrameIsScannedWhole() {
        var planner = DetectionPlanner(minFace: 80)
        _ = plan(&planner, motion: nil, tracks: [], at: t0)
        let two = plan(&planner, motion: still([PixelRect(x: 20, y: 10, width: 10, height: 12)]),
                               tracks: [PixelRect(x: 200, y: 100, width: 100, height: 100)], at: after(1))
        #expect(two.count == 1 && two[0].region == PixelRect(x: 80, y: 0, width: 270, height: 256) && two[0].minFace == 80)
        // A cut: most of the thumbnail changed.
        let cut = plan(&planner, motion: still([PixelRect(x: 0, y: 0, width: 160, height: 90)], moved: 0.8),
                               tracks: [], at: after(2))
        #expect(cut == [DetectionJob(region: Self.frame, minFace: 80, reason: .fullScan)])
        // Regions that together cost as much as the frame: the frame.
        let many = (0 ..< 9).map { PixelRect(x: $0 * 19, y: 0, width: 8, height: 90) }
        #expect(plan(&planner, motion: still(many, moved: 0.4), tracks: [], at: after(3)).first?.reason == .fullScan)
    }

    @Test func withoutAThumbnailEveryFrameIsScannedWhole() {
        var planner = DetectionPlanner(minFace: 48)
        for i in 0 ..< 5 {
            #expect(plan(&planner, motion: nil, tracks: [], at: t0 + Double(i)) == [DetectionJob(region: Self.frame, minFace: 48, reason: .fullScan)])
        }
    }

    func report(_ regions: [(box: PixelRect, changing: Int)]) -> MotionReport {
        MotionReport(regions: regions.map { MotionRegion(box: $0.box, pixels: $0.box.area, changing: $0.changing) }, movedFraction: 0.01,
                     meanLuma: 120, isFirst: false)
    }

    /// Something new that holds still (a person who stopped, a ghost fading) is searched while it
    /// changes and once more, then not again until it changes: the detector would find what it found.
    @Test func somethingNewHoldingStillIsNotSearchedAgainUntilItChanges() {
        var planner = DetectionPlanner(minFace: 80)
        _ = plan(&planner, motion: nil, at: t0)
        let a = PixelRect(x: 20, y: 10, width: 10, height: 12), b = PixelRect(x: 120, y: 50, width: 10, height: 12)
        #expect(plan(&planner, motion: report([(a, 40)]), at: after(1)).map(\.reason) == [.motion], "it moved in")
        #expect(plan(&planner, motion: report([(a, 0)]), at: after(2)).isEmpty, "holding still where it was searched")
        #expect(plan(&planner, motion: report([(a, 0)]), at: after(3)).isEmpty)
        #expect(plan(&planner, motion: report([(a, 3)]), at: after(4)).map(\.reason) == [.motion], "it turned")
        // Still, where nothing was searched since the picture changed there: searched.
        #expect(plan(&planner, motion: report([(a, 0), (b, 0)]), at: after(5)).count == 1)
        #expect(plan(&planner, motion: report([(a, 0), (b, 0)]), at: after(6)).isEmpty)
        // A followed face's area is searched only for faces near its size: not a search of what is there.
        var followed = DetectionPlanner(minFace: 80)
        _ = plan(&followed, motion: nil, at: t0)
        let face = PixelRect(x: 160, y: 80, width: 300, height: 300)
        _ = plan(&followed, motion: report([(PixelRect(x: 60, y: 40, width: 4, height: 4), 16)]), at: after(1))
        #expect(plan(&followed, motion: still(), tracks: [face], at: after(2)).map(\.reason) == [.track])
        let jobs = plan(&followed, motion: report([(PixelRect(x: 40, y: 20, width: 4, height: 4), 0)]), tracks: [face], at: after(3))
        let stillRegion = PixelRect(x: 240, y: 80, width: 192, height: 192)
        #expect(jobs.contains { $0.minFace == 80 && $0.region.intersection(stillRegion) == stillRegion },
                "a still region inside the face's area, which was searched only for large faces: \(jobs)")
    }

    /// Motion where a search down to the smallest face looked within the last
    /// `motionSearchEvery` (a face moving inside its area, a walker's body) is searched again
    /// every `motionSearchEveryFrames`-th frame at 30 fps; between, a followed face's own search
    /// covers faces near its size. Motion where nothing was searched lately (someone coming into
    /// view, a walker leaving the searched area) is searched at once.
    @Test func motionSearchedLatelyIsSearchedAgainEveryFewFrames() {
        var planner = DetectionPlanner(minFace: 80, fullScanEvery: 2)
        _ = plan(&planner, motion: nil, at: t0)
        let face = PixelRect(x: 400, y: 200, width: 200, height: 200)
        let moving = PixelRect(x: 55, y: 30, width: 15, height: 15)  // 440-560 x 240-360 in the frame, the face's middle
        let beside = PixelRect(x: 120, y: 30, width: 20, height: 30)
        let newcomer = PixelRect(x: 10, y: 60, width: 10, height: 20)
        func covers(_ job: DetectionJob, _ rect: PixelRect) -> Bool { job.region.intersection(rect) == rect }
        var smallFaceSearches = [Int](), besideSearches = [Int](), newcomerSearches = [Int]()
        let k = Self.every, last = 2 * k + 1
        for i in 1 ... last {
            let jobs = plan(&planner, motion: still(i >= 5 ? [moving, beside, newcomer] : [moving, beside]), tracks: [face],
                            at: t0 + 0.5 + Double(i) / 30)
            if jobs.contains(where: { $0.minFace == 80 && covers($0, PixelRect(x: 460, y: 260, width: 80, height: 80)) }) { smallFaceSearches.append(i) }
            if jobs.contains(where: { $0.minFace == 80 && covers($0, PixelRect(x: 960, y: 240, width: 160, height: 240)) }) { besideSearches.append(i) }
            if jobs.contains(where: { $0.minFace == 80 && covers($0, PixelRect(x: 80, y: 480, width: 80, height: 160)) }) { newcomerSearches.append(i) }
            #expect(jobs.contains { covers($0, PixelRect(x: 300, y: 100, width: 400, height: 400)) }, "the face's own search, frame \(i)")
        }
        #expect(besideSearches == [1, 1 + k, 1 + 2 * k])
        #expect(newcomerSearches == [5, 5 + k], "searched as it appeared, then every few frames")
        // Searched again once the window passed; walking out of that search's area half a frame
        // later: searched at once.
        let again = 0.5 + Double(last) / 30 + DetectionPlanner.motionSearchEvery + 0.01
        #expect(plan(&planner, motion: still([beside]), at: t0 + again).count == 1)
        let walked = PixelRect(x: 135, y: 30, width: 20, height: 30)
        let jobs = plan(&planner, motion: still([walked]), at: t0 + again + 0.5 / 30)
        #expect(jobs.contains { $0.minFace == 80 && covers($0, PixelRect(x: 1080, y: 240, width: 160, height: 240)) }, "\(jobs)")
        #expect(plan(&planner, motion: still([beside]), at: t0 + again + 0.6 / 30).isEmpty, "where it was, still fresh")
        #expect(smallFaceSearches == [1, 1 + k, 1 + 2 * k])
        // Once the safety net is due, with nothing changed outside the searches (the usual visit),
        // the rhythm holds: the motion left for a later frame is no reason for a full scan.
        var late = [Int]()
        for i in 1 ... last {
            let jobs = plan(&planner, motion: still([moving]), tracks: [face], at: t0 + 2.6 + Double(i) / 30, changed: false)
            #expect(!jobs.contains { $0.reason == .fullScan })
            if jobs.contains(where: { $0.minFace == 80 }) { late.append(i) }
        }
        #expect(late == [1, 1 + k, 1 + 2 * k], "after the safety net is due: \(late)")
        // A frame planned but never searched (it failed) does not count as the search.
        var failing = DetectionPlanner(minFace: 80, fullScanEvery: 2)
        _ = plan(&failing, motion: nil, at: t0)
        let failed = failing.plan(frame: Self.frame, motion: still([moving]), step: 8, tracks: [face], at: after(1))
        #expect(failed.contains { $0.minFace == 80 }, "the frame that fails was to search the motion: \(failed)")
        let next = plan(&failing, motion: still([moving]), tracks: [face], at: after(1) + 1.0 / 30)
        #expect(next.contains { $0.minFace == 80 }, "searched on the frame after the one that failed: \(next)")
    }

    /// A small motion (a mouth, a nod) amid other motion searched in turn (arms waving, a plant
    /// swaying), none of whose searches holds a face there whole, is searched itself: searches
    /// that only cover its pixels between them do not defer it (cold review probe).
    @Test func motionIsDeferredOnlyWhereOneSearchHeldAFaceAroundIt() {
        var planner = DetectionPlanner(minFace: 80, fullScanEvery: 2)
        _ = plan(&planner, motion: nil, at: t0)
        let mouth = PixelRect(x: 80, y: 45, width: 2, height: 2)
        let arms = [PixelRect(x: 79, y: 10, width: 4, height: 28), PixelRect(x: 90, y: 44, width: 40, height: 4),
                    PixelRect(x: 79, y: 54, width: 4, height: 30), PixelRect(x: 30, y: 44, width: 42, height: 4)]
        let face = PixelRect(x: 81 * 8 - 60, y: 46 * 8 - 60, width: 120, height: 120)
        var faceSearched = [Int]()
        for i in 1 ... 60 {
            let regions = i >= 10 ? [arms[i % 4], mouth] : [arms[i % 4]]
            let jobs = plan(&planner, motion: still(regions), at: t0 + Double(i) / 30, changed: false)
            if i >= 10, jobs.contains(where: { $0.minFace <= 80 && $0.region.intersection(face) == face }) { faceSearched.append(i) }
        }
        #expect(faceSearched.first == 10, "\(faceSearched)")
        #expect(faceSearched.count >= 50 / Self.every, "searched again and again, not once: \(faceSearched)")
        #expect(zip(faceSearched, faceSearched.dropFirst()).allSatisfy { $1 - $0 <= Self.every },
                "searched at least every \(Self.every)th frame: \(faceSearched)")
    }

    /// Frames that come faster than a camera's (a replay read as fast as it goes) do not stretch
    /// the deferral: motion is searched again by the `motionSearchEveryFrames`-th frame whatever the clock says.
    @Test func motionIsSearchedAgainWithinSomeFramesHoweverCloseTheFramesCome() {
        var planner = DetectionPlanner(minFace: 80, fullScanEvery: 2)
        _ = plan(&planner, motion: nil, at: t0)
        let walker = PixelRect(x: 60, y: 30, width: 10, height: 20)
        var searches = [Int]()
        let k = Self.every
        for i in 1 ... 2 * k + 1 where plan(&planner, motion: still([walker]), at: t0 + 0.5 + Double(i) * 0.0005, changed: false)
            .contains(where: { $0.minFace == 80 }) {
            searches.append(i)
        }
        #expect(searches == [1, 1 + k, 1 + 2 * k])
    }

    /// The rhythm at the usual camera rates, every frame processed: a face that appears in a
    /// walker's moving body is found at most 0.26 s and a frame late (the README's promise).
    @Test func motionSearchedLatelyWaitsAtMostAQuarterSecondAtUsualRates() {
        let expected: [(fps: Double, searched: [Int])] = [(5, [1, 3, 5, 7]), (10, [1, 4, 7, 10]), (15, [1, 5, 9, 13]),
                                                           (25, [1, 8, 15]), (30, [1, 8, 15])]
        for (fps, searchedFrames) in expected {
            var planner = DetectionPlanner(minFace: 80, fullScanEvery: 2)
            _ = plan(&planner, motion: nil, at: t0)
            let walker = PixelRect(x: 60, y: 30, width: 10, height: 20)
            var searches = [Int]()
            for i in 1 ... 15 where plan(&planner, motion: still([walker]), at: t0 + 0.5 + Double(i) / fps, changed: false)
                .contains(where: { $0.minFace == 80 }) {
                searches.append(i)
            }
            #expect(searches.filter { $0 <= searchedFrames.last! } == searchedFrames, "at \(fps) fps: \(searches)")
        }
    }

    /// A frame whose search failed (the picture could not be decoded) does not count as searched:
    /// what moved in it and then holds still is searched on the next frame.
    @Test func aFailedSearchDoesNotCountAsSearched() {
        var planner = DetectionPlanner(minFace: 80)
        _ = plan(&planner, motion: nil, at: t0)
        let a = PixelRect(x: 20, y: 10, width: 10, height: 12)
        #expect(planner.plan(frame: Self.frame, motion: report([(a, 40)]), step: 8, tracks: [], at: after(1)).map(\.reason) == [.motion])
        #expect(plan(&planner, motion: report([(a, 0)]), at: after(2)).map(\.reason) == [.motion], "never searched")
        #expect(plan(&planner, motion: report([(a, 0)]), at: after(3)).isEmpty, "searched now, holding still")
        // A full scan that failed (a cut): still regions are searched after it.
        var cut = DetectionPlanner(minFace: 80)
        _ = plan(&cut, motion: nil, at: t0)
        _ = cut.plan(frame: Self.frame, motion: still([], moved: 0.8), step: 8, tracks: [], at: after(1))
        #expect(plan(&cut, motion: report([(a, 0)]), at: after(2)).map(\.reason) == [.motion])
    }

    /// Frames skipped while the detector was busy saw motion where a still region was searched:
    /// it is searched again, though the newest frame sees it holding still.
    @Test func motionInSkippedFramesMakesASearchedRegionUnsearched() {
        var planner = DetectionPlanner(minFace: 80)
        _ = plan(&planner, motion: nil, at: t0)
        let a = PixelRect(x: 20, y: 10, width: 10, height: 12), elsewhere = PixelRect(x: 120, y: 60, width: 4, height: 4)
        #expect(plan(&planner, motion: report([(a, 40)]), at: after(1)).map(\.reason) == [.motion])
        #expect(plan(&planner, motion: report([(a, 0)]), at: after(3)).isEmpty, "searched, holding still")
        #expect(planner.plan(frame: Self.frame, motion: report([(a, 0)]), step: 8, tracks: [], at: after(4),
                             movedBefore: [elsewhere]).isEmpty, "motion elsewhere")
        #expect(planner.plan(frame: Self.frame, motion: report([(a, 0)]), step: 8, tracks: [], at: after(5),
                             movedBefore: [PixelRect(x: 24, y: 14, width: 3, height: 3)]).map(\.reason) == [.motion])
    }

    /// A job split for two threads finds every face the whole would: each face up to the reach
    /// lies wholly inside one half, and the whole region is searched for those larger.
    @Test func aSplitJobCoversEveryFaceTheWholeWould() throws {
        let job = DetectionJob(region: PixelRect(x: 0, y: 0, width: 1920, height: 1080), minFace: 48, reason: .fullScan)
        let parts = try #require(job.split())
        #expect(parts.count == 3)
        let halves = parts.filter { $0.minFace == 48 }, large = try #require(parts.first { $0.minFace > 48 })
        #expect(halves.count == 2 && large.region == job.region && halves.allSatisfy { $0.region.width < job.region.width * 3 / 4 })
        #expect(halves.reduce(0) { $0 + $1.cost } + large.cost < job.cost * 1.5)
        for side in stride(from: 48, through: 1080, by: 8) {
            for x in stride(from: 0, through: 1920 - side, by: 4) {
                let face = PixelRect(x: x, y: 0, width: side, height: side)
                let inAHalf = halves.contains { $0.region.intersection(face) == face }
                #expect(inAHalf || side >= large.minFace, "face of \(side) px at x \(x)")
                if !(inAHalf || side >= large.minFace) { return }
            }
        }
        // Tall regions are cut across their height; small ones are not cut.
        #expect(DetectionJob(region: PixelRect(x: 0, y: 0, width: 400, height: 900), minFace: 48, reason: .motion).split()?.first?.region.width == 400)
        #expect(DetectionJob(region: PixelRect(x: 0, y: 0, width: 300, height: 300), minFace: 48, reason: .motion).split() == nil)
    }

    /// Nearby regions are joined only where the union costs the detector no more than the two apart.
    @Test func regionsAreJoinedOnlyWhereTheUnionCostsNoMore() {
        func job(_ x: Int, _ y: Int, _ side: Int, _ minFace: Int) -> DetectionJob {
            DetectionJob(region: PixelRect(x: x, y: y, width: side, height: side), minFace: minFace, reason: .track)
        }
        // Overlapping most of their area: one search.
        let overlapping = DetectionPlanner.merged([job(100, 100, 200, 80), job(150, 120, 200, 80)], within: 40)
        #expect(overlapping.map(\.region) == [PixelRect(x: 100, y: 100, width: 250, height: 220)])
        // Corner to corner, 20 px apart: the union would be twice the two, searched apart.
        #expect(DetectionPlanner.merged([job(100, 100, 200, 80), job(320, 320, 200, 80)], within: 40).count == 2)
        // Side by side, a large face's area beside a small face's: the union would be searched down to
        // the small face all over.
        #expect(DetectionPlanner.merged([job(100, 100, 400, 200), job(520, 100, 160, 80)], within: 40).count == 2)
        // Side by side, 20 px apart: the union (the gap too) would cost more, searched apart; overlapping
        // along a side: the union costs less than the two, joined.
        #expect(DetectionPlanner.merged([job(100, 100, 200, 80), job(320, 100, 200, 80)], within: 40).count == 2)
        #expect(DetectionPlanner.merged([job(100, 100, 200, 80), job(280, 100, 200, 80)], within: 40).count == 1)
    }

    /// When the safety net is due, a change inside the regions searched now down to the smallest
    /// face is theirs: the full scan waits for a change elsewhere. A followed face's area, searched
    /// only for faces near its size, does not count as searched.
    @Test func theSafetyNetLeavesToTheMotionSearchWhatItCovers() {
        var planner = DetectionPlanner(minFace: 80, fullScanEvery: 2)
        _ = plan(&planner, motion: nil, at: t0)
        let walker = PixelRect(x: 40, y: 20, width: 20, height: 30)
        var asked = [[PixelRect]]()
        let jobs = planner.plan(frame: Self.frame, motion: still([walker]), step: 8, tracks: [PixelRect(x: 900, y: 100, width: 200, height: 200)],
                                at: t0 + 2.5) { searched in
            asked.append(searched)
            return false
        }
        #expect(jobs.map(\.reason).sorted { $0.rawValue < $1.rawValue } == [.motion, .track], "\(jobs)")
        #expect(asked == [[PixelRect(x: 240, y: 80, width: 320, height: 400)]], "the motion region only: \(asked)")
        let changedElsewhere = planner.plan(frame: Self.frame, motion: still([walker]), step: 8, tracks: [], at: t0 + 2.6) { _ in true }
        #expect(changedElsewhere.map(\.reason) == [.fullScan])
        // Not due: not asked.
        planner.scanned(at: t0 + 2.6)
        _ = planner.plan(frame: Self.frame, motion: still([walker]), step: 8, tracks: [], at: t0 + 3) { _ in
            Issue.record("asked before the safety net was due")
            return true
        }
    }

    /// The safety net waits for a picture that changed, but not for ever: an unchanged one is
    /// scanned again after 30 s (a face the last scan missed, holding perfectly still).
    @Test func anUnchangedPictureIsScannedAgainEveryThirtySeconds() {
        var planner = DetectionPlanner(minFace: 80, fullScanEvery: 2)
        _ = plan(&planner, motion: nil, at: t0)
        func planned(at seconds: Double, changed: Bool) -> [DetectionJob] {
            let jobs = planner.plan(frame: Self.frame, motion: still(), step: 8, tracks: [], at: t0 + seconds, changedSinceSearch: { _ in changed })
            if jobs.contains(where: { $0.reason == .fullScan }) { planner.scanned(at: t0 + seconds) }
            return jobs
        }
        #expect(planned(at: 1.9, changed: true).isEmpty, "not due yet")
        #expect(planned(at: 2.0, changed: true).map(\.reason) == [.fullScan])
        #expect(planned(at: 5, changed: false).isEmpty)
        #expect(planned(at: 31.9, changed: false).isEmpty)
        #expect(planned(at: 32.0, changed: false).map(\.reason) == [.fullScan])
        // A new smallest face: scanned whole at once.
        planner.minFace = 48
        planner.restart()
        #expect(planned(at: 32.1, changed: false).map(\.reason) == [.fullScan])
    }
}
