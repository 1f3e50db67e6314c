import FacePipeline
import FaceStore
import Foundation
import Testing

/// Camera health from the frames alone: runs of dark and of undecodable frames.
@Suite struct CameraWatchTests {
    struct Garbage: Error, CustomStringConvertible { var description: String { "not a JPEG" } }
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aDarkRunIsReportedOnceAfterItsTimeAndItsEndOnce() {
        var watch = CameraWatch(reportAfter: 10)
        var changes = [CameraWatch.Change]()
        for i in 0 ... 120 { if let c = watch.dark(at: start.addingTimeInterval(Double(i) / 10)) { changes.append(c) } }
        #expect(changes.map(\.reason) == [.dark], "reported once, at 10 s")
        #expect(watch.darkRun == 121 && watch.darkFrames == 121)
        #expect(watch.light(at: start.addingTimeInterval(12.1))?.reason == .light)
        #expect(watch.darkRun == 0)
        #expect(watch.light(at: start.addingTimeInterval(12.2)) == nil, "light is said once")
    }

    @Test func aShortDarkRunIsNotReported() {
        var watch = CameraWatch(reportAfter: 10)
        for i in 0 ..< 50 { #expect(watch.dark(at: start.addingTimeInterval(Double(i) / 10)) == nil) }
        #expect(watch.light(at: start.addingTimeInterval(5)) == nil)
    }

    @Test func framesFailingForLongAreALostCameraAndTheFirstGoodOneRestoresIt() throws {
        var watch = CameraWatch(reportAfter: 2)
        var changes = [CameraWatch.Change]()
        for i in 0 ... 30 { if let c = watch.failed(Garbage(), at: start.addingTimeInterval(Double(i) / 10)) { changes.append(c) } }
        #expect(changes.map(\.reason) == [.lost])
        #expect(try #require(changes.first).detail.contains("not a JPEG"))
        #expect(watch.badFrames == 31)
        #expect(watch.decoded(at: start.addingTimeInterval(3.1))?.reason == .restored)
        #expect(watch.decoded(at: start.addingTimeInterval(3.2)) == nil)
    }
}
