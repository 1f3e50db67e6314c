@testable import FacePipeline
import FaceTestSupport
import FaceVision
import Foundation
import Testing

/// The liveness measurements of one frame's faces: each against its own track's earlier patch,
/// and compared with the others measured from the same earlier frame.
@Suite struct SurfaceWatchTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A photo of two faces moved `dx` pixels to the right, and the faces' boxes there.
    static func frame(_ dx: Int) throws -> (gray: GrayImage, boxes: [PixelRect]) {
        let (gray, boxes) = try Fixtures.twoFaces()
        var pixels = gray.pixels
        for y in 0 ..< gray.height {
            for x in 0 ..< gray.width { pixels[y * gray.width + x] = gray.pixels[y * gray.width + max(0, x - dx)] }
        }
        let moved = boxes.map { PixelRect(x: $0.x + dx, y: $0.y, width: $0.width, height: $0.height) }
        return (try GrayImage(width: gray.width, height: gray.height, pixels: pixels), moved)
    }

    func patches(_ dx: Int, tracks: [Int64]) throws -> [(id: Int64, patch: FacePatch)] {
        let (gray, boxes) = try Self.frame(dx)
        return tracks.map { ($0, FacePatch(gray: gray, box: boxes[Int($0) - 1], landmarks: nil)) }
    }

    @Test func facesMeasuredFromTheSameEarlierFrameAreComparedWithEachOther() throws {
        var watch = SurfaceWatch()
        let none = watch.observe(try patches(0, tracks: [1, 2]), at: start)
        #expect(none.isEmpty)
        // 0.1 s later, the whole picture moved: both measured from the first frame, each with
        // the other as its companion, and each moved with the other's plane.
        let both = watch.observe(try patches(4, tracks: [1, 2]), at: start.addingTimeInterval(0.1))
        #expect(both.count == 2)
        for id: Int64 in [1, 2] {
            let companions = try #require(both[id]).companions
            #expect(companions.count == 1)
            let other = try #require(companions.first)
            #expect(other.misfit < 0.01, "\(companions)")
        }
        // Track 1 alone in a frame, then both again: track 1 is measured from that frame, track 2
        // from an older one. Steps over different frames are not compared.
        let alone = watch.observe(try patches(5, tracks: [1]), at: start.addingTimeInterval(0.13))
        #expect(alone.count == 1 && alone[1]?.companions.isEmpty == true)
        let apart = watch.observe(try patches(8, tracks: [1, 2]), at: start.addingTimeInterval(0.26))
        #expect(apart.count == 2)
        #expect(apart.values.allSatisfy { $0.companions.isEmpty })
        // The single-face call measures as before, without companions.
        var single = SurfaceWatch()
        let first = try patches(0, tracks: [1]), later = try patches(12, tracks: [1])
        let unmeasured = single.observe(1, first[0].patch, at: start)
        #expect(unmeasured == nil)
        let measured = single.observe(1, later[0].patch, at: start.addingTimeInterval(0.1))
        let motion = try #require(measured)
        #expect(motion.companions.isEmpty && motion.motion > 0.02)
    }
}
