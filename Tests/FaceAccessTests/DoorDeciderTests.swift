import FaceAccess
import FaceStore
import FaceVision
import Foundation
import Testing

/// The evidence and decision stage on synthetic sequences: boxes, embeddings at chosen
/// distances from enrolled templates, and frame times, with no camera and no model.
@Suite struct DoorDeciderTests {
    /// A deterministic unit vector of 128 values.
    static func unit(_ seed: UInt64) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        let values = (0 ..< GallerySnapshot.dimension).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { $0 / norm }
    }

    /// Enrolled: alice (1) and bob (2), one template each; random unit vectors lie about 1.4 apart.
    static let alice = unit(1), bob = unit(2), stranger = unit(3)
    static let snapshot = GallerySnapshot(
        people: [GallerySnapshot.Entry(personID: 1, name: "alice", displayName: "Alice", enabled: true),
                 GallerySnapshot.Entry(personID: 2, name: "bob", displayName: "Bob", enabled: true)],
        owner: [0, 1], templateIDs: [10, 20], vectors: alice + bob, generation: 1)

    /// A face `distance` away from `template`, always in the same direction for a given template,
    /// so that one person's frames stay close to one another.
    static func face(_ template: [Float], at distance: Float, box: PixelRect = PixelRect(x: 300, y: 200, width: 120, height: 120),
                     sharpness: Double = 60, yaw: Double = 0) -> LiveFace {
        let direction = unit(UInt64(template.first!.bitPattern))
        return LiveFace(box: box, embedding: zip(template, direction).map { $0 + distance * $1 }, sharpness: sharpness, yaw: yaw)
    }

    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Feeds one frame every 0.1 s from `from` seconds on and gathers every outcome and track id.
    struct Run {
        var decider: DoorDecider
        var time: TimeInterval = 0
        var outcomes = [TrackOutcome]()
        var ids = Set<Int64>()
        let start: Date

        /// `surface`: what every face's surface showed since its track's earlier frames (liveness).
        mutating func frames(_ count: Int, _ faces: [LiveFace], surface: SurfaceMotion? = nil) {
            for _ in 0 ..< count {
                let step = decider.step(faces, at: start.addingTimeInterval(time), surface: { _, _ in surface })
                outcomes += step.outcomes
                ids.formUnion(step.trackIDs)
                time += 0.1
            }
        }

        mutating func end() { outcomes += decider.finish(at: start.addingTimeInterval(time)) }

        var said: [String] {
            outcomes.map { o in
                switch o.decision {
                case let .granted(id): "granted \(id)"
                case let .denied(id, reason): "\(reason.rawValue) \(id.map(String.init) ?? "-")"
                }
            }
        }
    }

    func run(_ policy: Policy = Policy()) -> Run {
        Run(decider: DoorDecider(policy: policy, snapshot: Self.snapshot), start: start)
    }

    @Test func poorEarlyFramesThenGoodOnesGiveOneGrant() {
        var r = run()
        // Far and turned as she comes in: her frames match loosely, nothing is decided yet.
        r.frames(8, [Self.face(Self.alice, at: 0.58, yaw: 20)])
        r.frames(5, [Self.face(Self.alice, at: 0.40, yaw: 50)])
        #expect(r.outcomes.isEmpty, "\(r.said)")
        r.frames(10, [Self.face(Self.alice, at: 0.38)])
        r.end()
        #expect(r.said == ["granted 1"])
        #expect(r.ids.count == 1)
        let grant = try! #require(r.outcomes.first)
        // Turned frames are shown but did not count.
        #expect(grant.frames.contains { $0.issues == [.turned] })
        #expect(grant.summary.framesUsed >= 3)
    }

    @Test func aSwapAtTheSameSpotGivesTwoDecisions() {
        var r = run()
        r.frames(15, [Self.face(Self.alice, at: 0.35)])
        // A stranger steps into the very same box on the next frame.
        r.frames(40, [Self.face(Self.stranger, at: 0)])
        r.end()
        #expect(r.said == ["granted 1", "unknown -"])
        #expect(r.ids.count == 2)
        #expect(Set(r.outcomes.map(\.trackID)).count == 2)
    }

    @Test func anOcclusionOfOneSecondIsOneTrackAndOneEvent() {
        var r = run()
        r.frames(10, [Self.face(Self.stranger, at: 0)])
        r.frames(10, [])
        // Back a little to the side, as people move while hidden.
        r.frames(30, [Self.face(Self.stranger, at: 0, box: PixelRect(x: 340, y: 210, width: 124, height: 124))])
        r.end()
        #expect(r.said == ["unknown -"])
        #expect(r.ids.count == 1)
    }

    @Test func patienceEndsAnUndecidedStrangerWithOneUnknown() throws {
        var r = run(Policy(patience: 3))
        r.frames(29, [Self.face(Self.stranger, at: 0)])
        #expect(r.outcomes.isEmpty, "decided before its patience ran out: \(r.said)")
        r.frames(40, [Self.face(Self.stranger, at: 0)])
        #expect(r.said == ["unknown -"])
        let unknown = try #require(r.outcomes.first)
        #expect(unknown.time.timeIntervalSince(unknown.firstSeen) >= 3)
        r.end()
        #expect(r.said == ["unknown -"], "a refused track is not logged again when it ends")
    }

    @Test func framesTooSmallNeverLetAnyoneIn() throws {
        var r = run()
        r.frames(40, [Self.face(Self.alice, at: 0.2, box: PixelRect(x: 300, y: 200, width: 40, height: 40))])
        r.end()
        #expect(r.said == ["unknown -"])
        let refusal = try #require(r.outcomes.first)
        #expect(refusal.summary.framesUsed == 0)
        #expect(refusal.frames.allSatisfy { $0.issues == [.small] && !$0.counts })
    }

    @Test func blurredFramesDoNotCountButTheSharpOnesThatFollowDo() throws {
        var r = run()
        r.frames(40, [Self.face(Self.alice, at: 0.2, sharpness: 1)])
        #expect(r.said == ["unknown -"])
        #expect(r.outcomes.first?.frames.allSatisfy { $0.issues == [.blurred] } == true)
        // The same face, sharp now, is let in: a grant of its own, referring to the refusal.
        r.frames(5, [Self.face(Self.alice, at: 0.2)])
        #expect(r.said == ["unknown -", "granted 1"])
        #expect(r.ids.count == 1)
        #expect(r.outcomes.last?.earlier?.decision == .denied(personID: nil, reason: .unknown))
    }

    @Test func twoPeopleAtOnceEachGetTheirOwnDecision() {
        var r = run()
        let left = PixelRect(x: 100, y: 200, width: 110, height: 110), right = PixelRect(x: 700, y: 220, width: 100, height: 100)
        r.frames(40, [Self.face(Self.alice, at: 0.35, box: left), Self.face(Self.bob, at: 0.3, box: right)])
        r.end()
        #expect(r.said.sorted() == ["granted 1", "granted 2"])
        #expect(r.ids.count == 2)
    }

    @Test func atMostOneGrantPerTrackAndCooldownAcrossTracks() {
        var r = run(Policy(cooldown: 30, rejoin: 0))
        r.frames(40, [Self.face(Self.alice, at: 0.3)])
        r.frames(10, [])
        // Back after her track ended: a new track, refused for cooldown once patience runs out.
        r.frames(40, [Self.face(Self.alice, at: 0.3)])
        r.end()
        #expect(r.said == ["granted 1", "cooldown 1"])
    }

    @Test func aTrackWhosePersonIsEnrolledWhileInViewIsGrantedAfterItsRefusal() {
        var r = run()
        r.frames(40, [Self.face(Self.stranger, at: 0.3)])
        #expect(r.said == ["unknown -"])
        let withStranger = GallerySnapshot(
            people: Self.snapshot.people + [GallerySnapshot.Entry(personID: 3, name: "carol", displayName: "Carol", enabled: true)],
            owner: [0, 1, 2], templateIDs: [10, 20, 30], vectors: Self.alice + Self.bob + Self.stranger, generation: 2)
        r.decider.use(withStranger)
        r.frames(1, [Self.face(Self.stranger, at: 0.3)])
        #expect(r.said == ["unknown -", "granted 3"], "granted at the first frame after the gallery change")
        r.end()
        #expect(r.said.count == 2)
    }

    @Test func aDeniedPersonStaysDeniedForTheVisit() {
        let disabled = GallerySnapshot(
            people: [GallerySnapshot.Entry(personID: 1, name: "alice", displayName: "Alice", enabled: false)],
            owner: [0], templateIDs: [10], vectors: Self.alice, generation: 1)
        var r = Run(decider: DoorDecider(policy: Policy(), snapshot: disabled), start: start)
        r.frames(80, [Self.face(Self.alice, at: 0.3)])
        r.end()
        #expect(r.said == ["disabled 1"])
    }

    @Test func aPasserByWithTooFewFramesLeavesNoEvent() {
        var r = run(Policy(rejoin: 0))
        r.frames(2, [Self.face(Self.stranger, at: 0)])
        r.frames(10, [])
        r.end()
        #expect(r.outcomes.isEmpty)
    }

    // MARK: settled tracks need no embedding

    /// A face with no embedding: where it is, nothing of who.
    static func unseen(_ box: PixelRect = PixelRect(x: 300, y: 200, width: 120, height: 120)) -> LiveFace {
        LiveFace(box: box, embedding: nil, sharpness: nil, yaw: nil)
    }

    @Test func aGrantedTrackIsSettledWhileItsLastEmbeddingIsYoungerThanHalfASecond() {
        var r = run()
        let box = PixelRect(x: 300, y: 200, width: 120, height: 120)
        #expect(r.decider.settledAreas(at: start).isEmpty)
        r.frames(5, [Self.face(Self.alice, at: 0.3)])
        #expect(r.said == ["granted 1"])
        // Her last embedded frame was at 0.4 s: her spot is settled until 0.9 s.
        let areas = r.decider.settledAreas(at: start.addingTimeInterval(0.5))
        #expect(areas.count == 1 && FaceTracker.iou(areas[0], box) > 0.9, "\(areas)")
        r.frames(4, [Self.unseen()])
        #expect(r.decider.settledAreas(at: start.addingTimeInterval(0.85)).count == 1)
        #expect(r.decider.settledAreas(at: start.addingTimeInterval(0.9)).isEmpty, "half a second after her last embedding")
        r.frames(1, [Self.face(Self.alice, at: 0.3)])
        #expect(r.decider.settledAreas(at: start.addingTimeInterval(1.0)).count == 1, "embedded again at 0.9 s")
        r.end()
        #expect(r.said == ["granted 1"] && r.ids.count == 1)
    }

    @Test func framesWithoutAnEmbeddingAreNoEvidence() {
        var r = run()
        r.frames(40, [Self.unseen()])
        r.end()
        // Fewer than K frames of evidence: not even a refusal (a passer-by, a false detection).
        #expect(r.outcomes.isEmpty, "\(r.said)")
        #expect(r.decider.settledAreas(at: start.addingTimeInterval(r.time)).isEmpty)
    }

    @Test func aTrackRefusedAsUnknownIsNotSettled() {
        var r = run()
        r.frames(35, [Self.face(Self.stranger, at: 0)])
        #expect(r.said == ["unknown -"])
        #expect(r.decider.settledAreas(at: start.addingTimeInterval(r.time)).isEmpty, "an unknown track may yet be granted")
    }

    /// A face clearly far from everyone enrolled, five counted frames in a row, is embedded every
    /// 0.2 s (or every fifth frame) instead of every frame; one near the level is embedded on every frame.
    @Test func aStrangersFaceIsEmbeddedLessOften() {
        var r = run()
        r.frames(4, [Self.face(Self.stranger, at: 0)])
        #expect(r.decider.strangerAreas(at: start.addingTimeInterval(r.time)).isEmpty, "four frames")
        r.frames(1, [Self.face(Self.stranger, at: 0)])
        // Last embedded at 0.4 s: not embedded again until 0.6 s.
        let areas = r.decider.strangerAreas(at: start.addingTimeInterval(0.5))
        #expect(areas.count == 1 && FaceTracker.iou(areas[0], PixelRect(x: 300, y: 200, width: 120, height: 120)) > 0.9, "\(areas)")
        #expect(r.decider.strangerAreas(at: start.addingTimeInterval(0.6)).isEmpty)
        // Frames without an embedding: the fifth is embedded whatever the time.
        var fast = DoorDecider(policy: Policy(), snapshot: Self.snapshot)
        for i in 0 ..< 5 { _ = fast.step([Self.face(Self.stranger, at: 0)], at: start.addingTimeInterval(Double(i) / 1000)) }
        for i in 5 ..< 8 { _ = fast.step([Self.unseen()], at: start.addingTimeInterval(Double(i) / 1000)) }
        #expect(fast.strangerAreas(at: start.addingTimeInterval(0.008)).count == 1)
        _ = fast.step([Self.unseen()], at: start.addingTimeInterval(0.008))
        #expect(fast.strangerAreas(at: start.addingTimeInterval(0.009)).isEmpty, "four frames without an embedding")
        // Frames too small to count as evidence count towards it too.
        var small = run()
        small.frames(5, [Self.face(Self.stranger, at: 0, box: PixelRect(x: 300, y: 200, width: 40, height: 40))])
        #expect(small.decider.strangerAreas(at: start.addingTimeInterval(0.45)).count == 1)
        // Alice far and turned in her early frames (unknown, but near the level): every frame.
        var near = run()
        near.frames(10, [Self.face(Self.alice, at: Float(SecurityLevel.standard.maxDistance) + 0.05)])
        #expect(near.decider.strangerAreas(at: start.addingTimeInterval(near.time)).isEmpty)
        // Refused when the patience runs out, though that frame has no embedding.
        var patient = DoorDecider(policy: Policy(patience: 0.45), snapshot: Self.snapshot)
        var refused = [Decision]()
        for i in 0 ..< 5 { refused += patient.step([Self.face(Self.stranger, at: 0)], at: start.addingTimeInterval(Double(i) / 10)).outcomes.map(\.decision) }
        #expect(refused.isEmpty)
        refused += patient.step([Self.unseen()], at: start.addingTimeInterval(0.5)).outcomes.map(\.decision)
        #expect(refused == [.denied(personID: nil, reason: .unknown)])
        // A new gallery: whoever was a stranger is embedded from the next frame.
        r.decider.use(Self.snapshot)
        #expect(r.decider.strangerAreas(at: start.addingTimeInterval(0.5)).isEmpty)
    }

    @Test func aTrackDeniedForCooldownIsSettled() {
        var decider = DoorDecider(policy: Policy(cooldown: 60), snapshot: Self.snapshot, lastGrant: [1: start])
        var said = [Decision]()
        for i in 0 ..< 35 { said += decider.step([Self.face(Self.alice, at: 0.3)], at: start.addingTimeInterval(1 + Double(i) / 10)).outcomes.map(\.decision) }
        #expect(said == [.denied(personID: 1, reason: .cooldown)])
        #expect(decider.settledAreas(at: start.addingTimeInterval(4.45)).count == 1)
        // Settled, then far from everyone (a disabled person's frames, say): listed once, as settled.
        for i in 35 ..< 41 { _ = decider.step([Self.face(Self.alice, at: 0.7)], at: start.addingTimeInterval(1 + Double(i) / 10)) }
        #expect(decider.settledAreas(at: start.addingTimeInterval(5.05)).count == 1)
        #expect(decider.strangerAreas(at: start.addingTimeInterval(5.05)).isEmpty)
    }

    /// Another person steps into a granted visitor's place while the pipeline skips embeddings
    /// there: followed as the old track until the next embedding, then a track and a decision of
    /// their own.
    @Test func someoneSteppingIntoASettledSpotIsDecidedOnTheirOwnFrames() {
        var r = run()
        r.frames(5, [Self.face(Self.alice, at: 0.3)])
        r.frames(4, [Self.unseen()])
        #expect(r.ids.count == 1)
        r.frames(10, [Self.face(Self.bob, at: 0.3)])
        r.end()
        #expect(r.said == ["granted 1", "granted 2"], "\(r.said)")
        #expect(r.ids.count == 2)
    }

    /// A replay read faster than real time: the frames since the last embedding count too.
    @Test func aSettledTrackIsEmbeddedAgainAfterFifteenFramesHoweverFastTheyCame() {
        var decider = DoorDecider(policy: Policy(), snapshot: Self.snapshot)
        var t = 0.0
        for _ in 0 ..< 5 { _ = decider.step([Self.face(Self.alice, at: 0.3)], at: start.addingTimeInterval(t)); t += 0.001 }
        for n in 1 ... 14 {
            _ = decider.step([Self.unseen()], at: start.addingTimeInterval(t))
            t += 0.001
            #expect(decider.settledAreas(at: start.addingTimeInterval(t)).isEmpty == (n >= 14), "after \(n) frames without an embedding")
        }
    }
}
