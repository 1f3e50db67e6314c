import FaceVision
import FaceStore
import Foundation

/// The photos of one person that a replay shows, each cut down to the head and shoulders.
public struct VisitorPhotos: Sendable {
    public struct Photo: Sendable {
        public var path: String
        /// The crop at a large size (face about 280 px wide at most) and, for large faces, a
        /// small one (about 110 px): small faces are sampled from the small one, without aliasing.
        public var levels: [RGBImage]
        /// The face box in each level.
        public var faces: [PixelRect]

        public init(path: String, levels: [RGBImage], faces: [PixelRect]) {
            self.path = path
            self.levels = levels
            self.faces = faces
        }
    }

    public var person: String
    public var photos: [Photo]

    public init(person: String, photos: [Photo]) {
        self.person = person
        self.photos = photos
    }

    /// Decodes each photo and takes its largest face. Photos without a face, or unreadable,
    /// are left out and named in `skipped`.
    public static func load(person: String, paths: [String], engine: FaceEngine,
                            decoder: ImageDecoder = ImageDecoder()) -> (visitor: VisitorPhotos, skipped: [String]) {
        var photos = [Photo](), skipped = [String]()
        for path in paths {
            guard let image = try? decoder.decode(contentsOf: path),
                  let photo = try? prepare(image, path: path, engine: engine) else {
                skipped.append(path)
                continue
            }
            photos.append(photo)
        }
        return (VisitorPhotos(person: person, photos: photos), skipped)
    }

    /// The head-and-shoulders crop of `image` around its largest face; nil without a face.
    public static func prepare(_ image: RGBImage, path: String, engine: FaceEngine) throws -> Photo? {
        // Faces in photos fill a good part of them: look for faces of an eighth of the short side
        // and up (at least 40 px), which keeps detection on large photos cheap.
        let minFace = max(40, min(image.width, image.height) / 8)
        guard let face = try engine.detect(image.grayscale(), minFace: minFace).max(by: { $0.box.area < $1.box.area })?.box
        else { return nil }
        let fw = Double(face.width)
        let want = PixelRect(x: face.x - Int(fw * 1.2), y: face.y - Int(fw * 1.0),
                             width: face.width + Int(fw * 2.4), height: face.height + Int(fw * 2.8))
        guard let region = want.intersection(image.bounds) else { return nil }
        let crop = try image.cropped(to: region)
        let local = PixelRect(x: face.x - region.x, y: face.y - region.y, width: face.width, height: face.height)
        var levels = [RGBImage](), faces = [PixelRect]()
        let large = min(1, 280 / fw)
        // The small level only where it is much smaller than the large one.
        for factor in fw * large > 180 ? [large, 110 / fw] : [large] {
            // A box blur first, so that shrinking does not alias.
            let source = factor < 0.5 ? crop.boxBlurred(radius: Int((0.5 / factor).rounded(.down))) : crop
            let level = factor < 1 ? try source.scaled(by: factor) : source
            let sx = Double(level.width) / Double(crop.width), sy = Double(level.height) / Double(crop.height)
            levels.append(level)
            faces.append(PixelRect(x: Int((Double(local.x) * sx).rounded()), y: Int((Double(local.y) * sy).rounded()),
                                   width: Int((Double(local.width) * sx).rounded()), height: Int((Double(local.height) * sy).rounded())))
        }
        return Photo(path: path, levels: levels, faces: faces)
    }
}

/// Where one face is in one frame and how it looks there.
public struct FacePose: Sendable, Hashable {
    /// Centre of the face box, frame pixels.
    public var x: Double
    public var y: Double
    /// Width of the face box before the squeeze, frame pixels.
    public var width: Double
    /// In-plane turn, degrees clockwise.
    public var roll: Double
    /// Horizontal squeeze (1: frontal) and one-sided stretch: a head turned a little.
    public var squeeze: Double
    public var perspective: Double
    /// Which of the visitor's photos is shown.
    public var photo: Int
    /// Motion smear during the exposure, frame pixels.
    public var blurX: Double
    public var blurY: Double

    /// The face box as the truth gives it.
    public var box: PixelRect {
        let w = width * squeeze
        return PixelRect(x: Int((x - w / 2).rounded()), y: Int((y - width / 2).rounded()), width: Int(w.rounded()),
                         height: Int(width.rounded()))
    }
}

/// One person in view for a while: from `firstFrame`, one pose per frame, nil while the face
/// is out of sight (occluded, turned away).
public struct Appearance: Sendable {
    public var visitor: VisitorPhotos
    public var enrolled: Bool
    public var firstFrame: Int
    public var poses: [FacePose?]

    public init(visitor: VisitorPhotos, enrolled: Bool, firstFrame: Int, poses: [FacePose?]) {
        self.visitor = visitor
        self.enrolled = enrolled
        self.firstFrame = firstFrame
        self.poses = poses
    }

    public func pose(at frame: Int) -> FacePose? {
        let i = frame - firstFrame
        return poses.indices.contains(i) ? poses[i] : nil
    }
}

/// What a replay shows: per visit, who, whether enrolled, when, and the face box in each frame
/// where the face can be seen.
public struct ReplayTruth: Codable, Sendable, Hashable {
    public struct Face: Codable, Sendable, Hashable {
        public var frame: Int
        public var box: PixelRect

        public init(frame: Int, box: PixelRect) {
            self.frame = frame
            self.box = box
        }
    }

    public struct Visit: Codable, Sendable, Hashable {
        /// The person's folder name in the photo set.
        public var person: String
        public var enrolled: Bool
        /// First and last frame in which the face can be seen.
        public var firstFrame: Int
        public var lastFrame: Int
        public var faces: [Face]
        /// The photos the frames were made from (none of them was enrolled).
        public var photos: [String]

        public init(person: String, enrolled: Bool, firstFrame: Int, lastFrame: Int, faces: [Face], photos: [String]) {
            self.person = person
            self.enrolled = enrolled
            self.firstFrame = firstFrame
            self.lastFrame = lastFrame
            self.faces = faces
            self.photos = photos
        }

        public func box(at frame: Int) -> PixelRect? { faces.first { $0.frame == frame }?.box }
    }

    public var scenario: String
    public var width: Int
    public var height: Int
    public var fps: Double
    public var frames: Int
    public var seed: UInt64
    public var visits: [Visit]

    public init(scenario: String, width: Int, height: Int, fps: Double, frames: Int, seed: UInt64, visits: [Visit]) {
        self.scenario = scenario
        self.width = width
        self.height = height
        self.fps = fps
        self.frames = frames
        self.seed = seed
        self.visits = visits
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// Auto-exposure of one frame.
public struct Exposure: Sendable, Hashable {
    public var gain: Double
    public var gamma: Double
}

/// A synthetic door-camera replay: people walking up, built from still photos. Every random
/// choice is made when the scene is built, from its seed; `render` is a pure function of the frame.
public struct VisitScene: Sendable {
    public var name: String
    public var width: Int
    public var height: Int
    public var fps: Double
    public var seed: UInt64
    public var frameCount: Int
    public var appearances: [Appearance]
    public var exposure: [Exposure]
    /// Sensor noise, standard deviation in levels.
    public var noise: Double = 3
    public let background: RGBImage

    public init(name: String, width: Int, height: Int, fps: Double, seed: UInt64, frameCount: Int, appearances: [Appearance]) throws {
        self.name = name
        self.width = width
        self.height = height
        self.fps = fps
        self.seed = seed
        self.frameCount = frameCount
        self.appearances = appearances
        var rng = SeededRandom(seed: seed ^ 0xBAC6_0000)
        background = try Self.background(width: width, height: height, rng: &rng)
        let p1 = Double.random(in: 0 ..< 2 * .pi, using: &rng), p2 = Double.random(in: 0 ..< 2 * .pi, using: &rng)
        exposure = (0 ..< frameCount).map { f in
            let t = Double(f) / fps
            return Exposure(gain: 1 + 0.2 * sin(2 * .pi * t / 7 + p1) + Double.random(in: -0.03 ... 0.03, using: &rng),
                            gamma: 1 + 0.12 * sin(2 * .pi * t / 11 + p2))
        }
    }

    /// A smooth, blotchy wall: a coarse random grid with a vertical gradient, scaled up.
    static func background(width: Int, height: Int, rng: inout SeededRandom) throws -> RGBImage {
        let gw = max(2, width / 40), gh = max(2, height / 40)
        let tint = (Double.random(in: 0.9 ... 1.1, using: &rng), Double.random(in: 0.9 ... 1.1, using: &rng))
        var pixels = [UInt8]()
        pixels.reserveCapacity(gw * gh * 3)
        for y in 0 ..< gh {
            for _ in 0 ..< gw {
                let v = 70 + 60 * Double(y) / Double(gh) + Double.random(in: -18 ... 18, using: &rng)
                pixels += [UInt8(min(255, v * tint.0)), UInt8(min(255, v)), UInt8(min(255, v * tint.1))]
            }
        }
        return try RGBImage(width: gw, height: gh, pixels: pixels).resized(width: width, height: height)
    }

    /// The photo level and placement that draw `pose`.
    public func placement(of pose: FacePose, visitor: VisitorPhotos) -> (image: RGBImage, placement: PhotoPlacement) {
        let photo = visitor.photos[pose.photo % visitor.photos.count]
        // The smallest level whose face is still at least as wide as the drawn one (or the largest).
        let level = photo.levels.indices.last { Double(photo.faces[$0].width) >= pose.width * 0.9 } ?? 0
        let image = photo.levels[level], face = photo.faces[level]
        let placement = PhotoPlacement(
            anchorX: Double(face.x) + Double(face.width) / 2, anchorY: Double(face.y) + Double(face.height) / 2,
            centerX: pose.x, centerY: pose.y, scale: pose.width / Double(face.width), squeeze: pose.squeeze,
            perspective: pose.perspective, perspectiveRadius: Double(face.width), degrees: pose.roll,
            blurX: pose.blurX, blurY: pose.blurY, region: image.bounds, feather: max(2, pose.width / 20))
        return (image, placement)
    }

    /// The people in view in `frame`, farthest (smallest face) first: the order they are drawn in.
    func inView(_ frame: Int) -> [(index: Int, pose: FacePose)] {
        appearances.indices.compactMap { i in appearances[i].pose(at: frame).map { (i, $0) } }.sorted { $0.pose.width < $1.pose.width }
    }

    public func render(frame: Int) -> RGBImage {
        var image = background
        for (i, pose) in inView(frame) {
            let (photo, placement) = placement(of: pose, visitor: appearances[i].visitor)
            image.draw(photo, placement)
        }
        let e = exposure[frame]
        return image.exposed(gain: e.gain, gamma: e.gamma, noise: noise, seed: seed &+ UInt64(frame) &* 7919)
    }

    /// The replay as MJPEG (concatenated JPEG frames).
    public func mjpeg(quality: Int = 85) throws -> [UInt8] {
        let encoder = JPEGEncoder(quality: quality)
        var bytes = [UInt8]()
        for f in 0 ..< frameCount { bytes += try encoder.encode(render(frame: f)) }
        return bytes
    }

    /// A face counts as seen unless a nearer person's head and shoulders cover 40% of its box.
    func isSeen(_ index: Int, at frame: Int) -> Bool {
        guard let pose = appearances[index].pose(at: frame) else { return false }
        let box = pose.box
        for (other, nearer) in inView(frame) where other != index && nearer.width > pose.width {
            let (photo, placement) = placement(of: nearer, visitor: appearances[other].visitor)
            if let overlap = placement.frameBounds(of: photo.bounds).intersection(box), overlap.area * 10 >= box.area * 4 { return false }
        }
        return box.intersection(PixelRect(x: 0, y: 0, width: width, height: height))?.area ?? 0 >= box.area * 3 / 4
    }

    public var truth: ReplayTruth {
        let visits = appearances.indices.map { i -> ReplayTruth.Visit in
            let a = appearances[i]
            let faces = (a.firstFrame ..< a.firstFrame + a.poses.count).filter { isSeen(i, at: $0) }
                .map { ReplayTruth.Face(frame: $0, box: a.pose(at: $0)!.box) }
            let shown = Set(a.poses.compactMap { $0?.photo }).sorted().map { a.visitor.photos[$0 % a.visitor.photos.count].path }
            return ReplayTruth.Visit(person: a.visitor.person, enrolled: a.enrolled, firstFrame: faces.first?.frame ?? a.firstFrame,
                                     lastFrame: faces.last?.frame ?? a.firstFrame, faces: faces, photos: shown)
        }
        return ReplayTruth(scenario: name, width: width, height: height, fps: fps, frames: frameCount, seed: seed, visits: visits)
    }
}

/// Moves one person through a replay: approach and standing segments, with sway, small turns,
/// motion smear and a change of photo every second or so. Continuous across segments.
public struct Walker {
    public let photoCount: Int
    public let fps: Double
    private var t = 0
    private var rng: SeededRandom
    private let rollPhase: Double, yawPhase: Double, swayPhase: Double, rollFrequency: Double, yawFrequency: Double
    private var photo: Int
    private var nextSwitch: Int
    private var last: (x: Double, y: Double)?

    public init(photoCount: Int, fps: Double, seed: UInt64) {
        precondition(photoCount > 0, "a visitor needs a photo")
        self.photoCount = photoCount
        self.fps = fps
        var rng = SeededRandom(seed: seed)
        rollPhase = .random(in: 0 ..< 2 * .pi, using: &rng)
        yawPhase = .random(in: 0 ..< 2 * .pi, using: &rng)
        swayPhase = .random(in: 0 ..< 2 * .pi, using: &rng)
        rollFrequency = .random(in: 0.2 ... 0.45, using: &rng)
        yawFrequency = .random(in: 0.25 ... 0.5, using: &rng)
        photo = .random(in: 0 ..< photoCount, using: &rng)
        nextSwitch = .random(in: 8 ... 16, using: &rng)
        self.rng = rng
    }

    /// `frames` poses from `from` to `to` (centre x, y and face width). The width grows as
    /// seen from a camera: its inverse (the distance) changes evenly.
    public mutating func move(frames: Int, from: (x: Double, y: Double, width: Double), to: (x: Double, y: Double, width: Double))
        -> [FacePose] {
        (0 ..< frames).map { i in
            let s = frames > 1 ? Double(i) / Double(frames - 1) : 1
            let width = 1 / ((1 - s) / from.width + s / to.width)
            let time = Double(t) / fps
            let x = from.x + (to.x - from.x) * s + 0.06 * width * sin(2 * .pi * 0.9 * time + swayPhase)
            let y = from.y + (to.y - from.y) * s + 0.03 * width * sin(2 * .pi * 1.8 * time + swayPhase)
            let yaw = sin(2 * .pi * yawFrequency * time + yawPhase)
            var blurX = 0.0, blurY = 0.0
            if let last {
                blurX = (x - last.x) * 0.5
                blurY = (y - last.y) * 0.5
            }
            // Now and then a jerk of the head or camera: a real smear.
            if Double.random(in: 0 ..< 1, using: &rng) < 0.2 {
                blurX += Double.random(in: 0.03 ... 0.08, using: &rng) * width * (Bool.random(using: &rng) ? 1 : -1)
            }
            last = (x, y)
            t += 1
            if t >= nextSwitch {
                photo = (photo + 1 + .random(in: 0 ..< max(1, photoCount - 1), using: &rng)) % photoCount
                nextSwitch = t + .random(in: 10 ... 18, using: &rng)
            }
            return FacePose(x: x, y: y, width: width, roll: 6 * sin(2 * .pi * rollFrequency * time + rollPhase), squeeze: 1 - 0.16 * abs(yaw),
                            perspective: 0.12 * yaw, photo: photo, blurX: blurX, blurY: blurY)
        }
    }
}

extension VisitScene {
    /// Who walks up in a scenario, and whether the gallery knows them.
    public typealias Visitor = (photos: VisitorPhotos, enrolled: Bool)

    /// People walking up one after another: each approaches from afar (face about 60 px wide) to
    /// the door (about 250 px), waits a moment and goes through.
    public static func singles(_ visitors: [Visitor], name: String = "singles", width: Int = 1280, height: Int = 720,
                               fps: Double = 15, seed: UInt64) throws -> VisitScene {
        var rng = SeededRandom(seed: seed)
        var frame = 0, appearances = [Appearance]()
        let W = Double(width), H = Double(height)
        for visitor in visitors {
            frame += .random(in: 12 ... 20, using: &rng)
            var walker = Walker(photoCount: visitor.photos.photos.count, fps: fps, seed: rng.next())
            let x0 = W * .random(in: 0.3 ... 0.7, using: &rng), x1 = x0 + W * .random(in: -0.08 ... 0.08, using: &rng)
            let start = (x: x0, y: H * .random(in: 0.36 ... 0.46, using: &rng), width: Double.random(in: 56 ... 66, using: &rng))
            let door = (x: x1, y: H * .random(in: 0.34 ... 0.4, using: &rng), width: Double.random(in: 230 ... 260, using: &rng))
            let poses = walker.move(frames: Int(fps * .random(in: 2.4 ... 3.4, using: &rng)), from: start, to: door)
                + walker.move(frames: Int(fps * .random(in: 0.8 ... 1.3, using: &rng)), from: door, to: door)
            appearances.append(Appearance(visitor: visitor.photos, enrolled: visitor.enrolled, firstFrame: frame, poses: poses))
            frame += poses.count
        }
        return try VisitScene(name: name, width: width, height: height, fps: fps, seed: seed, frameCount: frame + 15,
                              appearances: appearances)
    }

    /// Two people crossing in front of the camera in opposite directions, both coming nearer;
    /// the nearer one hides the other for a moment.
    public static func passing(_ a: Visitor, _ b: Visitor, name: String = "passing", width: Int = 1280, height: Int = 720,
                               fps: Double = 15, seed: UInt64) throws -> VisitScene {
        var rng = SeededRandom(seed: seed)
        let W = Double(width), H = Double(height)
        let frames = Int(fps * .random(in: 3.6 ... 4.4, using: &rng)), lag = Int.random(in: 2 ... 6, using: &rng)
        var walkA = Walker(photoCount: a.photos.photos.count, fps: fps, seed: rng.next())
        var walkB = Walker(photoCount: b.photos.photos.count, fps: fps, seed: rng.next())
        let y = H * .random(in: 0.38 ... 0.44, using: &rng)
        let posesA = walkA.move(frames: frames, from: (W * 0.12, y, 80), to: (W * 0.88, y - H * 0.02, 140))
        let posesB = walkB.move(frames: frames, from: (W * 0.88, y - H * 0.01, 100), to: (W * 0.12, y - H * 0.04, 190))
        return try VisitScene(name: name, width: width, height: height, fps: fps, seed: seed, frameCount: 10 + lag + frames + 15,
                              appearances: [Appearance(visitor: a.photos, enrolled: a.enrolled, firstFrame: 10, poses: posesA),
                                            Appearance(visitor: b.photos, enrolled: b.enrolled, firstFrame: 10 + lag, poses: posesB)])
    }

    /// A walks up to the door and waits; A goes, and 2-3 frames later B stands where A stood.
    public static func swap(_ a: Visitor, _ b: Visitor, name: String = "swap", width: Int = 1280, height: Int = 720,
                            fps: Double = 15, seed: UInt64) throws -> VisitScene {
        var rng = SeededRandom(seed: seed)
        let W = Double(width), H = Double(height)
        var walkA = Walker(photoCount: a.photos.photos.count, fps: fps, seed: rng.next())
        var walkB = Walker(photoCount: b.photos.photos.count, fps: fps, seed: rng.next())
        let spot = (x: W * .random(in: 0.4 ... 0.6, using: &rng), y: H * 0.4, width: Double.random(in: 190 ... 210, using: &rng))
        let start = (x: spot.x + W * .random(in: -0.1 ... 0.1, using: &rng), y: H * 0.44, width: 70.0)
        let posesA = walkA.move(frames: Int(fps * 2.7), from: start, to: spot) + walkA.move(frames: 12, from: spot, to: spot)
        let gap = Int.random(in: 2 ... 3, using: &rng)
        let near = (x: spot.x, y: spot.y - H * 0.02, width: 240.0)
        let posesB = walkB.move(frames: 20, from: spot, to: spot) + walkB.move(frames: 10, from: spot, to: near)
        let firstB = 10 + posesA.count + gap
        return try VisitScene(name: name, width: width, height: height, fps: fps, seed: seed, frameCount: firstB + posesB.count + 15,
                              appearances: [Appearance(visitor: a.photos, enrolled: a.enrolled, firstFrame: 10, poses: posesA),
                                            Appearance(visitor: b.photos, enrolled: b.enrolled, firstFrame: firstB, poses: posesB)])
    }

    /// One visit whose face is out of sight for about a second in the middle of the approach.
    public static func occlusion(_ a: Visitor, name: String = "occlusion", width: Int = 1280, height: Int = 720,
                                 fps: Double = 15, seed: UInt64) throws -> VisitScene {
        var rng = SeededRandom(seed: seed)
        let W = Double(width), H = Double(height)
        var walker = Walker(photoCount: a.photos.photos.count, fps: fps, seed: rng.next())
        let x = W * .random(in: 0.35 ... 0.65, using: &rng)
        let door = (x: x + W * 0.05, y: H * 0.37, width: 245.0)
        var poses: [FacePose?] = walker.move(frames: Int(fps * 4.5), from: (x, H * 0.44, 60), to: door)
            + walker.move(frames: 10, from: door, to: door)
        let hideFrom = Int(Double(poses.count) * 0.4)
        for i in hideFrom ..< hideFrom + Int(fps.rounded()) { poses[i] = nil }
        return try VisitScene(name: name, width: width, height: height, fps: fps, seed: seed, frameCount: 10 + poses.count + 15,
                              appearances: [Appearance(visitor: a.photos, enrolled: a.enrolled, firstFrame: 10, poses: poses)])
    }
}
