import FacePipeline
import FaceTestSupport
import FaceVision
import Foundation
import Testing

/// The synthetic walk-up replays: their truth must describe their frames, as the engine sees them.
@Suite struct VisitReplayTests {
    static let engine = Fixtures.engine

    static func visitor(_ person: String, _ files: [String]) -> VisitorPhotos {
        let (photos, skipped) = VisitorPhotos.load(person: person, paths: files.map(Fixtures.photo), engine: engine)
        precondition(skipped.isEmpty, "fixture photos without a face: \(skipped)")
        return photos
    }

    /// obama.jpg stays out of the frames: it is the one a gallery would enroll.
    static let obama = visitor("obama", ["obama2.jpg", "obama3.jpg"])
    static let biden = visitor("biden", ["biden.jpg"])

    /// The detected face nearest the truth box, if one lies near it (centre within a third of
    /// the box width, width within a factor 1.6).
    static func detected(near truth: PixelRect, in image: RGBImage, minFace: Int = 48) throws -> PixelRect? {
        let tx = Double(truth.x) + Double(truth.width) / 2, ty = Double(truth.y) + Double(truth.height) / 2
        return try engine.detect(image.grayscale(), minFace: minFace).map(\.box).first { box in
            let dx = Double(box.x) + Double(box.width) / 2 - tx, dy = Double(box.y) + Double(box.height) / 2 - ty
            let ratio = Double(box.width) / Double(truth.width)
            return (dx * dx + dy * dy).squareRoot() < Double(truth.width) / 3 && ratio > 1 / 1.6 && ratio < 1.6
        }
    }

    /// Frames of a visit at even steps among those whose face is at least `minWidth` wide.
    static func samples(_ visit: ReplayTruth.Visit, count: Int, minWidth: Int = 90) -> [ReplayTruth.Face] {
        let wide = visit.faces.filter { $0.box.height >= minWidth }
        guard wide.count > count else { return wide }
        return (0 ..< count).map { wide[$0 * (wide.count - 1) / (count - 1)] }
    }

    @Test func singleVisitsTruthBoxesAreWhereTheDetectorFindsFacesAndFacesGrow() throws {
        let scene = try VisitScene.singles([(Self.obama, true), (Self.biden, false)], seed: 7)
        let truth = scene.truth
        #expect(truth.visits.map(\.person) == ["obama", "biden"])
        #expect(truth.visits.map(\.enrolled) == [true, false])
        #expect(truth.frames == scene.frameCount)
        for visit in truth.visits {
            // From afar to the door: about 60 px to about 250 px, growing on the way.
            let widths = visit.faces.map { Double($0.box.height) }
            #expect((54 ... 70).contains(widths.first!), "\(visit.person) starts at \(widths.first!) px")
            #expect((220 ... 265).contains(widths.max()!), "\(visit.person) ends at \(widths.max()!) px")
            let quarter = widths.count / 4
            let early: Double = widths.prefix(quarter).reduce(0, +), late: Double = widths.suffix(quarter).reduce(0, +)
            #expect(early * 2 < late, "the first quarter's faces are less than half as wide as the last quarter's")
            #expect(visit.faces.count == visit.lastFrame - visit.firstFrame + 1, "no gap in a single visit")

            var found = [PixelRect]()
            for face in Self.samples(visit, count: 5) {
                if let box = try Self.detected(near: face.box, in: scene.render(frame: face.frame)) { found.append(box) }
            }
            #expect(found.count >= 4, "\(visit.person): \(found.count) of 5 sampled frames show a face at the truth box")
            #expect(found.first!.width < found.last!.width, "the detected face grows too")
        }
        // Before the first visit and between visits: nobody.
        #expect(try Self.engine.detect(scene.render(frame: 0).grayscale(), minFace: 48).isEmpty)
        let between = truth.visits[0].lastFrame + 3
        #expect(between < truth.visits[1].firstFrame)
        #expect(try Self.engine.detect(scene.render(frame: between).grayscale(), minFace: 48).isEmpty)
    }

    @Test func swapVisitsFollowEachOtherAtTheSameSpotWithAnEmptyGap() throws {
        let scene = try VisitScene.swap((Self.obama, true), (Self.biden, false), seed: 3)
        let truth = scene.truth
        let a = truth.visits[0], b = truth.visits[1]
        #expect(a.person == "obama" && b.person == "biden")
        let gap = b.firstFrame - a.lastFrame - 1
        #expect((2 ... 3).contains(gap), "A's last frame \(a.lastFrame), B's first \(b.firstFrame)")
        for frame in a.lastFrame + 1 ..< b.firstFrame {
            #expect(try Self.engine.detect(scene.render(frame: frame).grayscale(), minFace: 48).isEmpty, "frame \(frame) of the gap")
        }
        let lastA = try #require(a.box(at: a.lastFrame)), firstB = try #require(b.box(at: b.firstFrame))
        #expect(try Self.detected(near: lastA, in: scene.render(frame: a.lastFrame)) != nil)
        #expect(try Self.detected(near: firstB, in: scene.render(frame: b.firstFrame)) != nil)
        // The same spot: B's face within a fifth of a face width of A's.
        #expect(abs(lastA.x + lastA.width / 2 - firstB.x - firstB.width / 2) < lastA.width / 5 + 12)
    }

    @Test func occlusionHidesTheFaceForAboutASecondMidVisit() throws {
        let scene = try VisitScene.occlusion((Self.obama, true), seed: 5)
        let visit = try #require(scene.truth.visits.first)
        let seen = Set(visit.faces.map(\.frame))
        let hidden = (visit.firstFrame ... visit.lastFrame).filter { !seen.contains($0) }
        #expect(hidden.count == 15 && hidden.last! - hidden.first! == 14, "one run of 15 frames at 15 fps: \(hidden)")
        #expect(try Self.engine.detect(scene.render(frame: hidden[7]).grayscale(), minFace: 48).isEmpty)
        let after = hidden.last! + 1
        #expect(try Self.detected(near: visit.box(at: after)!, in: scene.render(frame: after)) != nil)
    }

    @Test func passingShowsTwoFacesAtOnceAndHidesTheFartherWhileTheyCross() throws {
        let scene = try VisitScene.passing((Self.obama, true), (Self.biden, false), seed: 11)
        let truth = scene.truth
        let a = truth.visits[0], b = truth.visits[1]
        let both = a.faces.map(\.frame).filter { b.box(at: $0) != nil && b.box(at: $0)!.height >= 110 && a.box(at: $0)!.height >= 90 }
        let frame = try #require(both.first)
        let image = scene.render(frame: frame)
        #expect(try Self.detected(near: a.box(at: frame)!, in: image) != nil)
        #expect(try Self.detected(near: b.box(at: frame)!, in: image) != nil)
        let hiddenA = (a.firstFrame ... a.lastFrame).filter { a.box(at: $0) == nil }
        #expect(!hiddenA.isEmpty, "the farther face is hidden while they cross")
        #expect(b.faces.count == b.lastFrame - b.firstFrame + 1, "the nearer face is never hidden")
    }

    @Test func theSameSeedBuildsTheSameReplayAndTruthSurvivesJSON() throws {
        let one = try VisitScene.singles([(Self.obama, true)], seed: 42), two = try VisitScene.singles([(Self.obama, true)], seed: 42)
        let other = try VisitScene.singles([(Self.obama, true)], seed: 43)
        #expect(one.truth == two.truth)
        let frame = one.truth.visits[0].faces[20].frame
        #expect(one.render(frame: frame) == two.render(frame: frame))
        #expect(one.truth != other.truth)
        let decoded = try JSONDecoder().decode(ReplayTruth.self, from: one.truth.json())
        #expect(decoded == one.truth)
    }

    static let facesDevPeople: [(String, [String])] = {
        guard let root = Fixtures.facesDev else { return [] }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix("_") }.sorted()
        return names.compactMap { name in
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + name)) ?? []).sorted()
            return files.count >= 3 ? (name, files.map { root + "/" + name + "/" + $0 }) : nil
        }
    }()

    @Test(.enabled(if: Fixtures.facesDev != nil, "needs ../shared/faces-dev"))
    func facesDevVisitsShowTheirFacesWhereTheTruthSaysSo() throws {
        let people = Self.facesDevPeople.prefix(3).map { VisitorPhotos.load(person: $0.0, paths: $0.1, engine: Self.engine).visitor }
        #expect(people.count == 3 && people.allSatisfy { $0.photos.count >= 2 })
        let scene = try VisitScene.singles(people.map { ($0, false) }, seed: 1)
        for visit in scene.truth.visits {
            #expect(visit.photos.count >= 2, "\(visit.person) switches between photos along the walk")
            var found = 0
            let samples = Self.samples(visit, count: 4, minWidth: 100)
            for face in samples where try Self.detected(near: face.box, in: scene.render(frame: face.frame)) != nil { found += 1 }
            #expect(found >= 3, "\(visit.person): \(found) of \(samples.count) sampled frames show a face at the truth box")
        }
    }
}

/// Scoring decisions against a replay's truth, on a hand-made swap: obama (enrolled) stands at
/// the door in frames 10-60, biden (not enrolled) in 63-92, at 15 fps.
@Suite struct VisitScoreTests {
    static let truth: ReplayTruth = {
        func visit(_ person: String, _ enrolled: Bool, _ frames: ClosedRange<Int>) -> ReplayTruth.Visit {
            ReplayTruth.Visit(person: person, enrolled: enrolled, firstFrame: frames.lowerBound, lastFrame: frames.upperBound,
                              faces: frames.map { ReplayTruth.Face(frame: $0, box: PixelRect(x: 500, y: 200, width: 200, height: 200)) },
                              photos: [])
        }
        return ReplayTruth(scenario: "swap", width: 1280, height: 720, fps: 15, frames: 110, seed: 1,
                           visits: [visit("obama", true, 10 ... 60), visit("biden", false, 63 ... 92)])
    }()

    static func decision(_ outcome: ReplayDecision.Outcome, _ person: String?, at frame: Int, trackFrom first: Int,
                         track: Int64 = 1) -> ReplayDecision {
        ReplayDecision(track: track, frame: frame, trackFirstFrame: first, outcome: outcome, person: person)
    }

    @Test func anEarlyGrantWhoseTrackRunsOnIntoTheNextPersonLeavesThatPersonUndecided() {
        let score = VisitScore(truth: Self.truth, decisions: [Self.decision(.granted, "obama", at: 15, trackFrom: 10)])
        #expect(score.grantedCorrectly == 1 && score.falseGrants == 0 && score.identitySwitches == 0)
        #expect(score.undecided == 1 && score.eventsPerVisit == [1, 0])
        #expect(score.grantLatencies == [5.0 / 15])
    }

    @Test func aGrantNamingSomeoneWhoHasLeftIsAFalseGrantAndAnIdentitySwitch() {
        let score = VisitScore(truth: Self.truth, decisions: [Self.decision(.granted, "obama", at: 80, trackFrom: 10)])
        #expect(score.falseGrants == 1 && score.identitySwitches == 1)
        #expect(score.grantedCorrectly == 0 && score.enrolledMissed == 1)
    }

    @Test func aStrangerGrantedAsAnEnrolledPersonIsAFalseGrant() {
        let score = VisitScore(truth: Self.truth, decisions: [
            Self.decision(.unknown, nil, at: 20, trackFrom: 10, track: 1),
            Self.decision(.granted, "obama", at: 70, trackFrom: 63, track: 2),
        ])
        #expect(score.eventsPerVisit == [1, 1])
        #expect(score.falseGrants == 1 && score.identitySwitches == 1)
        #expect(score.enrolledUnknownOrDenied == 1 && score.enrolledMissed == 1)
        #expect(score.decisionLatencies == [10.0 / 15, 7.0 / 15])
    }

    @Test func twoTracksForOneWalkUpAreFragmentationAndALonelyDecisionIsStray() {
        let score = VisitScore(truth: Self.truth, decisions: [
            Self.decision(.unknown, nil, at: 20, trackFrom: 10, track: 1),
            Self.decision(.granted, "obama", at: 50, trackFrom: 40, track: 2),
            Self.decision(.unknown, nil, at: 90, trackFrom: 66, track: 3),
            Self.decision(.granted, "obama", at: 200, trackFrom: 190, track: 4),
        ])
        #expect(score.fragmented == 1 && score.eventsPerVisit == [2, 1])
        #expect(score.grantedCorrectly == 1 && score.enrolledUnknownOrDenied == 1 && score.enrolledMissed == 0)
        #expect(score.stray == 1 && score.falseGrants == 1 && score.identitySwitches == 1)
        #expect(VisitScore.total([score, score]).fragmented == 2)
        #expect(VisitScore.percentile([3, 1, 2], 0.5) == 2 && VisitScore.percentile([], 0.5) == nil)
    }
}

extension VisitScoreTests {
    @Test func twoUnnamedDecisionsWhileTwoPeopleAreInViewGoOneToEach() {
        func visit(_ person: String, _ frames: ClosedRange<Int>) -> ReplayTruth.Visit {
            ReplayTruth.Visit(person: person, enrolled: false, firstFrame: frames.lowerBound, lastFrame: frames.upperBound,
                              faces: frames.map { ReplayTruth.Face(frame: $0, box: PixelRect(x: 0, y: 0, width: 90, height: 90)) },
                              photos: [])
        }
        let truth = ReplayTruth(scenario: "passing", width: 1280, height: 720, fps: 15, frames: 80, seed: 1,
                                visits: [visit("a", 10 ... 60), visit("b", 12 ... 62)])
        let score = VisitScore(truth: truth, decisions: [
            Self.decision(.unknown, nil, at: 18, trackFrom: 14, track: 1), Self.decision(.unknown, nil, at: 18, trackFrom: 14, track: 2),
        ])
        #expect(score.eventsPerVisit == [1, 1] && score.undecided == 0 && score.fragmented == 0)
    }
}
