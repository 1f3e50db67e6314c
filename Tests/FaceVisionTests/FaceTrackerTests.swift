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

/// One face, two tracks on its spot (the first started on a poor embedding): the face goes to
/// the track it looks like on every frame, so the other one is lost rather than both living on.
@Suite struct DuplicateTrackTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func vector(_ seed: Float) -> [Float] { (0 ..< 128).map { sin(Float($0) * seed) / 8 } }

    @Test func aSecondTrackOnOneFaceTakesItAndTheFirstIsLost() {
        var tracker = FaceTracker(rejoinWithin: 2)
        let box = PixelRect(x: 300, y: 200, width: 200, height: 200)
        // Two embeddings 0.9 apart, and one between them: 0.585 from the first, 0.315 from the second.
        let poor = Self.vector(1), other = Self.vector(1.7)
        let away = zip(other, poor).map { $0 - $1 }
        let norm = FaceTracker.distance(other, poor)
        let good = zip(poor, away).map { $0 + 0.9 * $1 / norm }
        let later = zip(poor, away).map { $0 + 0.585 * $1 / norm }
        let first = tracker.update(faces: [TrackedFace(box: box, embedding: poor)], at: t0).ids[0]
        #expect(FaceTracker.distance(poor, good) > tracker.otherPerson, "the set-up needs the first embedding unlike the second")
        #expect(FaceTracker.distance(later, poor) <= tracker.otherPerson && FaceTracker.distance(later, good) < FaceTracker.distance(later, poor))
        let second = tracker.update(faces: [TrackedFace(box: box, embedding: good)], at: t0 + 0.1).ids[0]
        #expect(second != first)
        var owners = Set<Int64>()
        for i in 2 ..< 20 { owners.formUnion(tracker.update(faces: [TrackedFace(box: box, embedding: later)], at: t0 + Double(i) / 10).ids) }
        #expect(owners == [second], "the face went to \(owners)")
        #expect(!tracker.tracks.contains { $0.id == first }, "the first track is no longer live")
    }
}

/// Frames that come slowly (a loaded machine) or stop coming (a stalled stream).
@Suite struct SlowFrameTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let box = PixelRect(x: 300, y: 200, width: 150, height: 150)

    @Test func framesTenSecondsApartKeepOneTrackEvenWithNoRejoinTime() {
        var tracker = FaceTracker(rejoinWithin: 0)
        let who = DuplicateTrackTests.vector(1)
        var ids = Set<Int64>()
        // As under emulation: 10 s per frame.
        for i in 0 ..< 10 { ids.formUnion(tracker.update(faces: [TrackedFace(box: box, embedding: who)], at: t0 + Double(i) * 10).ids) }
        #expect(ids.count == 1)
    }

    @Test func aTrackNotSeenForLongEndsWhenFramesComeAgain() {
        var tracker = FaceTracker(rejoinWithin: 2)
        let who = DuplicateTrackTests.vector(1)
        let first = tracker.update(faces: [TrackedFace(box: box, embedding: who)], at: t0).ids[0]
        let (ids, ended) = tracker.update(faces: [TrackedFace(box: box, embedding: who)], at: t0 + 600)
        #expect(ended.map(\.id) == [first])
        #expect(ids[0] != first)
    }
}
