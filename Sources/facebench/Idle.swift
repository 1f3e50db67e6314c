import ArgumentParser
import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceVision
import Foundation

struct Idle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What faced costs while nobody is at the door: CPU per wall second and frames looked at, on a paced replay.",
        discussion: """
            Renders --seconds of an empty door scene (a blotchy wall, sensor noise, exposure drifting as \
            an auto-exposure camera's does) as MJPEG, then feeds it to the daemon's pipeline paced at \
            --fps, latest frame wins, as a camera would. Reports the CPU the pipeline used per wall \
            second (1.0 is one core), the frames it looked at, those it ran the detector on, and the \
            full scans among them.

            Example:
              .build/release/facebench idle --size 1280x720 --fps 30 --seconds 10
            """)

    @Option(help: "Directory with the dlib models.")
    var models: String?
    @Option(help: "Frame size, WIDTHxHEIGHT.")
    var size = "1280x720"
    @Option(help: "Frames per second the replay is paced at.")
    var fps = 30.0
    @Option(help: "Length of the replay, seconds.")
    var seconds = 10.0
    @Option(help: "Sensor noise, standard deviation in levels.")
    var noise = 3.0
    @Option(help: ArgumentHelp("Smallest face to look for, in pixels.", valueName: "px"))
    var minFace = 80
    @Option(help: "Seed of the scene.")
    var seed: UInt64 = 1

    func validate() throws {
        guard size.split(separator: "x").compactMap({ Int($0) }).count == 2 else { throw ValidationError("--size must be WIDTHxHEIGHT") }
        guard (1 ... 120).contains(fps), (1 ... 600).contains(seconds), (0 ... 50).contains(noise) else {
            throw ValidationError("--fps 1-120, --seconds 1-600, --noise 0-50")
        }
    }

    func run() async throws {
        let wh = size.split(separator: "x").compactMap { Int($0) }
        var scene = try VisitScene(name: "idle", width: wh[0], height: wh[1], fps: fps, seed: seed,
                                   frameCount: Int((fps * seconds).rounded()), appearances: [])
        scene.noise = noise
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-idle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let replay = work.appendingPathComponent("idle.mjpeg").path
        try Data(try scene.mjpeg()).write(to: URL(fileURLWithPath: replay))

        let engine = try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)))
        let store = try FaceStore(path: work.appendingPathComponent("faced.db").path)
        let pipeline = try Pipeline(engine: engine, store: store, settings: PipelineSettings(minFace: minFace))
        let source = try MJPEGFileSource(path: replay, fps: fps)
        var events = [AuditEvent]()
        let cpuBefore = CPUTime.process(), wallBefore = ContinuousClock.now
        try await Runner(pipeline: pipeline, source: source, latestWins: true) { events.append($0) }.run()
        let cpu = CPUTime.process() - cpuBefore
        let wall = (ContinuousClock.now - wallBefore).seconds

        print("idle: \(scene.frameCount) frames of \(size) MJPEG at \(fps) fps, noise \(noise), min face \(minFace) px, \(String(format: "%.1f", wall)) s")
        print(String(format: "CPU: %.3f of one core (%.2f s CPU in %.2f s)", cpu / wall, cpu, wall))
        print("frames looked at: \(pipeline.framesProcessed)/\(scene.frameCount); detector ran on \(pipeline.framesSearched), "
              + "\(pipeline.fullScans) of them full scans; events: \(events.count)")
        var table = Table(header: ["stage", "ms per frame looked at"])
        for stage in ["look", "decode", "gray", "detect", "describe", "decide"] {
            table.add([stage, String(format: "%.3f", (pipeline.stageTime[stage] ?? .zero).seconds * 1000 / Double(max(1, pipeline.framesProcessed)))])
        }
        print(table.render())
    }
}

/// CPU seconds the process has used, user and system.
enum CPUTime {
    static func process() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
