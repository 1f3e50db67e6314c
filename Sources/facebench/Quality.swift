import ArgumentParser
import FaceAccess
import FaceVision
import Foundation

struct Quality: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quality-gate figures on a labelled photo set: their spread, and how the gate treats the photos as they are and spoiled.",
        discussion: """
            For every photo with one face: face size, sharpness, brightness, contrast, yaw and roll, \
            as percentiles. Then the share of photos the default limits reject as they are, blurred (box \
            radius 4), darkened (x0.15) and flattened (x0.2 around mid-gray): the first should be near 0, \
            the others near 100%.
            """)

    @Option(help: "Labelled photo set: a folder per person.")
    var facesDev = "../shared/faces-dev"

    @Option(help: "Directory with the dlib models.")
    var models: String?

    func run() throws {
        let engine = try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)))
        let limits = QualityLimits()
        let decoder = ImageDecoder()
        let root = URL(fileURLWithPath: facesDev)
        let folders = try FileManager.default.contentsOfDirectory(atPath: facesDev).filter { !$0.hasPrefix("_") && !$0.contains(".") }.sorted()
        var measured = [PhotoQuality]()
        var spoiled = [String: (tried: Int, rejected: Int)]()
        var blurredSharpness = [Double]()
        var rejectedAsIs = [String]()
        func quality(_ image: RGBImage) throws -> PhotoQuality? {
            let faces = try engine.faces(in: image, minFace: 40)
            guard let face = faces.max(by: { $0.detection.box.area < $1.detection.box.area }) else { return nil }
            return PhotoQuality(face: face, imageWidth: image.width, imageHeight: image.height)
        }
        for folder in folders {
            for file in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path).sorted() {
                let path = root.appendingPathComponent(folder).appendingPathComponent(file).path
                guard let image = try? decoder.decode(contentsOf: path), let q = try quality(image) else { continue }
                measured.append(q)
                if let failure = limits.failure(of: q) { rejectedAsIs.append("\(folder)/\(file): \(failure)") }
                for (name, spoilt) in [("blurred", image.boxBlurred(radius: 4)), ("darkened", image.adjusted(gain: 0.15)),
                                       ("flattened", image.adjusted(gain: 0.2, offset: 102))] {
                    var tally = spoiled[name] ?? (0, 0)
                    tally.tried += 1
                    // No face found at all is a rejection too.
                    let q = try quality(spoilt)
                    if name == "blurred", let q { blurredSharpness.append(q.sharpness) }
                    if q.map({ limits.failure(of: $0) != nil }) ?? true { tally.rejected += 1 }
                    spoiled[name] = tally
                }
            }
        }
        print("\(measured.count) photos with a face in \(folders.count) folders\n")
        var table = Table(header: ["figure", "min", "1%", "5%", "median", "95%", "99%", "max", "limit"])
        func row(_ name: String, _ values: [Double], _ limit: String) {
            let s = values.sorted()
            func p(_ q: Double) -> String { String(format: "%.1f", s[min(s.count - 1, Int(Double(s.count - 1) * q))]) }
            table.add([name, p(0), p(0.01), p(0.05), p(0.5), p(0.95), p(0.99), p(1), limit])
        }
        guard !measured.isEmpty else { return print("no photos with a face") }
        row("face size px", measured.map { Double($0.faceSize) }, "≥ \(limits.minFace)")
        row("outside px", measured.map { Double($0.outside) }, "≤ \(Int(limits.edgeTolerance * 100))% of size")
        row("sharpness", measured.map(\.sharpness), "≥ \(limits.minSharpness)")
        if !blurredSharpness.isEmpty { row("sharpness, blurred", blurredSharpness, "") }
        row("brightness", measured.map(\.brightness), "\(limits.minBrightness)–\(limits.maxBrightness)")
        row("contrast", measured.map(\.contrast), "≥ \(limits.minContrast)")
        row("|yaw| °", measured.map { abs($0.yaw) }, "≤ \(limits.maxYaw)")
        row("|roll| °", measured.map { abs($0.roll) }, "≤ \(limits.maxRoll)")
        print(table.render())
        print("\nrejected as they are: \(rejectedAsIs.count)/\(measured.count)")
        for line in rejectedAsIs { print("  \(line)") }
        for name in ["blurred", "darkened", "flattened"] {
            let t = spoiled[name]!
            print(String(format: "rejected %@: %d/%d (%.0f%%)", name, t.rejected, t.tried, Double(t.rejected) * 100 / Double(max(1, t.tried))))
        }
    }
}
