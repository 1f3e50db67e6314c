import ArgumentParser
import FaceAccess
import FaceStore
import FaceVision
import Foundation

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the gallery in line with an access manifest (Enrollment/access.toml).",
        discussion: """
            Adds the people the manifest lists and the photos not enrolled yet (matched by content, \
            sha256), removes templates whose photo is no longer listed, and sets each person's display \
            name, groups, validity, schedules and level, and each group's schedules. People the manifest \
            does not list are removed only with --prune. Only new photos are embedded, on all cores; a \
            second sync changes nothing and embeds nothing. Everything happens in one transaction: if \
            one new photo is refused by the quality gate, nothing changes. Where HOG finds no face the CNN \
            detector looks again. The gate's limits are set for the whole manifest in [quality] and per \
            person in [people.NAME.quality], down to hard limits past which a face is useless. See Enrollment/README.md.

            Examples:
              facectl sync Enrollment/access.toml --dry-run
              facectl sync Enrollment/access.toml
              facectl sync Enrollment/access.toml --prune
            """)

    @Argument(help: "The manifest.")
    var manifest: String

    @Flag(help: "Print what would change, and change nothing.")
    var dryRun = false

    @Flag(help: "Remove enrolled people the manifest does not list.")
    var prune = false

    @Option(help: ArgumentHelp("Photos embedded at once, one face engine each (default: the number of cores).", valueName: "n"))
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var store: StoreOptions
    @OptionGroup var engineOptions: EngineOptions

    func validate() throws {
        guard (1 ... 64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
        if let problem = QualityLimit.minFace.problem(with: Double(engineOptions.minFace)) {
            throw ValidationError("--min-face \(problem)")
        }
    }

    func run() throws {
        let parsed = try AccessManifest(file: manifest)
        // A dry run against no database plans against an empty one, and leaves no file behind.
        var scratch: URL?
        defer { scratch.map { try? FileManager.default.removeItem(at: $0) } }
        let gallery: FaceStore
        if dryRun && !FileManager.default.fileExists(atPath: store.path) {
            scratch = FileManager.default.temporaryDirectory.appendingPathComponent("facectl-dry-run-\(UUID().uuidString)")
            gallery = try FaceStore(path: scratch!.appendingPathComponent("empty.db").path, create: true)
        } else {
            gallery = dryRun ? try store.openForReading() : try store.open(create: true)
        }
        let syncer = Syncer(store: gallery)
        let plan = try syncer.plan(parsed, prune: prune)
        for line in plan.lines(relativeTo: parsed.directory) { print(Names.escaped(line)) }
        print((dryRun ? "dry run: " : "") + plan.summary)
        if dryRun { return }
        if plan.isEmpty {
            return try report(SyncResult(embedded: 0, spread: [], conflicts: Syncer.conflicts(in: try gallery.snapshot())))
        }
        var limits = parsed.limits
        if engineOptions.minFace != EnrollmentOptions.defaultMinFace { limits.minFace = engineOptions.minFace }
        let options = EnrollmentOptions(minFace: limits.minFace, detector: engineOptions.detector, limits: limits)
        let workers = max(1, min(jobs, plan.photosToEmbed))
        let engines = try (0 ..< workers).map { _ in try engineOptions.engine(withCNN: true) }
        var enroller = Enroller(engines: engines, store: gallery)
        enroller.decoder = engineOptions.decoder
        let progress = ProgressPrinter(total: plan.photosToEmbed)
        let result = try syncer.apply(plan, enroller: enroller, options: options) { done, _ in progress.update(done) }
        try report(result)
    }

    func report(_ result: SyncResult) throws {
        for path in result.foundByCNN { print("\(path): found by the CNN detector (HOG found no face)") }
        for w in result.spread {
            printError("warning: \(w.photo) is far from \(w.person)'s other photos (median distance \(fixed(w.medianDistance)) > "
                       + "\(fixed(Enroller.spreadLimit))): is it someone else?")
        }
        for c in result.conflicts {
            printError("warning: \(c.first) and \(c.second) are closer than the strict level allows (distance \(fixed(c.distance)) ≤ "
                       + "\(fixed(SecurityLevel.strict.maxDistance))): siblings, or one person under two names?")
        }
        print("synced: \(result.embedded) photo\(result.embedded == 1 ? "" : "s") embedded")
    }
}

/// A progress bar on a terminal (stderr), plain lines at milestones otherwise.
final class ProgressPrinter: @unchecked Sendable {
    private let meter: ProgressMeter
    private let lock = NSLock()
    private let isTerminal = isatty(STDERR_FILENO) == 1

    init(total: Int) { meter = ProgressMeter(total: total) }

    func update(_ done: Int) {
        lock.withLock {
            if isTerminal {
                FileHandle.standardError.write(Data(("\r" + meter.bar(done: done) + (done == meter.total ? "\n" : "")).utf8))
            } else if meter.isMilestone(done) {
                FileHandle.standardError.write(Data(("facectl: " + meter.line(done: done) + "\n").utf8))
            }
        }
    }
}
