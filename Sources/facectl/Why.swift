import ArgumentParser
import FaceStore
import Foundation

struct Why: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain one audit event in plain words.",
        discussion: "Example:\n  facectl why 42")

    @Argument(help: "The event id (see `facectl log`).")
    var eventID: Int64

    @OptionGroup var zone: ZoneOptions
    @OptionGroup var store: StoreOptions

    func run() throws {
        let zone = try zone.zone
        let gallery = try store.openForReading()
        guard let event = try gallery.event(id: eventID) else {
            throw CommandFailure("no event \(eventID) in the audit log (see `facectl log`)")
        }
        let follow = try gallery.events(EventFilter(afterID: eventID)).filter { $0.kind == .action && $0.refEventID == eventID }
        // A decision that refers to another is a grant after the track's refusal: that one.
        let earlier = event.kind == .decision ? try event.refEventID.flatMap { try gallery.event(id: $0) } : nil
        let at = EventTime.parse(event.time) ?? Date()
        print(Explanation(event: event, actions: follow, earlier: earlier, display: TimeDisplay(zone: zone, reference: at)).text)
    }
}

/// The words for one event, built only from what the event rows recorded: no stored text is
/// parsed for meaning.
struct Explanation {
    let event: AuditEvent
    let actions: [AuditEvent]
    /// The event `refEventID` names, for a decision row.
    var earlier: AuditEvent?
    /// Times in the reader's zone, named once in the first line.
    var display = TimeDisplay(zone: .gmt)

    var text: String {
        var lines = ["Event \(event.id!) at \(display.string(stored: event.time)) \(display.zoneName), camera \(event.camera):"]
        switch event.kind {
        case .action:
            lines.append("The door action for event \(event.refEventID.map(String.init) ?? "?") (\(event.personName ?? "?")) ran: \(event.detail ?? "no details").")
        case .camera:
            lines.append("Camera health: \(event.detail ?? "no details").")
        case .admin:
            lines.append("Gallery change (\(event.reason?.rawValue ?? "?"))" + (event.personName.map { " to '\($0)'" } ?? "") + ": \(event.detail ?? "no details").")
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
        let who = event.personName.map { "'\($0)'" } ?? "nobody enrolled"
        switch event.decision {
        case .granted?:
            lines.append("GRANTED to \(who): \(frames) frames of track \(event.trackID ?? 0) matched them, median distance \(f(event.bestDistance)).")
        case .unknown?:
            lines.append("UNKNOWN visitor: over \(frames) frames of track \(event.trackID ?? 0), no enrolled person was close enough (median distance \(f(event.bestDistance)) to the closest).")
        case .denied?, nil:
            lines.append("DENIED (\(event.reason?.rawValue ?? "?")) for \(who), track \(event.trackID ?? 0), \(frames) frames, median distance \(f(event.bestDistance)).")
        }
        if let closest = event.closestName { lines.append("Closest enrolled person: '\(closest)'.") }
        if let perFrame = event.frameEvidence {
            let counted = perFrame.filter(\.counted).count
            lines.append("Frames of the evidence window (\(counted) of \(perFrame.count) counted):")
            lines += perFrame.map { "  " + Self.line($0) }
        } else {
            lines.append("Distances per frame: \(event.evidence ?? "[]").")
        }
        if let runner = event.runnerUpName {
            lines.append("Runner-up: '\(runner)' at \(f(event.runnerUpDistance))" + (event.margin.map { String(format: ", a margin of %.3f.", $0) } ?? "."))
        } else {
            lines.append("Runner-up: none (only one person in the gallery was a candidate).")
        }
        let rule: String = switch event.reason {
        case nil: "enough frames agreed on one person, their median distance and margin passed the security level, and they were enabled, valid, inside their schedule and not in cooldown."
        case .denial(.unknown)?: "unknown: no person reached the required number of matching frames within the level's distance."
        case .denial(.ambiguous)?: "ambiguous: the frames were close to someone, but another person was nearly as close, so faced refused to guess."
        case .denial(.disabled)?: "disabled: the person is recognised but their access is switched off."
        case .denial(.expired)?: "expired: the person is recognised but outside their valid-from / valid-until dates."
        case .denial(.outsideSchedule)?: "outside_schedule: the person is recognised but no schedule of theirs or of their groups covers this time."
        case .denial(.cooldown)?: "cooldown: the person was let in moments ago; a second grant waits for the cooldown to pass."
        case .denial(.liveness)?: "liveness: the person is recognised, but within the patience the face gave no proof of being a live head (liveness = motion): a photo held to the camera looks like this, and so does someone who held perfectly still."
        case let other?: other.rawValue
        }
        lines.append("Rule that decided: \(rule)")
        if let liveness = event.livenessEvidence { lines.append("Liveness (motion): \(liveness.explanation).") }
        if let ref = event.refEventID {
            if let earlier {
                let logged = (earlier.decision?.rawValue ?? earlier.kind.rawValue)
                    + (earlier.reason.map { $0.rawValue != earlier.decision?.rawValue ? " (\($0.rawValue))" : "" } ?? "")
                lines.append("Earlier on this track: logged \(logged) at \(display.string(stored: earlier.time)) (event \(ref)). The evidence that followed let them in.")
            } else {
                lines.append("Earlier on this track: event \(ref), which the log no longer holds.")
            }
        }
        // Stored as written (schedules in force; an older build's notes): shown, never read for meaning.
        if let detail = event.detail, !detail.isEmpty { lines.append("Detail: \(detail).") }
        if let latency = event.latencyMs { lines.append(String(format: "Decided %.0f ms after the face first appeared.", latency)) }
        if let snapshot = event.snapshotPath { lines.append("Snapshot: \(snapshot)") }
        for a in actions { lines.append("Door action (event \(a.id!)): \(a.detail ?? "?").") }
        return lines
    }

    /// "+0.40 s: 0.412 to 'obama' — counted"; "+0.12 s: 52 px face, too small — not counted".
    static func line(_ frame: FrameEvidence) -> String {
        let at = String(format: "+%.2f s: ", Double(frame.offsetMs) / 1000)
        guard frame.counted else {
            let why = frame.skipped.map { issue in
                switch issue {
                case .small: "\(frame.faceWidth) px face, too small"
                case .blurred: (frame.sharpness.map { String(format: "sharpness %.1f", $0) } ?? "sharpness unknown") + ", too blurred"
                case .turned: (frame.yaw.map { String(format: "yaw %.0f°", $0) } ?? "yaw unknown") + ", turned too far"
                }
            }
            return at + why.joined(separator: "; ") + " — not counted"
        }
        let match = frame.distance.map { String(format: "%.3f", $0) + (frame.person.map { " to '\($0)'" } ?? "") } ?? "no enrolled person to compare"
        return at + match + " — counted"
    }
}
