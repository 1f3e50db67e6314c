import ArgumentParser
import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceVision
import Foundation

struct PipelineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Run a replay through the whole daemon pipeline and report fps, decision latency and faces found.",
        discussion: """
            The replay alternates --gap empty frames with obama3 and biden (each --visits times); obama is \
            enrolled from obama.jpg and obama2.jpg into a temporary gallery. Frames are stamped at 30 fps \
            (media time) and fed as fast as the pipeline takes them: fps is what it can sustain. With \
            --paced they come at 30 fps on the wall clock, the latest winning, as from a camera: the \
            latency is then what a visitor waits.
            Each decision is matched to its visit by the frame that decided it (within the visit's frames \
            and the 2 s rejoin after them), and its latency counted from the visit's first frame, not the \
            track's: paced, on the wall clock (decision received less the moment the source sent that \
            frame); unpaced, in media time (deciding frame less first frame, at 30 fps).
            """)

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: "Directory with the fixture photos.")
    var photos = "Tests/Fixtures"

    @Option(help: "Frame size, WIDTHxHEIGHT.")
    var size = "1280x720"

    @Option(help: "How many times each person walks past.")
    var visits = 4

    @Option(help: "Frames each visitor stays in view (15 is half a second; paced, a slow machine may see only a frame or two of it).")
    var visitFrames = 15

    @Option(help: "Empty frames before, between and after visits (30 a second; a visitor back within the rejoin time, 2 s, is the same visit).")
    var gap = 75

    @Flag(help: "Detect on the look thread alone, without faced's second detector (to compare).")
    var oneDetector = false

    @Flag(help: "Detect with the HOG detector built for any x86-64, not its AVX2 build (to compare).")
    var baselineHog = false

    @Flag(help: "Feed frames at 30 fps on the wall clock, the latest winning, as a camera does.")
    var paced = false

    @Option(help: ArgumentHelp("Smallest face to look for, in pixels.", valueName: "px"))
    var minFace = 80

    @Flag(help: "Crop each photo around its face first, as a camera at arm's length sees it (faces about a third of the frame height).")
    var closeUp = false

    func run() async throws {
        let wh = size.split(separator: "x").compactMap { Int($0) }
        guard wh.count == 2 else { throw ValidationError("--size must be WIDTHxHEIGHT") }
        let decoder = ImageDecoder()
        let (engine, describer, helper) = try FaceEngine.pipelineEngines(models: models, baselineHOG: baselineHog)
        func load(_ name: String) throws -> RGBImage {
            let photo = try decoder.decode(contentsOf: photos + "/" + name)
            guard closeUp, let face = try engine.detect(photo).first?.box else { return photo }
            return try ReplayBuilder.closeUp(of: photo, face: face)
        }
        let obama = try load("obama3.jpg"), biden = try load("biden.jpg")
        var segments = [ReplayBuilder.Segment](), replayVisits = [ReplayVisit]()
        var next = 0
        for _ in 0 ..< visits {
            for (photo, label) in [(obama, "obama"), (biden, "biden")] {
                replayVisits.append(ReplayVisit(label: label, first: next + gap, last: next + gap + visitFrames - 1))
                segments += [.empty(frames: gap), .photo(photo, frames: visitFrames)]
                next += gap + visitFrames
            }
        }
        segments.append(.empty(frames: gap))
        let faceFrames = visits * 2 * visitFrames
        let (bytes, frameCount) = try ReplayBuilder(width: wh[0], height: wh[1]).build(segments)

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let replayPath = work.appendingPathComponent("replay.mjpeg").path
        try Data(bytes).write(to: URL(fileURLWithPath: replayPath))
        let store = try FaceStore(path: work.appendingPathComponent("faced.db").path)
        var enroller = Enroller(engine: engine, store: store)
        enroller.decoder = decoder
        let prepared = try enroller.prepare([photos + "/obama.jpg", photos + "/obama2.jpg"], for: "obama", options: .init())
        try enroller.commit(try prepared.map { try $0.result.get() }, name: "obama")

        let policy = Policy(cooldown: 0)
        let pipeline = try Pipeline(engine: engine, describer: describer, helper: oneDetector ? nil : helper, store: store, settings: PipelineSettings(minFace: minFace, policy: policy))
        let looked = LookedAt()
        pipeline.facesFound = { frame, boxes in looked.frames[frame] = !boxes.isEmpty }
        let source = RecordingSource(try MJPEGFileSource(path: replayPath, fps: 30, clock: paced ? .wall : .media))
        let sentLog = source.log
        var received = [(event: AuditEvent, at: Double)]()
        var runner = Runner(pipeline: pipeline, source: source, latestWins: paced) { received.append(($0, sentLog.now())) }
        // Tracks still open at the end close at the last frame's media time, not at the wall clock's.
        runner.mediaTime = !paced
        let cpuBefore = CPUTime.process()
        let start = ContinuousClock.now
        try await runner.run()
        let seconds = (ContinuousClock.now - start).seconds
        let cpu = CPUTime.process() - cpuBefore
        let events = received.map(\.event)

        let latencies = events.compactMap(\.latencyMs).sorted()
        func pct(_ p: Double) -> String {
            latencies.isEmpty ? "-" : String(format: "%.0f", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))])
        }
        let granted = events.filter { $0.decision == .granted }.count, unknown = events.filter { $0.decision == .unknown }.count
        print("replay: \(frameCount) frames of \(size)\(closeUp ? " (close-up)" : ""), \(faceFrames) with a face, min face \(minFace) px, "
              + (paced ? "paced at 30 fps, latest wins" : "stamped at 30 fps, fed as fast as taken"))
        print(String(format: "processed: %.1f fps (%.2f s for %d frames); CPU %.2f s, %.1f frames per CPU-second, %.2f cores",
                     Double(pipeline.framesProcessed) / seconds, seconds, pipeline.framesProcessed, cpu,
                     Double(pipeline.framesProcessed) / max(cpu, 1e-9), cpu / seconds))
        let sent = sentLog.sent
        print("frames: \(sent.count) sent by the source, \(pipeline.framesProcessed) processed"
              + (paced ? ", \(sent.count - pipeline.framesProcessed - pipeline.badFrames) dropped (latest wins)" : "")
              + (pipeline.badFrames > 0 ? ", \(pipeline.badFrames) bad" : ""))
        print("detector ran on \(pipeline.framesSearched) frames, \(pipeline.fullScans) of them full scans")
        print("decisions: \(granted) granted, \(unknown) unknown of \(visits * 2) visits; "
              + "from the track's first frame (event latency): p50 \(pct(0.5)) ms, p95 \(pct(0.95)) ms")

        // Each decision to its visit by the frame that decided it; latency from the visit's first frame.
        let decisions = received.filter { $0.event.kind == .decision }
        let deciding = decisions.map { sent.index(stampedNear: $0.event.date ?? .distantPast) ?? -1 }
        let matched = VisitDecisions(visits: replayVisits, decidingFrames: deciding, rejoinFrames: Int((policy.rejoin * 30).rounded()))
        var byKind = [AuditEvent.Decision: [Double]]()
        var wrong = 0
        for (v, list) in matched.perVisit.enumerated() {
            guard let n = list.first, let kind = decisions[n].event.decision else { continue }
            let visit = replayVisits[v]
            let latency = paced ? (decisions[n].at - (sent.sentAt(index: visit.first) ?? .nan)) * 1000
                : Double(deciding[n] - visit.first) / 30 * 1000
            byKind[kind, default: []].append(latency)
            if (kind == .granted) != (visit.label == "obama") { wrong += 1 }
        }
        print(paced ? "latency from the face's first frame, wall clock (event received - first frame sent):"
                    : "latency from the face's first frame, media time (deciding frame - first frame, at 30 fps; not wall time):")
        print("  granted \(LatencyStats(byKind[.granted] ?? []).line)")
        print("  unknown \(LatencyStats(byKind[.unknown] ?? []).line)")
        if let denied = byKind[.denied] { print("  denied  \(LatencyStats(denied).line)") }
        print("  visits never decided: \(matched.undecided) of \(replayVisits.count); further decisions in a visit: \(matched.extra); "
              + "outside any visit: \(matched.stray.count); wrong kind (obama not granted or biden granted): \(wrong)")

        let faceFrameSet = replayVisits.flatMap { Array($0.first ... $0.last) }
        let lookedAt = faceFrameSet.filter { looked.frames[$0] != nil }.count
        let found = faceFrameSet.filter { looked.frames[$0] == true }.count
        print(String(format: "face frames: %d sent, %d looked at, %d with a face found (%.0f%% of those sent, %.0f%% of those looked at)\n",
                     faceFrames, lookedAt, found, Double(found) / Double(max(1, faceFrames)) * 100,
                     Double(found) / Double(max(1, lookedAt)) * 100))
        var table = Table(header: ["stage", "ms per frame", "share"])
        let total = pipeline.stageTime.values.reduce(Duration.zero, +)
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        for stage in ["look", "decode", "gray", "detect", "convert", "describe", "decide"] {
            let t = pipeline.stageTime[stage] ?? .zero
            table.add([stage, String(format: "%.2f", ms(t) / Double(pipeline.framesProcessed)),
                       String(format: "%.0f%%", ms(t) / max(ms(total), 1e-9) * 100)])
        }
        print(table.render())
        for (reason, run) in pipeline.detectorRuns.sorted(by: { $0.key < $1.key }) {
            print(String(format: "detector, %@: %d runs, %.2f ms and %.0f kpixels each", reason, run.runs,
                         ms(run.time) / Double(max(1, run.runs)), Double(run.pixels) / Double(max(1, run.runs)) / 1000))
        }
    }

    /// Frames looked at and whether a face was found in each; filled on the pipeline's thread, read after the run.
    final class LookedAt: @unchecked Sendable {
        var frames = [Int: Bool]()
    }
}
