import FaceStore
import Foundation

// `DenialReason`, why a visitor was not let in, lives in FaceStore: it is stored in the audit log.

/// The outcome of one visit (one track).
public enum Decision: Sendable, Hashable {
    case granted(personID: Int64)
    case denied(personID: Int64?, reason: DenialReason)

    public var reason: DenialReason? {
        if case let .denied(_, reason) = self { return reason }
        return nil
    }
}

/// What a person may do, as policy sees it: the flag, the validity window and the schedules
/// of the person and of their groups. No schedule at all means "any time".
public struct AccessRights: Sendable, Hashable {
    public var enabled: Bool
    public var validFrom: Date?
    public var validUntil: Date?
    public var schedules: [Schedule]
    /// The person's own level: it can only raise the door's bar, never lower it.
    public var level: SecurityLevel?
    /// The person's own liveness mode: it can only add a proof to the door's, never waive it.
    public var liveness: LivenessMode?

    public init(enabled: Bool = true, validFrom: Date? = nil, validUntil: Date? = nil, schedules: [Schedule] = [],
                level: SecurityLevel? = nil, liveness: LivenessMode? = nil) {
        self.enabled = enabled
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.schedules = schedules
        self.level = level
        self.liveness = liveness
    }
}

/// One processed frame of a track: who it looked like, and the face's embedding, so the frame
/// can be weighed again against another gallery.
public struct Observation: Sendable, Hashable {
    public var result: MatchResult
    public var verdict: Verdict
    public var embedding: [Float]?

    public init(result: MatchResult, verdict: Verdict, embedding: [Float]? = nil) {
        self.result = result
        self.verdict = verdict
        self.embedding = embedding
    }
}

/// K of the last M processed frames must name the same person before a track is recognised.
public struct EvidenceRule: Sendable, Hashable, Codable {
    public var required: Int
    public var window: Int

    public init(required: Int = 3, window: Int = 5) {
        precondition(required >= 1 && window >= required, "need 1 ≤ K ≤ M")
        self.required = required
        self.window = window
    }

    public static let standard = EvidenceRule()
}

/// What the evidence of a track says, before access rights are applied.
public struct EvidenceSummary: Sendable, Hashable {
    public enum Finding: Sendable, Hashable { case recognised(personID: Int64), unknown, ambiguous, undecided }
    public var finding: Finding
    /// Distances of the frames that back the finding (the recognised person's frames, or all).
    public var distances: [Float]
    public var medianDistance: Float?
    public var medianMargin: Float?
    public var framesUsed: Int
}

/// Turns evidence and access rights into one decision per track.
public struct Policy: Sendable {
    public var level: SecurityLevel
    public var evidence: EvidenceRule
    /// No second grant for the same person within this many seconds.
    public var cooldown: TimeInterval
    public var timeZone: TimeZone
    /// How long a track may stay undecided: a track that has not earned a grant by then is
    /// logged as refused (it may still be granted later, as an event of its own).
    public var patience: TimeInterval
    /// How long a face out of sight keeps its track, to take it back when it returns.
    public var rejoin: TimeInterval
    /// What a live frame's face must be to count as evidence.
    public var quality: EvidenceQuality
    /// Whether a grant needs a proof of a live face, and the rule that proves it.
    public var liveness: LivenessMode
    public var livenessRule: LivenessRule

    public init(level: SecurityLevel = .standard, evidence: EvidenceRule = .standard, cooldown: TimeInterval = 10,
                timeZone: TimeZone = .current, patience: TimeInterval = 3, rejoin: TimeInterval = 2,
                quality: EvidenceQuality = EvidenceQuality(), liveness: LivenessMode = .off, livenessRule: LivenessRule = .standard) {
        self.level = level
        self.evidence = evidence
        self.cooldown = cooldown
        self.timeZone = timeZone
        self.patience = patience
        self.rejoin = rejoin
        self.quality = quality
        self.liveness = liveness
        self.livenessRule = livenessRule
    }

    /// Reads the last M observations. A person is recognised when at least K of them match that
    /// person and the median distance and margin of those frames pass the level. After M frames
    /// without that, the track is unknown, or ambiguous when ambiguous frames outnumber unknown ones.
    /// `levelOf` gives a person's own level; the stricter of it and the door's applies to them.
    public func summarise(_ observations: [Observation], levelOf: (Int64) -> SecurityLevel? = { _ in nil }) -> EvidenceSummary {
        let recent = Array(observations.suffix(evidence.window))
        var byPerson = [Int64: [Observation]]()
        for o in recent where o.verdict != .unknown {
            if let id = o.result.best?.personID { byPerson[id, default: []].append(o) }
        }
        if let (id, frames) = byPerson.max(by: { $0.value.count < $1.value.count }), frames.count >= evidence.required {
            let distances = frames.compactMap { $0.result.best?.distance }
            let margins = frames.map { $0.result.margin ?? .infinity }
            let medianDistance = median(distances), medianMargin = median(margins)
            let level = levelOf(id).map { self.level.stricter($0) } ?? self.level
            if medianDistance <= level.maxDistance {
                let finding: EvidenceSummary.Finding = medianMargin >= level.minMargin ? .recognised(personID: id) : .ambiguous
                return EvidenceSummary(finding: finding, distances: distances, medianDistance: medianDistance,
                                       medianMargin: medianMargin, framesUsed: frames.count)
            }
        }
        let distances = recent.compactMap { $0.result.best?.distance }
        let summary = { (finding: EvidenceSummary.Finding) in
            EvidenceSummary(finding: finding, distances: distances, medianDistance: distances.isEmpty ? nil : self.median(distances),
                            medianMargin: nil, framesUsed: recent.count)
        }
        guard recent.count >= evidence.window else { return summary(.undecided) }
        let ambiguous = recent.filter { $0.verdict == .ambiguous }.count
        return summary(ambiguous > recent.count - ambiguous ? .ambiguous : .unknown)
    }

    /// The decision for recognised evidence, or nil while the track is undecided.
    /// `lastGrant` is when this person was last let in, if ever.
    public func decide(_ summary: EvidenceSummary, rights: (Int64) -> AccessRights?, lastGrant: (Int64) -> Date?,
                       at now: Date) -> Decision? {
        switch summary.finding {
        case .undecided: return nil
        case .unknown: return .denied(personID: nil, reason: .unknown)
        case .ambiguous: return .denied(personID: nil, reason: .ambiguous)
        case let .recognised(id):
            guard let r = rights(id), r.enabled else { return .denied(personID: id, reason: .disabled) }
            if let from = r.validFrom, now < from { return .denied(personID: id, reason: .expired) }
            if let until = r.validUntil, now >= until { return .denied(personID: id, reason: .expired) }
            if !r.schedules.isEmpty && !r.schedules.contains(where: { $0.contains(now, in: timeZone) }) {
                return .denied(personID: id, reason: .outsideSchedule)
            }
            if let last = lastGrant(id), now.timeIntervalSince(last) < cooldown { return .denied(personID: id, reason: .cooldown) }
            return .granted(personID: id)
        }
    }

    func median(_ values: [Float]) -> Float {
        let s = values.sorted()
        if s.isEmpty { return .infinity }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

extension AccessRights {
    /// The rights a gallery entry carries. A stored schedule that no longer parses denies access
    /// rather than being skipped: an unreadable rule must not widen who gets in.
    public init(_ entry: GallerySnapshot.Entry) {
        var schedules = [Schedule]()
        var readable = true
        for spec in entry.schedules {
            if let s = try? Schedule(parsing: spec) { schedules.append(s) } else { readable = false }
        }
        // An unknown level name is read as strict: a typo must not lower the bar.
        let level = entry.securityLevel.map { SecurityLevel.named($0) ?? .strict }
        // Likewise an unknown liveness mode is read as the strictest.
        let liveness = entry.liveness.map { LivenessMode(rawValue: $0) ?? .motion }
        self.init(enabled: entry.enabled && readable, validFrom: entry.validFrom, validUntil: entry.validUntil, schedules: schedules,
                  level: level, liveness: liveness)
    }
}
