import ArgumentParser
import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceVision
import Foundation

/// The replay both sides of the anchor benchmark run on (scripts/bench-anchor.sh).
struct AnchorReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anchor-replay",
        abstract: "Write the replay of the anchor benchmark: six visitors walking up at 1280x720, 30 fps, with its truth.",
        discussion: """
            Six visitors walk up one after another (faces from about 60 px far off to about 250 px at \
            the door). Writes DIR/replay.mjpeg and DIR/truth.json (per visit, the frames and face boxes \
            in view). Photos come from --faces-dev when given (six people with 3 or more photos), \
            else from the fixture photos (obama, biden, Tom Hanks and the large faces of t1.jpg), so \
            that it runs on any machine. The same replay feeds `facebench recall` and scripts/bench-anchor.py.
            Example:
              facebench anchor-replay -o /tmp/anchor && facebench recall --replay /tmp/anchor
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp("Folder to write replay.mjpeg and truth.json to.", valueName: "dir"))
    var output: String

    @Option(help: ArgumentHelp("A labelled photo set (a folder per person) to take the visitors from.", valueName: "dir"))
    var facesDev: String?

    @Option(help: ArgumentHelp("The fixture photos, used without --faces-dev.", valueName: "dir"))
    var photos = "Tests/Fixtures"

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: "Seed for the visitors' order, paths, blur, exposure and noise.")
    var seed: UInt64 = 1

    static let visitors = 6

    func run() throws {
        let engine = try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)))
        var rng = SeededRandom(seed: seed)
        let people = try facesDev.map { try Self.fromFacesDev($0, engine: engine, rng: &rng) } ?? Self.fromFixtures(photos, engine: engine)
        guard !people.isEmpty else { throw ValidationError("no usable face photos found; give a photo set with --faces-dev DIR") }
        // Fewer people than visitors (the fixtures): they come round again, on other paths.
        let visitors = (0 ..< Self.visitors).map { (photos: people[$0 % people.count], enrolled: false) }
        let scene = try VisitScene.singles(visitors, name: "anchor", width: 1280, height: 720, fps: 30, seed: rng.next())

        let truth = scene.truth
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let replay = output + "/replay.mjpeg", truthPath = output + "/truth.json"
        do {
            try Data(try scene.mjpeg()).write(to: URL(fileURLWithPath: replay))
            try truth.json().write(to: URL(fileURLWithPath: truthPath))
        } catch let error as CocoaError {
            throw ValidationError("\(output): cannot be written (\(error.localizedDescription)); give another folder with -o DIR")
        }
        let faces = truth.visits.map(\.faces.count).reduce(0, +)
        print("wrote \(replay) (\(scene.frameCount) frames, 1280x720, 30 fps) and \(truthPath) (\(visitors.count) visits, \(faces) faces in view); "
            + "visitors: \(visitors.map(\.photos.person).joined(separator: ", "))")
    }

    /// Six people with 3 or more photos, up to four photos each.
    static func fromFacesDev(_ dir: String, engine: FaceEngine, rng: inout SeededRandom) throws -> [VisitorPhotos] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(dir): no such folder; give the photo set with --faces-dev DIR, or leave it out to use the fixtures")
        }
        var candidates = [(String, [String])]()
        for name in try fm.contentsOfDirectory(atPath: dir).sorted() where !name.hasPrefix("_") && !name.hasPrefix(".") {
            let folder = dir + "/" + name
            guard let files = try? fm.contentsOfDirectory(atPath: folder) else { continue }
            let photos = files.filter { [".jpg", ".jpeg", ".png"].contains(where: $0.lowercased().hasSuffix) }.sorted().map { folder + "/" + $0 }
            if photos.count >= 3 { candidates.append((name, photos)) }
        }
        var people = [VisitorPhotos]()
        for (name, photos) in candidates.shuffled(using: &rng) where people.count < visitors {
            let visitor = VisitorPhotos.load(person: name, paths: Array(photos.shuffled(using: &rng).prefix(4)), engine: engine).visitor
            if !visitor.photos.isEmpty { people.append(visitor) }
        }
        return people
    }

    /// obama (three photos), biden, Tom Hanks, and each face of t1.jpg at least 80 px wide
    /// (smaller ones would be blown up 3x at the door).
    static func fromFixtures(_ dir: String, engine: FaceEngine) throws -> [VisitorPhotos] {
        guard FileManager.default.fileExists(atPath: dir + "/obama.jpg") else {
            throw ValidationError("\(dir)/obama.jpg is missing; run scripts/setup.sh data, or give --photos DIR or --faces-dev DIR")
        }
        var people = [VisitorPhotos]()
        for (name, files) in [("obama", ["obama.jpg", "obama2.jpg", "obama3.jpg"]), ("biden", ["biden.jpg"]),
                              ("tom_hanks", ["Tom_Hanks_54745.png"])] {
            let visitor = VisitorPhotos.load(person: name, paths: files.map { dir + "/" + $0 }, engine: engine).visitor
            if !visitor.photos.isEmpty { people.append(visitor) }
        }
        let decoder = ImageDecoder()
        if let group = try? decoder.decode(contentsOf: dir + "/t1.jpg") {
            let faces = try engine.detect(group.grayscale(), minFace: 40).map(\.box).filter { $0.width >= 80 }.sorted { $0.x < $1.x }
            for (i, face) in faces.enumerated() {
                // Cut each face out with room around it, so that the crop's largest face is this one.
                let w = face.width
                let room = PixelRect(x: face.x - w, y: face.y - w, width: 3 * w, height: 3 * w + w / 2)
                guard let region = room.intersection(group.bounds), let crop = try? group.cropped(to: region),
                      let photo = try VisitorPhotos.prepare(crop, path: dir + "/t1.jpg#\(i + 1)", engine: engine) else { continue }
                people.append(VisitorPhotos(person: "t1-\(i + 1)", photos: [photo]))
            }
        }
        return people
    }
}

/// faced's real pipeline on the anchor replay: speed, and how many of the truth's faces it found.
struct Recall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "Run a replay with truth (facebench anchor-replay) through the pipeline: fps, frames per CPU-second and face recall.",
        discussion: """
            The replay runs through the daemon's pipeline with a temporary empty gallery, every frame \
            taken (no latest-wins skipping), frames fed as fast as the pipeline takes them. fps is frames \
            over wall seconds; CPU is the whole process's. A truth face (frame, box) counts as found when \
            a face the pipeline found in that frame overlaps it with IoU >= 0.3; recall is over all truth \
            faces, and over those at least --min-face wide (the smallest faced looks for). \
            scripts/bench-anchor.py scores face_recognition's loop the same way.
            Example:
              facebench recall --replay /tmp/anchor --json
            """)

    @Option(help: ArgumentHelp("Folder with replay.mjpeg and truth.json (facebench anchor-replay).", valueName: "dir"))
    var replay: String

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: ArgumentHelp("Smallest face to look for, in pixels (the daemon's default).", valueName: "px"))
    var minFace = 80

    @Flag(help: "Print the results as JSON.")
    var json = false

    /// The same fields scripts/bench-anchor.py writes.
    struct Report: Codable {
        var side = "faced"
        var frames: Int
        var seconds: Double
        var cpuSeconds: Double
        var fps: Double
        var framesPerCPUSecond: Double
        var iou = AnchorScore.threshold
        var truthFaces: Int
        var matched: Int
        var recall: Double
        var minFace: Int
        var truthFacesMinFace: Int
        var matchedMinFace: Int
        var recallMinFace: Double
        /// OpenBLAS's kernels (the embedder runs on them); the anchor is given the same.
        var blasKernels = BLASKernels.inUse
    }

    func run() async throws {
        let replayPath = replay + "/replay.mjpeg", truthPath = replay + "/truth.json"
        guard let data = FileManager.default.contents(atPath: truthPath) else {
            throw ValidationError("\(truthPath): missing; make the replay first with facebench anchor-replay -o \(replay)")
        }
        let truth: ReplayTruth
        do { truth = try JSONDecoder().decode(ReplayTruth.self, from: data) } catch {
            throw ValidationError("\(truthPath): not a replay truth (\(error)); make it again with facebench anchor-replay")
        }
        let (engine, describer, helper) = try FaceEngine.pipelineEngines(models: models)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-recall-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let store = try FaceStore(path: work.appendingPathComponent("faced.db").path)
        let pipeline = try Pipeline(engine: engine, describer: describer, helper: helper, store: store, settings: PipelineSettings(minFace: minFace))
        let found = FoundFaces()
        pipeline.facesFound = { frame, boxes in found.boxes[frame] = boxes }
        let source = try MJPEGFileSource(path: replayPath)

        let cpuBefore = CPUTime.process(), start = ContinuousClock.now
        try await Runner(pipeline: pipeline, source: source, latestWins: false) { _ in }.run()
        let seconds = (ContinuousClock.now - start).seconds, cpu = CPUTime.process() - cpuBefore

        let score = AnchorScore(truth: truth, found: found.boxes, minFace: minFace)
        let frames = pipeline.framesProcessed
        let report = Report(frames: frames, seconds: seconds, cpuSeconds: cpu, fps: Double(frames) / max(seconds, 1e-9),
                            framesPerCPUSecond: Double(frames) / max(cpu, 1e-9), truthFaces: score.all.truth, matched: score.all.matched,
                            recall: score.all.recall, minFace: minFace, truthFacesMinFace: score.large.truth,
                            matchedMinFace: score.large.matched, recallMinFace: score.large.recall)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(String(format: "faced: %d frames in %.2f s: %.2f fps; CPU %.2f s, %.2f frames per CPU-second; "
            + "recall %.3f (%d/%d), %.3f (%d/%d) of faces >= %d px",
            frames, seconds, report.fps, cpu, report.framesPerCPUSecond, report.recall, report.matched, report.truthFaces,
            report.recallMinFace, report.matchedMinFace, report.truthFacesMinFace, minFace))
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        let stages = ["look", "decode", "gray", "detect", "convert", "describe", "decide"]
        print("ms per frame: " + stages.map { String(format: "%@ %.2f", $0, ms(pipeline.stageTime[$0] ?? .zero) / Double(max(1, frames))) }
            .joined(separator: ", "))
        for (reason, run) in pipeline.detectorRuns.sorted(by: { $0.key < $1.key }) {
            print(String(format: "detector, %@: %d runs, %.2f ms and %.0f kpixels each", reason, run.runs,
                         ms(run.time) / Double(max(1, run.runs)), Double(run.pixels) / Double(max(1, run.runs)) / 1000))
        }
        let described = pipeline.facesDescribed
        print("faces described: \(described.described), not described (settled tracks): \(described.notDescribed)")
    }

    /// Filled on the pipeline's thread, read once the run is over.
    final class FoundFaces: @unchecked Sendable {
        var boxes = [Int: [PixelRect]]()
    }
}

/// Truth faces matched by a found face in the same frame with IoU >= 0.3 (as scripts/bench-anchor.py counts).
struct AnchorScore {
    static let threshold = 0.3
    var all: (truth: Int, matched: Int, recall: Double)
    var large: (truth: Int, matched: Int, recall: Double)

    init(truth: ReplayTruth, found: [Int: [PixelRect]], minFace: Int) {
        var counts = [0, 0, 0, 0]
        for face in truth.visits.flatMap(\.faces) {
            let hit = (found[face.frame] ?? []).contains { Self.iou($0, face.box) >= Self.threshold }
            counts[0] += 1
            counts[1] += hit ? 1 : 0
            if face.box.width >= minFace {
                counts[2] += 1
                counts[3] += hit ? 1 : 0
            }
        }
        func recall(_ m: Int, _ t: Int) -> Double { t > 0 ? Double(m) / Double(t) : 0 }
        all = (counts[0], counts[1], recall(counts[1], counts[0]))
        large = (counts[2], counts[3], recall(counts[3], counts[2]))
    }

    static func iou(_ a: PixelRect, _ b: PixelRect) -> Double {
        let inter = a.intersection(b)?.area ?? 0
        let union = a.area + b.area - inter
        return union > 0 ? Double(inter) / Double(union) : 0
    }
}
