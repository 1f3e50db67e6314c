import ArgumentParser
import FaceStore
import Foundation

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List enrolled people.",
        discussion: "Example:\n  facectl list --json | jq -r '.[].name'")

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var zone: ZoneOptions
    @OptionGroup var store: StoreOptions

    struct Entry: Encodable {
        var name: String
        var displayName: String
        var enabled: Bool
        var templates: Int
        var createdAt: Date
    }

    func run() throws {
        let people = try store.openForReading().people()
        let entries = people.map {
            Entry(name: $0.person.name, displayName: $0.person.displayName, enabled: $0.person.enabled,
                  templates: $0.templateCount, createdAt: $0.person.createdAt)
        }
        if json { return try printJSON(entries) }
        if entries.isEmpty { return print("no one is enrolled") }
        let display = TimeDisplay(zone: try zone.zone)
        var rows = [["NAME", "DISPLAY NAME", "TEMPLATES", "ENABLED", "ENROLLED"]]
        for e in entries {
            rows.append([Names.escaped(e.name), Names.escaped(e.displayName), "\(e.templates)", e.enabled ? "yes" : "no",
                         display.day(e.createdAt)])
        }
        print(columns(rows))
    }
}
