import FaceAccess
import FaceStore
import FaceVision
import Foundation
import Testing

/// The liveness gate of the decider, on given surface steps: what a grant needs under
/// `liveness = motion`, what a refusal for `liveness` says, and that a person's own mode only adds.
@Suite struct LivenessPolicyTests {
    typealias D = DoorDeciderTests
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A head: its surface leaves the plane, the wall behind it stays.
    static let head = SurfaceMotion(residual: 0.015, points: 120, motion: 0.05, rigidSurround: 0.1)
    /// A print moved by hand: one plane with its margin.
    static let print = SurfaceMotion(residual: 0.004, points: 150, motion: 0.05, rigidSurround: 0.9)
    /// Anything held still.
    static let still = SurfaceMotion(residual: 0.002, points: 150, motion: 0.002, rigidSurround: 1)

    struct Run {
        var decider: DoorDecider
        var time: TimeInterval = 0
        var outcomes = [TrackOutcome]()
        let start: Date

        mutating func frames(_ count: Int, _ faces: [LiveFace], surface: SurfaceMotion?) {
            for _ in 0 ..< count {
                outcomes += decider.step(faces, at: start.addingTimeInterval(time), surface: { _, _ in surface }).outcomes
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

    func run(_ mode: LivenessMode, snapshot: GallerySnapshot = D.snapshot) -> Run {
        Run(decider: DoorDecider(policy: Policy(liveness: mode), snapshot: snapshot), start: start)
    }

    @Test func aMovingHeadIsGrantedOnceItHasShownEnoughSteps() throws {
        var r = run(.motion)
        r.frames(40, [D.face(D.alice, at: 0.3)], surface: Self.head)
        r.end()
        #expect(r.said == ["granted 1"])
        let grant = try #require(r.outcomes.first)
        let finding = try #require(grant.liveness)
        #expect(finding.live && finding.moved >= LivenessRule.standard.fewestSteps)
        // Not before the rule's steps were in: identity alone would have granted at the 3rd frame.
        #expect(grant.time.timeIntervalSince(grant.firstSeen) >= Double(LivenessRule.standard.fewestSteps - 1) * 0.1 - 0.01)
    }

    @Test func aPrintOfAMemberIsDeniedForLivenessOnceThePatienceRunsOut() throws {
        var r = run(.motion)
        r.frames(29, [D.face(D.alice, at: 0.3)], surface: Self.print)
        #expect(r.outcomes.isEmpty, "decided before the patience ran out: \(r.said)")
        r.frames(40, [D.face(D.alice, at: 0.3)], surface: Self.print)
        r.end()
        #expect(r.said == ["liveness 1"], "one refusal, not repeated at the end")
        let denial = try #require(r.outcomes.first)
        let finding = try #require(denial.liveness)
        #expect(!finding.live)
        #expect(finding.surround == 0.9 && finding.residual == 0.004)
        #expect(finding.evidence.explanation.contains("needs ≤ 40 %"))
    }

    @Test func aPictureHeldStillIsNeverJudgedLive() throws {
        var r = run(.motion)
        r.frames(60, [D.face(D.alice, at: 0.3)], surface: Self.still)
        #expect(r.said == ["liveness 1"])
        let finding = try #require(r.outcomes.first?.liveness)
        // Judged when the patience ran out, on the steps of its first 3 s.
        #expect(finding.moved == 0 && finding.steps >= 29)
        #expect(finding.evidence.explanation.contains("moved enough in 0 of \(finding.steps) steps"))
    }

    @Test func noMeasurementAtAllIsNoProof() {
        var r = run(.motion)
        r.frames(40, [D.face(D.alice, at: 0.3)], surface: nil)
        #expect(r.said == ["liveness 1"])
    }

    @Test func aFaceThatStartsMovingAfterItsRefusalIsGrantedAsAnEventOfItsOwn() throws {
        var r = run(.motion)
        r.frames(35, [D.face(D.alice, at: 0.3)], surface: Self.still)
        #expect(r.said == ["liveness 1"])
        // The median over every step so far must pass: as many live steps again, and more.
        r.frames(45, [D.face(D.alice, at: 0.3)], surface: Self.head)
        #expect(r.said == ["liveness 1", "granted 1"])
        let grant = try #require(r.outcomes.last)
        #expect(grant.earlier?.decision.reason == .liveness)
    }

    @Test func offIgnoresTheSurfaceAndStrangersAreUnknownEitherWay() {
        var off = run(.off)
        off.frames(40, [D.face(D.alice, at: 0.3)], surface: Self.print)
        #expect(off.said == ["granted 1"])
        #expect(off.outcomes.first?.liveness == nil)
        var stranger = run(.motion)
        stranger.frames(40, [D.face(D.stranger, at: 0)], surface: Self.print)
        #expect(stranger.said == ["unknown -"])
        #expect(stranger.outcomes.first?.liveness == nil, "nobody's grant was at stake")
    }

    @Test func aPersonsOwnModeAddsTheProofAtADoorWithoutIt() {
        var people = D.snapshot.people
        people[0].liveness = "motion"
        let snapshot = GallerySnapshot(people: people, owner: [0, 1], templateIDs: [10, 20], vectors: D.alice + D.bob, generation: 2)
        var r = run(.off, snapshot: snapshot)
        #expect(r.decider.needsLiveness)
        r.frames(40, [D.face(D.alice, at: 0.3)], surface: Self.print)
        r.frames(20, [], surface: nil)
        r.frames(40, [D.face(D.bob, at: 0.3)], surface: Self.print)
        r.end()
        #expect(r.said == ["liveness 1", "granted 2"])
        #expect(!run(.off).decider.needsLiveness)
    }

    /// Measuring costs milliseconds a face: only for tracks a proof could still let in.
    @Test func strangersAndGrantedTracksAreNotMeasured() {
        var decider = DoorDecider(policy: Policy(liveness: .motion), snapshot: D.snapshot)
        var asked = [Int64: Int]()
        var time: TimeInterval = 0
        func frames(_ count: Int, _ faces: [LiveFace], every: Bool = false) {
            for _ in 0 ..< count {
                _ = decider.step(faces, at: start.addingTimeInterval(time), surface: { id, _ in
                    asked[id, default: 0] += 1
                    return Self.head
                }, measureEveryTrack: every)
                time += 0.1
            }
        }
        frames(20, [D.face(D.stranger, at: 0)])
        #expect(asked.values.first == DoorDecider.strangerFrames, "\(asked)")
        frames(20, [])
        asked.removeAll()
        frames(20, [D.face(D.alice, at: 0.3)])
        // Measured until granted (8 moving steps), then no more.
        #expect(asked.values.first == LivenessRule.standard.fewestSteps, "\(asked)")
        frames(20, [])
        asked.removeAll()
        frames(20, [D.face(D.stranger, at: 0)], every: true)
        #expect(asked.values.first == 20, "a benchmark measures every track: \(asked)")
    }

    @Test func anUnreadableModeOfAPersonIsReadAsTheStrictest() {
        var entry = D.snapshot.people[0]
        entry.liveness = "mothon"
        #expect(AccessRights(entry).liveness == .motion)
        #expect(LivenessMode.off.stricter(nil) == .off && LivenessMode.off.stricter(.motion) == .motion)
        #expect(LivenessMode.motion.stricter(.off) == .motion)
    }

    @Test func theRuleNeedsEveryFigure() {
        let rule = LivenessRule.standard
        let moving = Array(repeating: Self.head, count: rule.fewestSteps)
        #expect(rule.judge(moving).live)
        #expect(!rule.judge(Array(moving.dropLast())).live, "too few steps")
        var flat = Self.head
        flat.residual = rule.minResidual * 0.9
        #expect(!rule.judge(Array(repeating: flat, count: 9)).live, "on a plane")
        var framed = Self.head
        framed.rigidSurround = rule.maxSurround + 0.05
        #expect(!rule.judge(Array(repeating: framed, count: 9)).live, "moves with its surround")
        var bare = Self.head
        bare.rigidSurround = nil
        #expect(rule.judge(Array(repeating: bare, count: 9)).live, "a plain wall behind a head gives no surround")
        var broken = Self.head
        broken.residual = .nan
        #expect(!rule.judge(Array(repeating: broken, count: 9)).live, "not a number proves nothing")
        broken = Self.head
        broken.motion = .nan
        #expect(!rule.judge(Array(repeating: broken, count: 9)).live)
    }
}
