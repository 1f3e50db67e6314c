import Foundation

/// How a photo is laid into a frame: a point of the photo (`anchorX`, `anchorY`) lands on
/// (`centerX`, `centerY`), scaled, squeezed sideways, turned and smeared by motion.
/// Used to build synthetic door-camera replays; the map is defined from frame to photo, so
/// every frame pixel is sampled once.
public struct PhotoPlacement: Sendable, Hashable {
    public var anchorX: Double
    public var anchorY: Double
    public var centerX: Double
    public var centerY: Double
    /// Frame pixels per photo pixel.
    public var scale: Double
    /// Extra horizontal factor (below 1: a head turned away, narrower).
    public var squeeze: Double
    /// Horizontal factor grows by this much per `perspectiveRadius` photo pixels right of the
    /// anchor: one side of a turned head nearer than the other.
    public var perspective: Double
    public var perspectiveRadius: Double
    /// Roll, clockwise on screen.
    public var degrees: Double
    /// Motion during the exposure, in frame pixels: the photo is averaged along this segment.
    public var blurX: Double
    public var blurY: Double
    /// The part of the photo that is drawn; its edges fade over `feather` frame pixels.
    public var region: PixelRect
    public var feather: Double

    public init(anchorX: Double, anchorY: Double, centerX: Double, centerY: Double, scale: Double, squeeze: Double = 1,
                perspective: Double = 0, perspectiveRadius: Double = 100, degrees: Double = 0, blurX: Double = 0,
                blurY: Double = 0, region: PixelRect, feather: Double = 4) {
        self.anchorX = anchorX
        self.anchorY = anchorY
        self.centerX = centerX
        self.centerY = centerY
        self.scale = scale
        self.squeeze = squeeze
        self.perspective = perspective
        self.perspectiveRadius = perspectiveRadius
        self.degrees = degrees
        self.blurX = blurX
        self.blurY = blurY
        self.region = region
        self.feather = feather
    }

    /// Where a photo point lands, ignoring perspective and blur (for bounds and truth boxes).
    public func frameBounds(of rect: PixelRect) -> PixelRect {
        let a = degrees * .pi / 180, c = cos(a), s = sin(a)
        let corners = [(rect.x, rect.y), (rect.maxX, rect.y), (rect.x, rect.maxY), (rect.maxX, rect.maxY)].map { px, py in
            // Perspective widens one side by up to this factor; take the wider bound.
            let u = (Double(px) - anchorX) * scale * squeeze * (1 + abs(perspective)), v = (Double(py) - anchorY) * scale
            return (centerX + c * u - s * v, centerY + s * u + c * v)
        }
        let xs = corners.map(\.0), ys = corners.map(\.1)
        let x0 = Int(xs.min()!.rounded(.down)), y0 = Int(ys.min()!.rounded(.down))
        return PixelRect(x: x0, y: y0, width: Int(xs.max()!.rounded(.up)) - x0, height: Int(ys.max()!.rounded(.up)) - y0)
    }
}

extension Image where Format == RGB8 {
    /// Draws `photo` as `placement` says, blended over what is there (soft edges, motion smear).
    public mutating func draw(_ photo: RGBImage, _ p: PhotoPlacement) {
        let smear = (abs(p.blurX) + abs(p.blurY)) / 2
        guard let target = p.frameBounds(of: p.region).intersection(bounds),
              let region = p.region.intersection(photo.bounds) else { return }
        let taps = max(1, min(9, Int(smear.rounded()) + 1))
        let a = p.degrees * .pi / 180, cosA = cos(a), sinA = sin(a)
        let sx = 1 / (p.scale * p.squeeze), sy = 1 / p.scale
        let rx0 = Double(region.x), ry0 = Double(region.y), rx1 = Double(region.maxX - 1), ry1 = Double(region.maxY - 1)
        let featherPhoto = max(p.feather / p.scale, 1e-6)
        let w = width, pw = photo.width
        photo.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for y in target.y ..< target.maxY {
                    for x in target.x ..< target.maxX {
                        var r = 0.0, g = 0.0, b = 0.0, weight = 0.0
                        for t in 0 ..< taps {
                            let f = taps == 1 ? 0 : Double(t) / Double(taps - 1) - 0.5
                            let dx = Double(x) + f * p.blurX - p.centerX, dy = Double(y) + f * p.blurY - p.centerY
                            // Inverse roll, then inverse scale; perspective stretches one side.
                            let u0 = (cosA * dx + sinA * dy) * sx, v = (-sinA * dx + cosA * dy) * sy
                            let factor = min(1.5, max(0.5, 1 - p.perspective * u0 / p.perspectiveRadius))
                            let px = p.anchorX + u0 * factor, py = p.anchorY + v
                            guard px >= rx0, py >= ry0, px <= rx1, py <= ry1 else { continue }
                            let edge = min(px - rx0, rx1 - px, py - ry0, ry1 - py)
                            let alpha = min(1, edge / featherPhoto)
                            let x0 = Int(px), y0 = Int(py), x1 = Swift.min(x0 + 1, region.maxX - 1), y1 = Swift.min(y0 + 1, region.maxY - 1)
                            let fx = px - Double(x0), fy = py - Double(y0)
                            let i00 = (y0 * pw + x0) * 3, i01 = (y0 * pw + x1) * 3, i10 = (y1 * pw + x0) * 3, i11 = (y1 * pw + x1) * 3
                            let w00 = (1 - fx) * (1 - fy) * alpha, w01 = fx * (1 - fy) * alpha
                            let w10 = (1 - fx) * fy * alpha, w11 = fx * fy * alpha
                            r += Double(src[i00]) * w00 + Double(src[i01]) * w01 + Double(src[i10]) * w10 + Double(src[i11]) * w11
                            g += Double(src[i00 + 1]) * w00 + Double(src[i01 + 1]) * w01 + Double(src[i10 + 1]) * w10 + Double(src[i11 + 1]) * w11
                            b += Double(src[i00 + 2]) * w00 + Double(src[i01 + 2]) * w01 + Double(src[i10 + 2]) * w10 + Double(src[i11 + 2]) * w11
                            weight += alpha
                        }
                        guard weight > 0 else { continue }
                        let n = Double(taps), keep = 1 - weight / n, o = (y * w + x) * 3
                        dst[o] = UInt8(Swift.max(0, Swift.min(255, (Double(dst[o]) * keep + r / n).rounded())))
                        dst[o + 1] = UInt8(Swift.max(0, Swift.min(255, (Double(dst[o + 1]) * keep + g / n).rounded())))
                        dst[o + 2] = UInt8(Swift.max(0, Swift.min(255, (Double(dst[o + 2]) * keep + b / n).rounded())))
                    }
                }
            }
        }
    }

    /// As a camera would expose it: `gain` and `gamma` on every sample (auto-exposure drifting),
    /// then sensor noise of about `noise` levels standard deviation, the same for the same `seed`.
    public func exposed(gain: Double, gamma: Double, noise: Double, seed: UInt64) -> RGBImage {
        var table = [UInt8](repeating: 0, count: 256)
        for v in 0 ..< 256 { table[v] = UInt8(Swift.min(255, (pow(Swift.min(1, Double(v) / 255 * gain), gamma) * 255).rounded())) }
        var out = self
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        // Sum of two uniforms in ±1 has standard deviation sqrt(2/3).
        let spread = Int32((noise / (2.0 / 3.0).squareRoot() * 256).rounded())
        table.withUnsafeBufferPointer { lut in
            out.pixels.withUnsafeMutableBufferPointer { px in
                for i in 0 ..< px.count {
                    state ^= state >> 12; state ^= state << 25; state ^= state >> 27
                    let r = state &* 0x2545_F491_4F6C_DD1D
                    let u1 = Int32(truncatingIfNeeded: r & 0xFFFF) - 32768, u2 = Int32(truncatingIfNeeded: (r >> 16) & 0xFFFF) - 32768
                    // (u1 + u2) / 32768 is the sum in ±2; spread carries 8 fraction bits.
                    let delta = Int32(truncatingIfNeeded: (Int64(u1 + u2) * Int64(spread) + (1 << 22)) >> 23)
                    px[i] = UInt8(Swift.max(0, Swift.min(255, Int32(lut[Int(px[i])]) + delta)))
                }
            }
        }
        return out
    }
}

/// Draws part of a picture seen through a homography, as a camera's pixels see it: each pixel
/// averages several spots of its area (finer detail than the spots aliases, as in a camera).
/// Sums are kept per pixel so that several parts (the strips of a bowed sheet) blend once.
public struct AreaSamples: Sendable {
    public let width: Int
    public let height: Int
    /// RGB sums, 3 per pixel, and how many spots fell on the picture, per pixel.
    public private(set) var sums: [Double]
    public private(set) var spots: [Int]

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        sums = [Double](repeating: 0, count: width * height * 3)
        spots = [Int](repeating: 0, count: width * height)
    }

    /// Adds the spots (offsets within a pixel, 0..<1) of the frame pixels in `pixels` (clipped to
    /// the frame) that `back` (frame → picture) puts inside the picture's part u0..<u1, v0..<v1,
    /// on a picture pixel `mask` keeps (all when nil).
    public mutating func add(_ picture: RGBImage, through back: Homography, part: (u0: Double, u1: Double, v0: Double, v1: Double),
                             pixels: PixelRect, spotOffsets: [(Float, Float)], mask: [Bool]? = nil) {
        precondition(mask == nil || mask!.count == picture.width * picture.height, "one mask entry per picture pixel")
        guard let region = pixels.intersection(PixelRect(x: 0, y: 0, width: width, height: height)) else { return }
        let w = width, pw = picture.width, ph = picture.height
        picture.pixels.withUnsafeBufferPointer { src in
            sums.withUnsafeMutableBufferPointer { sums in
                spots.withUnsafeMutableBufferPointer { spots in
                    for y in region.y ..< region.maxY {
                        for x in region.x ..< region.maxX {
                            for (dx, dy) in spotOffsets {
                                let (u, v) = back.apply(Point(x: Float(x) + dx, y: Float(y) + dy))
                                guard u >= part.u0, u < part.u1, v >= part.v0, v < part.v1 else { continue }
                                let p = min(ph - 1, Int(v)) * pw + min(pw - 1, Int(u))
                                if let mask, !mask[p] { continue }
                                let i = p * 3, o = (y * w + x) * 3
                                sums[o] += Double(src[i]); sums[o + 1] += Double(src[i + 1]); sums[o + 2] += Double(src[i + 2])
                                spots[y * w + x] += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// Blends the sums over `background` (RGB, this size): a pixel all of whose `perPixel` spots
    /// fell on the picture is the picture's average times `gain`; one on its edge, its share.
    public func blend(over background: inout [UInt8], perPixel: Int, gain: Double) {
        background.withUnsafeMutableBufferPointer { out in
            for pixel in spots.indices where spots[pixel] > 0 {
                let share = Double(min(spots[pixel], perPixel)) / Double(perPixel)
                for c in 0 ..< 3 {
                    let o = pixel * 3 + c
                    out[o] = UInt8(min(255, sums[o] / Double(spots[pixel]) * gain * share + Double(out[o]) * (1 - share)))
                }
            }
        }
    }
}
