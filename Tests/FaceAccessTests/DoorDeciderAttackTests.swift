import FaceAccess
import FaceStore
import FaceVision
import Foundation
import Testing

/// Attacks on the decision stage found in review: each asserts the behaviour a door
/// should have.
@Suite struct DoorDeciderAttackTests {
    typealias T = DoorDeciderTests
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A deterministic generator (splitmix64).
    struct Rand {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// A random unit vector of 128 values (gaussian components).
        mutating func unit() -> [Float] {
            let v = (0 ..< GallerySnapshot.dimension).map { _ -> Double in
                let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-12), u2 = Double(next() >> 11) / Double(1 << 53)
                return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            }
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { Float($0 / n) }
        }
    }

    static func plus(_ a: [Float], _ s: Float, _ d: [Float]) -> [Float] { zip(a, d).map { $0 + s * $1 } }

    /// An impostor whose true face lies `center` from alice's template and whose frames scatter
    /// by `noise` around it (in fresh directions, as real frames do): frames at 25 fps for
    /// `seconds`. Returns the grants.
    static func impostorVisit(seed: UInt64, center: Float, noise: Float, seconds: Double, policy: Policy) -> (granted: Bool, firstWindow: Bool) {
        var rng = Rand(state: seed)
        let c = plus(T.alice, center, rng.unit())
        var decider = DoorDecider(policy: policy, snapshot: T.snapshot)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var granted = false
        var firstFive = [Observation]()
        let matcher = Matcher(snapshot: T.snapshot)
        let frames = Int(seconds * 25)
        for i in 0 ..< frames {
            let e = plus(c, noise, rng.unit())
            if firstFive.count < policy.evidence.window {
                let r = matcher.match(e)
                firstFive.append(Observation(result: r, verdict: policy.level.verdict(for: r), embedding: e))
            }
            let face = LiveFace(box: PixelRect(x: 300, y: 200, width: 120, height: 120), embedding: e, sharpness: 60, yaw: 0)
            let step = decider.step([face], at: t0.addingTimeInterval(Double(i) / 25))
            if step.outcomes.contains(where: { if case .granted = $0.decision { true } else { false } }) { granted = true; break }
        }
        // What the code before issue 12 did: one decision over the first M frames.
        let old = policy.summarise(firstFive)
        let firstWindow = if case .recognised = old.finding { true } else { false }
        return (granted, firstWindow)
    }

    /// Refusal-then-grant and a sliding K-of-M window over the whole visit: an impostor who stays
    /// in view gets a fresh chance every frame. Measured over 200 synthetic impostors.
    /// Synthetic impostors (100 seeds at 25 fps) whose own face lies `center` from alice's
    /// template, frames scattered by 0.2 around it. Measured when written (granted of 100):
    ///
    ///     center  first 5 frames (before issue 12)  within 3 s  within 20 s
    ///     0.46    38                                100         100
    ///     0.48     0                                 29          30
    ///     0.50+    0                                  0           0
    ///
    /// A face inside the standard level (0.50) is a match by the level's own definition, as one
    /// photo of it would be; the old rule missed those only because noisy frames lay farther.
    /// Outside the level nobody gets in, however long they stay: lucky frames fail the average
    /// of the track's best frames. And staying past a refusal does not help (strict bar).
    @Test(arguments: [Float(0.50), 0.52, 0.55]) func anImpostorOutsideTheLevelIsNeverLetInHoweverLongTheyStay(center: Float) {
        var granted = 0
        for seed in UInt64(1) ... 50 {
            granted += Self.impostorVisit(seed: seed, center: center, noise: 0.2, seconds: 10, policy: Policy()).granted ? 1 : 0
        }
        #expect(granted == 0, "\(granted) of 50 impostors at \(center) let in within 10 s")
    }

    @Test func stayingPastARefusalDoesNotLetMoreImpostorsIn() {
        var short = 0, long = 0
        for seed in UInt64(1) ... 50 {
            short += Self.impostorVisit(seed: seed, center: 0.48, noise: 0.2, seconds: 3, policy: Policy()).granted ? 1 : 0
            long += Self.impostorVisit(seed: seed, center: 0.48, noise: 0.2, seconds: 10, policy: Policy()).granted ? 1 : 0
        }
        #expect(long <= short + 2, "within 3 s (the patience) \(short), within 10 s \(long)")
    }

    /// Alice (enrolled) shows two good frames and steps away; a lookalike (within the tracker's
    /// 0.65 but never within the level on his own except one lucky frame) steps into the same spot.
    @Test(arguments: [0, 2]) func oneTrackDoesNotLendOnePersonsEvidenceToAnother(aliceFrames: Int) {
        var rng = Rand(state: 7)
        var decider = DoorDecider(policy: Policy(), snapshot: T.snapshot)
        let box = PixelRect(x: 300, y: 200, width: 120, height: 120)
        let dirA = rng.unit()
        var said = [String]()
        var ids = Set<Int64>()
        var t = 0.0
        func feed(_ e: [Float], width: Int = 120) {
            let face = LiveFace(box: box, embedding: e, sharpness: 60, yaw: 0, width: width)
            let step = decider.step([face], at: start.addingTimeInterval(t))
            ids.formUnion(step.trackIDs)
            said += step.outcomes.map { "\($0.decision)" }
            t += 0.04
        }
        // Alice, smallish but counted (her frames are not the track's best). Without them (the
        // control, aliceFrames 0) the lookalike is never let in.
        for _ in 0 ..< aliceFrames { feed(Self.plus(T.alice, 0.38, dirA), width: 64) }
        // Bob-the-lookalike (not enrolled): his face is 0.56 from alice's template.
        let dirB = rng.unit()
        let lookalike = Self.plus(T.alice, 0.56, dirB)
        let towardAlice = zip(T.alice, lookalike).map { $0 - $1 }
        let n = towardAlice.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // One lucky frame, nearer alice.
        feed(Self.plus(lookalike, 0.1, towardAlice.map { $0 / n }), width: 200)
        let lucky = Self.plus(lookalike, 0.1, towardAlice.map { $0 / n })
        for _ in 0 ..< 10 { feed(lookalike, width: 200) }
        #expect(!said.contains { $0.hasPrefix("granted") }, "the lookalike was granted on alice's frames: \(said), tracks \(ids)")
    }

    /// A lost track is taken back by the first face in the frame that is near enough, not the nearest.
    @Test func aLostTrackIsTakenBackByTheNearestFace() {
        var tracker = FaceTracker(rejoinWithin: 2)
        var rng = Rand(state: 11)
        let who = rng.unit()
        let t0 = start
        var t = 0.0
        let (ids0, _) = tracker.update(faces: [TrackedFace(box: PixelRect(x: 100, y: 100, width: 100, height: 100), embedding: who)], at: t0)
        for _ in 0 ..< 7 { t += 0.1; _ = tracker.update(faces: [], at: t0.addingTimeInterval(t)) }
        t += 0.1
        // Someone else (0.45 away) first in the list, far from where he was; the person himself second.
        let other = Self.plus(who, 0.45, rng.unit())
        let (ids, _) = tracker.update(faces: [TrackedFace(box: PixelRect(x: 900, y: 100, width: 100, height: 100), embedding: other),
                                             TrackedFace(box: PixelRect(x: 600, y: 100, width: 100, height: 100), embedding: who)],
                                      at: t0.addingTimeInterval(t))
        #expect(ids[1] == ids0[0], "the track went to the first face, not its own person: \(ids0) -> \(ids)")
    }

    /// A NaN in an embedding makes every distance NaN: the appearance check must fail for it,
    /// or a swap at the same spot would stay one track.
    @Test func aNaNEmbeddingDoesNotSwitchOffTheIdentityCheck() {
        var tracker = FaceTracker()
        var rng = Rand(state: 5)
        let a = rng.unit(), b = rng.unit()
        var bad = a
        bad[0] = .nan
        let box = PixelRect(x: 300, y: 200, width: 120, height: 120)
        var t = 0.0
        var ids = Set<Int64>()
        for e in [a, bad, b, b] {
            ids.formUnion(tracker.update(faces: [TrackedFace(box: box, embedding: e)], at: start.addingTimeInterval(t)).ids)
            t += 0.1
        }
        // Failing closed, the NaN frame is nobody's: a track of its own.
        #expect(ids.count == 3, "a and b on one track: \(ids)")
    }

    /// A frame whose yaw or sharpness could not be measured as a number (NaN) passes every limit.
    @Test func aFrameWithNaNQualityDoesNotCount() {
        let q = EvidenceQuality()
        #expect(!q.issues(width: 120, sharpness: .nan, yaw: 0).isEmpty)
        #expect(!q.issues(width: 120, sharpness: 60, yaw: .nan).isEmpty)
    }

    /// The smallest evidence_max_yaw the config takes (10°) still lets a frontal face in.
    @Test func theSmallestMaxYawStillLetsAFrontalFaceIn() {
        var r = DoorDeciderTests.Run(decider: DoorDecider(policy: Policy(quality: EvidenceQuality(maxYaw: 10)), snapshot: T.snapshot), start: start)
        r.frames(40, [T.face(T.alice, at: 0.3, yaw: 0.4)])
        r.end()
        #expect(r.said == ["granted 1"], "\(r.said)")
    }

    /// A recognised person still in cooldown who leaves before patience runs out: the track is
    /// closed after the cooldown has passed, `close` turns the grant it now computes into
    /// "unknown" with no person, though she was recognised.
    @Test func aRecognisedPersonLeavingIsNotLoggedAsUnknown() {
        var r = DoorDeciderTests.Run(decider: DoorDecider(policy: Policy(cooldown: 5, patience: 3, rejoin: 2), snapshot: T.snapshot), start: start)
        r.frames(10, [T.face(T.alice, at: 0.3)])  // granted at 0.2 s
        r.frames(35, [])                            // her track ends at 2.9 s
        r.frames(7, [T.face(T.alice, at: 0.3)])   // 4.5-5.1 s: in cooldown until 5.2, patience until 7.5
        r.frames(40, [])                            // ends after 2 s out of sight
        r.end()
        #expect(r.said.count == 2)
        #expect(r.said.last != "unknown -", "recognised alice logged as an unknown visitor: \(r.said)")
    }

    /// With no frames at all for a while (camera lost, stream stalled), a lost track is still
    /// taken back after its rejoin time: the same person an hour later continues a granted track,
    /// and so is never decided nor logged.
    @Test func aTrackIsNotTakenBackAfterItsRejoinTime() {
        var r = DoorDeciderTests.Run(decider: DoorDecider(policy: Policy(cooldown: 10, rejoin: 2), snapshot: T.snapshot), start: start)
        r.frames(10, [T.face(T.alice, at: 0.3)])  // granted
        r.frames(6, [])                             // lost (missed > 5), not yet ended
        r.time += 3600                              // the camera is gone for an hour: no frames
        r.frames(40, [T.face(T.alice, at: 0.3)])
        r.end()
        #expect(r.ids.count == 2, "an hour later she is on her old track \(r.ids)")
        #expect(r.said == ["granted 1", "granted 1"], "\(r.said)")
    }
}
