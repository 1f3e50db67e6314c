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

    /// Two made-up people: embeddings 0.9 apart, with a little per-frame jitter (a real
    /// person's frames are 0.2-0.4 apart).
    func person(_ who: Int, jitter: Int = 0) -> [Float] {
        var e = [Float](repeating: 0, count: 128)
        e[who] = 0.9 / Float(2).squareRoot()
        e[64 + who] = -e[who]
        e[100 + jitter % 20] += 0.1
        return e
    }

    func face(_ x: Int, _ who: Int, jitter: Int = 0, size: Int = 100) -> TrackedFace {
        TrackedFace(box: box(x, 0, size), embedding: person(who, jitter: jitter))
    }

    @Test func anotherPersonAtTheSameSpotStartsANewTrack() {
        var tracker = FaceTracker()
        let a = tracker.update(faces: [face(0, 1)], at: t0).ids
        #expect(tracker.update(faces: [face(0, 1, jitter: 1)], at: t0.addingTimeInterval(0.1)).ids == a)
        _ = tracker.update(faces: [], at: t0.addingTimeInterval(0.2))
        let b = tracker.update(faces: [face(0, 2)], at: t0.addingTimeInterval(0.3)).ids
        #expect(b != a, "the box overlaps, the face is someone else's")
        #expect(tracker.update(faces: [face(2, 2, jitter: 1)], at: t0.addingTimeInterval(0.4)).ids == b)
    }

    @Test func aPersonHiddenForASecondComesBackToTheirTrack() {
        var tracker = FaceTracker(maxMissed: 3, rejoinWithin: 2)
        let id = tracker.update(faces: [face(0, 1)], at: t0).ids[0]
        var time = t0
        var ended = [Track]()
        for _ in 0 ..< 10 { // 1 s unseen at 10 fps: lost, not ended
            time += 0.1
            ended += tracker.update(faces: [], at: time).ended
        }
        #expect(ended.isEmpty && tracker.tracks.isEmpty && tracker.lost.map(\.id) == [id])
        // Back somewhere else (walked behind someone): the face says who it is.
        #expect(tracker.update(faces: [face(300, 1, jitter: 3)], at: time + 0.1).ids == [id])
        #expect(tracker.lost.isEmpty)
    }

    @Test func aLostTrackEndsAfterTheRejoinTimeAndIsNotTakenByAStranger() {
        var tracker = FaceTracker(maxMissed: 1, rejoinWithin: 1)
        let id = tracker.update(faces: [face(0, 1)], at: t0).ids[0]
        _ = tracker.update(faces: [], at: t0 + 0.1)
        _ = tracker.update(faces: [], at: t0 + 0.2)
        #expect(tracker.lost.map(\.id) == [id])
        let stranger = tracker.update(faces: [face(0, 2)], at: t0 + 0.3).ids[0]
        #expect(stranger != id)
        let ended = tracker.update(faces: [face(0, 2, jitter: 1)], at: t0 + 1.5).ended
        #expect(ended.map(\.id) == [id])
        #expect(tracker.update(faces: [face(0, 1)], at: t0 + 1.6).ids[0] != id, "too late to rejoin: a new visit")
    }

    @Test func aFastApproachIsFollowedByItsPredictedMotion() {
        // 60 px per frame to the right: the box barely overlaps where it was, but sits where it should be.
        var tracker = FaceTracker()
        var ids = Set<Int64>()
        for i in 0 ..< 8 {
            ids.formUnion(tracker.update([box(i * 70, 0, 100)], at: t0 + Double(i) * 0.1).ids)
        }
        #expect(ids.count == 1)
    }

    @Test func twoPeoplePassingEachOtherKeepTheirOwnTracks() {
        var tracker = FaceTracker()
        let start = tracker.update(faces: [face(0, 1), face(400, 2)], at: t0).ids
        var last = start
        for step in 1 ... 10 {
            // They walk toward each other and cross; the detector lists them in either order.
            let a = face(step * 40, 1, jitter: step), b = face(400 - step * 40, 2, jitter: step)
            let ids = tracker.update(faces: step % 2 == 0 ? [a, b] : [b, a], at: t0 + Double(step) * 0.1).ids
            last = step % 2 == 0 ? ids : [ids[1], ids[0]]
        }
        #expect(last == start)
    }
}
