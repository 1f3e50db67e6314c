import ArgumentParser
import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceVision
import Foundation

struct Walkup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "walkup",
        abstract: "Run the walk-up clip through the daemon's pipeline: fps and CPU unpaced, decisions and their latency paced.",
        discussion: """
            Enrolls "hoodie" and "whitehair" from crops of frame 60 of the clip (the face nearest (947,738) and \
            (232,730), half its width around it, enrolled with min face 48), as the walk-up end-to-end test does, \
            into a temporary gallery with the default policy. Then the clip goes through the pipeline twice, each \
            run on a fresh copy of that gallery:
              unpaced: every frame in media time at --fps, as fast as the pipeline takes them: fps, CPU seconds, cores.
              paced:   at --fps on the wall clock, the latest frame winning, as from a camera: frames processed, \
            each decision's latency from its track's first frame (the event's), and the wall time from the moment \
            the source sent that frame to the moment the decision reached the caller.
            Build in release mode for meaningful figures.
            Examples:
              .build/release/facebench walkup
              .build/release/facebench walkup --clip ../shared/videos/walkup-entrance-1080p.mjpeg --json
            """)

    @Option(help: ArgumentHelp("The walk-up clip (MJPEG).", valueName: "path"))
    var clip = "../shared/videos/walkup-entrance-1080p.mjpeg"

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: ArgumentHelp("Smallest face to look for, in pixels.", valueName: "px"))
    var minFace = 48

    @Option(help: "Frame rate of the clip.")
    var fps = 25.0

    @Flag(help: "Print the results as JSON.")
    var json = false

    @Flag(help: "Detect on the look thread alone, without faced's second detector (to compare).")
    var oneDetector = false

    @Flag(help: "Detect with the HOG detector built for any x86-64, not its AVX2 build (to compare).")
    var baselineHog = false

    /// Who is enrolled, from which frame, and the point their face is nearest.
    static let enrolled = [(name: "hoodie", frame: 60, x: 947, y: 738), (name: "whitehair", frame: 60, x: 232, y: 730)]

    func validate() throws {
        guard fps > 0, fps <= 120 else { throw ValidationError("--fps must be between 0 and 120") }
        guard minFace >= 20 else { throw ValidationError("--min-face must be at least 20") }
    }

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: clip, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ValidationError("\(clip): no such file; give the walk-up clip with --clip PATH")
        }
        let (engine, describer, helper) = try FaceEngine.pipelineEngines(models: models, baselineHOG: baselineHog)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-walkup-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        let gallery = work + "/gallery.db"
        let store = try FaceStore(path: gallery)
        let enroller = Enroller(engine: engine, store: store)
        for person in Self.enrolled {
            let photo = "\(work)/\(person.name).jpg"
            let image = try await frame(person.frame)
            try Data(try crop(image, nearX: person.x, y: person.y, engine: engine)).write(to: URL(fileURLWithPath: photo))
            // Faces in the clip are 50-110 px: the enrollment's 80 px minimum is relaxed, as the test does.
            let prepared = try enroller.prepare([photo], for: person.name, options: EnrollmentOptions(minFace: 48, takeLargest: true))
            switch prepared.first?.result {
            case let .success(p)?: _ = try enroller.commit([p], name: person.name)
            case let .failure(why)?: throw ValidationError("\(clip): frame \(person.frame) crop of \(person.name) not enrolled: \(why)")
            case nil: throw ValidationError("\(clip): frame \(person.frame) crop of \(person.name) not enrolled")
            }
        }
        _ = store.close()

        let unpaced = try await run(paced: false, gallery: gallery, engine: engine, describer: describer, helper: oneDetector ? nil : helper, work: work)
        let paced = try await run(paced: true, gallery: gallery, engine: engine, describer: describer, helper: oneDetector ? nil : helper, work: work)
        let report = Report(clip: clip, minFace: minFace, fps: fps, enrolled: Self.enrolled.map(\.name), hogBuild: engine.hogBuild.rawValue, unpaced: unpaced, paced: paced)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("walk-up: \(clip), min face \(minFace) px, \(fps) fps; HOG build \(report.hogBuild); enrolled \(report.enrolled.joined(separator: ", ")) from frame 60")
        print(String(format: "unpaced (every frame, media time): %d frames in %.2f s, %.1f fps; CPU %.2f s, %.2f cores, %.1f frames per CPU-second",
                     unpaced.processed, unpaced.seconds, unpaced.fps, unpaced.cpuSeconds, unpaced.cores, unpaced.framesPerCPUSecond))
        print("  decisions: \(unpaced.decisions.count); granted: \(unpaced.granted.joined(separator: ", "))")
        Self.printWork(unpaced)
        print(String(format: "paced at %.0f fps, latest wins: %d of %d frames processed in %.2f s; CPU %.2f s, %.2f cores",
                     fps, paced.processed, paced.sent, paced.seconds, paced.cpuSeconds, paced.cores))
        Self.printWork(paced)
        print("  granted: \(paced.granted.isEmpty ? "nobody" : paced.granted.joined(separator: ", "))")
        print("  latency from the track's first frame (event): \(LatencyStats(paced.decisions.compactMap(\.trackMs)).line)")
        print("  wall, decision received - track's first frame sent: \(LatencyStats(paced.decisions.compactMap(\.wallMs)).line)")
        var table = Table(header: ["track", "decision", "person", "frame", "track ms", "wall ms"])
        for d in paced.decisions {
            table.add(["\(d.track.map(String.init) ?? "-")", d.decision, d.person ?? "-", d.trackFirstFrame.map(String.init) ?? "-",
                       d.trackMs.map { String(format: "%.0f", $0) } ?? "-", d.wallMs.map { String(format: "%.0f", $0) } ?? "-"])
        }
        print(table.render())
        print("(wall latency counts from the first frame the track was seen in, its firstSeen: a face the detector missed "
              + "or a frame latest-wins dropped before that is not counted)")
    }

    /// Where a run's time went: per stage, and the detector's runs per reason.
    static func printWork(_ run: RunReport) {
        print("  " + stageOrder.compactMap { stage in run.stageMsPerFrame[stage].map { String(format: "%@ %.1f", stage, $0) } }
            .joined(separator: ", ") + " ms per frame; \(run.fullScans) full scans; "
            + "\(run.facesDescribed) faces embedded, \(run.facesNotDescribed) not (their track needed none then)")
        for (reason, job) in run.detector.sorted(by: { $0.key < $1.key }) {
            print(String(format: "  detector, %@: %d runs (%.1f per frame), %.1f ms and %.0f kpixels each", reason, job.runs,
                         Double(job.runs) / Double(max(1, run.processed)), job.msEach, job.kpixelsEach))
        }
    }

    /// One run of the clip through a fresh pipeline over a copy of the gallery.
    func run(paced: Bool, gallery: String, engine: FaceEngine, describer: FaceEngine, helper: FaceEngine?, work: String) async throws -> RunReport {
        let db = "\(work)/\(paced ? "paced" : "unpaced").db"
        try FileManager.default.copyItem(atPath: gallery, toPath: db)
        let store = try FaceStore(path: db)
        defer { _ = store.close() }
        let pipeline = try Pipeline(engine: engine, describer: describer, helper: helper, store: store, settings: PipelineSettings(minFace: minFace))
        let source = RecordingSource(try MJPEGFileSource(path: clip, fps: fps, clock: paced ? .wall : .media))
        let sentLog = source.log
        var received = [(event: AuditEvent, at: Double)]()
        var runner = Runner(pipeline: pipeline, source: source, latestWins: paced) { received.append(($0, sentLog.now())) }
        runner.mediaTime = !paced
        let cpuBefore = CPUTime.process(), start = ContinuousClock.now
        try await runner.run()
        let seconds = (ContinuousClock.now - start).seconds, cpu = CPUTime.process() - cpuBefore

        let sent = sentLog.sent
        let decisions = received.filter { $0.event.kind == .decision }.map { event, at in
            // firstSeen is the deciding frame's stamp less the event's latency, both to the millisecond.
            let first = event.date.map { $0.addingTimeInterval(-(event.latencyMs ?? 0) / 1000) }.flatMap(sent.index(stampedNear:))
            return DecisionReport(track: event.trackID, decision: event.decision?.rawValue ?? "-", person: event.personName,
                                  trackFirstFrame: first, trackMs: event.latencyMs,
                                  wallMs: paced ? first.flatMap(sent.sentAt(index:)).map { (at - $0) * 1000 } : nil)
        }
        var report = RunReport(sent: sent.count, processed: pipeline.framesProcessed, seconds: seconds, cpuSeconds: cpu,
                               granted: decisions.filter { $0.decision == "granted" }.compactMap(\.person), decisions: decisions)
        // Where the time goes: the stages on both threads, and the detector's runs per reason.
        let frames = Double(max(1, pipeline.framesProcessed))
        report.stageMsPerFrame = pipeline.stageTime.mapValues { $0.seconds * 1000 / frames }
        report.detector = pipeline.detectorRuns.mapValues { run in
            DetectorRuns(runs: run.runs, msEach: run.time.seconds * 1000 / Double(max(1, run.runs)),
                         kpixelsEach: Double(run.pixels) / Double(max(1, run.runs)) / 1000)
        }
        report.fullScans = pipeline.fullScans
        (report.facesDescribed, report.facesNotDescribed) = pipeline.facesDescribed
        return report
    }

    /// Frame `index` of the clip, decoded.
    func frame(_ index: Int) async throws -> RGBImage {
        for try await frame in try MJPEGFileSource(path: clip).frames() where frame.index == index {
            if case let .jpeg(bytes) = frame.payload { return try ImageDecoder().decode(bytes) }
        }
        throw ValidationError("\(clip): has no frame \(index); give the walk-up clip with --clip PATH")
    }

    /// The face nearest (x, y), with half its width around it, as a JPEG to enroll.
    func crop(_ image: RGBImage, nearX x: Int, y: Int, engine: FaceEngine) throws -> [UInt8] {
        let faces = try engine.detect(image.grayscale(), minFace: 48)
        func distance(_ box: PixelRect) -> Int { (box.midX - x) * (box.midX - x) + (box.midY - y) * (box.midY - y) }
        guard let face = faces.min(by: { distance($0.box) < distance($1.box) })?.box, distance(face) < face.width * face.width else {
            throw ValidationError("\(clip): no face near (\(x), \(y)) in the enrollment frame; is it the walk-up clip?")
        }
        let pad = face.width / 2
        guard let region = PixelRect(x: face.x - pad, y: face.y - pad, width: face.width + 2 * pad, height: face.height + 2 * pad)
            .intersection(image.bounds) else { throw ValidationError("\(clip): the face near (\(x), \(y)) is outside the frame") }
        return try JPEGEncoder(quality: 95).encode(try image.cropped(to: region))
    }

    struct DecisionReport: Codable {
        var track: Int64?
        var decision: String
        var person: String?
        /// The index of the frame the track was first seen in.
        var trackFirstFrame: Int?
        /// The event's latency: deciding frame's stamp less the track's first frame's.
        var trackMs: Double?
        /// Paced only: decision received less the wall time the source sent the track's first frame.
        var wallMs: Double?
    }

    static let stageOrder = ["look", "decode", "gray", "detect", "convert", "describe", "decide"]

    struct DetectorRuns: Codable {
        var runs: Int
        var msEach: Double
        var kpixelsEach: Double
    }

    struct RunReport: Codable {
        var sent: Int
        var processed: Int
        var seconds: Double
        var cpuSeconds: Double
        var fps: Double
        var cores: Double
        var framesPerCPUSecond: Double
        var granted: [String]
        var decisions: [DecisionReport]
        /// Time per stage (both threads), ms per frame processed.
        var stageMsPerFrame = [String: Double]()
        /// Detector runs per reason (full, track, motion).
        var detector = [String: DetectorRuns]()
        var fullScans = 0
        /// Faces embedded, and faces found whose track needed no embedding then.
        var facesDescribed = 0
        var facesNotDescribed = 0

        init(sent: Int, processed: Int, seconds: Double, cpuSeconds: Double, granted: [String], decisions: [DecisionReport]) {
            self.sent = sent
            self.processed = processed
            self.seconds = seconds
            self.cpuSeconds = cpuSeconds
            fps = Double(processed) / max(seconds, 1e-9)
            cores = cpuSeconds / max(seconds, 1e-9)
            framesPerCPUSecond = Double(processed) / max(cpuSeconds, 1e-9)
            self.granted = granted
            self.decisions = decisions
        }
    }

    struct Report: Codable {
        var clip: String
        var minFace: Int
        var fps: Double
        var enrolled: [String]
        /// The HOG detector's build ("AVX2" or "baseline").
        var hogBuild: String
        var unpaced: RunReport
        var paced: RunReport
    }
}
