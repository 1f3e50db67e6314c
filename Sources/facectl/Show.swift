import ArgumentParser
import FaceStore
import FaceVision
import Foundation

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one person and their face templates.",
        discussion: "Example:\n  facectl show alice")

    @Argument(help: "The person's name.")
    var name: String

    @Flag(help: "Print JSON.")
    var json = false

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
        var groups: [String]
        var schedules: [String]
        var groupSchedules: [String: [String]]
        var templates: [Template]
    }

    func run() throws {
        let gallery = try store.open(create: false)
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
                              securityLevel: person.securityLevel, groups: access.groups, schedules: access.ownSchedules, groupSchedules: access.groupSchedules,
                              templates: templates)
        if json { return try printJSON(details) }
        print(try AccessView(person: person, store: gallery).text)
        print("""
            enrolled:   \(details.createdAt.formatted(.iso8601))
            templates:  \(templates.count)
            """)
        var rows = [["ID", "SOURCE", "SHA256", "FACE", "SCORE", "SHARPNESS", "BRIGHTNESS", "CONTRAST", "YAW°", "ROLL°"]]
        for t in templates {
            rows.append(["\(t.id)", t.source, String(t.sha256.prefix(12)), "\(PixelRect(x: t.box.x, y: t.box.y, width: t.box.width, height: t.box.height))",
                         fixed(t.detectorScore, 2), fixed(t.sharpness), fixed(t.brightness), t.contrast.map { fixed($0) } ?? "-",
                         t.yaw.map { fixed($0) } ?? "-", t.roll.map { fixed($0) } ?? "-"])
        }
        print(columns(rows).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    }
}
