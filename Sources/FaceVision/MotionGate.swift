/// A blob of moved pixels in the thumbnail.
public struct MotionRegion: Sendable, Equatable {
    /// Thumbnail pixels: the blob's bounding box grown by 1 px, clipped, merged with overlapping ones.
    public var box: PixelRect
    /// Moved pixels inside.
    public var pixels: Int
    /// Of those, pixels that changed since the previous frame (the others differ from the
    /// background but hold still: something new standing there, or a ghost fading).
    public var changing: Int

    /// `changing` defaults to every moved pixel.
    public init(box: PixelRect, pixels: Int, changing: Int? = nil) {
        self.box = box; self.pixels = pixels; self.changing = changing ?? pixels
    }
}

/// What one thumbnail showed against the background.
public struct MotionReport: Sendable, Equatable {
    /// Thumbnail pixels; blobs of moved pixels, each grown by 1 px and overlapping ones merged; largest first.
    public var regions: [MotionRegion]
    /// Moved pixels / all thumbnail pixels.
    public var movedFraction: Double
    /// Mean of the thumbnail, 0-255 (the dark check uses it).
    public var meanLuma: Double
    /// No background yet (first frame, or the thumbnail size changed): nothing can be said to have moved.
    public var isFirst: Bool

    public init(regions: [MotionRegion], movedFraction: Double, meanLuma: Double, isFirst: Bool) {
        self.regions = regions; self.movedFraction = movedFraction; self.meanLuma = meanLuma; self.isFirst = isFirst
    }
}

/// Finds what moved in a stream of thumbnails against a per-pixel background model (running mean
/// and running mean absolute deviation), so the face detector runs only where something changed.
///
/// A pixel moved when |x − mean − rowOffset| > max(noiseFloor, sensitivity · max(deviation,
/// frameDeviation)); rowOffset, the row's median of x − mean, absorbs lighting drift, exposure
/// steps and rolling-shutter flicker bands as long as less than half a row moves; frameDeviation
/// is the frame's typical deviation (see `classify`). Pixels that did not move learn at
/// `learningRate`, moved ones at a tenth of it. When more than half the thumbnail moved (a cut),
/// the background starts again from that thumbnail.
public struct MotionGate: Sendable {
    /// Smallest residual, in luma, that counts as motion.
    public var noiseFloor: Float
    /// Residuals above this many deviations count as motion.
    public var sensitivity: Float
    /// How fast the background follows the scene, per frame.
    public var learningRate: Float
    /// Smaller blobs are noise and not reported.
    public var minRegionPixels: Int

    private var width = 0, height = 0
    /// Frames seen since the background was seeded.
    private var age = 0
    private var mean: [Float] = []
    private var deviation: [Float] = []
    /// The last thumbnail: what changed since it moved now, whatever the background holds.
    private var previous: [Float] = []
    private var change: [Float] = []
    /// The frame's typical deviation: a running average of the lower quartile of the absolute residuals, scaled
    /// to a mean absolute deviation.
    private var frameDeviation: Float = 0
    // Per-frame scratch, kept to spare the allocations.
    private var residual: [Float] = []
    private var moved: [UInt8] = []
    private var stack: [Int32] = []
    private var histogram = [Int32](repeating: 0, count: 512 + 32)

    public init(noiseFloor: Float = 8, sensitivity: Float = 4, learningRate: Float = 0.05, minRegionPixels: Int = 3) {
        self.noiseFloor = noiseFloor
        self.sensitivity = sensitivity
        self.learningRate = learningRate
        self.minRegionPixels = minRegionPixels
    }

    /// Forgets the background: the next thumbnail is a first one.
    public mutating func reset() {
        width = 0; height = 0; age = 0; frameDeviation = 0
        mean = []; deviation = []; previous = []; change = []; residual = []; moved = []; stack = []
    }

    /// Frames during which the background is young: about as many as the running averages need
    /// to settle.
    private var warmUpFrames: Int { Int((1 / max(learningRate, 0.001)).rounded()) }

    public mutating func look(_ thumbnail: GrayImage) -> MotionReport {
        let w = thumbnail.width, h = thumbnail.height, count = w * h
        let meanLuma = thumbnail.pixels.withUnsafeBufferPointer { px in
            var sum = 0
            for v in px { sum += Int(v) }
            return Double(sum) / Double(count)
        }
        guard w == width, h == height, mean.count == count else {
            width = w; height = h
            residual = [Float](repeating: 0, count: count)
            change = [Float](repeating: 0, count: count)
            moved = [UInt8](repeating: 0, count: count)
            stack = [Int32](repeating: 0, count: count)
            seed(thumbnail)
            return MotionReport(regions: [], movedFraction: 0, meanLuma: meanLuma, isFirst: true)
        }
        age += 1
        let movedCount = classify(thumbnail)
        let regions = blobs()
        let fraction = Double(movedCount) / Double(count)
        // More than half the picture changed: a cut, a moved camera or a person filling the view.
        // The old background says nothing about the new one, and at a tenth of the rate it would
        // take the moved pixels a minute to learn it.
        if movedCount * 2 > count { seed(thumbnail) }
        return MotionReport(regions: regions, movedFraction: fraction, meanLuma: meanLuma, isFirst: false)
    }

    private mutating func seed(_ thumbnail: GrayImage) {
        age = 0
        mean = thumbnail.pixels.map { Float($0) }
        previous = mean
        deviation = [Float](repeating: noiseFloor / max(sensitivity, 1e-6), count: thumbnail.pixels.count)
    }

    /// Marks moved pixels in `moved`, updates the background and returns how many moved.
    ///
    /// A pixel's threshold uses the larger of its own deviation and the frame's typical one: a
    /// per-pixel running average rests on a few dozen samples, and the pixels it underrates by
    /// chance made three-pixel noise blobs about once in a thousand frames of Gaussian noise; the
    /// young background's deviations (the second frame's rest on one sample) are worse. A pixel
    /// noisier than the frame (jitter at an edge, a screen) still gets its own, higher threshold.
    /// The typical deviation comes from the quietest quarter of the frame: from the median, in the
    /// walk-up clip (hand-held, a crowd from the first frame), it hid 10 of 26 face centres.
    private mutating func classify(_ thumbnail: GrayImage) -> Int {
        let w = width, h = height, count = w * h
        // While the background is young, every pixel learns as a running average of the frames so
        // far, moved or not: the first frame's people and camera shake are not kept as background.
        // (A person there at the start who leaves and comes back shows as a change from the last
        // thumbnail, whatever the background learnt.)
        let warm = age < warmUpFrames
        let rate = warm ? max(learningRate, 1 / Float(age + 1)) : learningRate
        let slowRate = warm ? rate : rate / 10
        let floor = noiseFloor, sens = sensitivity
        var movedCount = 0
        var measured: Float = 0
        thumbnail.pixels.withUnsafeBufferPointer { px in
            residual.withUnsafeMutableBufferPointer { res in
                mean.withUnsafeMutableBufferPointer { m in
                    stack.withUnsafeMutableBufferPointer { bins in
                        histogram.withUnsafeMutableBufferPointer { hist in
                            // Residuals against the background, less each row's median offset.
                            for y in 0 ..< h {
                                let row = y * w
                                for x in 0 ..< w {
                                    let d = Float(px[row + x]) - m[row + x]
                                    res[row + x] = d
                                    let b = min(max(Int(d + 256), 0), 511)
                                    bins[x] = Int32(b)
                                    hist[b] &+= 1; hist[512 + b >> 4] &+= 1
                                }
                                let offset = Self.quantile(hist.baseAddress!, bins.baseAddress!, w, w / 2) - 256
                                for x in row ..< row + w { res[x] -= offset }
                            }
                            // The same against the last thumbnail: what appears where the background
                            // still holds it (a person who left and comes back) moves now.
                            previous.withUnsafeBufferPointer { p in
                                change.withUnsafeMutableBufferPointer { ch in
                                    for y in 0 ..< h {
                                        let row = y * w
                                        for x in 0 ..< w {
                                            let d = Float(px[row + x]) - p[row + x]
                                            ch[row + x] = d
                                            let b = min(max(Int(d + 256), 0), 511)
                                            bins[x] = Int32(b)
                                            hist[b] &+= 1; hist[512 + b >> 4] &+= 1
                                        }
                                        let offset = Self.quantile(hist.baseAddress!, bins.baseAddress!, w, w / 2) - 256
                                        for x in row ..< row + w { ch[x] = abs(ch[x] - offset) }
                                    }
                                }
                            }
                            // The lower quartile of every 4th pixel's absolute residual, in quarter-luma
                            // bins, is 0.3186 σ of Gaussian noise, whose mean absolute deviation is
                            // 0.7979 σ. The quiet quarter: motion and jitter at edges barely move it.
                            var n = 0
                            for i in stride(from: 0, to: count, by: 4) {
                                let b = min(Int(abs(res[i]) * 4), 511)
                                bins[n] = Int32(b)
                                hist[b] &+= 1; hist[512 + b >> 4] &+= 1
                                n += 1
                            }
                            measured = Self.quantile(hist.baseAddress!, bins.baseAddress!, n, n / 4) / 4 * 2.5043
                        }
                    }
                }
            }
        }
        // The frame a cut or a crowd fills says nothing of the noise: the running value stands.
        let frameDev = age == 1 ? measured : frameDeviation
        residual.withUnsafeBufferPointer { res in
            thumbnail.pixels.withUnsafeBufferPointer { px in
                mean.withUnsafeMutableBufferPointer { m in
                    deviation.withUnsafeMutableBufferPointer { dev in
                        moved.withUnsafeMutableBufferPointer { mv in
                          change.withUnsafeBufferPointer { ch in
                            for i in 0 ..< count {
                                let r = abs(res[i])
                                let threshold = max(floor, sens * max(dev[i], frameDev))
                                // Two noisy samples differ by √2 times the noise of one.
                                let changing = ch[i] > threshold * 1.5
                                let isMoved = changing || r > threshold
                                // What changes now learns slowly; what differs from the background
                                // but holds still (the wall a person stood before, seen again) at
                                // the full rate, so that a ghost of them fades within seconds.
                                let a = changing ? slowRate : rate
                                // 1: moved, holding still; 3: moved and changing.
                                mv[i] = isMoved ? (changing ? 3 : 1) : 0
                                movedCount &+= isMoved ? 1 : 0
                                m[i] += a * (Float(px[i]) - m[i])
                                // Motion is not noise: a moved pixel's deviation learns at most twice
                                // the noise floor (jitter at an edge still quietens), never a person's
                                // contrast, or where one stood a second one would not show; while the
                                // background is young, not at all.
                                if !isMoved { dev[i] += a * (r - dev[i]) } else if !warm { dev[i] += a * (min(r, 2 * floor) - dev[i]) }
                            }
                          }
                        }
                    }
                }
            }
        }
        previous = thumbnail.pixels.map { Float($0) }
        if age == 1 { frameDeviation = measured }
        else if movedCount * 2 <= count { frameDeviation += rate * (measured - frameDeviation) }
        return movedCount
    }

    /// The `index`-th smallest of `n` values from their histogram: 512 bins with 32 coarse bins of
    /// 16 after them, in bin units, interpolated within the bin (sorting each row for its median
    /// cost three times the rest of `look`). Clears the bins used, listed in `bins`.
    @inline(__always)
    private static func quantile(_ hist: UnsafeMutablePointer<Int32>, _ bins: UnsafeMutablePointer<Int32>, _ n: Int, _ index: Int) -> Float {
        let k = Int32(index)
        var below: Int32 = 0, coarse = 0
        while below + hist[512 + coarse] <= k { below += hist[512 + coarse]; coarse += 1 }
        var b = coarse << 4
        while below + hist[b] <= k { below += hist[b]; b += 1 }
        let value = Float(b) + (Float(k - below) + 0.5) / Float(hist[b])
        for x in 0 ..< n {
            let b = Int(bins[x])
            hist[b] = 0; hist[512 + b >> 4] = 0
        }
        return value
    }

    /// 4-connected components of `moved` with at least `minRegionPixels` pixels, boxes grown by
    /// 1 px and clipped, overlapping ones merged; largest first.
    private mutating func blobs() -> [MotionRegion] {
        let w = width, h = height, minPixels = minRegionPixels
        var found: [MotionRegion] = []
        moved.withUnsafeMutableBufferPointer { mv in
            stack.withUnsafeMutableBufferPointer { st in
                for start in 0 ..< w * h where mv[start] & 1 == 1 {
                    // Flood fill; visited pixels are marked one up (2 or 4: even).
                    mv[start] += 1
                    st[0] = Int32(start)
                    var top = 1, pixels = 0, changing = 0
                    var x0 = w, y0 = h, x1 = -1, y1 = -1
                    while top > 0 {
                        top -= 1
                        let i = Int(st[top]), x = i % w, y = i / w
                        pixels += 1
                        if mv[i] == 4 { changing += 1 }
                        x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                        if x > 0, mv[i - 1] & 1 == 1 { mv[i - 1] += 1; st[top] = Int32(i - 1); top += 1 }
                        if x < w - 1, mv[i + 1] & 1 == 1 { mv[i + 1] += 1; st[top] = Int32(i + 1); top += 1 }
                        if y > 0, mv[i - w] & 1 == 1 { mv[i - w] += 1; st[top] = Int32(i - w); top += 1 }
                        if y < h - 1, mv[i + w] & 1 == 1 { mv[i + w] += 1; st[top] = Int32(i + w); top += 1 }
                    }
                    guard pixels >= minPixels else { continue }
                    let gx0 = max(0, x0 - 1), gy0 = max(0, y0 - 1), gx1 = min(w, x1 + 2), gy1 = min(h, y1 + 2)
                    found.append(MotionRegion(box: PixelRect(x: gx0, y: gy0, width: gx1 - gx0, height: gy1 - gy0), pixels: pixels, changing: changing))
                }
            }
        }
        // A merged box can reach a third, so merge until no two overlap.
        var merging = true
        while merging {
            merging = false
            outer: for i in found.indices {
                for j in found.indices where j > i && found[i].box.intersection(found[j].box) != nil {
                    let a = found[i].box, b = found[j].box
                    let x0 = min(a.x, b.x), y0 = min(a.y, b.y)
                    found[i] = MotionRegion(box: PixelRect(x: x0, y: y0, width: max(a.maxX, b.maxX) - x0, height: max(a.maxY, b.maxY) - y0),
                                            pixels: found[i].pixels + found[j].pixels, changing: found[i].changing + found[j].changing)
                    found.remove(at: j)
                    merging = true
                    break outer
                }
            }
        }
        return found.sorted { ($0.pixels, $0.box.area) > ($1.pixels, $1.box.area) }
    }
}
