import Foundation

/// A face's patch of one frame, for measuring how its surface moves between frames: the gray
/// picture resampled so that the face is `faceWidth` pixels wide, centred on the face's box,
/// with where the face's own surface lies (an ellipse from the landmarks, inside the cheeks and
/// below the brows: the box's corners show what is behind the face).
public struct FacePatch: Sendable {
    /// The face's width in the patch, and the patch's side: twice that.
    public static let faceWidth: Float = 96
    public static let side = 192

    /// Row-major, `side` x `side`.
    let pixels: [Float]
    /// Camera pixels per patch pixel.
    let scale: Float
    /// The camera point at the patch's centre.
    let centre: Point
    /// The face's surface in patch pixels.
    let surface: Ellipse

    struct Ellipse: Sendable {
        var centre: Point
        /// Half-axes along the eyes' line and across it, and that line's angle.
        var across: Float
        var along: Float
        var angle: Float

        func contains(_ x: Float, _ y: Float) -> Bool {
            let dx = x - centre.x, dy = y - centre.y
            let c = cos(angle), s = sin(angle)
            let u = (dx * c + dy * s) / across, v = (-dx * s + dy * c) / along
            return u * u + v * v <= 1
        }
    }

    /// `box` and `landmarks` in `gray`'s pixels, of which one spans `cameraPixels` of the
    /// camera's a side (frames decoded at another scale compare in camera pixels). Without
    /// landmarks the surface is an ellipse well inside the box.
    public init(gray: GrayImage, box: PixelRect, landmarks: FaceLandmarks?, cameraPixels: Double = 1) {
        let scale = Float(max(1, box.width)) / Self.faceWidth
        let centre = Point(x: Float(box.x) + Float(box.width) / 2, y: Float(box.y) + Float(box.height) / 2)
        self.scale = scale * Float(cameraPixels)
        self.centre = Point(x: centre.x * Float(cameraPixels), y: centre.y * Float(cameraPixels))
        pixels = Self.resample(gray, centre: centre, scale: scale)
        let half = Float(Self.side) / 2
        func toPatch(_ p: Point) -> Point { Point(x: (p.x - centre.x) / scale + half, y: (p.y - centre.y) / scale + half) }
        if let points = landmarks?.points, points.count == 5 {
            // dlib's 5 points: two corners of each eye, then the bottom of the nose.
            let p = points.map(toPatch)
            let eyeA = Point(x: (p[0].x + p[1].x) / 2, y: (p[0].y + p[1].y) / 2)
            let eyeB = Point(x: (p[2].x + p[3].x) / 2, y: (p[2].y + p[3].y) / 2)
            let between = Point(x: (eyeA.x + eyeB.x) / 2, y: (eyeA.y + eyeB.y) / 2)
            let d = max(4, hypot(eyeA.x - eyeB.x, eyeA.y - eyeB.y))
            // The eyes' line, pointing left to right in the picture.
            var angle = atan2(eyeB.y - eyeA.y, eyeB.x - eyeA.x)
            if eyeB.x < eyeA.x { angle = atan2(eyeA.y - eyeB.y, eyeA.x - eyeB.x) }
            // From between the eyes to the bottom of the nose (a turned head carries the nose
            // sideways): the ellipse's middle lies 4/5 of the way, about the nose's tip.
            let nose = p[4]
            surface = Ellipse(centre: Point(x: between.x + 0.8 * (nose.x - between.x), y: between.y + 0.8 * (nose.y - between.y)),
                              across: 0.8 * d, along: 0.85 * d, angle: angle)
        } else {
            let w = Self.faceWidth, h = Float(box.height) / scale
            surface = Ellipse(centre: Point(x: half, y: half + 0.05 * h), across: 0.33 * w, along: 0.38 * h, angle: 0)
        }
    }

    /// Bilinear samples of `gray` on the patch's grid; outside the picture, its nearest edge.
    private static func resample(_ gray: GrayImage, centre: Point, scale: Float) -> [Float] {
        let side = Self.side, half = Float(side) / 2
        var out = [Float](repeating: 0, count: side * side)
        let w = gray.width, h = gray.height
        guard w > 0, h > 0 else { return out }
        gray.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for v in 0 ..< side {
                    let y = min(Float(h - 1), max(0, centre.y + (Float(v) + 0.5 - half) * scale - 0.5))
                    let y0 = min(h - 2, Int(y)), fy = y - Float(y0)
                    let row0 = max(0, y0) * w, row1 = min(h - 1, y0 + 1) * w
                    for u in 0 ..< side {
                        let x = min(Float(w - 1), max(0, centre.x + (Float(u) + 0.5 - half) * scale - 0.5))
                        let x0 = min(w - 2, Int(x)), fx = x - Float(x0)
                        let xa = max(0, x0), xb = min(w - 1, x0 + 1)
                        let top = Float(src[row0 + xa]) * (1 - fx) + Float(src[row0 + xb]) * fx
                        let bottom = Float(src[row1 + xa]) * (1 - fx) + Float(src[row1 + xb]) * fx
                        dst[v * side + u] = top * (1 - fy) + bottom * fy
                    }
                }
            }
        }
        return out
    }

    /// A patch point in the frame's pixels.
    func framePoint(_ p: Point) -> Point {
        let half = Float(Self.side) / 2
        return Point(x: centre.x + (p.x - half) * scale, y: centre.y + (p.y - half) * scale)
    }

    /// A frame point in the patch's pixels.
    func patchPoint(_ p: Point) -> Point {
        let half = Float(Self.side) / 2
        return Point(x: (p.x - centre.x) / scale + half, y: (p.y - centre.y) / scale + half)
    }
}

/// How far the motion of a face's surface between two frames is from the motion of a plane: a
/// real head shows parallax as it turns or comes closer (nose, cheeks and brows move apart), a
/// picture held to the camera, printed or on a screen, moves as one plane whichever way it is
/// held. Points on the face's surface are followed from one patch to the other (pyramidal
/// Lucas-Kanade, kept where following them back lands where they started), a homography is
/// fitted to them by least median of squares, and what it cannot explain is measured.
public struct SurfaceMotion: Sendable, Hashable {
    /// The 90th percentile of the points' distances from where the homography puts them, over
    /// the face's width in the first frame.
    public var residual: Double
    /// Points followed both ways.
    public var points: Int
    /// How far the surface moved, median over the points, over the face's width: a face that held
    /// still shows no parallax either way.
    public var motion: Double
    /// Of the points followed around the face (hair, ears, what is behind it, or the picture's
    /// margin and the rest of the photo), the share that moved as the face's plane did; nil when
    /// too few could be followed. A picture moves with everything printed around its face.
    public var rigidSurround: Double?
    /// The other faces in view measured over the same two frames: a second face in a printed
    /// group photo may sit at the paper's edge, with the wall around it, but it moves with the
    /// plane of the photo's other face, whose margin moves with it.
    public var companions: [Companion]

    /// Another face's step over the same two frames.
    public struct Companion: Sendable, Hashable, Codable {
        /// The other face's `rigidSurround`.
        public var surround: Double?
        /// The other face's `motion`: a face held still is no companion.
        public var motion: Double
        /// How far this face's points went from where the other face's motion puts them, over
        /// this face's width (`SurfaceTrace.misfit`).
        public var misfit: Double

        public init(surround: Double?, motion: Double, misfit: Double) {
            self.surround = surround
            self.motion = motion
            self.misfit = misfit
        }
    }

    public init(residual: Double, points: Int, motion: Double, rigidSurround: Double? = nil, companions: [Companion] = []) {
        self.residual = residual
        self.points = points
        self.motion = motion
        self.rigidSurround = rigidSurround
        self.companions = companions
    }

    /// Fewer points than this followed both ways measure nothing.
    public static let fewestPoints = 24
    /// Corners looked for on the face's surface.
    static let mostPoints = 200

    /// Nil when too few points could be followed (a face without texture, a blur, a cut).
    public static func measure(from a: FacePatch, to b: FacePatch) -> SurfaceMotion? { traced(from: a, to: b)?.motion }

    /// The measurement, and the face's plane and points in the frame's pixels: what another
    /// face's measurement over the same two frames is compared with (`SurfaceTrace`).
    public static func traced(from a: FacePatch, to b: FacePatch) -> (motion: SurfaceMotion, trace: SurfaceTrace)? {
        let side = FacePatch.side
        // Followed on the patches' detail: a glare or a shadow that slides over the surface (a
        // smooth change of light) does not drag the points with it.
        let pyramidA = Pyramid(Self.detail(a.pixels, side: side), width: side, height: side)
        let pyramidB = Pyramid(Self.detail(b.pixels, side: side), width: side, height: side)
        let starts = corners(in: pyramidA.levels[0], inside: a.surface)
        guard starts.count >= fewestPoints else { return nil }
        var from = [Point](), to = [Point]()
        for p in starts {
            // Each patch is centred on its own box and as wide as its face: a point of the face
            // is about where it was in the patch, however far the face moved in the frame.
            guard let q = followed(p, pyramidA, pyramidB, guesses: [p]) else { continue }
            from.append(p)
            // In A's patch pixels, so that distances are over A's face width.
            to.append(a.patchPoint(b.framePoint(q)))
        }
        guard from.count >= fewestPoints else { return nil }
        let moved = zip(from, to).map { Double(hypot($1.x - $0.x, $1.y - $0.y)) }.sorted()
        guard let h = Homography.leastMedian(from: from, to: to) else { return nil }
        let distances = zip(from, to).map { h.distance($0, $1) }.sorted()
        let p90 = distances[min(distances.count - 1, Int(Double(distances.count) * 0.9))]
        let motion = SurfaceMotion(residual: p90 / Double(FacePatch.faceWidth), points: from.count,
                                   motion: moved[moved.count / 2] / Double(FacePatch.faceWidth),
                                   rigidSurround: surround(a, b, pyramidA, pyramidB, plane: h))
        return (motion, SurfaceTrace(plane: h, patch: a, from: from, to: to))
    }

    /// The share of points around the face, outside its surface grown by a fifth, that `plane`
    /// puts within `rigidDistance` of where they went; nil when fewer than `fewestPoints` were followed.
    static func surround(_ a: FacePatch, _ b: FacePatch, _ pyramidA: Pyramid, _ pyramidB: Pyramid, plane: Homography) -> Double? {
        var grown = a.surface
        grown.across *= 1.2
        grown.along *= 1.2
        let starts = corners(in: pyramidA.levels[0], inside: nil, outside: grown)
        var followed = 0, rigid = 0
        for p in starts {
            // Around the face, a point may have moved with it (hair, the picture's margin) or
            // stayed where it was in the frame (a wall): each start is tried.
            guard let q = Self.followed(p, pyramidA, pyramidB, guesses: [p, b.patchPoint(a.framePoint(p))]) else { continue }
            followed += 1
            if plane.distance(p, a.patchPoint(b.framePoint(q))) <= rigidDistance { rigid += 1 }
        }
        return followed >= fewestPoints ? Double(rigid) / Double(followed) : nil
    }

    /// The picture less its Gaussian blur (σ of `detailSigma` patch pixels): what is finer than a
    /// twentieth of the face.
    static func detail(_ pixels: [Float], side: Int) -> [Float] {
        let sigma = detailSigma, radius = Int((3 * sigma).rounded(.up))
        let kernel = (-radius ... radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        let weights = kernel.map { $0 / total }
        var across = [Float](repeating: 0, count: pixels.count), blurred = across
        pixels.withUnsafeBufferPointer { p in
            across.withUnsafeMutableBufferPointer { out in
                for y in 0 ..< side {
                    for x in 0 ..< side {
                        var sum: Float = 0
                        for k in -radius ... radius { sum += weights[k + radius] * p[y * side + min(side - 1, max(0, x + k))] }
                        out[y * side + x] = sum
                    }
                }
            }
        }
        across.withUnsafeBufferPointer { p in
            blurred.withUnsafeMutableBufferPointer { out in
                for y in 0 ..< side {
                    for x in 0 ..< side {
                        var sum: Float = 0
                        for k in -radius ... radius { sum += weights[k + radius] * p[min(side - 1, max(0, y + k)) * side + x] }
                        out[y * side + x] = sum
                    }
                }
            }
        }
        return zip(pixels, blurred).map { $0 - $1 }
    }

    static let detailSigma: Float = 4

    /// Where `p` of `a` went in `b`, from the first of `guesses` that follows it there and back
    /// to within `maxRoundTrip`; nil when none does.
    static func followed(_ p: Point, _ a: Pyramid, _ b: Pyramid, guesses: [Point]) -> Point? {
        for guess in guesses {
            if let q = track(p, from: a, to: b, guess: guess), let back = track(q, from: b, to: a, guess: p),
               hypot(back.x - p.x, back.y - p.y) <= maxRoundTrip {
                return q
            }
        }
        return nil
    }

    /// Patch pixels: a hundredth of the face's width.
    static let rigidDistance = Double(FacePatch.faceWidth) / 100

    /// A point that does not come back within this many patch pixels was not followed.
    static let maxRoundTrip: Float = 0.5
    /// Half the side of the window each point is followed with.
    static let window = 5
    static let iterations = 20

    /// Shi-Tomasi corners (the smaller eigenvalue of the gradients' structure over a 5x5
    /// window), strongest first, at least 4 pixels apart, inside `surface` and far enough from
    /// the patch's edge for the window.
    static func corners(in image: FloatImage, inside surface: FacePatch.Ellipse?, outside hole: FacePatch.Ellipse? = nil) -> [Point] {
        let w = image.width, h = image.height, margin = window + 2
        guard w > 2 * margin, h > 2 * margin else { return [] }
        var strength = [Float](repeating: 0, count: w * h)
        image.pixels.withUnsafeBufferPointer { p in
            var gxx = [Float](repeating: 0, count: w * h), gxy = gxx, gyy = gxx
            for y in 1 ..< h - 1 {
                for x in 1 ..< w - 1 {
                    let i = y * w + x
                    let gx = (p[i + 1] - p[i - 1]) / 2, gy = (p[i + w] - p[i - w]) / 2
                    gxx[i] = gx * gx; gxy[i] = gx * gy; gyy[i] = gy * gy
                }
            }
            for y in margin ..< h - margin {
                for x in margin ..< w - margin where surface?.contains(Float(x), Float(y)) ?? true && !(hole?.contains(Float(x), Float(y)) ?? false) {
                    var a: Float = 0, b: Float = 0, c: Float = 0
                    for dy in -2 ... 2 {
                        let row = (y + dy) * w + x
                        for dx in -2 ... 2 {
                            a += gxx[row + dx]; b += gxy[row + dx]; c += gyy[row + dx]
                        }
                    }
                    strength[y * w + x] = (a + c) / 2 - sqrt(((a - c) / 2) * ((a - c) / 2) + b * b)
                }
            }
        }
        let strongest = strength.max() ?? 0
        guard strongest > 0 else { return [] }
        let floor = strongest * 0.01
        var candidates = [(Float, Int)]()
        for i in strength.indices where strength[i] > floor {
            let x = i % w, y = i / w
            // A local maximum of its 3x3 neighbourhood.
            var peak = true
            for dy in -1 ... 1 where peak {
                for dx in -1 ... 1 where (dx != 0 || dy != 0) && strength[(y + dy) * w + x + dx] > strength[i] { peak = false }
            }
            if peak { candidates.append((strength[i], i)) }
        }
        candidates.sort { $0.0 > $1.0 }
        var taken = [Point]()
        let spacing: Float = 4
        var grid = [Int: [Point]]()
        for (_, i) in candidates {
            let p = Point(x: Float(i % w), y: Float(i / w))
            let cx = Int(p.x / spacing), cy = Int(p.y / spacing)
            var near = false
            for gy in cy - 1 ... cy + 1 where !near {
                for gx in cx - 1 ... cx + 1 where !near {
                    near = grid[gy * 1000 + gx]?.contains { hypot($0.x - p.x, $0.y - p.y) < spacing } ?? false
                }
            }
            if near { continue }
            grid[cy * 1000 + cx, default: []].append(p)
            taken.append(p)
            if taken.count >= mostPoints { break }
        }
        return taken
    }

    /// Where `p` of `a`'s finest level went in `b` (pyramidal Lucas-Kanade, Bouguet's scheme),
    /// starting from `guess`; nil when it could not be followed (no texture, out of the patch).
    static func track(_ p: Point, from a: Pyramid, to b: Pyramid, guess: Point) -> Point? {
        var gx = (guess.x - p.x) / Float(1 << (a.levels.count - 1))
        var gy = (guess.y - p.y) / Float(1 << (a.levels.count - 1))
        for level in stride(from: a.levels.count - 1, through: 0, by: -1) {
            let ia = a.levels[level], ja = b.levels[level]
            let f = Float(1 << level)
            let px = p.x / f, py = p.y / f
            let r = window
            let edge = Float(r + 1)
            guard px >= edge, py >= edge, px < Float(ia.width) - edge, py < Float(ia.height) - edge else { return nil }
            // The template and its gradients, and their structure.
            var tpl = [Float](), ix = [Float](), iy = [Float]()
            tpl.reserveCapacity((2 * r + 1) * (2 * r + 1)); ix.reserveCapacity(tpl.capacity); iy.reserveCapacity(tpl.capacity)
            var sxx: Float = 0, sxy: Float = 0, syy: Float = 0
            for dy in -r ... r {
                for dx in -r ... r {
                    let x = px + Float(dx), y = py + Float(dy)
                    let gxv = (ia.sample(x + 1, y) - ia.sample(x - 1, y)) / 2
                    let gyv = (ia.sample(x, y + 1) - ia.sample(x, y - 1)) / 2
                    tpl.append(ia.sample(x, y)); ix.append(gxv); iy.append(gyv)
                    sxx += gxv * gxv; sxy += gxv * gyv; syy += gyv * gyv
                }
            }
            let det = sxx * syy - sxy * sxy
            let n = Float(tpl.count)
            let minEigen = ((sxx + syy) / 2 - sqrt(((sxx - syy) / 2) * ((sxx - syy) / 2) + sxy * sxy)) / n
            guard det > 1e-6, minEigen > 1e-3 else { return nil }
            var vx: Float = 0, vy: Float = 0
            for _ in 0 ..< iterations {
                var bx: Float = 0, by: Float = 0
                var k = 0
                let qx = px + gx + vx, qy = py + gy + vy
                guard qx >= edge, qy >= edge, qx < Float(ja.width) - edge, qy < Float(ja.height) - edge else { return nil }
                for dy in -r ... r {
                    for dx in -r ... r {
                        let e = tpl[k] - ja.sample(qx + Float(dx), qy + Float(dy))
                        bx += e * ix[k]; by += e * iy[k]
                        k += 1
                    }
                }
                let ex = (syy * bx - sxy * by) / det, ey = (sxx * by - sxy * bx) / det
                vx += ex; vy += ey
                if ex * ex + ey * ey < 1e-4 { break }
            }
            if level > 0 {
                gx = 2 * (gx + vx); gy = 2 * (gy + vy)
            } else {
                gx += vx; gy += vy
            }
        }
        let q = Point(x: p.x + gx, y: p.y + gy)
        guard q.x.isFinite, q.y.isFinite else { return nil }
        return q
    }
}

/// A float picture, row-major.
struct FloatImage: Sendable {
    let width: Int
    let height: Int
    let pixels: [Float]

    /// Bilinear; coordinates clamped to the picture.
    @inline(__always)
    func sample(_ x: Float, _ y: Float) -> Float {
        let cx = min(Float(width - 1), max(0, x)), cy = min(Float(height - 1), max(0, y))
        let x0 = min(width - 2, Int(cx)), y0 = min(height - 2, Int(cy))
        let fx = cx - Float(x0), fy = cy - Float(y0)
        let i = y0 * width + x0
        let top = pixels[i] * (1 - fx) + pixels[i + 1] * fx
        let bottom = pixels[i + width] * (1 - fx) + pixels[i + width + 1] * fx
        return top * (1 - fy) + bottom * fy
    }
}

/// Three levels, each half the one before (a 1-4-6-4-1 blur, then every other pixel).
struct Pyramid: Sendable {
    let levels: [FloatImage]

    init(_ pixels: [Float], width: Int, height: Int, count: Int = 3) {
        var levels = [FloatImage(width: width, height: height, pixels: pixels)]
        while levels.count < count, let last = levels.last, last.width >= 32, last.height >= 32 {
            levels.append(Self.halved(last))
        }
        self.levels = levels
    }

    private static func halved(_ image: FloatImage) -> FloatImage {
        let w = image.width, h = image.height
        let kernel: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }
        var across = [Float](repeating: 0, count: w * h)
        for y in 0 ..< h {
            for x in 0 ..< w {
                var sum: Float = 0
                for k in -2 ... 2 { sum += kernel[k + 2] * image.pixels[y * w + min(w - 1, max(0, x + k))] }
                across[y * w + x] = sum
            }
        }
        let hw = w / 2, hh = h / 2
        var out = [Float](repeating: 0, count: hw * hh)
        for y in 0 ..< hh {
            for x in 0 ..< hw {
                var sum: Float = 0
                for k in -2 ... 2 { sum += kernel[k + 2] * across[min(h - 1, max(0, 2 * y + k)) * w + 2 * x] }
                out[y * hw + x] = sum
            }
        }
        return FloatImage(width: hw, height: hh, pixels: out)
    }
}

/// One face's surface measured between two frames, in the frame's pixels: the points followed
/// on it. Two faces of one picture (a group photo, printed or on a screen) move together: each
/// one's points go where the other's motion puts them, as two heads' only do while they keep
/// the same pace and depth.
public struct SurfaceTrace: Sendable {
    /// Where the points were in the first frame, and where they went.
    let from: [Point]
    let to: [Point]
    /// The face's width in the frame's pixels.
    let faceWidth: Double

    /// `from` and `to` in `patch`'s pixels, less the tenth that `plane` explains worst: points
    /// followed astray would pull a fit to this face's points, and its misfit under another's.
    init(plane: Homography, patch: FacePatch, from: [Point], to: [Point]) {
        let distances = zip(from, to).map { plane.distance($0, $1) }
        let limit = distances.sorted()[min(distances.count - 1, Int(Double(distances.count) * 0.9))]
        let kept = distances.indices.filter { distances[$0] <= limit }
        self.from = kept.map { patch.framePoint(from[$0]) }
        self.to = kept.map { patch.framePoint(to[$0]) }
        faceWidth = Double(patch.scale * FacePatch.faceWidth)
    }

    /// How far this face's points went from where `other`'s motion, carried over to here, puts
    /// them: the median, over this face's width; infinite when no motion could be fitted. That
    /// motion is the affine map fitted to the other face's points: a homography's perspective
    /// part, fitted on one face, is mostly noise that grows with the distance it is carried.
    public func misfit(under other: SurfaceTrace) -> Double {
        guard faceWidth > 0, !from.isEmpty, let map = Affine.fitted(from: other.from, to: other.to) else { return .infinity }
        let distances = zip(from, to).map { p, q -> Double in
            let (x, y) = map.apply(p)
            let d = hypot(x - Double(q.x), y - Double(q.y))
            return d.isFinite ? d : .infinity
        }.sorted()
        return distances[distances.count / 2] / faceWidth
    }
}

/// x' = a x + b y + c, y' = d x + e y + f.
struct Affine {
    var m: [Double]

    func apply(_ p: Point) -> (Double, Double) {
        let x = Double(p.x), y = Double(p.y)
        return (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    /// Least squares over the pairs (3 or more, not in a line).
    static func fitted(from: [Point], to: [Point]) -> Affine? {
        guard from.count >= 3, from.count == to.count else { return nil }
        let n = Double(from.count)
        let cx = from.reduce(0) { $0 + Double($1.x) } / n, cy = from.reduce(0) { $0 + Double($1.y) } / n
        var sxx = 0.0, sxy = 0.0, syy = 0.0, u = [0.0, 0, 0], v = [0.0, 0, 0]
        for (p, q) in zip(from, to) {
            let x = Double(p.x) - cx, y = Double(p.y) - cy, qx = Double(q.x), qy = Double(q.y)
            sxx += x * x; sxy += x * y; syy += y * y
            u[0] += x * qx; u[1] += y * qx; u[2] += qx
            v[0] += x * qy; v[1] += y * qy; v[2] += qy
        }
        let det = sxx * syy - sxy * sxy
        guard det.isFinite, det > 1e-9 * max(1, sxx * syy) else { return nil }
        // About the centroid, the constant part separates from the linear one.
        let a = (u[0] * syy - u[1] * sxy) / det, b = (u[1] * sxx - u[0] * sxy) / det
        let d = (v[0] * syy - v[1] * sxy) / det, e = (v[1] * sxx - v[0] * sxy) / det
        let m = [a, b, u[2] / n - a * cx - b * cy, d, e, v[2] / n - d * cx - e * cy]
        return m.allSatisfy(\.isFinite) ? Affine(m: m) : nil
    }
}

/// A plane-to-plane mapping of the picture, h33 = 1.
public struct Homography: Sendable {
    var h: [Double]

    public func apply(_ p: Point) -> (Double, Double) {
        let x = Double(p.x), y = Double(p.y)
        let w = h[6] * x + h[7] * y + 1
        return ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w)
    }

    func distance(_ from: Point, _ to: Point) -> Double {
        let (x, y) = apply(from)
        let d = hypot(x - Double(to.x), y - Double(to.y))
        return d.isFinite ? d : .infinity
    }

    /// Least squares over the pairs (4 or more), in coordinates normalised for conditioning; nil
    /// when they do not fix one (three in a line).
    public static func fitted(from: [Point], to: [Point]) -> Homography? {
        guard from.count >= 4, from.count == to.count else { return nil }
        let (ns, ts) = normalising(from), (nd, td) = normalising(to)
        var ata = [Double](repeating: 0, count: 64), atb = [Double](repeating: 0, count: 8)
        for (p, q) in zip(from, to) {
            let x = (Double(p.x) - ns.cx) * ns.s, y = (Double(p.y) - ns.cy) * ns.s
            let u = (Double(q.x) - nd.cx) * nd.s, v = (Double(q.y) - nd.cy) * nd.s
            let rows: [([Double], Double)] = [([x, y, 1, 0, 0, 0, -u * x, -u * y], u), ([0, 0, 0, x, y, 1, -v * x, -v * y], v)]
            for (a, b) in rows {
                for i in 0 ..< 8 {
                    atb[i] += a[i] * b
                    for j in 0 ..< 8 { ata[i * 8 + j] += a[i] * a[j] }
                }
            }
        }
        guard let solution = solve(ata, atb, n: 8) else { return nil }
        // Back from normalised coordinates: H = Td^-1 * Hn * Ts.
        let hn = solution + [1]
        let tsM = ts, tdInv = [1 / nd.s, 0, nd.cx, 0, 1 / nd.s, nd.cy, 0, 0, 1]
        let m = multiply(tdInv, multiply(hn, tsM))
        guard abs(m[8]) > 1e-12 else { return nil }
        let h = m.map { $0 / m[8] }
        guard h.allSatisfy(\.isFinite) else { return nil }
        return Homography(h: Array(h[0 ..< 8]))
    }

    /// Fitted to the pairs by least median of squares (random four-point samples, the same for
    /// the same input), then refitted by least squares to those within 2.5 robust deviations.
    static func leastMedian(from: [Point], to: [Point], samples: Int = 300) -> Homography? {
        let n = from.count
        guard n >= 4 else { return nil }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(n)
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        var best: (median: Double, h: Homography)?
        var squared = [Double](repeating: 0, count: n)
        for _ in 0 ..< samples {
            var picked = Set<Int>()
            while picked.count < 4 { picked.insert(next(n)) }
            // Sorted: a set's order differs from one process to the next.
            let index = picked.sorted()
            guard let h = fitted(from: index.map { from[$0] }, to: index.map { to[$0] }) else { continue }
            for i in 0 ..< n { let d = h.distance(from[i], to[i]); squared[i] = d * d }
            squared.sort()
            let median = squared[n / 2]
            if median.isFinite, best == nil || median < best!.median { best = (median, h) }
        }
        guard let best else { return nil }
        let sigma = 1.4826 * (1 + 5 / Double(max(1, n - 4))) * sqrt(best.median)
        let limit = max(2.5 * sigma, 1e-3)
        let inliers = (0 ..< n).filter { best.h.distance(from[$0], to[$0]) <= limit }
        guard inliers.count >= 8, let refined = fitted(from: inliers.map { from[$0] }, to: inliers.map { to[$0] }) else { return best.h }
        return refined
    }

    /// Centroid and scale so that the mean distance from it is √2, and that as a 3x3 matrix.
    private static func normalising(_ points: [Point]) -> ((cx: Double, cy: Double, s: Double), [Double]) {
        let n = Double(points.count)
        let cx = points.reduce(0) { $0 + Double($1.x) } / n, cy = points.reduce(0) { $0 + Double($1.y) } / n
        let mean = points.reduce(0) { $0 + hypot(Double($1.x) - cx, Double($1.y) - cy) } / n
        let s = mean > 1e-9 ? 2.squareRoot() / mean : 1
        return ((cx, cy, s), [s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1])
    }

    private static func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
        var c = [Double](repeating: 0, count: 9)
        for i in 0 ..< 3 { for j in 0 ..< 3 { for k in 0 ..< 3 { c[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j] } } }
        return c
    }

    /// Gaussian elimination with partial pivoting; nil for a singular system.
    private static func solve(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
        var a = a, b = b
        for col in 0 ..< n {
            var pivot = col
            for row in col + 1 ..< n where abs(a[row * n + col]) > abs(a[pivot * n + col]) { pivot = row }
            guard abs(a[pivot * n + col]) > 1e-12 else { return nil }
            if pivot != col {
                for k in 0 ..< n { a.swapAt(col * n + k, pivot * n + k) }
                b.swapAt(col, pivot)
            }
            for row in col + 1 ..< n {
                let f = a[row * n + col] / a[col * n + col]
                if f == 0 { continue }
                for k in col ..< n { a[row * n + k] -= f * a[col * n + k] }
                b[row] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = b[row]
            for k in row + 1 ..< n { sum -= a[row * n + k] * x[k] }
            x[row] = sum / a[row * n + row]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
