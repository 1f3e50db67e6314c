import FaceTestSupport
import Foundation
import Testing
@testable import FaceVision

/// The liveness measurement's parts: the homography, following points, and a face's surface
/// measured against a plane, on a real photo moved as a plane and moved as a relief.
@Suite struct ParallaxTests {
    /// A tilt, a turn, a zoom and a shift: what a hand-held picture does between two frames.
    static let tilted = Homography(h: [1.03, 0.05, 6, -0.04, 1.02, -4, 2e-5, -1.5e-5])

    static func grid(_ n: Int, _ step: Float = 23) -> [Point] {
        (0 ..< n * n).map { Point(x: 20 + Float($0 % n) * step, y: 15 + Float($0 / n) * step) }
    }

    static func mapped(_ points: [Point], by h: Homography) -> [Point] {
        points.map { let (x, y) = h.apply($0); return Point(x: Float(x), y: Float(y)) }
    }

    @Test func fourPointsFixTheHomography() throws {
        let corners = [Point(x: 0, y: 0), Point(x: 100, y: 0), Point(x: 100, y: 80), Point(x: 0, y: 80)]
        let h = try #require(Homography.fitted(from: corners, to: Self.mapped(corners, by: Self.tilted)))
        for p in Self.grid(5) {
            let (x, y) = h.apply(p), (ex, ey) = Self.tilted.apply(p)
            #expect(abs(x - ex) < 1e-3 && abs(y - ey) < 1e-3)
        }
        // Three in a line fix nothing.
        let line = [Point(x: 0, y: 0), Point(x: 10, y: 10), Point(x: 20, y: 20), Point(x: 30, y: 30)]
        #expect(Homography.fitted(from: line, to: line) == nil)
    }

    @Test func leastMedianIgnoresAThirdOfStrayPoints() throws {
        let from = Self.grid(8)
        var to = Self.mapped(from, by: Self.tilted)
        var rng = SplitMix(state: 11)
        var strays = Set<Int>()
        while strays.count < from.count / 3 { strays.insert(Int.random(in: 0 ..< from.count, using: &rng)) }
        for i in strays { to[i].x += Float.random(in: 5 ... 20, using: &rng) * (Bool.random(using: &rng) ? 1 : -1) }
        let h = try #require(Homography.leastMedian(from: from, to: to))
        for i in from.indices where !strays.contains(i) { #expect(h.distance(from[i], to[i]) < 0.05) }
        // Plain least squares over all of them is pulled away.
        let plain = try #require(Homography.fitted(from: from, to: to))
        #expect(from.indices.filter { !strays.contains($0) }.map { plain.distance(from[$0], to[$0]) }.max()! > 0.5)
    }

    /// obama.jpg, its face and landmarks.
    static func face() throws -> (gray: GrayImage, box: PixelRect, landmarks: FaceLandmarks) {
        let gray = try Fixtures.image("obama.jpg").grayscale()
        let box = try #require(try Fixtures.engine.detect(gray, minFace: 80).first).box
        return (gray, box, try Fixtures.engine.landmarks(of: box, in: gray))
    }

    /// `gray` as seen after each of its points moved by `motion` (the picture drawn back through
    /// its inverse, bilinear).
    static func moved(_ gray: GrayImage, inverse: (Double, Double) -> (Double, Double)) throws -> GrayImage {
        var pixels = [UInt8](repeating: 0, count: gray.width * gray.height)
        for y in 0 ..< gray.height {
            for x in 0 ..< gray.width {
                let (sx, sy) = inverse(Double(x), Double(y))
                let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                guard x0 >= 0, y0 >= 0, x0 + 1 < gray.width, y0 + 1 < gray.height else { continue }
                let fx = sx - Double(x0), fy = sy - Double(y0)
                func at(_ x: Int, _ y: Int) -> Double { Double(gray.pixels[y * gray.width + x]) }
                let v = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy
                pixels[y * gray.width + x] = UInt8(max(0, min(255, v.rounded())))
            }
        }
        return try GrayImage(width: gray.width, height: gray.height, pixels: pixels)
    }

    /// The photo moved as a plane (the inverse of `tilted`, about the face), and the same with the
    /// middle of the face (the nose, between the eyes) carried sideways by `relief` of the face's
    /// width more than the rest, as a head turning by a few degrees shows it.
    static func measured(relief: Double) throws -> SurfaceMotion? {
        let (gray, box, landmarks) = try Self.face()
        let cx = Double(box.midX), cy = Double(box.midY), w = Double(box.width)
        let nose = landmarks.points[4]
        let plane = Homography(h: [1 / 1.03, -0.04, 0, 0.03, 1 / 1.02, 0, 1e-5, 0])
        let after = try moved(gray) { x, y in
            let (px, py) = plane.apply(Point(x: Float(x - cx), y: Float(y - cy)))
            let sx = px + cx - 5, sy = py + cy + 3
            // Centred a little above the nose's bottom: the nose and the eyes' inner corners.
            let dx = sx - Double(nose.x), dy = sy - Double(nose.y) + 0.15 * w
            return (sx - relief * w * exp(-(dx * dx + dy * dy) / (2 * 0.16 * w * 0.16 * w)), sy)
        }
        let boxAfter = try #require(try Fixtures.engine.detect(after, minFace: 80).first).box
        let a = FacePatch(gray: gray, box: box, landmarks: landmarks)
        let b = FacePatch(gray: after, box: boxAfter, landmarks: try Fixtures.engine.landmarks(of: boxAfter, in: after))
        return SurfaceMotion.measure(from: a, to: b)
    }

    @Test func aPictureMovedAsAPlaneLeavesLittleUnexplained() throws {
        let plane = try #require(try Self.measured(relief: 0))
        #expect(plane.points >= SurfaceMotion.fewestPoints)
        #expect(plane.residual < 0.004)
        // It did move: a zoom, a turn and a shift.
        #expect(plane.motion > 0.01)
        // Everything around the face (the photo's hair, suit, wall) moved with it.
        #expect(try #require(plane.rigidSurround) > 0.8)
    }

    /// A head that moves in front of a wall that does not: what surrounds the face is not carried with it.
    @Test func aFaceMovingOverAStillBackgroundDoesNotCarryItsSurround() throws {
        let (gray, box, landmarks) = try Self.face()
        let cx = Double(box.midX), cy = Double(box.midY), r = Double(box.width) * 0.6
        // The head (a disc of 0.6 of the box's width around its middle) shifted by 6 px, blending into the still rest.
        let after = try Self.moved(gray) { x, y in
            let d = ((x - cx - 6) * (x - cx - 6) + (y - cy) * (y - cy)).squareRoot()
            let inside = max(0, min(1, (r - d) / 8 + 0.5))
            return (x - 6 * inside, y)
        }
        let a = FacePatch(gray: gray, box: box, landmarks: landmarks)
        let moved = PixelRect(x: box.x + 6, y: box.y, width: box.width, height: box.height)
        let b = FacePatch(gray: after, box: moved, landmarks: nil)
        let motion = try #require(SurfaceMotion.measure(from: a, to: b))
        #expect(motion.motion > 0.01)
        let share = try #require(motion.rigidSurround)
        #expect(share < 0.5)
    }

    @Test func aFaceWhoseMiddleMovesApartFromItsSidesDoesNotFitAPlane() throws {
        let relief = try #require(try Self.measured(relief: 0.04))
        let plane = try #require(try Self.measured(relief: 0))
        #expect(relief.residual > 0.01)
        #expect(relief.residual > 4 * plane.residual)
    }

    /// A face that crossed a good part of its width between the two frames (someone walking
    /// across, frames dropped while the detector was busy) is measured all the same: each patch
    /// is centred on its own box.
    @Test func aFaceThatMovedFarIsStillMeasured() throws {
        let (gray, box, landmarks) = try Self.face()
        let shift = Double(box.width) / 3
        let after = try Self.moved(gray) { x, y in (x - shift, y) }
        let a = FacePatch(gray: gray, box: box, landmarks: landmarks)
        let moved = PixelRect(x: box.x + Int(shift.rounded()), y: box.y, width: box.width, height: box.height)
        let b = FacePatch(gray: after, box: moved, landmarks: nil)
        let motion = try #require(SurfaceMotion.measure(from: a, to: b))
        #expect(motion.points >= 40)
        #expect(abs(motion.motion - 1.0 / 3) < 0.02)
        #expect(motion.residual < 0.004)
    }

    @Test func aFaceWithoutTextureMeasuresNothing() throws {
        let flat = try GrayImage(width: 400, height: 400, fill: 128)
        let box = PixelRect(x: 100, y: 100, width: 150, height: 150)
        let a = FacePatch(gray: flat, box: box, landmarks: nil)
        #expect(SurfaceMotion.measure(from: a, to: a) == nil)
    }

    @Test func aPatchMapsCameraPointsBothWaysAtAnyDecodedScale() throws {
        let (gray, box, landmarks) = try Self.face()
        let full = FacePatch(gray: gray, box: box, landmarks: landmarks)
        let half = try gray.resized(width: gray.width / 2, height: gray.height / 2)
        let halfBox = PixelRect(x: box.x / 2, y: box.y / 2, width: box.width / 2, height: box.height / 2)
        let small = FacePatch(gray: half, box: halfBox, landmarks: nil, cameraPixels: 2)
        let p = Point(x: Float(box.midX + 13), y: Float(box.midY - 7))
        let back = full.framePoint(full.patchPoint(p))
        #expect(abs(back.x - p.x) < 1e-3 && abs(back.y - p.y) < 1e-3)
        // Both patches put a camera point at the same place: the face is as wide in both.
        let q = full.patchPoint(p), r = small.patchPoint(p)
        #expect(abs(q.x - r.x) < 2 && abs(q.y - r.y) < 2)
        // The surface lies inside the face's box.
        #expect(full.surface.contains(96, 96))
        #expect(!full.surface.contains(48, 48) && !full.surface.contains(144, 48))
    }

    @Test func pointsAreFollowedToAFractionOfAPixel() throws {
        let (gray, box, _) = try Self.face()
        let shifted = try Self.moved(gray) { x, y in (x - 2.3, y + 1.6) }
        let a = FacePatch(gray: gray, box: box, landmarks: nil)
        let b = FacePatch(gray: shifted, box: box, landmarks: nil)
        let pa = Pyramid(a.pixels, width: FacePatch.side, height: FacePatch.side)
        let pb = Pyramid(b.pixels, width: FacePatch.side, height: FacePatch.side)
        let starts = SurfaceMotion.corners(in: pa.levels[0], inside: a.surface)
        #expect(starts.count >= 50)
        let expected = Point(x: 2.3 / a.scale, y: -1.6 / a.scale)
        var errors = [Float]()
        for p in starts {
            guard let q = SurfaceMotion.track(p, from: pa, to: pb, guess: p) else { continue }
            errors.append(hypot(q.x - p.x - expected.x, q.y - p.y - expected.y))
        }
        #expect(errors.count >= starts.count * 8 / 10)
        #expect(errors.sorted()[errors.count / 2] < 0.1)
    }

    /// A photo of two faces, and their landmarks.
    static func group() throws -> (gray: GrayImage, faces: [(box: PixelRect, landmarks: FaceLandmarks)]) {
        let (gray, boxes) = try Fixtures.twoFaces()
        return (gray, try boxes.map { ($0, try Fixtures.engine.landmarks(of: $0, in: gray)) })
    }

    /// Each face's trace from `gray` to `after`, where the faces' boxes moved by `shift` (each
    /// face's own).
    static func traces(_ gray: GrayImage, _ after: GrayImage, _ faces: [(box: PixelRect, landmarks: FaceLandmarks)],
                       shift: [(Double, Double)]) throws -> [(motion: SurfaceMotion, trace: SurfaceTrace)] {
        try zip(faces, shift).map { face, shift in
            let a = FacePatch(gray: gray, box: face.box, landmarks: face.landmarks)
            let moved = PixelRect(x: face.box.x + Int(shift.0.rounded()), y: face.box.y + Int(shift.1.rounded()),
                                  width: face.box.width, height: face.box.height)
            let b = FacePatch(gray: after, box: moved, landmarks: nil)
            let measured = SurfaceMotion.traced(from: a, to: b)
            return try #require(measured, "too few points followed on the face at \(face.box)")
        }
    }

    /// Two faces of one photo moved as one plane (a tilt and a zoom about the picture's middle):
    /// each one's points go where the other's plane puts them.
    @Test func twoFacesOfOnePictureMoveWithEachOthersPlane() throws {
        let (gray, faces) = try Self.group()
        let cx = Double(gray.width) / 2, cy = Double(gray.height) / 2
        let plane = Homography(h: [1 / 1.03, -0.03, 0, 0.02, 1 / 1.02, 0, 4e-6, -3e-6])
        let after = try Self.moved(gray) { x, y in
            let (px, py) = plane.apply(Point(x: Float(x - cx), y: Float(y - cy)))
            return (px + cx - 4, py + cy + 3)
        }
        let shifts = faces.map { face -> (Double, Double) in
            // Where the face's middle went: `plane` maps the moved picture back, so it is solved for.
            let mid = Point(x: Float(face.box.midX), y: Float(face.box.midY))
            var guess = (Double(mid.x), Double(mid.y))
            for _ in 0 ..< 20 {
                let (px, py) = plane.apply(Point(x: Float(guess.0 - cx), y: Float(guess.1 - cy)))
                guess = (guess.0 + Double(mid.x) - (px + cx - 4), guess.1 + Double(mid.y) - (py + cy + 3))
            }
            return (guess.0 - Double(mid.x), guess.1 - Double(mid.y))
        }
        let measured = try Self.traces(gray, after, faces, shift: shifts)
        #expect(measured.allSatisfy { $0.motion.motion > 0.01 })
        let misfits = (measured[0].trace.misfit(under: measured[1].trace), measured[1].trace.misfit(under: measured[0].trace))
        // faced counts a step as a picture's below 0.03 (`LivenessRule.pictureMisfit`).
        #expect(misfits.0 < 0.02 && misfits.1 < 0.02, "\(misfits)")
    }

    /// Two people side by side: each head moves its own way (one steps left and down, the other
    /// right and up). Neither's points go where the other's plane puts them.
    @Test func twoHeadsMovingApartDoNotShareAPlane() throws {
        let (gray, faces) = try Self.group()
        let shifts = [(-5.0, 3.0), (6.0, -2.0)]
        // Each face and what is near it moves with its own head; the rest stays.
        let after = try Self.moved(gray) { x, y in
            for (face, shift) in zip(faces, shifts) {
                let r = Double(face.box.width)
                if abs(x - Double(face.box.midX)) < r, abs(y - Double(face.box.midY)) < r { return (x - shift.0, y - shift.1) }
            }
            return (x, y)
        }
        let measured = try Self.traces(gray, after, faces, shift: shifts)
        let misfits = (measured[0].trace.misfit(under: measured[1].trace), measured[1].trace.misfit(under: measured[0].trace))
        #expect(misfits.0 > 0.05 && misfits.1 > 0.05, "\(misfits)")
    }
}
