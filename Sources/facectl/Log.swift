import FaceAccess
import ArgumentParser
import FaceStore
import FacedModel
import Foundation
import Terminal

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read and verify the audit log of door decisions.",
        subcommands: [LogList.self, LogSummary.self, LogVerify.self],
        defaultSubcommand: LogList.self
    )
}

struct LogList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print audit events (the default for `facectl log`).",
        discussion: """
            \(RangeOptions.discussion)

            Text shows local times, the zone named in the first line; --json and --csv keep ISO 8601 UTC \
            times. Long text goes through $PAGER (default less -FRX) on a terminal; --no-pager prints it all.

            Examples:
              facectl log --decision granted --since "yesterday 20:00" --until today
              facectl log --decision unknown --since "last week" --hours 20:00-06:00
              facectl log --camera lab --decision granted --on sunday
              facectl log --person alice --json
              facectl log --since 2026-11-24T20:00:00+01:00 --until 2026-11-25 --csv > entries.csv
              facectl log --follow
            """)

    @OptionGroup var range: RangeOptions
    @Option(help: "Only this person (name at the time of the event).")
    var person: String?
    @Option(help: "granted, denied or unknown.")
    var decision: AuditEvent.Decision?
    @Option(help: ArgumentHelp("Why a visitor was refused (unknown, ambiguous, disabled, expired, outside_schedule, cooldown, liveness), "
                               + "how a door action ended (ok, failed, ...), an admin change (enroll, ...) or a camera change (camera_lost, ...).",
                               valueName: "reason"))
    var reason: AuditEvent.Reason?
    @Option(help: "Only this camera.")
    var camera: String?
    @Option(help: "At most this many (the newest).")
    var limit: Int?
    @Flag(help: "Print JSON.")
    var json = false
    @Flag(help: "Print CSV with a header row.")
    var csv = false
    @Flag(help: "Keep printing new events as they arrive, like tail -f (text or --csv).")
    var follow = false
    @Flag(help: "Print plainly, not through $PAGER (less) when the output is longer than the terminal.")
    var noPager = false

    @OptionGroup var zone: ZoneOptions
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
        if json && follow { throw ValidationError("--follow prints lines; use it without --json") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let zone = try zone.zone
        let (since, until) = try range.range(now: Date(), zone: zone)
        let window = try range.window()
        let gallery = try store.openForReading()
        var filter = EventFilter(since: since, until: until, person: person.map(Names.normalized),
                                 decision: decision, reason: reason, camera: camera, limit: window == nil ? limit : nil)
        func shown(_ events: [AuditEvent]) -> [AuditEvent] {
            guard let window else { return events }
            return events.filter { e in EventTime.parse(e.time).map { window.contains($0, in: zone) } ?? false }
        }
        var events = shown(try gallery.events(filter))
        if let limit, window != nil { events = Array(events.suffix(limit)) }
        if json { return show([try jsonText(events.map(EventView.init))], pager: !noPager) }
        let display = TimeDisplay(zone: zone, reference: events.first.flatMap { EventTime.parse($0.time) } ?? Date())
        var lines = [String]()
        if csv { lines.append(EventView.csvHeader) } else if !events.isEmpty || follow { lines.append(display.header) }
        for e in events { lines.append(csv ? EventView(e).csvRow : EventView(e).line(display)) }
        guard follow else { return show(lines, pager: !noPager) }
        for line in lines { print(line) }
        fflush(nil)
        filter.limit = nil
        let newest = try gallery.events(EventFilter(limit: 1)).last?.id ?? 0
        var last = events.last?.id ?? newest
        while true {
            Thread.sleep(forTimeInterval: 0.5)
            filter.afterID = last
            let arrived = try gallery.events(filter)
            for e in shown(arrived) { print(csv ? EventView(e).csvRow : EventView(e).line(display)) }
            last = arrived.last?.id ?? last
            fflush(nil)
        }
    }
}

struct LogVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain of the audit log and its end; exit 1 naming the first broken event.",
        discussion: """
            Every event's hash covers its content and the previous event's hash, so an edited, inserted or \
            deleted event breaks the chain. A deleted tail leaves an intact, shorter chain: to find it, the \
            chain's end is compared with what faced recorded outside the database, the newest FACED_HASH in \
            the journal and the chain head in faced's status file (--status-file, else $FACED_STATUS, else \
            \(DaemonStatus.defaultPath)), where they are about this gallery.
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("faced's status file, a witness of the chain's end.", valueName: "path"))
    var statusFile: String?

    func run() throws {
        let gallery = try store.openForReading()
        let (checked, broken) = try gallery.verifyChain()
        if let broken {
            throw CommandFailure("audit log is broken at \(broken) (\(checked) events before it are intact)")
        }
        let statusPath = DaemonStatus.readPath(statusFile)
        let chainRoot = try gallery.chainRoot()
        let witnesses = ChainWitnesses.journal(database: gallery.path, chainRoot: chainRoot)
            + ChainWitnesses.statusFile(statusPath, database: gallery.path, chainRoot: chainRoot)
        let problems = try gallery.checkTail(against: witnesses)
        if let worst = problems.max(by: { $0.seen.id < $1.seen.id }) {
            throw CommandFailure("audit log is broken: \(worst) (\(checked) events in the chain are intact)")
        }
        var line = "audit log intact: \(checked) event\(checked == 1 ? "" : "s") verified"
        if witnesses.isEmpty {
            line += "; no witness of its end (no journal entries or status file for this gallery), so a deleted tail would not show"
        } else {
            var newest = [String: Int64]()
            for w in witnesses { newest[w.source] = max(newest[w.source] ?? 0, w.head.id) }
            line += "; its end agrees with " + newest.sorted { $0.key < $1.key }.map { "\($0.key) (up to event \($0.value))" }
                .joined(separator: " and ")
        }
        print(line)
    }
}

// A bad value names the option and the values it takes, like any other option's.
extension AuditEvent.Decision: ExpressibleByArgument {}
extension AuditEvent.Reason: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// Lines to stdout, through the pager where it may page; else one by one, never joined into one
/// text (a year of a busy door's log as CSV).
func show(_ lines: [String], pager: Bool) {
    if Pager.mayPage(allowed: pager) { Pager.show(lines.map { $0 + "\n" }.joined(), allowed: true) } else { for line in lines { print(line) } }
}

/// One CSV cell: quoted where it must be, and never read as a formula.
func csvField(_ text: String?) -> String {
    guard var s = text else { return "" }
    // A spreadsheet would run a cell starting with these as a formula (OWASP CSV injection).
    if let first = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { s = "'" + s }
    // By scalar: "\r\n" is one Character, equal to neither "\r" nor "\n".
    return s.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

/// An audit event as facectl shows it.
struct EventView: Encodable {
    var id: Int64
    var kind: String
    var time: String
    var camera: String
    var trackID: Int64?
    var decision: String?
    var reason: String?
    var person: String?
    var distance: Double?
    var runnerUp: String?
    var runnerUpDistance: Double?
    var margin: Double?
    var framesUsed: Int?
    var evidence: [Double]?
    var latencyMs: Double?
    var snapshot: String?
    var refEventID: Int64?
    var detail: String?
    var closest: String?
    var frames: [FrameEvidence]?
    var hash: String

    init(_ e: AuditEvent) {
        id = e.id!; kind = e.kind.rawValue; time = e.time; camera = e.camera; trackID = e.trackID
        decision = e.decision?.rawValue; reason = e.reason?.rawValue; person = e.personName; distance = e.bestDistance
        runnerUp = e.runnerUpName; runnerUpDistance = e.runnerUpDistance; margin = e.margin; framesUsed = e.framesUsed
        evidence = e.evidence.flatMap { try? JSONDecoder().decode([Double].self, from: Data($0.utf8)) }
        latencyMs = e.latencyMs; snapshot = e.snapshotPath; refEventID = e.refEventID; detail = e.detail; hash = e.hash
        closest = e.closestName; frames = e.frameEvidence
    }

    /// One line of text, the time as `display` shows it.
    func line(_ display: TimeDisplay) -> String {
        var parts = ["#\(id)", display.string(stored: time), camera.isEmpty ? "-" : camera]
        switch kind {
        case "decision":
            parts.append((decision ?? "?") + (reason.map { $0 != decision ? " (\($0))" : "" } ?? ""))
            parts.append(person ?? "-")
            if let distance { parts.append(String(format: "distance %.3f", distance)) }
            if let framesUsed { parts.append("\(framesUsed) frames") }
            // A grant after the gallery changed follows the track's earlier refusal.
            if let refEventID { parts.append("after #\(refEventID)") }
        case "action":
            parts.append("door action for #\(refEventID.map(String.init) ?? "?") \(person ?? ""): \(detail ?? "")")
        case "admin":
            parts.append("admin \(reason ?? "?")" + (person.map { " \($0)" } ?? "") + ": \(detail ?? "")")
        default:
            parts.append("\(reason ?? kind): \(detail ?? "")")
        }
        // Escaped as a whole: stored text (camera, person, detail) cannot forge a line.
        return Names.escaped(parts.joined(separator: "  "))
    }

    static let csvHeader = "id,kind,time,camera,track_id,decision,reason,person,distance,runner_up,runner_up_distance,margin,frames_used,latency_ms,snapshot,ref_event_id,detail"

    var csvRow: String {
        let q = csvField
        func n(_ d: Double?) -> String { d.map { String(format: "%.4f", $0) } ?? "" }
        return [String(id), kind, time, q(camera), trackID.map(String.init) ?? "", q(decision), q(reason), q(person), n(distance),
                q(runnerUp), n(runnerUpDistance), n(margin), framesUsed.map(String.init) ?? "", n(latencyMs), q(snapshot),
                refEventID.map(String.init) ?? "", q(detail)].joined(separator: ",")
    }
}
