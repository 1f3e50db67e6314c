import ArgumentParser
import FaceAccess
import FaceStore
import FaceVision
import Foundation

struct Speed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speed",
        abstract: "Decode, detect and embed times per fixture photo; 1:N match time; model load time.")

    @Option(help: "Directory with the dlib models (default: $FACED_MODELS, ./Models, /usr/share/faced/models).")
    var models: String?

    @Option(help: "Directory with the photos to time.")
    var photos = "Tests/Fixtures"

    @Option(help: "Smallest face to look for, in pixels (facectl's default is 80).")
    var minFace = 80

    @Option(help: "Repetitions per measurement; the median is reported.")
    var repeats = 5

    func run() async throws {
        let modelDir = FaceModels.resolveDirectory(models)
        let load = try median(3) { _ = try FaceEngine(models: FaceModels(directory: modelDir)) }
        let engine = try FaceEngine(models: FaceModels(directory: modelDir))
        print("model load (landmarks + embedder): \(ms(load)) ms; BLAS kernels \(BLASKernels.inUse)\n")

        let files = try FileManager.default.contentsOfDirectory(atPath: photos)
            .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        let scale = FaceEngine.detectionScale(minFace: minFace)
        print("HOG at scale \(scale) (faces of \(minFace) px and up); µs/px counts the pixels HOG scans\n")
        var table = Table(header: ["photo", "size", "faces", "decode ms", "gray ms", "detect ms", "µs/px", "landmarks ms",
                                   "embed ms/face"])
        let decoder = ImageDecoder()
        for file in files {
            let path = photos + "/" + file
            let bytes = try ImageDecoder.read(path)
            let decode = try median(repeats) { _ = try decoder.decode(bytes) }
            let image = try decoder.decode(bytes)
            let grayTime = try median(repeats) { _ = image.grayscale() }
            let gray = image.grayscale()
            let detect = try median(repeats) { _ = try engine.detect(gray, minFace: minFace) }
            let boxes = try engine.detect(gray, minFace: minFace)
            let marksTime = try median(repeats) { for b in boxes { _ = try engine.landmarks(of: b.box, in: gray) } }
            let marks = try boxes.map { try engine.landmarks(of: $0.box, in: gray) }
            let embed = boxes.isEmpty ? 0 : try median(repeats) { _ = try engine.embeddings(of: marks, in: image) } / Double(boxes.count)
            let scanned = Double(image.width * image.height) * scale * scale
            table.add([file, "\(image.width)x\(image.height)", "\(boxes.count)", ms(decode), ms(grayTime), ms(detect),
                       String(format: "%.3f", detect * 1e6 / scanned), ms(marksTime), boxes.isEmpty ? "-" : ms(embed)])
        }
        print(table.render())

        print("\n1:N match (best + runner-up over all templates, 128-D, 3 templates per person)")
        var matchTable = Table(header: ["templates", "ms per probe", "templates/s"])
        var rng = SplitMix64(seed: 42)
        for count in [1_000, 10_000, 100_000] {
            let snapshot = syntheticGallery(templates: count, rng: &rng)
            let matcher = Matcher(snapshot: snapshot)
            let probe = (0 ..< 128).map { _ in Float(rng.nextUnit() - 0.5) * 0.2 }
            let t = try median(max(repeats, 5)) { _ = matcher.match(probe) }
            matchTable.add(["\(count)", String(format: "%.3f", t * 1000), String(format: "%.0f", Double(count) / t)])
        }
        print(matchTable.render())
    }
}

func median(_ n: Int, _ body: () throws -> Void) throws -> Double {
    var times = [Double]()
    for _ in 0 ..< max(1, n) {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

func syntheticGallery(templates: Int, rng: inout SplitMix64) -> GallerySnapshot {
    let perPerson = 3
    let peopleCount = (templates + perPerson - 1) / perPerson
    let people = (0 ..< peopleCount).map {
        GallerySnapshot.Entry(personID: Int64($0 + 1), name: "p\($0)", displayName: "p\($0)", enabled: true)
    }
    var vectors = [Float]()
    vectors.reserveCapacity(templates * 128)
    for _ in 0 ..< templates * 128 { vectors.append(Float(rng.nextUnit() - 0.5) * 0.2) }
    let owner = (0 ..< templates).map { Int32($0 / perPerson) }
    return GallerySnapshot(people: people, owner: owner, templateIDs: (0 ..< templates).map { Int64($0) },
                           vectors: vectors, generation: 0)
}
