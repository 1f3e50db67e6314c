import FaceStore
import Foundation

/// A decision of the pipeline on a replay, placed in the replay's frames.
public struct ReplayDecision: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable { case granted, unknown, denied }

    public var track: Int64?
    /// The frame at which it was decided, and the first frame of its track.
    public var frame: Int
    public var trackFirstFrame: Int
    public var outcome: Outcome
    /// The person it names (granted, or denied by right or cooldown), by gallery name.
    public var person: String?

    public init(track: Int64?, frame: Int, trackFirstFrame: Int, outcome: Outcome, person: String?) {
        self.track = track
        self.frame = frame
        self.trackFirstFrame = trackFirstFrame
        self.outcome = outcome
        self.person = person
    }

    /// A decision row of the audit log, for a replay whose frame 0 was stamped `start` and
    /// whose frames follow each other at `fps`; nil for other rows.
    public init?(_ event: AuditEvent, start: Date, fps: Double) {
        guard event.kind == .decision, let date = event.date, let logged = event.decision,
              let outcome = Outcome(rawValue: logged.rawValue) else { return nil }
        let frame = Int((date.timeIntervalSince(start) * fps).rounded())
        self.init(track: event.trackID, frame: frame,
                  trackFirstFrame: frame - Int(((event.latencyMs ?? 0) / 1000 * fps).rounded()), outcome: outcome,
                  person: event.personName)
    }
}

/// How the decisions on one replay compare with its truth.
public struct VisitScore: Sendable, Hashable, Codable {
    public var scenario: String
    public var visits = 0
    public var enrolledVisits = 0
    /// Enrolled visits granted as themselves.
    public var grantedCorrectly = 0
    /// Grants of the wrong person, of a person who is not enrolled, or of nobody in view.
    public var falseGrants = 0
    /// Enrolled visits that got an unknown or denied decision (perhaps besides a grant).
    public var enrolledUnknownOrDenied = 0
    /// Enrolled visits never granted as themselves.
    public var enrolledMissed = 0
    /// Visits without any decision.
    public var undecided = 0
    /// Visits with more than one decision: one walk-up split into several tracks.
    public var fragmented = 0
    /// Decisions naming someone who was not in view then, or naming another person than the visit's.
    public var identitySwitches = 0
    /// Decisions that belong to no visit.
    public var stray = 0
    public var decisions = 0
    /// Decisions per visit, by person, in visit order.
    public var eventsPerVisit = [Int]()
    /// Seconds from the face's first frame to the visit's first decision, and to its grant.
    public var decisionLatencies = [Double]()
    public var grantLatencies = [Double]()

    public init(scenario: String) { self.scenario = scenario }

    /// Each decision goes to a visit seen during its track's span; a decision taken as a track
    /// ends may come up to two seconds after the face was last seen.
    public init(truth: ReplayTruth, decisions: [ReplayDecision]) {
        self.init(scenario: truth.scenario)
        visits = truth.visits.count
        enrolledVisits = truth.visits.filter(\.enrolled).count
        self.decisions = decisions.count
        let slack = Int((2 * truth.fps).rounded())
        var byVisit = [[ReplayDecision]](repeating: [], count: truth.visits.count)
        var wrong = Set<Int>()
        for (n, d) in decisions.enumerated() {
            let span = d.trackFirstFrame ... max(d.trackFirstFrame, d.frame)
            let candidates = truth.visits.indices.compactMap { i -> (Int, Int, Bool)? in
                let v = truth.visits[i]
                guard v.firstFrame <= span.upperBound, v.lastFrame + slack >= span.lowerBound else { return nil }
                return (i, v.faces.filter { span.contains($0.frame) }.count, v.person == d.person)
            }
            // The log keeps no face box: of two people in view at once, the one the decision names
            // wins, else the one with fewer decisions so far among those seen in at least half as
            // many frames of the track as the most seen.
            let most = candidates.map(\.1).max() ?? 0
            let best = candidates.first { $0.2 && $0.1 > 0 }
                ?? candidates.filter { $0.1 * 2 >= most }.min { (byVisit[$0.0].count, -$0.1) < (byVisit[$1.0].count, -$1.1) }
            // Named someone not in view in the second before the decision.
            let window = max(0, d.frame - Int(truth.fps.rounded())) ... d.frame
            let namedAbsent = d.person.map { name in
                !truth.visits.contains { v in v.person == name && v.faces.contains { window.contains($0.frame) } }
            } ?? false
            guard let (index, _, _) = best else {
                stray += 1
                if d.outcome == .granted { falseGrants += 1 }
                if namedAbsent { identitySwitches += 1 }
                continue
            }
            let visit = truth.visits[index]
            byVisit[index].append(d)
            if namedAbsent || (d.person != nil && d.person != visit.person) { identitySwitches += 1 }
            // A grant naming someone who has left opens the door for whoever stands there now.
            if d.outcome == .granted && (namedAbsent || !visit.enrolled || d.person != visit.person) {
                falseGrants += 1
                wrong.insert(n)
            }
        }
        let rightGrants = Set(decisions.indices.filter { decisions[$0].outcome == .granted && !wrong.contains($0) }.map { decisions[$0] })
        for (visit, ds) in zip(truth.visits, byVisit) {
            eventsPerVisit.append(ds.count)
            if ds.isEmpty { undecided += 1 }
            if ds.count > 1 { fragmented += 1 }
            if let first = ds.map(\.frame).min() { decisionLatencies.append(Double(first - visit.firstFrame) / truth.fps) }
            guard visit.enrolled else { continue }
            let grants = ds.filter { rightGrants.contains($0) && $0.person == visit.person }
            if let first = grants.map(\.frame).min() {
                grantedCorrectly += 1
                grantLatencies.append(Double(first - visit.firstFrame) / truth.fps)
            } else {
                enrolledMissed += 1
            }
            if ds.contains(where: { $0.outcome != .granted }) { enrolledUnknownOrDenied += 1 }
        }
    }

    /// Scores of several replays as one.
    public static func total(_ scores: [VisitScore]) -> VisitScore {
        var t = VisitScore(scenario: "total")
        for s in scores {
            t.visits += s.visits; t.enrolledVisits += s.enrolledVisits; t.grantedCorrectly += s.grantedCorrectly
            t.falseGrants += s.falseGrants; t.enrolledUnknownOrDenied += s.enrolledUnknownOrDenied
            t.enrolledMissed += s.enrolledMissed; t.undecided += s.undecided; t.fragmented += s.fragmented
            t.identitySwitches += s.identitySwitches; t.stray += s.stray; t.decisions += s.decisions
            t.eventsPerVisit += s.eventsPerVisit; t.decisionLatencies += s.decisionLatencies; t.grantLatencies += s.grantLatencies
        }
        return t
    }

    /// The value below which `p` of the sorted values lie (nearest rank); nil when empty.
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
    }
}
