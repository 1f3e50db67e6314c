import ArgumentParser
import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceVision
import Foundation

@main
struct Faced: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faced",
        abstract: "Face-recognition access-control daemon: frames in, logged door decisions out.",
        discussion: """
            Reads frames, recognises enrolled people, decides once per visitor, writes the decision to the \
            hash-chained audit log in the gallery database, and runs the door action on a grant.

            Examples:
              faced --source mjpeg:/srv/replay.mjpeg --db /tmp/faced.db --exit-at-end
              faced --source dir:/srv/frames --fps 15 --action /usr/local/bin/open-door --action-arg front
              faced --source v4l2:/dev/video0 --size 1280x720 --fps 30 --format auto

            A camera that is missing, unplugged or stalls does not stop faced: it logs camera_lost in the \
            audit log, retries with backoff (0.5 s doubling to 10 s) and logs camera_restored when the \
            camera is back. A device that is not a camera, busy, or offers no usable format is an error.

            The door action gets FACED_EVENT_ID, FACED_PERSON, FACED_DISTANCE and FACED_CAMERA in its \
            environment; it runs without a shell and is killed at --action-timeout.
            """,
        version: FacedVersion.string
    )

    @Option(help: ArgumentHelp("Frame source: v4l2:DEVICE (a camera, e.g. v4l2:/dev/video0 or a /dev/v4l/by-id link), dir:PATH or mjpeg:PATH.",
                               valueName: "source"))
    var source: String

    @Option(help: "Camera: the frame rate to ask for (default 30). Replay: pace at this rate; without it every frame is processed as fast as possible.")
    var fps: Double?

    @Option(help: ArgumentHelp("Camera: the frame size to ask for; the driver may grant another.", valueName: "WxH"))
    var size = "1280x720"

    @Option(help: ArgumentHelp("Camera: pixel format: auto (MJPEG, then YUYV, then GREY, then RGB via libv4l2), mjpeg, yuyv, grey or rgb.",
                               valueName: "format"))
    var format = "auto"

    @Option(help: ArgumentHelp("Camera: manual exposure in the driver's units (UVC: 100 µs); default auto.", valueName: "n"))
    var exposure: Int?

    @Option(help: ArgumentHelp("Camera: manual gain; default auto.", valueName: "n"))
    var gain: Int?

    @Option(help: ArgumentHelp("Camera: power-line filter: 50, 60, off or auto.", valueName: "hz"))
    var powerLine: String?

    @Option(help: ArgumentHelp("Gallery and audit-log database (default $FACED_DB, then \(FaceStore.defaultPath)).", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("Directory with the dlib models.", valueName: "dir"))
    var models: String?

    @Option(help: "Camera name written with every event.")
    var camera = "door"

    @Option(help: ArgumentHelp("Smallest face to look for, in pixels.", valueName: "px"))
    var minFace = 80

    @Option(help: "Face detector: hog or cnn.")
    var detector = "hog"

    @Option(help: "Security level: relaxed, standard or strict.")
    var level = "standard"

    @Option(help: ArgumentHelp("Evidence: K matching frames among the last M, as K/M.", valueName: "K/M"))
    var evidence = "3/5"

    @Option(help: ArgumentHelp("No second grant for the same person within this many seconds.", valueName: "seconds"))
    var cooldown: Double = 10

    @Option(help: ArgumentHelp("Time zone for schedules (IANA name).", valueName: "zone"))
    var timezone = TimeZone.current.identifier

    @Option(help: ArgumentHelp("Keep face snapshots of unknown and denied visitors here.", valueName: "dir"))
    var snapshots: String?

    @Flag(help: "Keep snapshots of granted visitors too.")
    var snapshotGranted = false

    @Option(help: ArgumentHelp("Delete snapshots older than this many days.", valueName: "days"))
    var snapshotRetentionDays = 30

    @Option(help: ArgumentHelp("Program to run on a grant (absolute path; no shell).", valueName: "path"))
    var action: String?

    @Option(help: ArgumentHelp("An argument for the action program; repeat for several.", valueName: "arg"))
    var actionArg: [String] = []

    @Option(help: ArgumentHelp("Kill the action program after this many seconds.", valueName: "seconds"))
    var actionTimeout: Double = 5

    @Option(help: ArgumentHelp("Log frames processed, rate and time per frame this often (0: never).", valueName: "seconds"))
    var statsInterval: Double = 300

    @Flag(help: "Exit when a finite source ends (replays), after pending actions finish.")
    var exitAtEnd = false

    func settings() throws -> PipelineSettings {
        guard let detector = FaceDetector(rawValue: detector) else { throw ValidationError("unknown --detector '\(self.detector)'; use hog or cnn") }
        guard let level = SecurityLevel.named(level) else {
            throw ValidationError("unknown --level '\(level)'; use relaxed, standard or strict")
        }
        let km = evidence.split(separator: "/").compactMap { Int($0) }
        guard km.count == 2, km[0] >= 1, km[1] >= km[0], km[1] <= 50 else {
            throw ValidationError("--evidence must be K/M with 1 ≤ K ≤ M ≤ 50, e.g. 3/5")
        }
        guard let zone = TimeZone(identifier: timezone) else { throw ValidationError("unknown --timezone '\(timezone)'") }
        guard cooldown >= 0 else { throw ValidationError("--cooldown must not be negative") }
        guard snapshotRetentionDays >= 1 else { throw ValidationError("--snapshot-retention-days must be at least 1") }
        guard (20 ... 2000).contains(minFace) else { throw ValidationError("--min-face must be between 20 and 2000 pixels") }
        var door: DoorAction?
        if let action {
            guard action.hasPrefix("/") else { throw ValidationError("--action needs an absolute path, got '\(action)'") }
            guard FileManager.default.isExecutableFile(atPath: action) else {
                throw ValidationError("--action \(action) is not an executable file")
            }
            guard actionTimeout > 0 else { throw ValidationError("--action-timeout must be positive") }
            door = DoorAction(argv: [action] + actionArg, timeout: .milliseconds(Int64(actionTimeout * 1000)))
        }
        let policy = Policy(level: level, evidence: EvidenceRule(required: km[0], window: km[1]), cooldown: cooldown, timeZone: zone)
        return PipelineSettings(camera: camera, minFace: minFace, detector: detector, policy: policy,
                                snapshotDirectory: snapshots, snapshotGranted: snapshotGranted,
                                snapshotRetentionDays: snapshotRetentionDays, doorAction: door)
    }

    func cameraRequest() throws -> CameraRequest {
        guard let (width, height) = CameraRequest.parseSize(size) else {
            throw ValidationError("--size must be WIDTHxHEIGHT with even numbers, e.g. 1280x720; got '\(size)'")
        }
        guard let choice = CameraFormatChoice(rawValue: format) else {
            throw ValidationError("unknown --format '\(format)'; use auto, mjpeg, yuyv, grey or rgb")
        }
        var line: PowerLineFrequency?
        if let powerLine {
            guard let parsed = PowerLineFrequency(rawValue: powerLine) else { throw ValidationError("unknown --power-line '\(powerLine)'; use 50, 60, off or auto") }
            line = parsed
        }
        if let fps, !(fps > 0 && fps <= 240) { throw ValidationError("--fps must be between 0 and 240") }
        return CameraRequest(path: "", width: width, height: height, fps: fps ?? 30, format: choice,
                             controls: CameraControls(exposure: exposure, gain: gain, powerLine: line))
    }

    func run() async throws {
        do {
            let settings = try settings()
            let spec = try SourceSpec(parsing: source)
            let camera = try cameraRequest()
            let engine = try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)), loadCNN: settings.detector == .cnn)
            let store = try FaceStore(path: FaceStore.resolvePath(db), create: true)
            let health = CameraHealthLog(store: store, camera: settings.camera)
            let frames = try spec.open(fps: fps, camera: camera) { change in
                switch change {
                case let .streaming(format):
                    let asked = format.width == camera.width && format.height == camera.height ? ""
                        : " (asked for \(camera.width)x\(camera.height))"
                    log("camera streaming: \(format)\(asked)")
                case let .lost(reason): log("camera lost: \(reason); retrying")
                case let .restored(format, downtime): log(String(format: "camera back after %.1f s: %@", downtime, format.description))
                case let .controls(missing, reapplied):
                    if !missing.isEmpty { log("camera lacks controls: \(missing.joined(separator: ", "))") }
                    if !reapplied.isEmpty { log("camera reset \(reapplied.joined(separator: ", ")); set again") }
                }
                do { if let event = try health.record(change) { log("event \(event.id!): \(event.reason!)") } }
                catch { log("could not log camera health: \(error)") }
            }
            let pipeline = try Pipeline(engine: engine, store: store, settings: settings)
            log("started: source \(frames.name), gallery \(store.path), level \(settings.policy.level.name)")
            var runner = Runner(pipeline: pipeline, source: frames, latestWins: fps != nil || spec.isLive, report: report)
            if statsInterval > 0 { runner.progressInterval = .milliseconds(Int64(statsInterval * 1000)) }
            runner.progress = { log("stats: \($0.description)") }
            try await runner.run()
            log("source ended after \(pipeline.framesProcessed) frames")
            guard exitAtEnd else {
                log("waiting (no --exit-at-end); stop with Ctrl-C")
                while true { try await Task.sleep(for: .seconds(3600)) }
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            log(String(describing: error))
            throw ExitCode(1)
        }
    }

    func report(_ event: AuditEvent) {
        var line = "event \(event.id!): \(event.decision ?? event.reason ?? event.kind.rawValue)"
        if let reason = event.reason, reason != event.decision { line += " (\(reason))" }
        if let name = event.personName { line += " \(name)" }
        if let d = event.bestDistance { line += String(format: ", distance %.3f", d) }
        if let n = event.framesUsed { line += ", \(n) frames" }
        if let ms = event.latencyMs { line += String(format: ", %.0f ms", ms) }
        log(line)
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data(("faced: " + message + "\n").utf8))
}
