import ArgumentParser
import FaceAccess
import FaceStore
import Foundation
import Terminal

struct LogSummary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Sum up decisions: per person and day the first and last grant and the counts; refusals by reason.",
        discussion: """
            Days are local days (see --time-zone): 23 or 25 hours long when the clocks change. A person's \
            denials are refusals that named them (outside_schedule, cooldown, disabled, ...); unknown \
            visitors appear only under refusals. --csv prints the per-person table, --json both tables.

            \(RangeOptions.discussion)

            Examples:
              facectl log summary --person alice --on "this week"
              facectl log summary --since "last week" --camera lab
              facectl log summary --on yesterday --csv > attendance.csv
            """)

    @OptionGroup var range: RangeOptions
    @Option(help: "Only this person (name at the time of the event).")
    var person: String?
    @Option(help: "Only this camera.")
    var camera: String?
    @Flag(help: "Print JSON.")
    var json = false
    @Flag(help: "Print the per-person table as CSV with a header row.")
    var csv = false
    @Flag(help: "Print plainly, not through $PAGER (less) when the output is longer than the terminal.")
    var noPager = false

    @OptionGroup var zone: ZoneOptions
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    func run() throws {
        let zone = try zone.zone
        let (since, until) = try range.range(now: Date(), zone: zone)
        let window = try range.window()
        let gallery = try store.openForReading()
        let filter = EventFilter(since: since, until: until, person: person.map(Names.normalized), camera: camera)
        let summary = try gallery.summary(filter, zone: zone, include: window.map { w in { w.contains($0, in: zone) } })
        let display = TimeDisplay(zone: zone, reference: summary.first ?? since ?? Date())
        let report = SummaryReport(summary: summary, display: display, since: since, until: until)
        show(json ? [try jsonText(report.document)] : csv ? report.csvLines : report.textLines, pager: !noPager)
    }
}

/// A summary as facectl prints it.
struct SummaryReport {
    let summary: AuditSummary
    let display: TimeDisplay
    let since: Date?
    let until: Date?

    private static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    private func weekday(_ day: AuditSummary.PersonDay) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = display.zone
        return Self.weekdays[calendar.component(.weekday, from: day.dayStart) - 1]
    }

    var textLines: [String] {
        let span = (since.map { "from \(display.string($0))" } ?? "from the start of the log")
            + (until.map { " to \(display.string($0))" } ?? " to now")
        var lines = ["\(display.header); \(span); \(summary.decisions) decision\(summary.decisions == 1 ? "" : "s")"]
        if summary.personDays.isEmpty {
            lines.append("nobody enrolled was granted or denied")
        } else {
            lines.append("")
            var rows = [["day", "person", "first in", "last in", "grants", "denials"]]
            for d in summary.personDays {
                rows.append([weekday(d) + " " + d.day, Names.escaped(d.person), d.firstGrant.map(display.clock) ?? "-",
                             d.lastGrant.map(display.clock) ?? "-", String(d.grants), String(d.denials)])
            }
            lines += columns(rows).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        lines.append("")
        if summary.refusals.isEmpty {
            lines.append("refusals: none")
        } else {
            lines.append("refusals by reason:")
            let rows = summary.refusals.map { r in
                ["  " + Names.escaped(r.reason), r.decision == r.reason ? "" : "(\(Names.escaped(r.decision)))", String(r.count)]
            }
            lines += columns(rows).split(separator: "\n").map(String.init)
        }
        return lines
    }

    static let csvHeader = "day,weekday,person,first_grant,last_grant,grants,denials"

    var csvLines: [String] {
        [Self.csvHeader] + summary.personDays.map { d in
            [d.day, weekday(d), csvField(d.person), d.firstGrant.map(display.iso) ?? "", d.lastGrant.map(display.iso) ?? "",
             String(d.grants), String(d.denials)].joined(separator: ",")
        }
    }

    struct Document: Encodable {
        struct Day: Encodable {
            var day: String
            var weekday: String
            var person: String
            var firstGrant: String?
            var lastGrant: String?
            var grants: Int
            var denials: Int

            // A day without a grant says so: null, not an absent key.
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(day, forKey: .day)
                try c.encode(weekday, forKey: .weekday)
                try c.encode(person, forKey: .person)
                try c.encode(firstGrant, forKey: .firstGrant)
                try c.encode(lastGrant, forKey: .lastGrant)
                try c.encode(grants, forKey: .grants)
                try c.encode(denials, forKey: .denials)
            }

            enum CodingKeys: String, CodingKey { case day, weekday, person, firstGrant, lastGrant, grants, denials }
        }
        struct Refusal: Encodable {
            var decision: String
            var reason: String
            var count: Int
        }
        var timeZone: String
        var since: String?
        var until: String?
        var decisions: Int
        var days: [Day]
        var refusals: [Refusal]
    }

    var document: Document {
        Document(timeZone: display.isUTC ? "UTC" : display.zone.identifier, since: since.map(display.iso), until: until.map(display.iso), decisions: summary.decisions,
                 days: summary.personDays.map { d in
                     .init(day: d.day, weekday: weekday(d), person: d.person, firstGrant: d.firstGrant.map(display.iso),
                           lastGrant: d.lastGrant.map(display.iso), grants: d.grants, denials: d.denials)
                 },
                 refusals: summary.refusals.map { .init(decision: $0.decision, reason: $0.reason, count: $0.count) })
    }
}
