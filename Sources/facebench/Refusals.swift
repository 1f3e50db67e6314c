import ArgumentParser
import FaceAccess
import FaceStore
import FaceVision
import Foundation

struct Refusals: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How many photos of a labelled set enrollment refuses, and why: HOG alone, then with the CNN fallback.",
        discussion: """
            Runs every photo of --faces-dev (a folder per person; folders starting with _ are skipped) \
            through the enrollment gate as `facectl enroll` does, with the default limits: once with the \
            HOG detector alone (enrollment before the CNN fallback), once with the CNN looking again \
            where HOG finds no face. Tallies the refusals by the limit that refused them (the \
            manifest key that relaxes it), then lists every refused photo.

            Example:
              .build/release/facebench refusals --faces-dev ../shared/faces-dev
            """)

    @Option(help: "Labelled photo set: a folder per person.")
    var facesDev = "../shared/faces-dev"

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: "Photos examined at once, one face engine each.")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let root = URL(fileURLWithPath: facesDev)
        let folders = try FileManager.default.contentsOfDirectory(atPath: facesDev).filter { !$0.hasPrefix("_") && !$0.contains(".") }.sorted()
        var paths = [String]()
        for folder in folders {
            let dir = root.appendingPathComponent(folder)
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where !file.hasPrefix(".") {
                paths.append(dir.appendingPathComponent(file).path)
            }
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-refusals-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let store = try FaceStore(path: work.appendingPathComponent("faced.db").path)
        let modelDir = FaceModels.resolveDirectory(models)
        let engines = try (0 ..< max(1, jobs)).map { _ in try FaceEngine(models: FaceModels(directory: modelDir), loadCNN: true) }
        let enroller = Enroller(engines: engines, store: store)
        let files = paths.map { path in (path, PhotoFile.read(path)) }
        let readable = files.compactMap { try? $0.1.get() }

        func reasons(_ options: EnrollmentOptions) -> [String: String] {
            var out = [String: String]()
            for (path, read) in files { if case let .failure(r) = read { out[path] = "unreadable: \(r)" } }
            for (file, result) in zip(readable, enroller.examine(readable, options: options)) {
                if case let .failure(r) = result { out[file.path] = Self.key(r) + ": " + r.description }
            }
            return out
        }
        let before = reasons(EnrollmentOptions(cnnFallback: false))
        let after = reasons(EnrollmentOptions())

        print("\(paths.count) photos in \(folders.count) folders; default limits, minimum face \(EnrollmentOptions.defaultMinFace) px\n")
        func tally(_ r: [String: String]) -> [String: Int] {
            r.values.reduce(into: [:]) { $0[String($1.prefix { $0 != ":" }), default: 0] += 1 }
        }
        let b = tally(before), a = tally(after)
        var table = Table(header: ["refused for", "HOG only", "with CNN fallback"])
        for key in Set(b.keys).union(a.keys).sorted() { table.add([key, "\(b[key] ?? 0)", "\(a[key] ?? 0)"]) }
        table.add(["total", "\(before.count)/\(paths.count)", "\(after.count)/\(paths.count)"])
        print(table.render())
        let short = { (path: String) in path.hasPrefix(root.path + "/") ? String(path.dropFirst(root.path.count + 1)) : path }
        print("\nrefused with the CNN fallback:")
        for path in after.keys.sorted() { print("  \(short(path)): \(after[path]!)") }
        let rescued = before.keys.filter { after[$0] == nil }.sorted()
        print("\nrefused by HOG alone, enrolled with the CNN fallback: \(rescued.count)")
        for path in rescued { print("  \(short(path)): was \(before[path]!)") }
    }

    /// The tally's key: the limit that refused the photo, by its manifest key, or the kind of refusal.
    static func key(_ rejection: PhotoRejection) -> String {
        switch rejection {
        case .noFace: "no face"
        case .severalFaces: "several faces"
        case let .quality(failure): failure.relaxedBy.rawValue
        case .unreadable: "unreadable"
        case .alreadyEnrolled, .repeatedInCommand: "duplicate"
        }
    }
}
