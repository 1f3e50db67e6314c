import Foundation

/// Simple figures about how usable a face chip is for recognition.
public struct FaceQuality: Sendable, Hashable, Codable {
    /// Variance of the 4-neighbour Laplacian of the gray chip; blurred faces score low.
    public var sharpness: Double
    /// Mean luma, 0...255.
    public var brightness: Double
    /// Standard deviation of the luma, 0...127.5; flat, washed-out faces score low.
    public var contrast: Double

    public init(sharpness: Double, brightness: Double, contrast: Double) {
        self.sharpness = sharpness
        self.brightness = brightness
        self.contrast = contrast
    }

    public init(chip: RGBImage) {
        let gray = chip.grayscale()
        let w = gray.width, h = gray.height
        var sum = 0.0, squares = 0.0, laplaceSum = 0.0, laplaceSquares = 0.0
        gray.pixels.withUnsafeBufferPointer { p in
            for v in p {
                sum += Double(v)
                squares += Double(v) * Double(v)
            }
            guard w > 2, h > 2 else { return }
            for y in 1 ..< h - 1 {
                for x in 1 ..< w - 1 {
                    let i = y * w + x
                    let l = Double(p[i - 1]) + Double(p[i + 1]) + Double(p[i - w]) + Double(p[i + w]) - 4 * Double(p[i])
                    laplaceSum += l
                    laplaceSquares += l * l
                }
            }
        }
        let n = Double(max(1, (w - 2) * (h - 2)))
        let mean = laplaceSum / n
        sharpness = laplaceSquares / n - mean * mean
        let count = Double(max(1, gray.pixels.count))
        brightness = sum / count
        contrast = max(0, squares / count - brightness * brightness).squareRoot()
    }
}

/// A rough head pose from the 5 landmarks (two corners of each eye, the base of the nose).
public struct FacePose: Sendable, Hashable, Codable {
    /// Turn left or right, in degrees; 0 is frontal. From how far the nose sits off the middle
    /// of the eyes, as a fraction of the eye distance.
    public var yaw: Double
    /// Head tilt towards a shoulder, in degrees: the angle of the line through the eyes.
    public var roll: Double

    public init(yaw: Double, roll: Double) {
        self.yaw = yaw
        self.roll = roll
    }

    /// How far in front of the eyes' plane the base of the nose sits, as a fraction of the eye
    /// distance (anthropometric average): the nose moves sideways by this times sin(yaw).
    static let noseDepth = 0.55

    public init(_ landmarks: FaceLandmarks) {
        precondition(landmarks.points.count == 5, "5-point landmarks expected")
        let p = landmarks.points.map { (x: Double($0.x), y: Double($0.y)) }
        let a = (x: (p[0].x + p[1].x) / 2, y: (p[0].y + p[1].y) / 2)
        let b = (x: (p[2].x + p[3].x) / 2, y: (p[2].y + p[3].y) / 2)
        let (left, right) = a.x <= b.x ? (a, b) : (b, a)
        let dx = right.x - left.x, dy = right.y - left.y
        let distance = max(1e-6, (dx * dx + dy * dy).squareRoot())
        roll = atan2(dy, dx) * 180 / .pi
        let middle = (x: (left.x + right.x) / 2, y: (left.y + right.y) / 2)
        // The nose's offset along the eye line, so that a tilted head does not read as turned.
        let along = ((p[4].x - middle.x) * dx + (p[4].y - middle.y) * dy) / distance / distance
        yaw = asin(max(-1, min(1, along / Self.noseDepth))) * 180 / .pi
    }
}

extension Face {
    public var pose: FacePose { FacePose(landmarks) }
}
