import ArgumentParser
import FaceAccess
import FacePipeline
import FaceStore
import FaceVision
import FacedModel
import Foundation

struct Soak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run faced over a looping replay for a long time and report how its memory, files and threads grow.",
        discussion: """
            The replay loops empty frames, obama3 (enrolled from obama.jpg and obama2.jpg into a temporary \
            gallery, so granted), biden (unknown) and bursts of corrupt frames (truncated JPEGs and ones whose \
            SOF claims 0x0). faced, found next to this program, runs it paced with --loop, a door action that \
            exits 0, snapshots of every visitor and a status file. Every --interval seconds faced's RSS, \
            open files and threads are read from /proc, its frame count from the status file and the events \
            from the gallery. At the end faced gets SIGTERM and the audit log's chain is verified. Nothing is \
            asserted: it reports. Build in release mode: swift build -c release.
            """)

    @Option(help: "How long to run faced, in minutes.")
    var minutes = 30.0

    @Option(help: ArgumentHelp("Seconds between samples.", valueName: "seconds"))
    var interval = 10.0

    @Option(help: ArgumentHelp("Growth is measured from the first sample this long after the start (start-up allocations settle).",
                               valueName: "seconds"))
    var warmUp = 60.0

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: "Directory with the fixture photos.")
    var photos = "Tests/Fixtures"

    @Option(help: "Frame size, WIDTHxHEIGHT.")
    var size = "1280x720"

    @Option(help: "Replay pace, frames per second.")
    var fps = 15

    @Option(help: ArgumentHelp("Keep the working folder (replay, gallery, snapshots, faced's log) here instead of a temporary one.",
                               valueName: "dir"))
    var keep: String?

    struct Sample {
        var seconds: Double
        var usage: ProcessUsage
        var frames: Int?
        var badFrames: Int?
        var events: Int
        var galleryBytes: Int
        var snapshots: Int
        var snapshotBytes: Int
    }

    func run() async throws {
        let wh = size.split(separator: "x").compactMap { Int($0) }
        guard wh.count == 2, wh[0] >= 64, wh[1] >= 64 else { throw ValidationError("--size must be WIDTHxHEIGHT, e.g. 1280x720") }
        guard minutes > 0, interval > 0 else { throw ValidationError("--minutes and --interval must be positive") }
        let self_ = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let faced = (self_ as NSString).deletingLastPathComponent + "/faced"
        guard FileManager.default.isExecutableFile(atPath: faced) else {
            throw ValidationError("no faced next to facebench (\(faced)); build it: swift build -c release --product faced")
        }
        let modelDir = FaceModels.resolveDirectory(models)

        let work: String
        if let keep {
            work = URL(fileURLWithPath: keep).standardizedFileURL.path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        } else {
            work = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-soak-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        }
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: work) } }

        // The replay: two obama visits and one biden visit per loop, a corrupt frame after each gap.
        let decoder = ImageDecoder()
        let obama = try decoder.decode(contentsOf: photos + "/obama3.jpg"), biden = try decoder.decode(contentsOf: photos + "/biden.jpg")
        let builder = ReplayBuilder(width: wh[0], height: wh[1])
        let gap = 2 * fps, visit = 2 * fps
        let one = try builder.build([.photo(obama, frames: 1)]).bytes
        var replay = try builder.build([.empty(frames: gap), .photo(obama, frames: visit), .empty(frames: gap)]).bytes
        // Bursts, as a glitching camera sends them: faced drops frames it cannot keep up with, and
        // a single bad frame would mostly be dropped before it is decoded.
        let burst = 8
        for _ in 0 ..< burst { replay += Self.corrupt(one, truncated: true) }
        replay += try builder.build([.photo(biden, frames: visit), .empty(frames: gap)]).bytes
        for _ in 0 ..< burst { replay += Self.corrupt(one, truncated: false) }
        replay += try builder.build([.photo(obama, frames: visit), .empty(frames: gap)]).bytes
        let loopFrames = 4 * gap + 3 * visit + 2 * burst
        let replayPath = work + "/replay.mjpeg"
        try Data(replay).write(to: URL(fileURLWithPath: replayPath))

        let db = work + "/faced.db"
        do {
            let engine = try FaceEngine(models: FaceModels(directory: modelDir))
            let store = try FaceStore(path: db)
            var enroller = Enroller(engine: engine, store: store)
            enroller.decoder = decoder
            let prepared = try enroller.prepare([photos + "/obama.jpg", photos + "/obama2.jpg"], for: "obama", options: .init())
            try enroller.commit(try prepared.map { try $0.result.get() }, name: "obama")
        }
        let action = work + "/open-door.sh"
        try Data("#!/bin/sh\nexit 0\n".utf8).write(to: URL(fileURLWithPath: action))
        chmod(action, 0o755)
        let snapshots = work + "/snapshots", statusFile = work + "/status.json", logPath = work + "/faced.log"
        try Data().write(to: URL(fileURLWithPath: logPath))
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))

        let child = Process()
        child.executableURL = URL(fileURLWithPath: faced)
        // The replay's faces are photos pasted into frames, which liveness = motion refuses; the
        // soak wants its grants and door actions.
        child.arguments = ["--liveness", "off", "--source", "mjpeg:\(replayPath)", "--loop", "--fps", "\(fps)", "--cooldown", "0",
                           "--action", action, "--snapshots", snapshots, "--snapshot-granted",
                           "--status-file", statusFile, "--db", db, "--models", modelDir]
        child.standardOutput = log
        child.standardError = log
        print("replay: \(loopFrames) frames of \(size) per loop at \(fps) fps (2 obama visits, 1 biden, \(burst) truncated and \(burst) 0x0 frames)")
        print("faced: \(faced) \(child.arguments!.joined(separator: " "))")
        print("work: \(work)\(keep == nil ? " (removed at the end)" : "")")
        print(String(format: "running %.0f min, a sample every %.0f s\n", minutes, interval))
        try child.run()
        let pid = child.processIdentifier
        let start = ContinuousClock.now
        func elapsed() -> Double {
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }

        var samples = [Sample]()
        var tally = EventTally()
        var died = false
        while elapsed() < minutes * 60 {
            let next = Double(samples.count + 1) * interval
            try await Task.sleep(for: .seconds(max(0, min(next, minutes * 60) - elapsed())))
            guard child.isRunning, let usage = ProcessUsage.read(pid: pid) else { died = true; break }
            let status = try? DaemonStatus.read(from: statusFile)
            try? tally.update(db)
            let snaps = Self.folderSize(snapshots)
            let sample = Sample(seconds: elapsed(), usage: usage, frames: status?.frames, badFrames: status?.badFrames,
                                events: tally.events, galleryBytes: Self.galleryBytes(db), snapshots: snaps.files, snapshotBytes: snaps.bytes)
            samples.append(sample)
            // One line per sample as it comes, so a long run shows progress.
            print(Self.row(sample).joined(separator: "  "))
            fflush(nil)  // also when redirected to a file: a long run shows its progress
        }

        var stopped = "faced exited on its own before the end"
        if !died {
            child.terminate()
            let deadline = ContinuousClock.now + .seconds(30)
            while child.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            if child.isRunning {
                kill(pid, SIGKILL)
                stopped = "faced did not exit within 30 s of SIGTERM; killed"
            } else {
                stopped = "stopped with SIGTERM"
            }
        }
        child.waitUntilExit()
        try? log.close()
        try? tally.update(db)

        print("\n" + Self.table(samples).render() + "\n")
        print("faced: \(stopped); exit \(child.terminationReason == .exit ? "status \(child.terminationStatus)" : "by signal \(child.terminationStatus)")")
        summarise(samples, tally: tally)
        do {
            let gallery = try FaceStore(readingAt: db)
            let (checked, broken) = try gallery.verifyChain()
            let witnesses = ChainWitnesses.statusFile(statusFile, database: db, chainRoot: try gallery.chainRoot())
            let problems = try gallery.checkTail(against: witnesses)
            if let broken {
                print("chain: BROKEN at \(broken) (\(checked) events before it intact)")
            } else if let problem = problems.first {
                print("chain: BROKEN: \(problem)")
            } else {
                print("chain: intact, \(checked) events verified" + (witnesses.isEmpty ? "; no status-file witness" : "; its end agrees with the status file"))
            }
        } catch {
            print("chain: cannot verify: \(error)")
        }
        let logText = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let lines = logText.split(separator: "\n")
        print("faced's log: \(lines.count) lines, \(logText.utf8.count) bytes; \(lines.filter { $0.contains("skipped frame") }.count) skipped-frame lines")
        if died || child.terminationStatus != 0 {
            print("faced's last log lines:\n" + lines.suffix(15).joined(separator: "\n"))
        }
    }

    func summarise(_ samples: [Sample], tally: EventTally) {
        guard let last = samples.last else {
            print("no samples")
            return
        }
        let settled = samples.filter { $0.seconds >= warmUp }
        let base = settled.count >= 2 ? settled : samples
        let from = base.first!
        let hours = (last.seconds - from.seconds) / 3600
        func fit(_ value: (Sample) -> Int) -> String {
            guard let slope = LinearFit.slope(base.map { (x: $0.seconds / 3600, y: Double(value($0))) }) else { return "-" }
            return String(format: "%+.0f", slope)
        }
        let window = settled.count >= 2 ? "from the first sample after \(Int(warmUp)) s" : "too short for the warm-up: all samples"
        print(String(format: "window: %.0f s to %.0f s, ", from.seconds, last.seconds) + window)
        let endToEnd = hours > 0 ? Double(last.usage.rssKiB - from.usage.rssKiB) / hours : 0
        print("RSS: \(from.usage.rssKiB) KiB -> \(last.usage.rssKiB) KiB (\(signed(last.usage.rssKiB - from.usage.rssKiB)) KiB); "
            + "\(fit { $0.usage.rssKiB }) KiB/h by linear fit, " + String(format: "%+.0f", endToEnd) + " KiB/h first to last; "
            + "min \(base.map(\.usage.rssKiB).min()!), max \(base.map(\.usage.rssKiB).max()!) KiB")
        // Memory that settles (allocator arenas, SQLite caches, the WAL) takes minutes: the second
        // half alone tells a plateau from a steady leak.
        let secondHalf = samples.filter { $0.seconds >= last.seconds / 2 }
        if secondHalf.count >= 2, let slope = LinearFit.slope(secondHalf.map { (x: $0.seconds / 3600, y: Double($0.usage.rssKiB)) }) {
            print(String(format: "RSS in the second half (%.0f s to %.0f s): %+d KiB, %+.0f KiB/h by linear fit", secondHalf.first!.seconds,
                         last.seconds, last.usage.rssKiB - secondHalf.first!.usage.rssKiB, slope))
        }
        print("open files: \(from.usage.openFiles) -> \(last.usage.openFiles) (\(signed(last.usage.openFiles - from.usage.openFiles))); "
            + "max \(samples.map(\.usage.openFiles).max()!)")
        print("threads: \(from.usage.threads) -> \(last.usage.threads) (\(signed(last.usage.threads - from.usage.threads))); "
            + "max \(samples.map(\.usage.threads).max()!)")
        print("gallery files: \(from.galleryBytes) -> \(last.galleryBytes) bytes; snapshots: \(last.snapshots) files, \(last.snapshotBytes) bytes")
        let minutes = last.seconds / 60
        if let frames = last.frames {
            print(String(format: "frames: %d processed, %.1f/s; bad frames skipped: %d", frames, Double(frames) / last.seconds, last.badFrames ?? 0))
        }
        print(String(format: "events: %d (%.1f/min); ", tally.events, Double(tally.events) / minutes)
            + "decisions \(tally.format(tally.decisions)); actions \(tally.format(tally.actions)); other \(tally.format(tally.other))")
    }

    func signed(_ n: Int) -> String { n >= 0 ? "+\(n)" : "\(n)" }

    static let header = ["t (s)", "RSS KiB", "fds", "threads", "frames", "bad", "events", "gallery B", "snaps", "snaps KiB"]

    static func row(_ s: Sample) -> [String] {
        [String(format: "%.0f", s.seconds), "\(s.usage.rssKiB)", "\(s.usage.openFiles)", "\(s.usage.threads)",
         s.frames.map(String.init) ?? "-", s.badFrames.map(String.init) ?? "-", "\(s.events)", "\(s.galleryBytes)",
         "\(s.snapshots)", "\(s.snapshotBytes / 1024)"]
    }

    static func table(_ samples: [Sample]) -> Table {
        var table = Table(header: header)
        for s in samples { table.add(row(s)) }
        return table
    }

    /// A real frame whose data breaks off, or whose SOF claims 0x0, as a glitching camera sends them.
    static func corrupt(_ jpeg: [UInt8], truncated: Bool) -> [UInt8] {
        if truncated { return Array(jpeg.prefix(jpeg.count / 3)) + [0xFF, 0xD9] }
        var bytes = jpeg
        if let sof = (0 ..< bytes.count - 1).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }) {
            for i in sof + 5 ... sof + 8 { bytes[i] = 0 }
        }
        return bytes
    }

    static func galleryBytes(_ db: String) -> Int {
        ["", "-wal", "-shm"].map { (try? FileManager.default.attributesOfItem(atPath: db + $0)[.size] as? Int) ?? 0 }.reduce(0, +)
    }

    static func folderSize(_ path: String) -> (files: Int, bytes: Int) {
        guard let walk = FileManager.default.enumerator(atPath: path) else { return (0, 0) }
        var files = 0, bytes = 0
        while let name = walk.nextObject() as? String {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name),
                  attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            files += 1
            bytes += attributes[.size] as? Int ?? 0
        }
        return (files, bytes)
    }
}

/// Counts the gallery's events as they come, reading only the new ones each time.
struct EventTally {
    var lastID: Int64 = 0
    var events = 0
    var decisions = [String: Int](), actions = [String: Int](), other = [String: Int]()

    mutating func update(_ db: String) throws {
        let gallery = try FaceStore(readingAt: db)
        while true {
            let batch = try gallery.events(after: lastID, limit: 1000)
            guard let last = batch.last else { return }
            for event in batch {
                events += 1
                switch event.kind {
                case .decision: decisions[event.decision?.rawValue ?? "?", default: 0] += 1
                case .action: actions[event.reason?.rawValue ?? "?", default: 0] += 1
                default: other["\(event.kind.rawValue) \(event.reason?.rawValue ?? "")", default: 0] += 1
                }
            }
            lastID = last.id!
        }
    }

    func format(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }
}
