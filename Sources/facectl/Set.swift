import ArgumentParser
import FaceAccess
import FaceStore
import Foundation

struct Set_: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change a person's access: enabled, validity, groups, schedules.",
        discussion: """
            Only the options given change. Schedules are weekly windows in faced's time zone; a person \
            with no schedule, in no group with a schedule, may enter at any time.

            Examples:
              facectl set alice --disable
              facectl set bob --valid-from 2026-12-01 --valid-until 2027-03-31T18:00:00+01:00
              facectl set carol --groups staff,lab
              facectl set dave --schedule "mon-fri 07:00-19:00" --schedule "sat 09:00-13:00"
              facectl set dave --no-schedules --valid-until none
            """)

    @Argument(help: "The person's name.")
    var name: String

    @Flag(exclusivity: .exclusive, help: "Let the person in, or keep them out without deleting them.")
    var access: Access?

    enum Access: EnumerableFlag {
        case enable, disable
    }

    @Option(help: "Name to show in logs and listings.")
    var displayName: String?

    @Option(help: ArgumentHelp("Access starts then (ISO 8601 date or date-time), or 'none'.", valueName: "time"))
    var validFrom: String?

    @Option(help: ArgumentHelp("Access ends then (ISO 8601 date or date-time), or 'none'.", valueName: "time"))
    var validUntil: String?

    @Option(help: ArgumentHelp("Replace the person's groups (comma-separated); '' for none.", valueName: "a,b"))
    var groups: String?

    @Option(help: ArgumentHelp("A weekly window such as \"mon-fri 07:00-19:00\"; repeat for several. Replaces the person's own schedules.",
                               valueName: "window"))
    var schedule: [String] = []

    @Flag(help: "Remove the person's own schedules.")
    var noSchedules = false

    @Option(help: ArgumentHelp("The person's own security level (relaxed, standard, strict), or 'none'. It can only raise the door's bar: the stricter of the two applies.",
                               valueName: "level"))
    var level: String?

    @Option(help: ArgumentHelp("'motion' to require a proof of a live face for this person even where the door does not ask for one, or 'none' for the door's setting. It can only add the proof: a door with liveness = motion asks it of everyone.",
                               valueName: "mode"))
    var liveness: String?

    @OptionGroup var zone: ZoneOptions
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if noSchedules && !schedule.isEmpty { throw ValidationError("give --schedule or --no-schedules, not both") }
        for spec in schedule { _ = try parseSchedule(spec) }
        if let level, level != "none", SecurityLevel.named(level) == nil {
            throw ValidationError("--level must be relaxed, standard, strict or none, got '\(level)'")
        }
        if let liveness, !["motion", "none"].contains(liveness.lowercased()) {
            throw ValidationError("--liveness must be motion or none (a person's own mode can only add the door's proof of a live face), got '\(Names.escaped(liveness))'")
        }
        _ = try date(validFrom, "--valid-from", zone: .gmt)
        _ = try date(validUntil, "--valid-until", zone: .gmt)
        if let groups {
            for g in groupNames(groups) {
                if let problem = Names.nameProblem(g) {
                    throw ValidationError("invalid group name '\(Names.escaped(g))' (\(problem)): use letters, digits, '.', '_' or '-'")
                }
            }
        }
        if let displayName, let problem = Names.displayNameProblem(displayName) {
            throw ValidationError("--display-name '\(Names.escaped(displayName))': \(problem)")
        }
        let changes: [Any?] = [access, displayName, validFrom, validUntil, groups, level, liveness]
        if changes.allSatisfy({ $0 == nil }) && schedule.isEmpty && !noSchedules {
            throw ValidationError("nothing to change; see `facectl set --help`")
        }
    }

    /// A date means its midnight in the reader's zone (see --time-zone).
    func date(_ text: String?, _ flag: String, zone: TimeZone) throws -> Date?? {
        guard let text else { return nil }
        if text == "none" { return .some(nil) }
        guard let date = AccessTime.parse(text, zone: zone) else {
            throw ValidationError("\(flag): cannot read '\(Names.escaped(text))'; use 2026-12-01, 2026-12-01T08:00:00+01:00 or none")
        }
        return .some(date)
    }

    func groupNames(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() throws {
        let zone = try zone.zone
        let gallery = try store.open(create: false)
        let update = PersonUpdate(
            displayName: displayName, enabled: access.map { $0 == .enable },
            validFrom: try date(validFrom, "--valid-from", zone: zone), validUntil: try date(validUntil, "--valid-until", zone: zone),
            groups: groups.map(groupNames),
            schedules: noSchedules ? [] : (schedule.isEmpty ? nil : try schedule.map { try parseSchedule($0).description }),
            securityLevel: level.map { $0 == "none" ? String?.none : $0.lowercased() },
            liveness: liveness.map { $0.lowercased() == "none" ? String?.none : $0.lowercased() })
        let person = try gallery.update(name: name, update)
        print(try AccessView(person: person, store: gallery, display: TimeDisplay(zone: zone)).text)
    }
}

struct Group: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show groups, or set a group's schedules.",
        discussion: """
            Members get every schedule of every group they are in, besides their own.

            Examples:
              facectl group
              facectl group staff --schedule "mon-fri 07:00-19:00"
              facectl group cleaners --schedule "mon-fri 18:00-22:00" --schedule "sat 08:00-12:00"
              facectl group staff --no-schedules
            """)

    @Argument(help: "The group to change; without it, list all groups.")
    var name: String?

    @Option(help: ArgumentHelp("A weekly window; repeat for several. Replaces the group's schedules.", valueName: "window"))
    var schedule: [String] = []

    @Flag(help: "Remove the group's schedules.")
    var noSchedules = false

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if noSchedules && !schedule.isEmpty { throw ValidationError("give --schedule or --no-schedules, not both") }
        if name == nil && (noSchedules || !schedule.isEmpty) { throw ValidationError("name the group to change") }
        if let name, let problem = Names.nameProblem(name) {
            throw ValidationError("invalid group name '\(Names.escaped(name))' (\(problem)): use letters, digits, '.', '_' or '-'")
        }
        for spec in schedule { _ = try parseSchedule(spec) }
    }

    func run() throws {
        let changing = name != nil && (noSchedules || !schedule.isEmpty)
        let gallery = changing ? try store.open(create: false) : try store.openForReading()
        if let name, changing {
            try gallery.setSchedules(try schedule.map { try parseSchedule($0).description }, group: name)
        }
        let groups = try gallery.groups().filter { name == nil || $0.name == Names.groupKey(name!) }
        if groups.isEmpty { return print(name.map { "group \(Names.escaped($0)) has no members and no schedules" } ?? "no groups") }
        for g in groups {
            print(Names.escaped("\(g.name): schedules \(g.schedules.isEmpty ? "none (any time)" : g.schedules.joined(separator: "; ")); "
                  + "members \(g.members.isEmpty ? "none" : g.members.joined(separator: ", "))"))
        }
    }
}

/// A schedule from the command line; a bad one is a usage error naming the text.
func parseSchedule(_ spec: String) throws -> Schedule {
    do { return try Schedule(parsing: spec) } catch let error as ScheduleError { throw ValidationError(error.description) }
}

/// A person's access in words, for `set` and `show`.
struct AccessView {
    let text: String

    init(person: Person, store: FaceStore, display: TimeDisplay) throws {
        let access = try store.access(ofPersonID: person.id!)
        func day(_ d: Date?) -> String { d.map(display.string) ?? "-" }
        var lines = [
            "name:       \(person.name)",
            "display:    \(person.displayName)",
            "enabled:    \(person.enabled ? "yes" : "no")",
            "level:      \(person.securityLevel.map { "\($0) (the stricter of this and the door's)" } ?? "the door's")",
            "liveness:   \(person.liveness.map { "\($0) (asked even where the door does not)" } ?? "the door's")",
            "valid:      from \(day(person.validFrom)) until \(day(person.validUntil)); \(display.header)",
            "groups:     \(access.groups.isEmpty ? "none" : access.groups.joined(separator: ", "))",
            "schedules:  \(access.ownSchedules.isEmpty ? "none of their own" : access.ownSchedules.joined(separator: "; "))",
        ]
        for g in access.groups where !(access.groupSchedules[g] ?? []).isEmpty {
            lines.append("  from \(g): \(access.groupSchedules[g]!.joined(separator: "; "))")
        }
        if access.ownSchedules.isEmpty && access.groupSchedules.values.allSatisfy(\.isEmpty) {
            lines.append("            (no schedule applies: any time)")
        }
        // Stored text may predate the rules on names: no line may carry a control character.
        text = lines.map(Names.escaped).joined(separator: "\n")
    }
}
