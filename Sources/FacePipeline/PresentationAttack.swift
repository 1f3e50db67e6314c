import FaceStore
import FaceVision
import Foundation

/// How a picture of someone is held to the camera.
public enum AttackKind: String, CaseIterable, Sendable, Codable {
    /// A photo printed with a white margin, held in the hand: it tilts about both axes, turns a
    /// little, comes closer, trembles.
    case print
    /// The same, the paper bowed (held at its sides): no longer one plane.
    case bentPrint = "bent-print"
    /// A photo on a phone's screen held in the hand: a black bezel, the screen's own light, the
    /// pixel grid (moiré in the camera's picture) and a glare, faint to strong, that stays where the light is.
    case screen
    /// A photo held perfectly still (on a stand): only the camera's noise.
    case still
    /// A print cut along the head's outline (forehead to chin, ear to ear) and held by hand as
    /// `print`, in front of a cluttered wall: what shows around the face is the real scene behind
    /// it, with edges to follow, which does not move with it.
    case cutout = "cut-out"
}

/// A scene that cannot be drawn as asked.
public struct SceneError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One attack visit: a face photo as `kind` shows it to the camera, frame after frame. The
/// picture is a plane (or a bowed sheet) in front of a pinhole camera, its pose a smooth random
/// motion from `seed`; frames carry the camera's noise, and `jpeg(frame:)` its compression.
public struct AttackScene: Sendable {
    public let kind: AttackKind
    public let width: Int
    public let height: Int
    public let fps: Double
    public let frameCount: Int
    public let seed: UInt64
    /// The face's width in the frame at the visit's start, camera pixels.
    public let faceWidth: Double
    /// The light on the scene: the picture's and the background's brightness (printed pictures
    /// and walls), 1 for a well lit door.
    public let light: Double
    /// How long the camera's shutter stays open for a frame, seconds: a picture moved by hand
    /// smears over it as a face does. Zero draws each frame at one instant.
    public let exposure: Double
    private let card: RGBImage
    /// Which card pixels are there (a cut-out's head); nil: all of them.
    private let cardMask: [Bool]?
    /// The face's centre on the card, card pixels.
    private let faceOnCard: (x: Double, y: Double, width: Double)
    private let background: RGBImage
    private let motion: [Double]
    private let bow: Double

    /// The shutter's time when none is given: half a frame's.
    public static func defaultExposure(fps: Double) -> Double { 0.5 / fps }

    /// `photo`: a head-and-shoulders crop and its face (`VisitorPhotos.Photo`); its largest level is printed.
    /// `exposure`: the shutter's time, from 0 to a frame's; by default half a frame's.
    public init(photo: VisitorPhotos.Photo, kind: AttackKind, seed: UInt64, faceWidth: Double = 120, light: Double = 1,
                width: Int = 1280, height: Int = 720, fps: Double = 25, frames: Int = 50, exposure: Double? = nil) throws {
        guard fps.isFinite, fps > 0 else { throw SceneError("fps must be a positive number, not \(fps)") }
        let exposure = exposure ?? Self.defaultExposure(fps: fps)
        guard exposure.isFinite, exposure >= 0, exposure <= 1 / fps else {
            throw SceneError("exposure must be 0 to a frame's time (\(1 / fps) s at \(fps) fps), not \(exposure)")
        }
        self.exposure = exposure
        self.kind = kind
        self.width = width
        self.height = height
        self.fps = fps
        frameCount = frames
        self.seed = seed
        self.faceWidth = faceWidth
        self.light = light
        var rng = SeededRandom(seed: seed)
        let picture = photo.levels[0], face = photo.faces[0]
        (card, faceOnCard) = try Self.card(picture, face: face, kind: kind)
        cardMask = kind == .cutout ? Self.headMask(width: card.width, height: card.height, face: faceOnCard) : nil
        background = kind == .cutout ? try Self.clutteredWall(width: width, height: height, rng: &rng)
            : try VisitScene.background(width: width, height: height, rng: &rng)
        // Per axis (tilts, turn, drifts: 6 values each from 0, 6, 12, 24, 30), two slow sines and a
        // tremor with random frequencies and phases; 18-23 for amplitudes and the glare.
        motion = (0 ..< 36).map { _ in Double.random(in: 0 ... 1, using: &rng) }
        bow = kind == .bentPrint ? Double.random(in: 0.06 ... 0.14, using: &rng) * (Bool.random(using: &rng) ? 1 : -1) : 0
    }

    /// The picture as held: printed with a white margin and the printer's duller tones, or on a
    /// screen with a black bezel, a brighter picture and a visible pixel grid.
    private static func card(_ picture: RGBImage, face: PixelRect, kind: AttackKind) throws -> (RGBImage, (x: Double, y: Double, width: Double)) {
        let margin = max(6, picture.width / 14)
        let w = picture.width + 2 * margin, h = picture.height + 2 * margin
        let screen = kind == .screen
        var pixels = [UInt8](repeating: screen ? 12 : 238, count: w * h * 3)
        for y in 0 ..< picture.height {
            for x in 0 ..< picture.width {
                let src = (y * picture.width + x) * 3, dst = ((y + margin) * w + x + margin) * 3
                for c in 0 ..< 3 {
                    let v = Double(picture.pixels[src + c])
                    let out: Double
                    if screen {
                        // Lit from behind, a touch blue; every third column and row a little darker (the sub-pixels' grid).
                        let grid = (x % 3 == 0 || y % 3 == 0) ? 0.82 : 1.0
                        out = min(255, (v * 1.08 + 10) * grid * (c == 2 ? 1.04 : 1))
                    } else {
                        // Ink on paper: no black blacker than the ink, no white whiter than the paper.
                        out = 22 + v * 0.82
                    }
                    pixels[dst + c] = UInt8(max(0, min(255, out.rounded())))
                }
            }
        }
        let card = try RGBImage(width: w, height: h, pixels: pixels)
        return (card, (Double(face.x + margin) + Double(face.width) / 2, Double(face.y + margin) + Double(face.height) / 2, Double(face.width)))
    }

    /// A wall with things on it (posters, shelves, frames): sharp edges everywhere, which the
    /// points around a face can be followed on.
    private static func clutteredWall(width: Int, height: Int, rng: inout SeededRandom) throws -> RGBImage {
        var pixels = [UInt8](repeating: 128, count: width * height * 3)
        for _ in 0 ..< width * height / 900 {
            let w = Int.random(in: 6 ... 60, using: &rng), h = Int.random(in: 6 ... 60, using: &rng)
            let x0 = Int.random(in: -w ..< width, using: &rng), y0 = Int.random(in: -h ..< height, using: &rng)
            let v = Double.random(in: 30 ... 220, using: &rng)
            let tint = (Double.random(in: 0.8 ... 1.2, using: &rng), Double.random(in: 0.8 ... 1.2, using: &rng))
            let colour = [UInt8(min(255, v * tint.0)), UInt8(min(255, v)), UInt8(min(255, v * tint.1))]
            for y in max(0, y0) ..< min(height, y0 + h) {
                for x in max(0, x0) ..< min(width, x0 + w) {
                    let o = (y * width + x) * 3
                    pixels[o] = colour[0]; pixels[o + 1] = colour[1]; pixels[o + 2] = colour[2]
                }
            }
        }
        return try RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The head a pair of scissors would leave: an ellipse a little wider than the face box and
    /// reaching from above the brows to below the chin (dlib's box spans brows to mouth).
    private static func headMask(width: Int, height: Int, face: (x: Double, y: Double, width: Double)) -> [Bool] {
        let a = 0.62 * face.width, b = 0.8 * face.width, cy = face.y + 0.05 * face.width
        var mask = [Bool](repeating: false, count: width * height)
        for y in 0 ..< height {
            for x in 0 ..< width {
                let dx = (Double(x) + 0.5 - face.x) / a, dy = (Double(y) + 0.5 - cy) / b
                mask[y * width + x] = dx * dx + dy * dy <= 1
            }
        }
        return mask
    }

    /// Camera focal length in pixels (a 65° wide view).
    private var focal: Double { Double(width) * 0.78 }

    /// The card's pose at `frame`: rotations about x, y and z (radians), and where its face's
    /// centre is in front of the camera (x, y, z in card pixels).
    private func pose(at frame: Int) -> (rx: Double, ry: Double, rz: Double, x: Double, y: Double, z: Double) {
        pose(atTime: Double(frame) / fps)
    }

    private func pose(atTime t: Double) -> (rx: Double, ry: Double, rz: Double, x: Double, y: Double, z: Double) {
        let m = motion
        func wave(_ i: Int, _ amplitude: Double) -> Double {
            // Hands sway at about 0.3-1 Hz, and tremble at 6-10 Hz by a tenth of that.
            let slow = sin(2 * .pi * (0.3 + 0.7 * m[i]) * t + 6.3 * m[i + 1]) + 0.5 * sin(2 * .pi * (0.2 + 0.5 * m[i + 2]) * t + 6.3 * m[i + 3])
            let tremor = 0.1 * sin(2 * .pi * (6 + 4 * m[i + 4]) * t + 6.3 * m[i + 5])
            return amplitude * (slow / 1.5 + tremor)
        }
        let startZ = focal * faceOnCard.width / faceWidth
        if kind == .still {
            return (0.05 * (m[0] - 0.5), 0.05 * (m[1] - 0.5), 0.03 * (m[2] - 0.5), 0, 0, startZ)
        }
        let degrees = Double.pi / 180
        // Tilts of up to about 15°, a turn of 5°, a drift of a fifth of the face, a fifth closer over the visit.
        let approach = 1 - 0.2 * min(1, t / (Double(frameCount) / fps))
        return (wave(0, (6 + 10 * m[18]) * degrees), wave(6, (6 + 10 * m[19]) * degrees), wave(12, 5 * degrees),
                wave(24, 0.2 * faceOnCard.width), wave(30, 0.2 * faceOnCard.width), startZ * approach)
    }

    /// Where card point (u, v) lands in the frame at `pose`; nil behind the camera.
    private func project(_ u: Double, _ v: Double, _ p: (rx: Double, ry: Double, rz: Double, x: Double, y: Double, z: Double)) -> Point? {
        // The card's own coordinates, centred on its face, with the bow (about the vertical axis) as depth.
        let x0 = u - faceOnCard.x, y0 = v - faceOnCard.y
        let half = Double(card.width) / 2
        let along = (u - half) / half
        let z0 = bow * Double(card.width) * (along * along - 1 / 3.0)
        // z, then y, then x.
        let (cz, sz, cy, sy, cx, sx) = (cos(p.rz), sin(p.rz), cos(p.ry), sin(p.ry), cos(p.rx), sin(p.rx))
        let x1 = cz * x0 - sz * y0, y1 = sz * x0 + cz * y0, z1 = z0
        let x2 = cy * x1 + sy * z1, z2 = -sy * x1 + cy * z1
        let y3 = cx * y1 - sx * z2, z3 = sx * y1 + cx * z2
        let z = z3 + p.z
        guard z > 1 else { return nil }
        return Point(x: Float(focal * (x2 + p.x) / z + Double(width) / 2), y: Float(focal * (y3 + p.y) / z + Double(height) / 2))
    }

    /// The face's box in `frame`, camera pixels (where the card's face box lands).
    public func faceBox(at frame: Int) -> PixelRect {
        let p = pose(at: frame), r = faceOnCard.width / 2
        let corners = [(-r, -r), (r, -r), (r, r), (-r, r)].compactMap { project(faceOnCard.x + $0.0, faceOnCard.y + $0.1, p) }
        let xs = corners.map { Double($0.x) }, ys = corners.map { Double($0.y) }
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return PixelRect(x: 0, y: 0, width: 0, height: 0) }
        return PixelRect(x: Int(x0), y: Int(y0), width: Int(x1 - x0), height: Int(y1 - y0))
    }

    /// Instants drawn within the shutter's time, centred on the frame's: 4 over half a frame,
    /// as many again over a whole one, so that the copies stay as close as the area's spots.
    var exposureInstants: Int {
        exposure > 0 && kind != .still ? max(1, Int((8 * exposure * fps).rounded(.up))) : 1
    }

    public func render(frame: Int) -> RGBImage {
        var out = background.adjusted(gain: light).pixels
        let instants = exposureInstants
        let poses = (0 ..< instants).map { k in
            pose(atTime: Double(frame) / fps + exposure * ((Double(k) + 0.5) / Double(instants) - 0.5))
        }
        // A flat card is one quad, drawn through its exact homography; a bowed one in strips.
        let strips = bow == 0 ? 1 : 32
        let stripWidth = Double(card.width) / Double(strips)
        let cardLight = light * (kind == .screen ? 1 : 0.95)
        // A camera's pixel takes the light of its whole area: as many spots a side as card pixels
        // fall in it (2 to 6), averaged.
        let perPixel = faceOnCard.width / Double(max(1, faceBox(at: frame).width))
        let n = min(6, max(2, Int(perPixel.rounded(.up))))
        let spots = (0 ..< n * n).map { i in ((Float(i % n) + 0.5) / Float(n), (Float(i / n) + 0.5) / Float(n)) }
        // Spots summed over every strip and instant first, then blended with the background once:
        // a pixel the card covers at every instant is all card, one it covers at some is partly.
        var samples = AreaSamples(width: width, height: height)
        for (s, p) in (0 ..< strips).flatMap({ s in poses.map { (s, $0) } }) {
            let u0 = Double(s) * stripWidth, u1 = u0 + stripWidth, v0 = 0.0, v1 = Double(card.height)
            let corners = [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]
            let projected = corners.compactMap { project($0.0, $0.1, p) }
            guard projected.count == 4,
                  let back = Homography.fitted(from: projected, to: corners.map { Point(x: Float($0.0), y: Float($0.1)) }) else { continue }
            let xs = projected.map(\.x), ys = projected.map(\.y)
            let bx0 = max(0, Int(xs.min()!.rounded(.down))), bx1 = min(width - 1, Int(xs.max()!.rounded(.up)))
            let by0 = max(0, Int(ys.min()!.rounded(.down))), by1 = min(height - 1, Int(ys.max()!.rounded(.up)))
            guard bx0 <= bx1, by0 <= by1 else { continue }
            samples.add(card, through: back, part: (u0, u1, v0, v1), pixels: PixelRect(x: bx0, y: by0, width: bx1 - bx0 + 1, height: by1 - by0 + 1),
                        spotOffsets: spots, mask: cardMask)
        }
        samples.blend(over: &out, perPixel: spots.count * poses.count, gain: cardLight)
        if kind == .screen { addGlare(&out, poses: poses) }
        let image = (try? RGBImage(width: width, height: height, pixels: out)) ?? background
        return image.exposed(gain: 1, gamma: 1, noise: 3, seed: seed &+ UInt64(frame) &* 7919)
    }

    /// A lamp's reflection on the screen: where it is depends on how the screen is tilted, not on
    /// what it shows. It moves faster than the screen, and smears over the shutter's time as it does.
    private func addGlare(_ pixels: inout [UInt8], poses: [(rx: Double, ry: Double, rz: Double, x: Double, y: Double, z: Double)]) {
        let spots: [(x: Double, y: Double, radius: Double, region: PixelRect)] = poses.compactMap { p in
            guard let centre = project(faceOnCard.x, faceOnCard.y, p) else { return nil }
            let scale = focal / p.z
            let gx = Double(centre.x) + (0.6 * (motion[20] - 0.5) + 2 * p.ry) * faceOnCard.width * scale
            let gy = Double(centre.y) + (0.6 * (motion[21] - 0.5) - 2 * p.rx) * faceOnCard.width * scale
            let radius = (0.25 + 0.3 * motion[22]) * faceOnCard.width * scale
            let box = PixelRect(x: Int(gx - 2 * radius), y: Int(gy - 2 * radius), width: Int(4 * radius), height: Int(4 * radius))
            return box.intersection(PixelRect(x: 0, y: 0, width: width, height: height)).map { (gx, gy, radius, $0) }
        }
        guard let first = spots.first?.region else { return }
        let union = spots.dropFirst().reduce(first) { r, spot in
            let x0 = min(r.x, spot.region.x), y0 = min(r.y, spot.region.y)
            return PixelRect(x: x0, y: y0, width: max(r.maxX, spot.region.maxX) - x0, height: max(r.maxY, spot.region.maxY) - y0)
        }
        // Summed over the instants before it is added, so that no level is lost to rounding.
        var light = [Double](repeating: 0, count: union.width * union.height)
        let strength = 140 * motion[23] / Double(poses.count)
        for spot in spots {
            for y in spot.region.y ..< spot.region.maxY {
                for x in spot.region.x ..< spot.region.maxX {
                    let dx = Double(x) - spot.x, dy = Double(y) - spot.y
                    light[(y - union.y) * union.width + x - union.x] += strength * exp(-(dx * dx + dy * dy) / (spot.radius * spot.radius))
                }
            }
        }
        for y in union.y ..< union.maxY {
            for x in union.x ..< union.maxX where light[(y - union.y) * union.width + x - union.x] > 0 {
                let o = (y * width + x) * 3, add = light[(y - union.y) * union.width + x - union.x]
                for c in 0 ..< 3 { pixels[o + c] = UInt8(min(255, Double(pixels[o + c]) + add)) }
            }
        }
    }

    /// Frame `frame` as a camera's MJPEG frame.
    public func jpeg(frame: Int, quality: Int = 85) throws -> [UInt8] {
        try JPEGEncoder(quality: quality).encode(render(frame: frame))
    }
}
