import ArgumentParser
import FaceAccess
import FaceStore
import FaceVision
import Foundation

struct Identify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find every face in photos and say who it is.",
        discussion: """
            For each face: its box, the closest enrolled person and distance, the runner-up, and a \
            verdict: match, unknown (nobody close enough) or ambiguous (two people nearly as close). \
            Exit status 0 when at least one face matched, 2 when none did, 1 on a bad photo.

            Examples:
              facectl identify visitor.jpg
              facectl identify --level strict --json door-*.jpg
            """)

    @Argument(help: "JPEG or PNG photos.")
    var photos: [String]

    @Option(help: "Security level: relaxed, standard or strict.")
    var level: SecurityLevel = .standard

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var engineOptions: EngineOptions

    struct Box: Encodable { var x, y, width, height: Int }
    struct Person: Encodable { var name: String; var displayName: String; var distance: Float }
    struct FaceReport: Encodable {
        var box: Box
        var detectorScore: Float
        var best: Person?
        var runnerUp: Person?
        var margin: Float?
        var verdict: Verdict
    }
    struct PhotoReport: Encodable {
        var path: String
        var error: String?
        var faces: [FaceReport]
    }
    struct Report: Encodable {
        var level: SecurityLevel
        var photos: [PhotoReport]
    }

    func validate() throws {
        guard !photos.isEmpty else { throw ValidationError("give at least one photo") }
    }

    func run() throws {
        let gallery = try store.openForReading()
        let engine = try engineOptions.engine()
        let identifier = Identifier(engine: engine, matcher: Matcher(snapshot: try gallery.snapshot()), level: level)
        let decoder = engineOptions.decoder
        var reports = [PhotoReport]()
        for path in photos {
            do {
                let image = try decoder.decode(contentsOf: path)
                let faces = try identifier.identify(image, minFace: engineOptions.minFace, detector: engineOptions.detector)
                reports.append(PhotoReport(path: path, faces: faces.map(Self.report)))
            } catch let error as ImageFileError {
                reports.append(PhotoReport(path: path, error: error.reason, faces: []))
            }
        }
        if json {
            try printJSON(Report(level: level, photos: reports))
        } else {
            printText(reports)
        }
        if reports.contains(where: { $0.error != nil }) { throw ExitCode(1) }
        if !reports.contains(where: { $0.faces.contains { $0.verdict == .match } }) { throw ExitCode(2) }
    }

    static func report(_ id: Identification) -> FaceReport {
        func person(_ c: Candidate?) -> Person? { c.map { Person(name: $0.name, displayName: $0.displayName, distance: $0.distance) } }
        let b = id.detection.box
        return FaceReport(box: Box(x: b.x, y: b.y, width: b.width, height: b.height), detectorScore: id.detection.score,
                          best: person(id.result.best), runnerUp: person(id.result.runnerUp), margin: id.result.margin,
                          verdict: id.verdict)
    }

    func printText(_ reports: [PhotoReport]) {
        for photo in reports {
            if let error = photo.error {
                printError("\(photo.path): \(error)")
                continue
            }
            if photo.faces.isEmpty {
                print("\(photo.path): no face of at least \(engineOptions.minFace) px")
                continue
            }
            for (i, face) in photo.faces.enumerated() {
                let b = face.box
                var line = "\(photo.path)"
                if photo.faces.count > 1 { line += " face \(i + 1)/\(photo.faces.count)" }
                line += "  box \(PixelRect(x: b.x, y: b.y, width: b.width, height: b.height))  "
                switch face.verdict {
                case .match: line += "→ \(face.best!.name)"
                case .unknown: line += "→ unknown"
                case .ambiguous: line += "→ ambiguous"
                }
                if let best = face.best {
                    line += "  (\(face.verdict == .match ? "distance" : "closest \(best.name)") \(fixed(best.distance))"
                    if let runner = face.runnerUp { line += ", runner-up \(runner.name) \(fixed(runner.distance))" }
                    line += ")"
                } else {
                    line += "  (gallery is empty)"
                }
                print(Names.escaped(line))
            }
        }
    }
}
