import ArgumentParser
import FaceStore
import Foundation

struct Why: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain one audit event in plain words.",
        discussion: "Example:\n  facectl why 42")

    @Argument(help: "The event id (see `facectl log`).")
    var eventID: Int64

    @OptionGroup var store: StoreOptions

    func run() throws {
        let gallery = try store.openForReading()
        guard let event = try gallery.event(id: eventID) else {
            throw CommandFailure("no event \(eventID) in the audit log (see `facectl log`)")
        }
        let follow = try gallery.events(EventFilter(afterID: eventID)).filter { $0.kind == .action && $0.refEventID == eventID }
        print(Explanation(event: event, actions: follow).text)
    }
}

/// The words for one event, built only from what the event row recorded.
struct Explanation {
    let event: AuditEvent
    let actions: [AuditEvent]

    var text: String {
        var lines = ["Event \(event.id!) at \(event.time), camera \(event.camera):"]
        switch event.kind {
        case .action:
            lines.append("The door action for event \(event.refEventID.map(String.init) ?? "?") (\(event.personName ?? "?")) ran: \(event.detail ?? "no details").")
        case .camera:
            lines.append("Camera health: \(event.detail ?? "no details").")
        case .admin:
            lines.append("Gallery change (\(event.reason ?? "?"))" + (event.personName.map { " to '\($0)'" } ?? "") + ": \(event.detail ?? "no details").")
        case .decision:
            lines += decisionLines
        }
        // Every field is stored text: escaped, so none can forge a line or a terminal colour.
        return lines.map(Names.escaped).joined(separator: "\n")
    }

    private func f(_ d: Double?) -> String { d.map { String(format: "%.3f", $0) } ?? "?" }

    private var decisionLines: [String] {
        var lines = [String]()
        let frames = event.framesUsed ?? 0
        let evidence = event.evidence ?? "[]"
        let who = event.personName.map { "'\($0)'" } ?? "nobody enrolled"
        switch event.decision {
        case "granted":
            lines.append("GRANTED to \(who): \(frames) frames of track \(event.trackID ?? 0) matched them, median distance \(f(event.bestDistance)).")
        case "unknown":
            lines.append("UNKNOWN visitor: over \(frames) frames of track \(event.trackID ?? 0), no enrolled person was close enough (median distance \(f(event.bestDistance)) to the closest).")
        default:
            lines.append("DENIED (\(event.reason ?? "?")) for \(who), track \(event.trackID ?? 0), \(frames) frames, median distance \(f(event.bestDistance)).")
        }
        lines.append("Distances per frame: \(evidence).")
        if let runner = event.runnerUpName {
            lines.append("Runner-up: '\(runner)' at \(f(event.runnerUpDistance))" + (event.margin.map { String(format: ", a margin of %.3f.", $0) } ?? "."))
        } else {
            lines.append("Runner-up: none (only one person in the gallery was a candidate).")
        }
        let rule: String = switch event.reason {
        case nil: "enough frames agreed on one person, their median distance and margin passed the security level, and they were enabled, valid, inside their schedule and not in cooldown."
        case "unknown": "unknown: no person reached the required number of matching frames within the level's distance."
        case "ambiguous": "ambiguous: the frames were close to someone, but another person was nearly as close, so faced refused to guess."
        case "disabled": "disabled: the person is recognised but their access is switched off."
        case "expired": "expired: the person is recognised but outside their valid-from / valid-until dates."
        case "outside_schedule": "outside_schedule: the person is recognised but no schedule of theirs or of their groups covers this time."
        case "cooldown": "cooldown: the person was let in moments ago; a second grant waits for the cooldown to pass."
        case let other?: other
        }
        lines.append("Rule that decided: \(rule)")
        if var detail = event.detail {
            let earlier = "after this track was logged "
            if detail.hasPrefix(earlier) {
                let end = detail.range(of: "; ")?.lowerBound ?? detail.endIndex
                lines.append("Earlier on this track: logged " + detail[detail.index(detail.startIndex, offsetBy: earlier.count) ..< end]
                    + (event.refEventID.map { " (event \($0))" } ?? "") + "; the evidence that followed let them in.")
                detail = end == detail.endIndex ? "" : String(detail[end...].dropFirst(2))
            }
            if detail.hasPrefix("closest enrolled person: ") {
                lines.append("Closest match: \(detail.dropFirst("closest enrolled person: ".count)).")
            } else if detail.hasPrefix("schedules in force: ") {
                lines.append("Schedule that applied: \(detail.dropFirst("schedules in force: ".count)).")
            }
        }
        if let latency = event.latencyMs { lines.append(String(format: "Decided %.0f ms after the face first appeared.", latency)) }
        if let snapshot = event.snapshotPath { lines.append("Snapshot: \(snapshot)") }
        for a in actions { lines.append("Door action (event \(a.id!)): \(a.detail ?? "?").") }
        return lines
    }
}
