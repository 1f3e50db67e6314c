import FaceAccess
import ArgumentParser
import FaceStore
import FacedModel
import Foundation
import Terminal

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read and verify the audit log of door decisions.",
        subcommands: [LogList.self, LogVerify.self],
        defaultSubcommand: LogList.self
    )
}

struct LogList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print audit events (the default for `facectl log`).",
        discussion: """
            Times are ISO 8601 (2026-11-24T20:00:00Z, 2026-11-24) or relative to now (30m, 2h, 3d, 1w).

            Examples:
              facectl log --since 1d --decision granted
              facectl log --person alice --json
              facectl log --since 2026-11-24T20:00:00+01:00 --until 2026-11-25 --csv > entries.csv
              facectl log --follow
            """)

    @Option(help: ArgumentHelp("Events at or after this time.", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Events before this time.", valueName: "time"))
    var until: String?
    @Option(help: "Only this person (name at the time of the event).")
    var person: String?
    @Option(help: "granted, denied or unknown.")
    var decision: AuditEvent.Decision?
    @Option(help: ArgumentHelp("Why a visitor was refused (unknown, ambiguous, disabled, expired, outside_schedule, cooldown), "
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

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
        if json && follow { throw ValidationError("--follow prints lines; use it without --json") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        _ = try since.map { try parseTime($0) }
        _ = try until.map { try parseTime($0) }
    }

    func run() throws {
        let gallery = try store.openForReading()
        var filter = EventFilter(since: try since.map { try parseTime($0) }, until: try until.map { try parseTime($0) }, person: person.map(Names.normalized),
                                 decision: decision, reason: reason, camera: camera, limit: limit)
        let events = try gallery.events(filter)
        guard follow else { return Pager.show(try listing(events), allowed: !noPager) }
        if csv { print(EventView.csvHeader) }
        for e in events { print(csv ? EventView(e).csvRow : EventView(e).line) }
        filter.limit = nil
        let newest = try gallery.events(EventFilter(limit: 1)).last?.id ?? 0
        var last = events.last?.id ?? newest
        while true {
            Thread.sleep(forTimeInterval: 0.5)
            filter.afterID = last
            for e in try gallery.events(filter) {
                print(csv ? EventView(e).csvRow : EventView(e).line)
                last = e.id!
            }
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

/// "2h", "3d", "30m", "1w" before now, or an ISO 8601 date or date-time.
func parseTime(_ text: String, now: Date = Date()) throws -> Date {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
    if let unit = text.last, let seconds = units[unit], let n = Double(text.dropLast()), n >= 0 {
        return now.addingTimeInterval(-n * seconds)
    }
    if let date = absoluteTime(text) { return date }
    throw ValidationError("cannot read time '\(text)'; use ISO 8601 (2026-11-24T20:00:00Z or 2026-11-24) or 30m, 2h, 3d, 1w")
}

func absoluteTime(_ text: String) -> Date? { AccessTime.parse(text) }

// A bad value names the option and the values it takes, like any other option's.
extension AuditEvent.Decision: ExpressibleByArgument {}
extension AuditEvent.Reason: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
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

    var line: String {
        var parts = ["#\(id)", time, camera.isEmpty ? "-" : camera]
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
        func q(_ s: String?) -> String {
            guard var s else { return "" }
            // A spreadsheet would run a cell starting with these as a formula (OWASP CSV injection).
            if let first = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { s = "'" + s }
            // By scalar: "\r\n" is one Character, equal to neither "\r" nor "\n".
            return s.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        func n(_ d: Double?) -> String { d.map { String(format: "%.4f", $0) } ?? "" }
        return [String(id), kind, time, q(camera), trackID.map(String.init) ?? "", q(decision), q(reason), q(person), n(distance),
                q(runnerUp), n(runnerUpDistance), n(margin), framesUsed.map(String.init) ?? "", n(latencyMs), q(snapshot),
                refEventID.map(String.init) ?? "", q(detail)].joined(separator: ",")
    }
}
