import Foundation
import Testing
@testable import FaceVision
import FaceTestSupport

/// Synthetic thumbnail sequences: a textured still scene, sensor noise and lighting changes from
/// a fixed-seed generator, so every run sees the same frames.
struct SceneGenerator {
    static let width = 160, height = 90
    private var state: UInt64
    /// The still scene, 0-255 as Float, roughly 35...175 so that +65 of lighting does not clip.
    let scene: [Float]

    init(seed: UInt64) {
        state = seed
        var scene = [Float](repeating: 0, count: Self.width * Self.height)
        var blocks = [Float](repeating: 0, count: (Self.width / 4) * (Self.height / 4 + 1))
        for i in blocks.indices { blocks[i] = 0 }
        var rng = SplitMix(state: seed ^ 0x5EED)
        for i in blocks.indices { blocks[i] = Float(rng.unit() * 40 - 20) }
        let fx = Float(5 + Int(seed % 4)), fy = Float(4 + Int(seed % 3))
        for y in 0 ..< Self.height {
            for x in 0 ..< Self.width {
                let wave = 35 * sin(Float(x) / fx) * cos(Float(y) / fy)
                let block = blocks[(y / 4) * (Self.width / 4) + min(x / 4, Self.width / 4 - 1)]
                scene[y * Self.width + x] = 105 + wave + block + Float(rng.unit() * 16 - 8)
            }
        }
        self.scene = scene
    }

    /// Uniform in 0..<1.
    mutating func unit() -> Double {
        var rng = SplitMix(state: state)
        let v = rng.unit()
        state = rng.state
        return v
    }

    /// Standard normal (Box-Muller).
    mutating func gaussian() -> Float {
        let u1 = max(unit(), 1e-12), u2 = unit()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }

    /// The scene (or `picture`) with `offset(row)` added to every pixel of a row, and noise.
    mutating func frame(noise sigma: Float, picture: [Float]? = nil, offset: (Int) -> Float = { _ in 0 }) -> GrayImage {
        let base = picture ?? scene
        var px = [UInt8](repeating: 0, count: base.count)
        for y in 0 ..< Self.height {
            let o = offset(y)
            for x in 0 ..< Self.width {
                let i = y * Self.width + x
                px[i] = UInt8(max(0, min(255, (base[i] + o + sigma * gaussian()).rounded())))
            }
        }
        return try! GrayImage(width: Self.width, height: Self.height, pixels: px)
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

@Suite struct MotionGateTests {
    /// Feeds `frames` frames and returns every report.
    func run(_ gate: inout MotionGate, _ frames: Int, _ make: (Int) -> GrayImage) -> [MotionReport] {
        (0 ..< frames).map { gate.look(make($0)) }
    }

    /// Frame numbers (after the first) whose report has a region, with the regions.
    func framesWithRegions(_ reports: [MotionReport]) -> [String] {
        reports.enumerated().dropFirst().filter { !$0.element.regions.isEmpty }
            .map { "\($0.offset): \($0.element.regions.map { "\($0.box) (\($0.pixels) px)" })" }
    }

    @Test(arguments: [Float(3), Float(6)])
    func stillSceneWithSensorNoiseShowsNoMotion(sigma: Float) {
        var gen = SceneGenerator(seed: 1)
        var gate = MotionGate()
        let reports = run(&gate, 300) { _ in gen.frame(noise: sigma) }
        #expect(reports[0].isFirst && reports[0].regions.isEmpty)
        #expect(reports.dropFirst().allSatisfy { !$0.isFirst })
        #expect(framesWithRegions(reports).isEmpty, "σ=\(sigma): \(framesWithRegions(reports).prefix(5))")
    }

    enum Lighting: String, CaseIterable {
        case none, drift, step, flicker, bands

        /// What the light adds to row `y` of frame `t`, flicker and bands `amplitude` either way.
        func offset(t: Int, y: Int, amplitude: Float = 8) -> Float {
            switch self {
            case .none: 0
            case .drift: 40 * Float(t) / 299
            case .step: t >= 150 ? 25 : 0
            case .flicker: t % 2 == 0 ? amplitude : -amplitude
            // 10-row bands rolling down 3 rows a frame, as 50 Hz light gives a rolling shutter.
            case .bands: ((y + 20_000 - 3 * t) / 10) % 2 == 0 ? amplitude : -amplitude
            }
        }
    }

    @Test(arguments: Lighting.allCases.dropFirst())
    func lightingChangesAreNotMotion(_ lighting: Lighting) {
        var gen = SceneGenerator(seed: 2)
        var gate = MotionGate()
        let reports = run(&gate, 300) { t in gen.frame(noise: 3) { lighting.offset(t: t, y: $0) } }
        #expect(framesWithRegions(reports).isEmpty, "\(lighting): \(framesWithRegions(reports).prefix(5))")
    }

    /// Walks a head-sized patch (12×15, darker than what is behind it by 45-75, textured) across
    /// `picture` left to right in 60 frames. Returns in how many frames a region held the whole
    /// head, and the regions that did not touch it.
    func walkHead(_ gate: inout MotionGate, _ gen: inout SceneGenerator, picture: [Float],
                  light: (Int, Int) -> Float = { _, _ in 0 }) -> (held: Int, strays: [String]) {
        var rng = SplitMix(state: 33)
        let headW = 12, headH = 15
        let head = (0 ..< headW * headH).map { _ in Float(-75 + rng.unit() * 30) }
        var held = 0
        var strays: [String] = []
        for t in 0 ..< 60 {
            let hx = 5 + (143 - 5) * t / 59, hy = 38
            var frame = picture
            for y in 0 ..< headH { for x in 0 ..< headW { frame[(hy + y) * SceneGenerator.width + hx + x] += head[y * headW + x] } }
            let headBox = PixelRect(x: hx, y: hy, width: headW, height: headH)
            let report = gate.look(gen.frame(noise: 3, picture: frame) { light(t, $0) })
            if report.regions.contains(where: { $0.box.intersection(headBox) == headBox }) { held += 1 }
            strays += report.regions.filter { $0.box.intersection(headBox) == nil }.map { "frame \(t): \($0.box)" }
        }
        return (held, strays)
    }

    /// Strong flicker or bands (±20) must not blind the gate either, as they would one that
    /// learnt them as per-pixel deviation.
    @Test(arguments: [Lighting.none, .flicker, .bands])
    func walkingHeadIsOneRegionThatHoldsIt(_ lighting: Lighting) {
        var gen = SceneGenerator(seed: 3)
        var gate = MotionGate()
        let light = { (t: Int, y: Int) in lighting.offset(t: t, y: y, amplitude: 20) }
        let settle = run(&gate, 30) { t in gen.frame(noise: 3) { light(t, $0) } }
        #expect(framesWithRegions(settle).isEmpty)
        let walk = walkHead(&gate, &gen, picture: gen.scene) { light($0 + 30, $1) }
        #expect(walk.held >= 57, "\(lighting): the head was inside a region in \(walk.held) of 60 frames")
        #expect(walk.strays.isEmpty, "\(lighting): regions away from the head: \(walk.strays.prefix(5))")
    }

    @Test func cutToAnotherPictureMovesThenSettles() {
        var gen = SceneGenerator(seed: 4)
        let other = SceneGenerator(seed: 5).scene
        var gate = MotionGate()
        _ = run(&gate, 60) { _ in gen.frame(noise: 3) }
        let cut = gate.look(gen.frame(noise: 3, picture: other))
        #expect(cut.movedFraction > 0.5)
        #expect(!cut.regions.isEmpty && !cut.isFirst)
        let after = run(&gate, 60) { _ in gen.frame(noise: 3, picture: other) }
        // 60 frames is 2 s at 30 fps: quiet by then, and not blind.
        let late = after.enumerated().dropFirst(30).filter { !$0.element.regions.isEmpty }.map(\.offset)
        #expect(late.isEmpty, "regions a second after the cut in frames \(late)")
        let walk = walkHead(&gate, &gen, picture: other)
        #expect(walk.held >= 57 && walk.strays.isEmpty, "after the cut the head was held in \(walk.held) of 60 frames; strays \(walk.strays.prefix(5))")
    }

    /// Someone at the door when faced starts (the young background takes them in), who steps
    /// away and comes back: the return is motion, not hidden by what the background learnt.
    @Test func aPersonThereAtTheStartWhoLeavesAndComesBackIsSeenAgain() {
        var gen = SceneGenerator(seed: 8)
        var gate = MotionGate()
        var rng = SplitMix(state: 9)
        let box = PixelRect(x: 70, y: 30, width: 12, height: 15)
        var withHead = gen.scene
        for y in 0 ..< box.height { for x in 0 ..< box.width { withHead[(box.y + y) * SceneGenerator.width + box.x + x] += Float(-75 + rng.unit() * 30) } }
        _ = run(&gate, 4) { _ in gen.frame(noise: 3, picture: withHead) }
        let away = run(&gate, 7) { _ in gen.frame(noise: 3) }
        #expect(away.first?.regions.contains { $0.box.intersection(box) != nil } == true, "leaving is motion")
        let back = gate.look(gen.frame(noise: 3, picture: withHead))
        #expect(back.regions.contains { $0.box.intersection(box) == box }, "the return is one region holding the head: \(back.regions)")
    }

    /// Someone stands at the door for 3 s (the background takes them in), leaves, and someone
    /// else steps into the same spot: the newcomer is a region on their first frame.
    @Test func aSecondPersonWhereTheFirstStoodIsSeenAtOnce() {
        var gen = SceneGenerator(seed: 12)
        var gate = MotionGate()
        var rng = SplitMix(state: 13)
        let box = PixelRect(x: 60, y: 30, width: 12, height: 15)
        func person(_ level: Double) -> [Float] {
            var picture = gen.scene
            for y in 0 ..< box.height { for x in 0 ..< box.width { picture[(box.y + y) * SceneGenerator.width + box.x + x] += Float(level + rng.unit() * 30) } }
            return picture
        }
        let first = person(-75), second = person(-55)
        _ = run(&gate, 30) { _ in gen.frame(noise: 3) }
        _ = run(&gate, 90) { _ in gen.frame(noise: 3, picture: first) }
        _ = run(&gate, 3) { _ in gen.frame(noise: 3) }
        let arrival = gate.look(gen.frame(noise: 3, picture: second))
        #expect(arrival.regions.contains { $0.box.intersection(box) == box }, "the newcomer: \(arrival.regions)")
    }

    @Test func sizeChangeAndResetStartAgain() throws {
        var gen = SceneGenerator(seed: 6)
        var gate = MotionGate()
        #expect(gate.look(gen.frame(noise: 3)).isFirst)
        #expect(!gate.look(gen.frame(noise: 3)).isFirst)
        let smaller = try gen.frame(noise: 3).cropped(to: PixelRect(x: 0, y: 0, width: 120, height: 90))
        let report = gate.look(smaller)
        #expect(report.isFirst && report.regions.isEmpty && report.movedFraction == 0)
        #expect(!gate.look(smaller).isFirst)
        gate.reset()
        #expect(gate.look(smaller).isFirst)
    }

    @Test func meanLumaIsTheThumbnailMean() throws {
        var gate = MotionGate()
        let image = try GrayImage(width: 4, height: 2, pixels: [0, 10, 20, 30, 40, 50, 60, 70])
        #expect(gate.look(image).meanLuma == 35)
    }

    @Test func regionsAreGrownMergedAndLargestFirst() throws {
        var gate = MotionGate()
        let still = try GrayImage(width: 20, height: 10, fill: 100)
        _ = gate.look(still)
        var moved = still
        // A 3×2 blob at (2, 2); two blobs whose grown boxes overlap, at (10, 2) and (12, 2); a
        // single pixel (noise) at (18, 8).
        for (x, y) in [(2, 2), (3, 2), (4, 2), (2, 3), (3, 3), (4, 3), (10, 2), (10, 3), (10, 4), (12, 2), (12, 3), (12, 4), (12, 5), (18, 8)] {
            moved.pixels[y * 20 + x] = 200
        }
        let report = gate.look(moved)
        #expect(report.regions == [
            MotionRegion(box: PixelRect(x: 9, y: 1, width: 5, height: 6), pixels: 7),
            MotionRegion(box: PixelRect(x: 1, y: 1, width: 5, height: 4), pixels: 6),
        ])
        #expect(report.movedFraction == 14.0 / 200)
    }
}

/// The gate on real video: `../shared/videos/walkup-entrance-1080p.mjpeg` (105 frames, people
/// walking toward the camera throughout; see its SOURCES.md).
@Suite(.enabled(if: Fixtures.sharedVideo("walkup-entrance-1080p.mjpeg") != nil,
                "../shared/videos/walkup-entrance-1080p.mjpeg is absent on this machine"))
struct MotionGateVideoTests {
    /// The JPEGs of an MJPEG stream, split at each end-of-image marker.
    static func frames(_ path: String) throws -> [[UInt8]] {
        let data = try ImageDecoder.read(path)
        var frames: [[UInt8]] = [], start: Int?
        var i = 0
        while i + 1 < data.count {
            if data[i] == 0xFF, data[i + 1] == 0xD8, start == nil { start = i }
            if data[i] == 0xFF, data[i + 1] == 0xD9, let s = start {
                frames.append(Array(data[s ... i + 1])); start = nil
            }
            i += 1
        }
        return frames
    }

    @Test func peopleWalkingAreFoundWithoutFlooding() throws {
        let frames = try Self.frames(Fixtures.sharedVideo("walkup-entrance-1080p.mjpeg")!)
        #expect(frames.count == 105)
        var gate = MotionGate()
        var withRegions = 0, modest = 0
        var coverage: [Double] = []
        for (index, jpeg) in frames.enumerated() {
            let (thumb, step) = try ImageDecoder().decodeThumbnail(jpeg, limit: .exactly(width: 1920, height: 1080))
            #expect(step == 8 && thumb.width == 240 && thumb.height == 135)
            let report = gate.look(thumb)
            #expect(report.isFirst == (index == 0))
            guard index > 0 else { continue }
            let covered = Double(report.regions.reduce(0) { $0 + $1.box.area }) / Double(thumb.width * thumb.height)
            coverage.append(covered)
            if !report.regions.isEmpty { withRegions += 1 }
            // The hand-held clip shakes from its first frame: while the background is young (20
            // frames) it does not learn the shake as noise, so that a person who leaves then
            // leaves no blind patch, and those frames are searched whole. Counted after them.
            if covered < 0.6, index > 20 { modest += 1 }
        }
        let n = frames.count - 1
        #expect(Double(withRegions) >= 0.9 * Double(n), "regions in \(withRegions) of \(n) frames")
        // 0.8, not 0.9: a moved pixel's deviation learns at most twice the noise floor, so that the
        // spot where someone stood is not left blind to the next person (see
        // aSecondPersonWhereTheFirstStoodIsSeenAtOnce); the hand-held clip's jittering edges then
        // stay motion longer (70 of 84 frames under 60% measured, 81 with the deviation unbounded).
        #expect(Double(modest) >= 0.8 * Double(n - 20), "regions covered under 60% in \(modest) of the \(n - 20) frames after the first 20; coverage \(coverage)")
    }
}
