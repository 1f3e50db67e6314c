/// Simple figures about how usable a face chip is for recognition.
public struct FaceQuality: Sendable, Hashable, Codable {
    /// Variance of the 4-neighbour Laplacian of the gray chip; blurred faces score low.
    public var sharpness: Double
    /// Mean luma, 0...255.
    public var brightness: Double

    public init(sharpness: Double, brightness: Double) {
        self.sharpness = sharpness
        self.brightness = brightness
    }

    public init(chip: RGBImage) {
        let gray = chip.grayscale()
        let w = gray.width, h = gray.height
        var sum = 0.0, laplaceSum = 0.0, laplaceSquares = 0.0
        gray.pixels.withUnsafeBufferPointer { p in
            for v in p { sum += Double(v) }
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
        brightness = sum / Double(gray.pixels.count)
    }
}
