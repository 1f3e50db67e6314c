import ArgumentParser
import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceVision
import Foundation

struct Visits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visits",
        abstract: "Run realistic walk-up replays through the pipeline and score its decisions against their truth.",
        discussion: """
            People of --faces-dev with 3 or more photos walk up to the camera (face from about 60 to 250 px, \
            turning, blurring, changing exposure, switching between their photos). Scenarios: single visits, two \
            people passing, a swap at the same spot, a one-second occlusion. About 60% of the visitors are enrolled, \
            from photos that are not in their frames, into a temporary gallery along with people who never visit. \
            Each replay runs through the pipeline in process with the default policy, frames stamped at --fps; \
            the decisions are read back from the audit log and matched to the truth by frame.
            Examples:
              facebench visits
              facebench visits --seed 2 --visits 12 --json
              facebench visits --save /tmp/visits   # replays, truth and gallery, for faced
            """)

    @Option(help: ArgumentHelp("The labelled photo set: a folder per person.", valueName: "dir"))
    var facesDev = "../shared/faces-dev"

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: "Seed for every random choice: people, paths, blur, exposure, noise.")
    var seed: UInt64 = 1

    @Option(help: "Single visits in the singles replay.")
    var visits = 8

    @Option(help: "How many passing, swap and occlusion replays of each kind.")
    var repeats = 2

    @Option(help: "People enrolled besides the visitors (from those with fewer than 3 photos).")
    var distractors = 10

    @Option(help: "Frame size, WIDTHxHEIGHT.")
    var size = "1280x720"

    @Option(help: "Frames per second of the replays.")
    var fps = 15.0

    @Option(help: ArgumentHelp("Smallest face to look for, in pixels (the daemon's default).", valueName: "px"))
    var minFace = 80

    @Option(help: ArgumentHelp("Write the replays (NAME.mjpeg), their truth (NAME.truth.json) and the gallery here.",
                               valueName: "dir"))
    var save: String?

    @Flag(help: "Print the results as JSON.")
    var json = false

    struct Person {
        var name: String
        var photos: [String]
    }

    func run() throws {
        guard let (width, height) = CameraRequest.parseSize(size) else { throw ValidationError("--size must be WIDTHxHEIGHT, e.g. 1280x720") }
        guard fps > 0, fps <= 120 else { throw ValidationError("--fps must be between 0 and 120") }
        guard visits >= 1, repeats >= 0, distractors >= 0 else { throw ValidationError("--visits must be at least 1; --repeats and --distractors at least 0") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: facesDev, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(facesDev): no such folder; give the photo set with --faces-dev DIR")
        }
        let people = try listPeople()
        let many = people.filter { $0.photos.count >= 3 }, few = people.filter { $0.photos.count < 3 }
        guard many.count >= 4 else { throw ValidationError("\(facesDev): only \(many.count) people with 3 or more photos; need 4") }

        let engine = try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)))
        let decoder = ImageDecoder()
        var rng = SeededRandom(seed: seed)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-visits-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }

        // The gallery: enrolled visitors from one photo (two when they have five or more),
        // kept out of their frames; then the distractors.
        let galleryPath = work + "/gallery.db"
        var store = try FaceStore(path: galleryPath)
        var enroller = Enroller(engine: engine, store: store)
        enroller.decoder = decoder
        let pool = many.shuffled(using: &rng)
        var enrolledPool = [(VisitorPhotos, Bool)](), strangerPool = [(VisitorPhotos, Bool)]()
        var enrollNotes = [String]()
        for (i, var person) in pool.enumerated() {
            person.photos.shuffle(using: &rng)
            // 3 of every 5 are enrolled.
            var enrolled = i % 5 < 3
            if enrolled {
                let want = person.photos.count >= 5 ? 2 : 1
                var used = [PreparedPhoto]()
                for (_, result) in try enroller.prepare(person.photos, for: person.name, options: EnrollmentOptions()) {
                    if used.count < want, case let .success(p) = result { used.append(p) }
                }
                if used.isEmpty {
                    enrolled = false
                    enrollNotes.append("\(person.name): no photo passed enrollment; visits as a stranger")
                } else {
                    _ = try enroller.commit(used, name: person.name)
                    person.photos.removeAll { p in used.contains { $0.path == p } }
                }
            }
            let (visitor, skipped) = VisitorPhotos.load(person: person.name, paths: person.photos, engine: engine, decoder: decoder)
            if !skipped.isEmpty { enrollNotes.append("\(person.name): no face found in \(skipped.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))") }
            guard !visitor.photos.isEmpty else { continue }
            if enrolled { enrolledPool.append((visitor, true)) } else { strangerPool.append((visitor, false)) }
        }
        var distractorCount = 0
        for person in few.shuffled(using: &rng) where distractorCount < distractors {
            let prepared = try enroller.prepare(Array(person.photos.prefix(1)), for: person.name, options: EnrollmentOptions())
            guard case let .success(p)? = prepared.first?.result else { continue }
            _ = try enroller.commit([p], name: person.name)
            distractorCount += 1
        }
        guard enrolledPool.count >= 2, strangerPool.count >= 2 else {
            throw ValidationError("\(facesDev): too few usable people (\(enrolledPool.count) enrolled, \(strangerPool.count) strangers)")
        }
        _ = store.close()
        if let save {
            try? FileManager.default.removeItem(atPath: save + "/gallery.db")
            try FileManager.default.copyItem(atPath: galleryPath, toPath: save + "/gallery.db")
        }
        store = try FaceStore(path: galleryPath)

        // Who appears where: draws from the two pools in turn, so people repeat only across replays.
        var nextEnrolled = 0, nextStranger = 0
        func take(_ enrolled: Bool) -> VisitScene.Visitor {
            defer { if enrolled { nextEnrolled += 1 } else { nextStranger += 1 } }
            return enrolled ? enrolledPool[nextEnrolled % enrolledPool.count] : strangerPool[nextStranger % strangerPool.count]
        }
        var scenes = [VisitScene]()
        let singles = (0 ..< visits).map { take($0 % 5 != 1 && $0 % 5 != 3) }
        scenes.append(try .singles(singles, width: width, height: height, fps: fps, seed: rng.next()))
        for r in 0 ..< repeats {
            let pairs: [(Bool, Bool)] = [(true, true), (true, false), (false, true)]
            let (a, b) = pairs[r % pairs.count]
            scenes.append(try .passing(take(a), take(b), name: "passing-\(r + 1)", width: width, height: height, fps: fps, seed: rng.next()))
            let (c, d) = pairs[(r + 1) % pairs.count]
            scenes.append(try .swap(take(c), take(d), name: "swap-\(r + 1)", width: width, height: height, fps: fps, seed: rng.next()))
            scenes.append(try .occlusion(take(r % 2 == 0), name: "occlusion-\(r + 1)", width: width, height: height, fps: fps,
                                         seed: rng.next()))
        }

        var results = [Result]()
        for scene in scenes { results.append(try run(scene, engine: engine, store: store)) }
        let total = Result(score: VisitScore.total(results.map(\.score)), frames: results.map(\.frames).reduce(0, +),
                           seconds: results.map(\.seconds).reduce(0, +), cpuSeconds: results.map(\.cpuSeconds).reduce(0, +))
        let gallery = try store.counts()
        if json {
            let report = Report(seed: seed, size: size, fps: fps, minFace: minFace, galleryPeople: gallery.people,
                                notes: enrollNotes, replays: results, total: total)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("seed \(seed), \(size) at \(fps) fps, min face \(minFace) px; gallery of \(gallery.people) people "
            + "(\(enrolledPool.count) who visit, \(distractorCount) who never do)")
        for note in enrollNotes { print("note: \(note)") }
        print("")
        var table = Table(header: ["replay", "visits", "enrolled", "granted ok", "FALSE GRANT", "enr. unknown/denied", "enr. missed",
                                   "undecided", "events/visit", "fragmented", "id switch", "stray", "latency p50", "p95",
                                   "fps", "cpu s"])
        for r in results + [total] {
            let s = r.score
            func sec(_ v: Double?) -> String { v.map { String(format: "%.2f s", $0) } ?? "-" }
            table.add([s.scenario, "\(s.visits)", "\(s.enrolledVisits)", "\(s.grantedCorrectly)", "\(s.falseGrants)",
                       "\(s.enrolledUnknownOrDenied)", "\(s.enrolledMissed)", "\(s.undecided)",
                       s.eventsPerVisit.map(String.init).joined(separator: ","), "\(s.fragmented)", "\(s.identitySwitches)",
                       "\(s.stray)", sec(VisitScore.percentile(s.decisionLatencies, 0.5)),
                       sec(VisitScore.percentile(s.decisionLatencies, 0.95)), String(format: "%.1f", r.fps),
                       String(format: "%.1f", r.cpuSeconds)])
        }
        print(table.render())
        if let save { print("\nwrote the replays, their truth and gallery.db to \(save)") }
    }

    struct Result: Codable {
        var score: VisitScore
        var frames: Int
        /// Wall-clock and CPU time spent in the pipeline (rendering the frames not counted).
        var seconds: Double
        var cpuSeconds: Double
        var fps: Double
        var decisions = [ReplayDecision]()

        init(score: VisitScore, frames: Int, seconds: Double, cpuSeconds: Double, decisions: [ReplayDecision] = []) {
            self.score = score
            self.frames = frames
            self.seconds = seconds
            self.cpuSeconds = cpuSeconds
            fps = seconds > 0 ? Double(frames) / seconds : 0
            self.decisions = decisions
        }
    }

    struct Report: Codable {
        var seed: UInt64
        var size: String
        var fps: Double
        var minFace: Int
        var galleryPeople: Int
        var notes: [String]
        var replays: [Result]
        var total: Result
    }

    func listPeople() throws -> [Person] {
        try FacesDevPerson.all(in: facesDev).map { Person(name: $0.name, photos: $0.photos) }
    }

    /// One replay through a fresh pipeline, frames stamped `1/fps` apart; decisions read back
    /// from the audit log (the replay's name is its camera).
    func run(_ scene: VisitScene, engine: FaceEngine, store: FaceStore) throws -> Result {
        let truth = scene.truth
        let encoder = JPEGEncoder(quality: 85)
        var file: FileHandle?
        if let save {
            try truth.json().write(to: URL(fileURLWithPath: "\(save)/\(scene.name).truth.json"))
            let path = "\(save)/\(scene.name).mjpeg"
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("\(path): cannot be written; give another folder with --save DIR")
            }
            file = handle
        }
        defer { try? file?.close() }
        let pipeline = try Pipeline(engine: engine, store: store, settings: PipelineSettings(camera: scene.name, minFace: minFace))
        // Whole milliseconds: the log keeps milliseconds, and frame numbers are worked out from it.
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
        var busy = Duration.zero, cpu = 0.0
        for f in 0 ..< scene.frameCount {
            let jpeg = try encoder.encode(scene.render(frame: f))
            try file?.write(contentsOf: jpeg)
            let frame = Frame(index: f, time: start.addingTimeInterval(Double(f) / fps), payload: .jpeg(jpeg))
            // Rendering runs between the calls, on this thread: only the pipeline's time is counted.
            let t0 = ContinuousClock.now, c0 = cpuSeconds()
            pipeline.process(frame)
            busy += ContinuousClock.now - t0
            cpu += cpuSeconds() - c0
        }
        let t0 = ContinuousClock.now, c0 = cpuSeconds()
        _ = pipeline.finishTracks(at: start.addingTimeInterval(Double(scene.frameCount) / fps))
        pipeline.recorder.flush()
        busy += ContinuousClock.now - t0
        cpu += cpuSeconds() - c0
        let decisions = try store.events(EventFilter(camera: scene.name)).compactMap { ReplayDecision($0, start: start, fps: fps) }
        let seconds = Double(busy.components.seconds) + Double(busy.components.attoseconds) / 1e18
        return Result(score: VisitScore(truth: truth, decisions: decisions), frames: scene.frameCount, seconds: seconds,
                      cpuSeconds: cpu, decisions: decisions)
    }

    /// CPU time of the whole process (the BLAS threads included), user and system.
    func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
