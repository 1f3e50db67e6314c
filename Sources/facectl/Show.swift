import FaceAccess
import ArgumentParser
import FaceStore
import FaceVision
import Foundation

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one person and their face templates.",
        discussion: """
            With --contact-sheet, writes a JPEG grid of the person's aligned faces, each with its quality \
            figures. FaceStore keeps no images: the photos are found by content (sha256) in --photos.

            Examples:
              facectl show alice
              facectl show alice --contact-sheet alice.jpg --photos Enrollment/alice
            """)

    @Argument(help: "The person's name.")
    var name: String

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: ArgumentHelp("Write a contact sheet of the person's faces to this JPEG (mode 0600; only a regular file is replaced).", valueName: "out.jpg"))
    var contactSheet: String?

    @Option(help: ArgumentHelp("Where the person's photos are, for --contact-sheet (default: Enrollment/NAME).", valueName: "dir"))
    var photos: String?

    @Option(name: .long, help: ArgumentHelp("Directory holding the dlib model files.", valueName: "dir"))
    var models: String?

    @OptionGroup var zone: ZoneOptions
    @OptionGroup var store: StoreOptions

    struct Box: Encodable { var x, y, width, height: Int }
    struct Template: Encodable {
        var id: Int64
        var source: String
        var sha256: String
        var box: Box
        var detectorScore: Double
        var sharpness: Double
        var brightness: Double
        var faceSize: Int?
        var contrast: Double?
        var yaw: Double?
        var roll: Double?
        var createdAt: Date
    }
    struct Details: Encodable {
        var name: String
        var displayName: String
        var enabled: Bool
        var createdAt: Date
        var validFrom: Date?
        var validUntil: Date?
        var securityLevel: String?
        var liveness: String?
        var groups: [String]
        var schedules: [String]
        var groupSchedules: [String: [String]]
        var templates: [Template]
    }

    func run() throws {
        if let contactSheet { do { try SafeFile.checkTarget(contactSheet) } catch { throw CommandFailure("\(error)") } }
        let gallery = try store.openForReading()
        guard let person = try gallery.person(named: name) else { throw StoreError.personNotFound(name) }
        let templates = try gallery.templates(ofPersonID: person.id!).map {
            Template(id: $0.id!, source: $0.sourceName, sha256: $0.sourceSHA256,
                     box: Box(x: $0.boxX, y: $0.boxY, width: $0.boxWidth, height: $0.boxHeight),
                     detectorScore: $0.detectorScore, sharpness: $0.sharpness, brightness: $0.brightness,
                     faceSize: $0.faceSize, contrast: $0.contrast, yaw: $0.yaw, roll: $0.roll, createdAt: $0.createdAt)
        }
        let access = try gallery.access(ofPersonID: person.id!)
        let details = Details(name: person.name, displayName: person.displayName, enabled: person.enabled,
                              createdAt: person.createdAt, validFrom: person.validFrom, validUntil: person.validUntil,
                              securityLevel: person.securityLevel, liveness: person.liveness, groups: access.groups, schedules: access.ownSchedules, groupSchedules: access.groupSchedules,
                              templates: templates)
        if let contactSheet { try writeSheet(to: contactSheet, templates: try gallery.templates(ofPersonID: person.id!)) }
        if json { return try printJSON(details) }
        let display = TimeDisplay(zone: try zone.zone)
        print(try AccessView(person: person, store: gallery, display: display).text)
        print("""
            enrolled:   \(display.string(details.createdAt))
            templates:  \(templates.count)
            """)
        var rows = [["ID", "SOURCE", "SHA256", "FACE", "SCORE", "SHARPNESS", "BRIGHTNESS", "CONTRAST", "YAW°", "ROLL°"]]
        for t in templates {
            rows.append(["\(t.id)", Names.escaped(t.source), String(t.sha256.prefix(12)), "\(PixelRect(x: t.box.x, y: t.box.y, width: t.box.width, height: t.box.height))",
                         fixed(t.detectorScore, 2), fixed(t.sharpness), fixed(t.brightness), t.contrast.map { fixed($0) } ?? "-",
                         t.yaw.map { fixed($0) } ?? "-", t.roll.map { fixed($0) } ?? "-"])
        }
        print(columns(rows).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    }

    /// Finds each template's photo by content, cuts its aligned face again, and draws the grid.
    func writeSheet(to path: String, templates: [FaceTemplate]) throws {
        let folder = photos ?? "Enrollment/\(name)"
        var bySHA = [String: String]()
        if let files = try? FileManager.default.contentsOfDirectory(atPath: folder) {
            for file in files.sorted() where AccessManifest.photoExtensions.contains((file as NSString).pathExtension.lowercased()) {
                if case let .success(photo) = PhotoFile.read(folder + "/" + file) { bySHA[photo.sha256] = photo.path }
            }
        } else if photos != nil {
            throw CommandFailure("no folder \(folder); give --photos with the person's photos")
        }
        let engine = try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)))
        let cells = try templates.map { t in
            let caption = Pictures.caption(source: t.sourceName, faceSize: t.faceSize, sharpness: t.sharpness, brightness: t.brightness,
                                           contrast: t.contrast, yaw: t.yaw, roll: t.roll)
            guard let file = bySHA[t.sourceSHA256] else { return Pictures.Cell(chip: nil, caption: caption) }
            let image = try ImageDecoder().decode(contentsOf: file)
            let box = PixelRect(x: t.boxX, y: t.boxY, width: t.boxWidth, height: t.boxHeight)
            let face = try engine.describe([DetectedFace(box: box, score: Float(t.detectorScore))], in: image)[0]
            return Pictures.Cell(chip: face.chip, caption: caption)
        }
        try writeJPEG(try Pictures.contactSheet(cells), to: path)
        let missing = cells.filter { $0.chip == nil }.count
        printError("\(path): \(cells.count) face\(cells.count == 1 ? "" : "s")" + (missing > 0 ? ", \(missing) without its photo in \(folder)" : ""))
    }
}
