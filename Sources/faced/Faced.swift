import ArgumentParser
import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceVision
import FacedModel
import Foundation
import Logging
import ServiceLifecycle
import Locking
import UnixSignals

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
              faced --source mjpeg:/srv/walkup.mjpeg --media-time --fps 25 --exit-at-end
              faced --source v4l2:/dev/video0 --size 1280x720 --fps 30 --format auto
              faced --config /etc/faced/faced.toml
              faced --check-config /etc/faced/faced.toml

            Every setting can come from the config file (its key is given in brackets); a flag \
            overrides the file. Unknown keys, wrong types and out-of-range values are errors that name \
            the key and its line. SIGHUP re-reads the file: a bad one is logged and changes nothing; a good \
            one applies from the next frame, except the camera, database, models and stats keys, which \
            need a restart.

            A camera that is missing, unplugged or stalls does not stop faced: it logs camera_lost in the \
            audit log, retries with backoff (0.5 s doubling to 10 s) and logs camera_restored when the \
            camera is back. A device that is not a camera, busy, or offers no usable format is an error.

            The door action gets FACED_EVENT_ID, FACED_PERSON, FACED_DISTANCE and FACED_CAMERA in its \
            environment; it runs without a shell and is killed at --action-timeout.
            """,
        version: FacedVersion.string
    )

    @Option(help: ArgumentHelp("Config file (default $FACED_CONFIG, then \(DaemonOptions.defaultConfigPath) if it exists). Flags override it.",
                               valueName: "path"))
    var config: String?

    @Flag(help: "Check the config file (--config, or the PATH argument) and the flags, print the effective settings, and exit.")
    var checkConfig = false

    @Argument(help: ArgumentHelp("With --check-config: the config file to check.", valueName: "path"))
    var checkPath: String?

    @Option(help: ArgumentHelp("Frame source: v4l2:DEVICE (a camera, e.g. v4l2:/dev/video0 or a /dev/v4l/by-id link), dir:PATH or mjpeg:PATH. [camera.source]",
                               valueName: "source"))
    var source: String?

    @Option(help: "Camera: the frame rate to ask for (default 30). Replay: pace at this rate (a busy pipeline skips to the newest frame), or with --media-time stamp frames at this rate; without it every frame is processed as fast as possible. [camera.fps]")
    var fps: Double?

    @Option(help: ArgumentHelp("Camera: the frame size to ask for (default 1280x720); the driver may grant another. [camera.size]", valueName: "WxH"))
    var size: String?

    @Option(help: ArgumentHelp("Camera: pixel format: auto (default: MJPEG, then YUYV, then GREY, then RGB via libv4l2), mjpeg, yuyv, grey or rgb. [camera.format]",
                               valueName: "format"))
    var format: String?

    @Option(help: ArgumentHelp("Camera: manual exposure in the driver's units (UVC: 100 µs); default auto. [camera.exposure]", valueName: "n"))
    var exposure: Int?

    @Option(help: ArgumentHelp("Camera: manual gain; default auto. [camera.gain]", valueName: "n"))
    var gain: Int?

    @Option(help: ArgumentHelp("Camera: power-line filter: 50, 60, off or auto. [camera.power_line]", valueName: "hz"))
    var powerLine: String?

    @Option(help: ArgumentHelp("Gallery and audit-log database (default $FACED_DB, then \(FaceStore.defaultPath)). [database]", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("Directory with the dlib models. [models]", valueName: "dir"))
    var models: String?

    @Option(help: ArgumentHelp("Camera name written with every event (default door). [camera.name]", valueName: "name"))
    var camera: String?

    @Option(help: ArgumentHelp("Smallest face to look for, in pixels (default 80). [detection.min_face]", valueName: "px"))
    var minFace: Int?

    @Option(help: ArgumentHelp("Face detector: hog (default) or cnn. [detection.detector]", valueName: "detector"))
    var detector: String?

    @Option(help: ArgumentHelp("Security level: relaxed, standard (default) or strict. [policy.level]", valueName: "level"))
    var level: String?

    @Option(help: ArgumentHelp("Evidence: K matching frames among the last M, as K/M (default 3/5). [policy.evidence]", valueName: "K/M"))
    var evidence: String?

    @Option(help: ArgumentHelp("No second grant for the same person within this many seconds (default 10). [policy.cooldown]", valueName: "seconds"))
    var cooldown: Double?

    @Option(help: ArgumentHelp("Seconds a visitor may stay undecided before being logged as refused; a grant may still follow (default 3). [policy.patience]", valueName: "seconds"))
    var patience: Double?

    @Option(help: ArgumentHelp("Seconds a face out of sight keeps its track, so one who looks away or is hidden stays one visit (default 2). [policy.rejoin]", valueName: "seconds"))
    var rejoin: Double?

    @Option(help: ArgumentHelp("A frame counts as evidence only if its face is at least this wide, in the camera's pixels (default 60). [policy.evidence_min_face]", valueName: "px"))
    var evidenceMinFace: Int?

    @Option(help: ArgumentHelp("... and at least this sharp: variance of the Laplacian of the aligned face (default 8). [policy.evidence_min_sharpness]", valueName: "value"))
    var evidenceMinSharpness: Double?

    @Option(help: ArgumentHelp("... and turned by at most this many degrees (default 45). [policy.evidence_max_yaw]", valueName: "degrees"))
    var evidenceMaxYaw: Double?

    @Option(help: ArgumentHelp("Proof of a live face a grant needs: motion (default: the face must move as a head does, not as a flat picture) or off (none: a photo of a member held to the camera opens the door). [policy.liveness]", valueName: "mode"))
    var liveness: String?

    @Option(help: ArgumentHelp("Time zone for schedules, IANA name (default the system's). [policy.timezone]", valueName: "zone"))
    var timezone: String?

    @Option(help: ArgumentHelp("Keep face snapshots of unknown and denied visitors here. [snapshots.directory]", valueName: "dir"))
    var snapshots: String?

    @Flag(inversion: .prefixedNo, help: "Keep snapshots of granted visitors too (default no). [snapshots.granted]")
    var snapshotGranted: Bool?

    @Option(help: ArgumentHelp("Delete snapshots older than this many days (default 30). [snapshots.retention_days]", valueName: "days"))
    var snapshotRetentionDays: Int?

    @Option(help: ArgumentHelp("Program to run on a grant (absolute path; no shell). [door.action]", valueName: "path"))
    var action: String?

    @Option(help: ArgumentHelp("An argument for the action program; repeat for several. [door.args]", valueName: "arg"))
    var actionArg: [String] = []

    @Option(help: ArgumentHelp("Kill the action program after this many seconds (default 5). [door.timeout]", valueName: "seconds"))
    var actionTimeout: Double?

    @Option(help: ArgumentHelp("Log frames processed, rate and time per frame this often; 0: never (default 300). [log.stats_interval]",
                               valueName: "seconds"))
    var statsInterval: Double?

    @Option(help: ArgumentHelp("Publish the daemon's state here for `facectl status` (default $RUNTIME_DIRECTORY/status.json, or \(DaemonStatus.defaultPath) when /run/faced exists). [status_file]",
                               valueName: "path"))
    var statusFile: String?

    @Flag(help: "Replay: start over at the end of an mjpeg: source (demos, tests). [camera.loop]")
    var loop = false

    @Flag(help: "Replay: media time: with --fps R, frame i is stamped i/R seconds after the start and every frame is processed however long it takes (no pacing, no dropping): patience, rejoin and cooldown decide as on a camera at R fps, on any machine. Not for a camera. [camera.media_time]")
    var mediaTime = false

    @Flag(help: "Exit when a finite source ends (replays), after pending actions finish.")
    var exitAtEnd = false

    var flags: DaemonOptions {
        var o = DaemonOptions()
        o.source = source; o.fps = fps; o.size = size; o.format = format; o.exposure = exposure; o.gain = gain
        o.powerLine = powerLine; o.camera = camera; o.db = db; o.models = models; o.minFace = minFace; o.detector = detector
        o.level = level; o.evidence = evidence; o.cooldown = cooldown; o.patience = patience; o.rejoin = rejoin; o.evidenceMinFace = evidenceMinFace; o.evidenceMinSharpness = evidenceMinSharpness; o.evidenceMaxYaw = evidenceMaxYaw; o.liveness = liveness; o.timezone = timezone; o.snapshots = snapshots
        o.snapshotGranted = snapshotGranted; o.snapshotRetentionDays = snapshotRetentionDays; o.action = action
        o.actionArgs = actionArg.isEmpty ? nil : actionArg; o.actionTimeout = actionTimeout; o.statsInterval = statsInterval
        o.loop = loop ? true : nil; o.mediaTime = mediaTime ? true : nil; o.statusFile = statusFile
        return o
    }

    /// The config file to read: --config, the --check-config argument, $FACED_CONFIG, or the
    /// default path when it exists.
    var configPath: String? {
        if let path = config ?? checkPath ?? ProcessInfo.processInfo.environment["FACED_CONFIG"] { return path }
        return FileManager.default.fileExists(atPath: DaemonOptions.defaultConfigPath) ? DaemonOptions.defaultConfigPath : nil
    }

    func validate() throws {
        if checkPath != nil && !checkConfig { throw ValidationError("a PATH argument goes with --check-config; use --config PATH to run with a file") }
    }

    func options() throws -> DaemonOptions {
        try flags.checkFlags()
        return try Self.load(configPath, under: flags)
    }

    /// The config file with the flags laid over it: at startup and on every SIGHUP.
    static func load(_ path: String?, under flags: DaemonOptions) throws -> DaemonOptions {
        let file = try path.map { try DaemonOptions(configFile: $0) } ?? DaemonOptions()
        return flags.overriding(file)
    }

    /// Before anything else: the embedder's matrix kernels (see `BLASKernels`).
    static func main() async {
        blasKernels = BLASKernels.useBest()
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand { try await async.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }

    nonisolated(unsafe) static var blasKernels = BLASKernels.Outcome.kept("")

    func run() async throws {
        do {
            let options = try options()
            if checkConfig {
                _ = try options.resolve()
                print("# effective settings" + (configPath.map { " from \($0) and the flags" } ?? " from the flags"))
                print(options.withDefaults().effectiveText, terminator: "")
                return
            }
            let setup = try options.resolve()
            // Until the reload service listens, a SIGHUP (an early `systemctl reload`) must not
            // kill faced with the default action: the config was only just read anyway.
            signal(SIGHUP, SIG_IGN)
            SystemdNotifier.unblockSignals()
            let notifier = SystemdNotifier()
            let settings = setup.settings, camera = setup.camera
            let models = try FaceModels(directory: FaceModels.resolveDirectory(setup.models))
            let engine = try FaceEngine(models: models, loadCNN: settings.detector == .cnn)
            // The describe stage's own engine, so that it runs beside detection; each stage one
            // BLAS thread, or the two would fight over the same two cores.
            let describer = try FaceEngine(models: models)
            // A second detector, so that one frame's detection runs on both cores.
            let helper = try FaceEngine(models: models)
            FaceEngine.setBLASThreads(1)
            var initial = DaemonStatus(pid: getpid(), started: Date(), config: configPath, source: options.source ?? "?",
                                       camera: settings.camera, level: settings.policy.level.name)
            initial.liveness = settings.policy.liveness.rawValue
            let board = StatusBoard(initial)
            let store = try Self.openGallery(FaceStore.resolvePath(setup.database), notifier: notifier, board: board,
                                             statusFile: setup.statusFile)
            let absolute = ChainWitnesses.absolute(store.path)
            let chain = try store.chainRoot()
            reportedGallery.withLock { $0 = (absolute, chain) }
            board.update { $0.database = absolute }
            let gallery = GalleryHandle(store: store, logger: facedLogger) { reopened in
                // Another chain from now on: what was witnessed of the old one no longer applies.
                let chain = try? reopened.chainRoot(), head = try? reopened.chainHead()
                reportedGallery.withLock { $0 = (absolute, chain) }
                board.update { $0.resetChain(id: chain, head: head) }
            }
            let recorder = EventRecorder(gallery: gallery, logger: facedLogger) { replayed in
                for event in replayed {
                    report(event)
                    board.update { $0.add(event) }
                }
            }
            for event in try store.events(EventFilter(camera: settings.camera, limit: 50)) { initial.add(event) }
            board.update { [initial] in $0.lastDecisions = initial.lastDecisions }
            board.update { $0.resetChain(id: chain, head: try? store.chainHead()) }
            recorder.flush()
            let frames = try setup.source.open(fps: setup.fps, loop: setup.loop, clock: setup.clock, camera: camera) { change in
                switch change {
                case let .streaming(format):
                    let asked = format.width == camera.width && format.height == camera.height ? ""
                        : " (asked for \(camera.width)x\(camera.height))"
                    log("camera streaming: \(format)\(asked)")
                    board.update { $0.sourceState = "streaming"; $0.stream = format.description }
                    notifier.ready(status: "camera streaming \(format)")
                case let .lost(reason):
                    log("camera lost: \(reason); retrying", .warning)
                    board.update {
                        $0.sourceState = "lost"; $0.cameraErrors += 1; $0.lastCameraError = reason; $0.lastCameraErrorTime = Date()
                    }
                    // Running and logging, without a picture: systemd should not wait for the camera.
                    notifier.ready(status: "waiting for the camera: \(reason)")
                    notifier.status("camera lost: \(reason)")
                case let .restored(format, downtime):
                    log(String(format: "camera back after %.1f s: %@", downtime, format.description))
                    board.update { $0.sourceState = "streaming"; $0.stream = format.description }
                    notifier.status("camera streaming \(format)")
                case let .controls(missing, reapplied):
                    if !missing.isEmpty { log("camera lacks controls: \(missing.joined(separator: ", "))") }
                    if !reapplied.isEmpty { log("camera reset \(reapplied.joined(separator: ", ")); set again") }
                case .retrying:
                    notifier.alive()
                }
                if let event = CameraHealthLog.event(for: change, camera: settings.camera) {
                    let recorded = recorder.record(event).event
                    report(recorded)
                    board.update { $0.add(recorded) }
                }
            }
            let pipeline = try Pipeline(engine: engine, describer: describer, helper: helper, recorder: recorder, settings: settings, logger: facedLogger)
            pipeline.reportAction = { event in
                report(event)
                board.update { $0.add(event) }
            }
            log("started: source \(frames.name), gallery \(store.path), level \(settings.policy.level.name), liveness \(settings.policy.liveness), \(Self.blasKernels.description), HOG build \(engine.hogBuild.rawValue)")
            if case .reexecFailed = Self.blasKernels { log(Self.blasKernels.description, .warning) }
            if !setup.source.isLive {
                notifier.ready(status: "reading \(frames.name)")
                board.update { $0.sourceState = "reading" }
            }
            let inUse = pipeline.galleryInUse
            board.update { $0.galleryPeople = inUse.people; $0.galleryTemplates = inUse.templates; $0.galleryGeneration = inUse.generation }
            var lastDecision = "none yet"
            var runner = Runner(pipeline: pipeline, source: frames, latestWins: (setup.fps != nil && setup.clock == .wall) || setup.source.isLive) { event in
                report(event)
                board.update { $0.add(event) }
                if event.kind == .decision {
                    lastDecision = "\(event.decision?.rawValue ?? "?") \(event.personName ?? "") at \(event.time)"
                    notifier.status("last decision: \(lastDecision)")
                }
            }
            runner.mediaTime = setup.clock == .media
            if setup.statsInterval > 0 { runner.progressInterval = .milliseconds(Int64(setup.statsInterval * 1000)) }
            runner.progress = {
                log("stats: \($0.description)")
                notifier.status(String(format: "%.1f fps; last decision: %@", $0.fps, lastDecision))
            }
            let flags = flags, path = configPath
            let reloader = ConfigReloader(started: options, cnnLoaded: engine.hasCNN) { try Self.load(path, under: flags) }
            runner.afterFrame = {
                notifier.alive()
                if let new = reloader.takePending() {
                    do { try pipeline.apply(new) } catch { log("could not apply the new settings: \(error)", .error) }
                    board.update { $0.camera = new.camera; $0.level = new.policy.level.name; $0.liveness = new.policy.liveness.rawValue }
                }
                let frames = pipeline.framesProcessed, dark = pipeline.darkFrames, inUse = pipeline.galleryInUse
                let bad = pipeline.badFrames, lastBad = pipeline.lastBadFrame
                board.update {
                    $0.frames = frames; $0.darkFrames = dark; $0.lastFrame = Date(); $0.badFrames = bad; $0.lastBadFrame = lastBad
                    $0.galleryPeople = inUse.people; $0.galleryTemplates = inUse.templates; $0.galleryGeneration = inUse.generation
                }
            }
            let service = DaemonService(runner: runner, notifier: notifier, exitAtEnd: exitAtEnd, board: board)
            let reloads = ReloadService(reloader: reloader, path: path, notifier: notifier)
            var groupSettings = ServiceGroupConfiguration(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
                           .init(service: reloads, successTerminationBehavior: .ignore)]
                    + [.init(service: StatusService(board: board, path: setup.statusFile, recorder: recorder), successTerminationBehavior: .ignore)],
                logger: Logger(label: "faced") { _ in SwiftLogNoOpLogHandler() })
            groupSettings.gracefulShutdownSignals = [.sigterm, .sigint]
            let group = ServiceGroup(configuration: groupSettings)
            try await group.run()
            if let path = setup.statusFile {
                var last = board.current()
                last.state = "stopped"
                try? last.write(to: path)
            }
            if !recorder.flush() {
                // A few seconds for a gallery that is busy just now (a backup ending); what is
                // still waiting after them is safe in the spool for the next start.
                log("\(recorder.pending) spooled events wait for the gallery; waiting up to 10 s before stopping")
                let deadline = ContinuousClock.now + .seconds(10)
                while !recorder.flush(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(250)) }
                if recorder.pending > 0 {
                    log("\(recorder.pending) events still wait in \(recorder.spool.path); the next start writes them to the gallery", .warning)
                }
            }
            if let error = service.failure.value { throw error }
            if runner.stopper.isStopped { log("stopped after \(pipeline.framesProcessed) frames") }
        } catch {
            log(String(describing: error), .error)
            throw ExitCode(1)
        }
    }

}

/// The gallery the events are in, as FACED_GALLERY on each journal entry: `facectl log verify`
/// asks the journal for the newest hash of that gallery's chain.
/// FACED_CHAIN names the chain (its first event's hash), so a replaced gallery's entries are not taken for this one's.
let reportedGallery = Locked<(path: String, chain: String?)?>(nil)

func report(_ event: AuditEvent) {
    var metadata = event.logMetadata
    let gallery: (path: String, chain: String?)? = reportedGallery.withLock { current in
        if event.id == 1, current != nil { current!.chain = event.hash }
        return current
    }
    if let gallery {
        metadata["gallery"] = "\(gallery.path)"
        if let chain = gallery.chain { metadata["chain"] = "\(chain)" }
    }
    log(event.logLine, event.logLevel, metadata)
}

extension Faced {
    /// Opens the gallery for writing. One that another process holds (a backup, sqlite3, a long
    /// facectl sync) is waited for, saying why, in the journal, to systemd and in the status file.
    static func openGallery(_ path: String, notifier: SystemdNotifier, board: StatusBoard, statusFile: String?) throws -> FaceStore {
        var told = false
        while true {
            do {
                let store = try FaceStore(path: path, create: true, busyTimeout: 0.2)
                if told { log("gallery \(path) is free again") }
                return store
            } catch StoreError.busy {
                if !told {
                    log("gallery \(path) is locked by another process; waiting for it", .warning)
                    told = true
                }
                notifier.status("waiting for the gallery \(path): locked by another process")
                notifier.alive()
                board.update { $0.sourceState = "waiting for the gallery (locked by another process)" }
                if let statusFile { try? board.current().write(to: statusFile) }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}

/// Structured in the journal under systemd, "faced: ..." on stderr elsewhere.
let facedLogger = Logger(label: "faced") { _ in FacedLogHandler(identifier: "faced") }

func log(_ message: String, _ level: Logger.Level = .info, _ metadata: Logger.Metadata = [:]) {
    facedLogger.log(level: level, "\(message)", metadata: metadata)
}

/// The pipeline run as a ServiceLifecycle service: SIGTERM or SIGINT stops it between two frames,
/// so the frame in hand is decided and its event written before faced exits 0.
/// Unchecked: the runner and its pipeline are used by the service's one task only.
struct DaemonService: Service, @unchecked Sendable {
    let runner: Runner
    let notifier: SystemdNotifier
    let exitAtEnd: Bool
    let board: StatusBoard
    let failure = ErrorBox()

    func run() async {
        let stopper = runner.stopper, notifier = notifier
        await withGracefulShutdownHandler {
            do {
                try await runner.run()
                if !stopper.isStopped {
                    log("source ended after \(runner.pipeline.framesProcessed) frames")
                    board.update { $0.sourceState = "ended" }
                }
                if !exitAtEnd && !stopper.isStopped {
                    log("waiting (no --exit-at-end); stop with Ctrl-C or SIGTERM")
                    try? await gracefulShutdown()
                }
            } catch {
                failure.value = error
            }
        } onGracefulShutdown: {
            log("stopping: finishing the frame in hand")
            notifier.stopping()
            stopper.stop()
        }
    }
}

/// SIGHUP: re-read the config. A bad file is logged, naming the key, and changes nothing.
struct ReloadService: Service {
    let reloader: ConfigReloader
    let path: String?
    let notifier: SystemdNotifier

    func run() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            notifier.send("RELOADING=1")
            let from = path ?? "the flags (no config file)"
            switch reloader.reload() {
            case let .rejected(error):
                log("SIGHUP: config rejected, the settings in force stay: \(error)", .error)
            case let .accepted(applied, atRestart):
                if applied.isEmpty && atRestart.isEmpty { log("SIGHUP: \(from) re-read; nothing changed") }
                if !applied.isEmpty { log("SIGHUP: \(from) re-read; from the next frame: \(applied.joined(separator: ", "))") }
                if !atRestart.isEmpty {
                    log("SIGHUP: changed but in force only after a restart (systemctl restart faced): \(atRestart.joined(separator: ", "))")
                }
            }
            notifier.send("READY=1")
        }
    }
}

/// Once a second: retries spooled events, and publishes the status file on the
/// RuntimeDirectory's tmpfs (when there is one).
struct StatusService: Service {
    let board: StatusBoard
    let path: String?
    let recorder: EventRecorder

    func run() async {
        var failing = false
        while !Task.isShuttingDownGracefully {
            let recorder = recorder
            await Task.detached { recorder.tick() }.value
            let waiting = recorder.pending, reason = recorder.spoolReason
            board.update { $0.spooledEvents = waiting; $0.spoolReason = reason }
            guard let path else {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
                continue
            }
            do {
                try board.current().write(to: path)
                if failing { log("status file \(path) written again") }
                failing = false
            } catch {
                if !failing { log("could not publish the status for facectl status: \(error)", .warning) }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var value: Error? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
