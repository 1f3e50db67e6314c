import FaceAccess
import FacePipeline
import FaceTestSupport
import Foundation
import Testing

/// faced's liveness rule against `facebench liveness`'s limits (issue 15): at most 5 % of the
/// walk-up clip's real faces never found live, at most 1 % of generated attack visits found live
/// at some frame. The bench measures 200 visits in a release build; here a sample of them, each
/// as the bench makes it (same plan, same seed, the same shutter smear), so that any pass at all is over the limit. These
/// are the visits and tracks the limits were chosen on: a guard against a change that makes the
/// measurement worse, not evidence that the limits hold (the README gives held-out figures).
@Suite(.enabled(if: Fixtures.sharedVideo("walkup-entrance-1080p.mjpeg") != nil,
                "../shared/videos/walkup-entrance-1080p.mjpeg is absent on this machine"),
       .enabled(if: Fixtures.facesDev != nil, "../shared/faces-dev is absent on this machine"))
struct LivenessRegressionTests {
    static let trial = LivenessTrial(engine: Fixtures.engine, minFace: 48)

    @Test func everyRealFaceOfTheWalkUpClipIsFoundLive() async throws {
        let clip = try #require(Fixtures.sharedVideo("walkup-entrance-1080p.mjpeg"))
        let tracks = try await Self.trial.measure(mjpeg: clip, fps: 25).filter { Double($0.lastFrame - $0.firstFrame) / 25 >= 1 }
        // 4 people are followed for a second or more (facebench liveness).
        #expect(tracks.count >= 4)
        let refused = tracks.filter { $0.provenAt(.standard) == nil }
        let figures = tracks.map { t in
            let f = t.finding(.standard)
            return "track \(t.track): \(f.moved)/\(f.steps) moved, residual \(f.residual ?? -1), surround \(f.surround ?? -1), carried \(f.carried)"
        }
        #expect(Double(refused.count) <= 0.05 * Double(tracks.count), "never found live: \(refused.map(\.track)); \(figures)")
    }

    /// The bench's first visits (seed 1), every kind in turn.
    static let sample = 24

    /// faces-dev's people and their photos, as `facebench liveness` reads them.
    static func people() throws -> [(name: String, photos: [String])] {
        let facesDev = try #require(Fixtures.facesDev)
        return try FileManager.default.contentsOfDirectory(atPath: facesDev).filter { !$0.hasPrefix("_") && !$0.hasPrefix(".") }.sorted()
            .compactMap { name -> (name: String, photos: [String])? in
                let dir = facesDev + "/" + name
                guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return nil }
                let photos = files.filter { [".jpg", ".jpeg", ".png"].contains(where: $0.lowercased().hasSuffix) }.sorted().map { dir + "/" + $0 }
                return photos.isEmpty ? nil : (name, photos)
            }
    }

    /// Visit 45 of seed 3: a bowed print of a group photo at 110 px. Its second, small face is
    /// near the paper's edge, so the wall is around it, and the bend takes its surface off a
    /// plane by about the residual's limit: it was found live at its 8th moving step until the
    /// faces of one frame were compared (it moves with the photo's large face, whose margin moves
    /// with it). Seed 3 was held out until then.
    @Test func theSecondFaceOfAPrintedGroupPhotoIsNotFoundLive() async throws {
        let visit = try #require(try AttackPlan.visits(46, people: Self.people(), seed: 3, engine: Fixtures.engine).last)
        try #require(visit.kind == .bentPrint && visit.photo.path.hasSuffix("mark_warner/02.jpg"),
                     "seed 3's visit 45 is now \(visit.kind.rawValue) of \(visit.photo.path): the plan changed")
        let tracks = try await Self.trial.measure(try visit.scene())
        #expect(tracks.count >= 2, "both faces of the photo are followed")
        #expect(tracks.allSatisfy { $0.provenAt(.standard) == nil }, "found live: \(tracks.map { ($0.track, $0.finding(.standard)) })")
        // What stops it is the comparison: without it, a face of this visit is found live.
        #expect(tracks.contains { $0.provenAt(LivenessRule(pictureMisfit: -1)) != nil })
    }

    @Test func noAttackVisitIsFoundLive() async throws {
        let visits = try AttackPlan.visits(Self.sample, people: Self.people(), seed: 1, engine: Fixtures.engine)
        var judged = 0
        for visit in visits {
            let tracks = try await Self.trial.measure(try visit.scene())
            let live = tracks.filter { $0.provenAt(.standard) != nil }
            #expect(live.isEmpty, "\(visit.kind.rawValue) of \(visit.person) at \(visit.faceWidth) px, light \(visit.light): found live")
            if visit.kind != .still { judged += tracks.contains { $0.finding(.standard).moved >= LivenessRule.standard.fewestSteps } ? 1 : 0 }
        }
        // The moving pictures were judged, not merely unmeasured.
        #expect(judged >= Self.sample * 3 / 4 - 1, "\(judged) moving visits judged")
    }
}
