import FaceAccess
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

    /// A rule under which no step carries its own surround, so every moving face is compared.
    static let comparing = LivenessRule(carriedSurround: 1.01)

    @Test func facesMeasuredFromTheSameEarlierFrameAreComparedWithEachOther() throws {
        var watch = SurfaceWatch()
        let none = watch.observe(try patches(0, tracks: [1, 2]), wanted: [1, 2], at: start, rule: Self.comparing)
        #expect(none.isEmpty)
        // 0.1 s later, the whole picture moved: both measured from the first frame, each with
        // the other as its companion, and each moved with the other.
        let both = watch.observe(try patches(8, tracks: [1, 2]), wanted: [1, 2], at: start.addingTimeInterval(0.1), rule: Self.comparing)
        #expect(both.count == 2)
        for id: Int64 in [1, 2] {
            let companions = try #require(both[id]).companions
            #expect(companions.count == 1)
            let other = try #require(companions.first)
            #expect(other.misfit < 0.01 && other.motion > 0.02, "\(companions)")
        }
        // Track 1 alone in a frame: measured from the first frame, with nobody to compare.
        let alone = watch.observe(try patches(10, tracks: [1]), wanted: [1], at: start.addingTimeInterval(0.13), rule: Self.comparing)
        #expect(alone.count == 1 && alone[1]?.companions.isEmpty == true)
        // Both again, only track 2 wanted: it is measured from 0.1 s, where track 1 has a patch
        // too, so track 1 is measured from there for the comparison; track 1 itself is not returned.
        var copy = watch
        let second = watch.observe(try patches(16, tracks: [1, 2]), wanted: [2], at: start.addingTimeInterval(0.26), rule: Self.comparing)
        #expect(second.keys.sorted() == [2])
        #expect(second[2]?.companions.count == 1)
        // Track 1 wanted instead: measured from 0.13 s, where track 2 has no patch: nothing to compare.
        let first = copy.observe(try patches(16, tracks: [1, 2]), wanted: [1], at: start.addingTimeInterval(0.26), rule: Self.comparing)
        #expect(first.keys.sorted() == [1])
        #expect(first[1]?.companions.isEmpty == true)
    }

    /// A face whose own surround moved with it is a picture's already: it is not compared.
    @Test func aFaceThatCarriedItsSurroundIsNotCompared() throws {
        var watch = SurfaceWatch()
        _ = watch.observe(try patches(0, tracks: [1, 2]), wanted: [1, 2], at: start, rule: .standard)
        let moved = watch.observe(try patches(8, tracks: [1, 2]), wanted: [1, 2], at: start.addingTimeInterval(0.1), rule: .standard)
        #expect(moved.count == 2)
        #expect(moved.values.allSatisfy { ($0.rigidSurround ?? 0) > LivenessRule.standard.carriedSurround && $0.companions.isEmpty })
    }

    /// A face that barely moved shows nothing of the sort: it is not compared.
    @Test func aFaceThatBarelyMovedIsNotCompared() throws {
        var watch = SurfaceWatch()
        _ = watch.observe(try patches(0, tracks: [1, 2]), wanted: [1, 2], at: start, rule: Self.comparing)
        let still = watch.observe(try patches(1, tracks: [1, 2]), wanted: [1, 2], at: start.addingTimeInterval(0.1), rule: Self.comparing)
        #expect(still.count == 2)
        #expect(still.values.allSatisfy { $0.motion < LivenessRule.standard.movedEnough && $0.companions.isEmpty })
    }

    @Test func aSingleFaceIsMeasuredAsBefore() throws {
        var single = SurfaceWatch()
        let first = try patches(0, tracks: [1]), later = try patches(12, tracks: [1])
        let unmeasured = single.observe(1, first[0].patch, at: start)
        #expect(unmeasured == nil)
        let measured = single.observe(1, later[0].patch, at: start.addingTimeInterval(0.1))
        let motion = try #require(measured)
        #expect(motion.companions.isEmpty && motion.motion > 0.02)
    }
}
