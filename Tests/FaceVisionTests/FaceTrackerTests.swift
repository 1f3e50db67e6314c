import Foundation
import Testing
@testable import FaceVision

@Suite struct FaceTrackerTests {
    let t0 = Date(timeIntervalSince1970: 0)
    func box(_ x: Int, _ y: Int = 0, _ size: Int = 100) -> PixelRect { PixelRect(x: x, y: y, width: size, height: size) }

    @Test func iouOfKnownRectangles() {
        #expect(FaceTracker.iou(box(0), box(0)) == 1)
        #expect(FaceTracker.iou(box(0), box(200)) == 0)
        #expect(abs(FaceTracker.iou(box(0), box(50)) - 5000.0 / 15000.0) < 1e-9)
    }

    @Test func aMovingFaceKeepsItsID() {
        var tracker = FaceTracker()
        let a = tracker.update([box(0)], at: t0).ids
        let b = tracker.update([box(20)], at: t0.addingTimeInterval(0.1)).ids
        let c = tracker.update([box(40)], at: t0.addingTimeInterval(0.2)).ids
        #expect(a == b && b == c)
        #expect(tracker.tracks.first?.hits == 3)
    }

    @Test func twoFacesGetTwoIDsAndCrossingDoesNotSwapThem() {
        var tracker = FaceTracker()
        let first = tracker.update([box(0), box(500)], at: t0).ids
        #expect(Set(first).count == 2)
        let next = tracker.update([box(510), box(10)], at: t0).ids
        #expect(next == [first[1], first[0]])
    }

    @Test func aTrackEndsAfterMaxMissedFrames() {
        var tracker = FaceTracker(maxMissed: 2)
        let id = tracker.update([box(0)], at: t0).ids[0]
        #expect(tracker.update([], at: t0).ended.isEmpty)
        #expect(tracker.update([], at: t0).ended.isEmpty)
        let ended = tracker.update([], at: t0).ended
        #expect(ended.map(\.id) == [id])
        let again = tracker.update([box(0)], at: t0).ids[0]
        #expect(again != id, "a face that comes back after its track ended is a new visit")
    }

    @Test func aBriefGapKeepsTheTrack() {
        var tracker = FaceTracker(maxMissed: 2)
        let id = tracker.update([box(0)], at: t0).ids[0]
        _ = tracker.update([], at: t0)
        #expect(tracker.update([box(5)], at: t0).ids == [id])
        #expect(tracker.finish().map(\.id) == [id])
        #expect(tracker.tracks.isEmpty)
    }
}
