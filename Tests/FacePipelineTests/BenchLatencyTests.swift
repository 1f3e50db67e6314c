import FaceCapture
import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import Testing
@testable import facebench

/// How facebench pipeline ties a decision to the visit it decided and to the frames the source sent.
struct BenchLatencyTests {
    let visits = [ReplayVisit(label: "a", first: 75, last: 119), ReplayVisit(label: "b", first: 195, last: 239)]

    @Test func decisionsGoToTheVisitWhoseFramesOrRejoinWindowHoldTheirFrame() {
        // 60 frames of rejoin: 75...179 and 195...299.
        let matched = VisitDecisions(visits: visits, decidingFrames: [74, 80, 180, 181, 200, 300, 301], rejoinFrames: 60)
        #expect(matched.perVisit == [[1, 2], [4, 5]])
        #expect(matched.stray == [0, 3, 6])
        #expect(matched.undecided == 0)
        #expect(matched.extra == 2)
    }

    @Test func whereWindowsOverlapTheVisitThatBeganLastTakesTheDecision() {
        // b begins inside a's rejoin window: a decision at 200 is b's, one at 150 still a's.
        let matched = VisitDecisions(visits: visits, decidingFrames: [150, 200], rejoinFrames: 120)
        #expect(matched.perVisit == [[0], [1]])
        let late = VisitDecisions(visits: visits, decidingFrames: [250], rejoinFrames: 60)
        #expect(late.perVisit == [[], [0]])
        #expect(late.undecided == 1)
    }

    @Test func aDecisionsLoggedTimeFindsTheFrameItWasStampedWith() throws {
        let start = Date(timeIntervalSince1970: 1_700_000_000.123_456)
        var sent = SentFrames()
        for i in 0 ..< 90 { sent.append(index: i, stamp: start.addingTimeInterval(Double(i) / 30), sentAt: Double(i) / 30 + 0.002) }
        for i in [0, 1, 29, 45, 89] {
            // The log keeps milliseconds: what the event says is the stamp cut to them.
            let logged = try #require(AuditEvent(kind: .decision, time: start.addingTimeInterval(Double(i) / 30), camera: "door").date)
            #expect(sent.index(stampedNear: logged) == i)
            #expect(sent.sentAt(index: i) == Double(i) / 30 + 0.002)
        }
        #expect(sent.sentAt(index: 90) == nil)
    }

    @Test func theRecordingSourceNotesEveryFrameItHandsOnInOrder() async throws {
        let dir = try TempDirectory()
        let (bytes, count) = try ReplayBuilder(width: 160, height: 120).build([.empty(frames: 12)])
        let path = try dir.write("replay.mjpeg", bytes)
        let source = RecordingSource(try MJPEGFileSource(path: path, fps: 30, clock: .media))
        var stamps = [Date]()
        for try await frame in source.frames() { stamps.append(frame.time) }
        let sent = source.log.sent
        #expect(count == 12 && sent.count == 12)
        #expect(sent.indexes == Array(0 ..< 12))
        #expect(sent.stamps == stamps)
        #expect(sent.sentAt == sent.sentAt.sorted())
    }
}
