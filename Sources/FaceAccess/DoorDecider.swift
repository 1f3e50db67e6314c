import FaceStore
import FaceVision
import Foundation

/// A face of one frame as the decider takes it: where it is, who it looks like, how usable it is.
/// Without an embedding (its track needed none at this frame) it is followed but is no evidence.
public struct LiveFace: Sendable {
    public var box: PixelRect
    public var embedding: [Float]?
    /// Laplacian variance of the aligned chip (`FaceQuality.sharpness`); nil when not measured.
    public var sharpness: Double?
    /// Head turn in degrees (`FacePose.yaw`); nil when not measured.
    public var yaw: Double?
    /// The face's width in the camera's pixels (the box may be in those of a picture decoded smaller).
    public var width: Int

    public init(box: PixelRect, embedding: [Float]?, sharpness: Double? = nil, yaw: Double? = nil, width: Int? = nil) {
        self.box = box
        self.embedding = embedding
        self.sharpness = sharpness
        self.yaw = yaw
        self.width = width ?? box.width
    }
}

/// What a live frame's face must be to count as identification evidence. Such frames are seen
/// and tracked but never let anyone in. Measured on the walk-up clip: below 56 px or a sharpness
/// of 8, half a person's frames lie beyond 0.50 of their own best frame (70-93 % within above),
/// and the one impostor pair that quality explains was two such frames. Yaw up to 45° did not drift.
public struct EvidenceQuality: Sendable, Hashable {
    /// Face width in the frame's pixels.
    public var minFace: Int
    public var minSharpness: Double
    /// Largest head turn either way, in degrees.
    public var maxYaw: Double

    public init(minFace: Int = 60, minSharpness: Double = 8, maxYaw: Double = 45) {
        self.minFace = minFace
        self.minSharpness = minSharpness
        self.maxYaw = maxYaw
    }

    /// No limit at all: every frame counts.
    public static let none = EvidenceQuality(minFace: 0, minSharpness: 0, maxYaw: 90)

    public func issues(width: Int, sharpness: Double?, yaw: Double?) -> [FrameIssue] {
        var issues = [FrameIssue]()
        // Written so that a value that is not a number fails: a door fails closed.
        if width < minFace { issues.append(.small) }
        if let sharpness, !(sharpness >= minSharpness) { issues.append(.blurred) }
        if let yaw, !(abs(yaw) <= maxYaw) { issues.append(.turned) }
        return issues
    }
}

/// One frame of a track as it was weighed.
public struct WeighedFrame: Sendable, Hashable {
    public var time: Date
    public var width: Int
    public var sharpness: Double?
    public var yaw: Double?
    /// Empty: the frame counts as evidence.
    public var issues: [FrameIssue]
    public var observation: Observation

    public var counts: Bool { issues.isEmpty }
}

/// A decision the decider reached for one track, with everything the log and `why` need.
public struct TrackOutcome: Sendable {
    public var trackID: Int64
    public var firstSeen: Date
    public var time: Date
    public var decision: Decision
    public var summary: EvidenceSummary
    /// The track's latest frame's match (closest person and runner-up).
    public var lastMatch: MatchResult?
    /// The match of the average of the track's best frames' embeddings.
    public var average: MatchResult?
    /// How many frames that average was taken over.
    public var averageOf: Int
    /// The frames the decision looked at, oldest first, counted or not.
    public var frames: [WeighedFrame]
    /// The refusal this grant follows on the same track, when there was one.
    public var earlier: (decision: Decision, time: Date)?
    /// Decided as the track ended (out of sight, or the stream ended).
    public var atEnd: Bool
    /// What the face's surface showed, when the decision needed a proof of a live face.
    public var liveness: LivenessFinding?
}

/// The evidence and decision stage, pure: faces of each frame in, decisions out. It follows each
/// face with `FaceTracker` and, per track:
/// - keeps the frames that pass `EvidenceQuality` as evidence (the others are kept only to be shown);
/// - grants as soon as K of the last M counted frames name one person within the level and margin,
///   and the average of the track's best counted frames names the same person within the level
///   (a few lucky frames of an impostor are not enough);
/// - when the track's patience runs out without a grant, logs it once as unknown, ambiguous or
///   denied; an unknown or ambiguous track may still be granted later, as an event of its own;
/// - at most one grant per track; when the track ends, decides it if it was never logged.
public struct DoorDecider: Sendable {
    public private(set) var policy: Policy
    public private(set) var tracker: FaceTracker
    private var matcher: Matcher
    private var rights: [Int64: AccessRights]
    private var lastGrant: [Int64: Date]
    private var tracks = [Int64: TrackEvidence]()
    /// Best frames averaged per track.
    static let averagedFrames = 5

    struct TrackEvidence: Sendable {
        let firstSeen: Date
        var frames = [WeighedFrame]()
        var best = [(score: Double, embedding: [Float])]()
        var granted = false
        var refusal: (decision: Decision, time: Date)?
        /// Frames in a row (counted or not) whose nearest enrolled face was clearly too far.
        var farFromEveryone = 0
        /// How the face's surface moved, step by step (the liveness evidence), the latest `keptSteps`.
        var surface = [SurfaceMotion]()
        /// The face those steps were measured on: an embedding of the track's, and whether that
        /// frame counted as evidence. A face farther from it than `consistent` is another face
        /// (the tracker keeps a track across 0.65): the steps start again, so that no head lends
        /// its proof to a picture that takes its place.
        var surfaceFace: (embedding: [Float], counted: Bool)?

        /// Decided for the whole visit: nothing its frames show can change that.
        var settled: Bool {
            if granted { return true }
            guard let reason = refusal?.decision.reason else { return false }
            // A face that gave no proof of life yet may still give one.
            return ![.unknown, .ambiguous, .liveness].contains(reason)
        }
    }

    public init(policy: Policy, snapshot: GallerySnapshot, lastGrant: [Int64: Date] = [:], firstTrackID: Int64 = 1) {
        self.policy = policy
        tracker = FaceTracker(rejoinWithin: policy.rejoin, firstID: firstTrackID)
        matcher = Matcher(snapshot: snapshot)
        rights = Self.rights(of: snapshot)
        self.lastGrant = lastGrant
    }

    private static func rights(of snapshot: GallerySnapshot) -> [Int64: AccessRights] {
        Dictionary(uniqueKeysWithValues: snapshot.people.map { ($0.personID, AccessRights($0)) })
    }

    /// Tracks with no decision logged yet, or logged as refused.
    public var openTracks: Int { tracks.count }

    /// A new policy between two frames: undecided tracks start their evidence afresh, so that no
    /// decision mixes frames weighed under two policies.
    public mutating func apply(_ new: Policy) {
        policy = new
        tracker.rejoinWithin = new.rejoin
        for id in tracks.keys where !tracks[id]!.granted {
            tracks[id]!.frames.removeAll()
            tracks[id]!.best.removeAll()
            tracks[id]!.farFromEveryone = 0
        }
    }

    /// A new gallery: the frames of tracks not let in yet are matched again (no decision mixes
    /// two galleries), so a person enrolled while at the door is let in from the next frame.
    public mutating func use(_ snapshot: GallerySnapshot) {
        matcher = Matcher(snapshot: snapshot)
        rights = Self.rights(of: snapshot)
        for id in tracks.keys where !tracks[id]!.granted {
            // Someone enrolled now may be who was far from everyone: embedded again from the next frame.
            tracks[id]!.farFromEveryone = 0
            for i in tracks[id]!.frames.indices {
                if let embedding = tracks[id]!.frames[i].observation.embedding { tracks[id]!.frames[i].observation = observe(embedding) }
            }
        }
    }

    public struct Step: Sendable {
        /// The track id of each face, in the order given.
        public var trackIDs: [Int64]
        /// Decisions reached at this frame: for tracks that ended first, then for faces in view.
        public var outcomes: [TrackOutcome]
        /// Tracks that ended at this frame.
        public var ended: [Int64]
    }

    /// Steps of a track's surface kept: about 10 s of a 30 fps camera.
    static let keptSteps = 300

    /// Whether any grant may need a proof of a live face: the door's mode or a person's own.
    public var needsLiveness: Bool {
        policy.liveness == .motion || rights.values.contains { $0.liveness == .motion }
    }

    /// The liveness mode that applies to `person`: the stricter of the door's and their own.
    func livenessMode(of person: Int64) -> LivenessMode { policy.liveness.stricter(rights[person]?.liveness) }

    /// One frame's faces (none for a frame without any, a dark or a bad frame: tracks age).
    /// `surface` measures how the face at an index, on the track given, moved since its track's
    /// earlier frames; it is asked, before they are weighed, for the faces of tracks whose
    /// decision may still be a grant: not settled, and not strangers (`strangerFrames` embedded
    /// frames in a row far from everyone), whose grant a proof of life could not bring about;
    /// with `measureEveryTrack`, for the faces of every track not granted (benchmarks).
    public mutating func step(_ faces: [LiveFace], at time: Date,
                              surface: ((_ track: Int64, _ face: Int) -> SurfaceMotion?)? = nil,
                              measureEveryTrack: Bool = false) -> Step {
        let surfaces = surface.map { one in
            { (wanted: [(track: Int64, face: Int)], _: [Int64]) -> [Int64: SurfaceMotion] in
                var motions = [Int64: SurfaceMotion]()
                for (track, face) in wanted { motions[track] = one(track, face) }
                return motions
            }
        }
        return step(faces, at: time, surfaces: surfaces, measureEveryTrack: measureEveryTrack)
    }

    /// As `step(_:at:surface:measureEveryTrack:)`, with the faces measured together: `surfaces`
    /// is given the tracks and face indices wanted and the track of every face in view (the
    /// faces of one frame are compared with each other, `SurfaceMotion.companions`).
    public mutating func step(_ faces: [LiveFace], at time: Date,
                              surfaces: ((_ wanted: [(track: Int64, face: Int)], _ trackIDs: [Int64]) -> [Int64: SurfaceMotion])?,
                              measureEveryTrack: Bool = false) -> Step {
        let (ids, ended) = tracker.update(faces: faces.map { TrackedFace(box: $0.box, embedding: $0.embedding) }, at: time)
        var outcomes = [TrackOutcome]()
        for track in ended { if let outcome = close(track, at: time) { outcomes.append(outcome) } }
        var wanted = [(track: Int64, face: Int)]()
        for (index, id) in ids.enumerated() {
            if tracks[id] == nil, let track = tracker.tracks.first(where: { $0.id == id }) {
                tracks[id] = TrackEvidence(firstSeen: track.firstSeen)
            }
            guard let evidence = tracks[id], !evidence.granted else { continue }
            let mayBeGranted = !evidence.settled && evidence.farFromEveryone < Self.strangerFrames
            if measureEveryTrack || mayBeGranted { wanted.append((id, index)) }
        }
        if let surfaces, !wanted.isEmpty {
            let motions = surfaces(wanted, ids)
            for (id, _) in wanted {
                guard let motion = motions[id] else { continue }
                tracks[id]!.surface.append(motion)
                if tracks[id]!.surface.count > Self.keptSteps { tracks[id]!.surface.removeFirst() }
            }
        }
        for (id, face) in zip(ids, faces) {
            guard let evidence = tracks[id], !evidence.granted else { continue }
            guard let embedding = face.embedding else {
                // A stranger, embedded less often, is still refused once the patience runs out.
                if evidence.refusal == nil, evidence.farFromEveryone >= Self.strangerFrames, let outcome = weigh(id, at: time) {
                    outcomes.append(outcome)
                }
                continue
            }
            add(face, embedding, to: id, at: time)
            if let outcome = weigh(id, at: time) { outcomes.append(outcome) }
        }
        return Step(trackIDs: ids, outcomes: outcomes, ended: ended.map(\.id))
    }

    /// How often a settled track's face is embedded all the same: what notices, within this
    /// time or this many frames (a replay read faster than real time), another person stepping
    /// into its place (their face then starts a track of its own).
    public static let settledRefresh: TimeInterval = 0.5
    public static let settledRefreshFrames = 15

    /// Where the faces of settled tracks should be at `time`: tracks granted, or denied for
    /// good (cooldown, schedule, validity, a disabled person), whose face was embedded less than
    /// `settledRefresh` (and `settledRefreshFrames`) ago. Their frames are no evidence, so a face found there needs no embedding.
    /// Tracks still weighing evidence, and those refused as unknown or ambiguous (which may yet
    /// be granted), are not among them.
    public func settledAreas(at time: Date) -> [PixelRect] {
        tracker.tracks.compactMap { track in
            guard let evidence = tracks[track.id], evidence.settled, let embedded = track.lastEmbedded,
                  time.timeIntervalSince(embedded) < Self.settledRefresh, time >= embedded,
                  track.seenWithoutEmbedding < Self.settledRefreshFrames - 1 else { return nil }
            return track.predicted(at: time)
        }
    }

    /// A stranger's face is embedded at most this often (and every this many frames, for a replay
    /// read faster than real time) once `strangerFrames` embedded frames in a row (counted as
    /// evidence or not: small, blurred, turned) put them clearly farther than the level from
    /// everyone enrolled (`strangerMargin` beyond its distance): each embedding is a chance of a
    /// better pose, but the next few say what these said. An enrolled person's first far frames
    /// delay their grant by `strangerRefresh` at most.
    public static let strangerRefresh: TimeInterval = 0.2
    public static let strangerRefreshFrames = 5
    public static let strangerFrames = 5
    public static let strangerMargin = 0.08

    /// Where the faces of strangers' tracks should be at `time`: tracks not settled (those are in
    /// `settledAreas`: a track in both would count as two faces on one spot) whose last
    /// `strangerFrames` embedded frames were clearly far from everyone, embedded less than
    /// `strangerRefresh` (and `strangerRefreshFrames`) ago. A face found there needs no embedding now.
    public func strangerAreas(at time: Date) -> [PixelRect] {
        tracker.tracks.compactMap { track in
            guard let evidence = tracks[track.id], !evidence.settled, evidence.farFromEveryone >= Self.strangerFrames,
                  let embedded = track.lastEmbedded, time.timeIntervalSince(embedded) < Self.strangerRefresh, time >= embedded,
                  track.seenWithoutEmbedding < Self.strangerRefreshFrames - 1 else { return nil }
            return track.predicted(at: time)
        }
    }

    /// End of stream: every track ends and is decided if it was never logged.
    public mutating func finish(at time: Date) -> [TrackOutcome] {
        tracker.finish().compactMap { close($0, at: time) }
    }

    private func observe(_ embedding: [Float]) -> Observation {
        let result = matcher.match(embedding)
        return Observation(result: result, verdict: policy.level.verdict(for: result), embedding: embedding)
    }

    private mutating func add(_ face: LiveFace, _ embedding: [Float], to id: Int64, at time: Date) {
        let issues = policy.quality.issues(width: face.width, sharpness: face.sharpness, yaw: face.yaw)
        let frame = WeighedFrame(time: time, width: face.width, sharpness: face.sharpness, yaw: face.yaw, issues: issues,
                                 observation: observe(embedding))
        if let known = tracks[id]!.surfaceFace, FaceTracker.distance(known.embedding, embedding) <= Self.consistent {
            // The same face: a frame that counts becomes the reference, as the clearest view of it.
            if issues.isEmpty && !known.counted { tracks[id]!.surfaceFace = (embedding, true) }
        } else {
            if tracks[id]!.surfaceFace != nil { tracks[id]!.surface.removeAll() }
            tracks[id]!.surfaceFace = (embedding, issues.isEmpty)
        }
        tracks[id]!.frames.append(frame)
        // Counted frames beyond the window no longer count; the others are kept only to be shown.
        let keep = 2 * policy.evidence.window
        if tracks[id]!.frames.count > keep { tracks[id]!.frames.removeFirst(tracks[id]!.frames.count - keep) }
        let far = frame.observation.result.best.map { Double($0.distance) > Double(policy.level.maxDistance) + Self.strangerMargin } ?? true
        tracks[id]!.farFromEveryone = far ? tracks[id]!.farFromEveryone + 1 : 0
        guard issues.isEmpty else { return }
        let score = Double(face.width) * cos(abs(face.yaw ?? 0) * .pi / 180) * min(1, (face.sharpness ?? 1) / max(1, 4 * policy.quality.minSharpness))
        tracks[id]!.best.append((score, embedding))
        tracks[id]!.best.sort { $0.score > $1.score }
        if tracks[id]!.best.count > Self.averagedFrames { tracks[id]!.best.removeLast() }
    }

    /// The average of the track's best counted frames, matched; nil before any counted frame.
    private func average(of evidence: TrackEvidence) -> MatchResult? {
        guard let first = evidence.best.first else { return nil }
        var mean = [Float](repeating: 0, count: first.embedding.count)
        for frame in evidence.best { for i in mean.indices { mean[i] += frame.embedding[i] } }
        let n = Float(evidence.best.count)
        return matcher.match(mean.map { $0 / n })
    }

    private func counted(_ evidence: TrackEvidence) -> [Observation] {
        evidence.frames.filter(\.counts).map(\.observation)
    }

    /// Frames that name one person must look like one face: no two further apart than this. A
    /// track that passed from one person to a look-alike (the tracker allows 0.65) cannot lend
    /// the first one's frames to the second.
    static let consistent: Float = 0.5

    /// Recognised by its frames, which agree with one another, and by its best frames' average,
    /// within `person`'s level under `policy`.
    private func confirmed(_ summary: EvidenceSummary, _ average: MatchResult?, _ evidence: TrackEvidence, under policy: Policy) -> Bool {
        guard case let .recognised(id) = summary.finding else { return false }
        let level = rights[id]?.level.map { policy.level.stricter($0) } ?? policy.level
        guard let average, let best = average.best, best.personID == id, level.verdict(for: average) == .match else { return false }
        let naming = counted(evidence).suffix(policy.evidence.window).filter { $0.result.best?.personID == id }.compactMap(\.embedding)
        for i in naming.indices {
            for j in naming.indices where j > i {
                guard FaceTracker.distance(naming[i], naming[j]) <= Self.consistent else { return false }
            }
        }
        return true
    }

    /// The bar a track must pass: the door's, or after a refusal the door's and strict's together.
    /// A track in view gets a chance at every frame; once refused, only clearer evidence than a
    /// first look may turn it into a grant (a look-alike staying at the door does not get in by
    /// waiting for lucky frames).
    private func bar(for evidence: TrackEvidence) -> Policy {
        guard evidence.refusal != nil else { return policy }
        var stricter = policy
        stricter.level = policy.level.stricter(.strict)
        return stricter
    }

    private mutating func weigh(_ id: Int64, at time: Date) -> TrackOutcome? {
        guard let evidence = tracks[id] else { return nil }
        // Only "nobody we know" can turn into a grant; a denial for cooldown, schedule, validity
        // or a disabled person stands for the whole visit.
        if evidence.refusal != nil, evidence.settled { return nil }
        let bar = bar(for: evidence)
        var summary = bar.summarise(counted(evidence), levelOf: { self.rights[$0]?.level })
        let average = average(of: evidence)
        if case .recognised = summary.finding, !confirmed(summary, average, evidence, under: bar) { summary.finding = .undecided }
        let patient = time.timeIntervalSince(evidence.firstSeen) < policy.patience
        if let decision = decide(summary, at: time), case .granted = decision {
            let (gated, liveness) = gate(decision, evidence)
            if case .granted = gated { return outcome(id, gated, summary, average, at: time, atEnd: false, liveness: liveness) }
            // Recognised but not shown live yet: the face has until the patience runs out to show it.
            guard evidence.refusal == nil, !patient else { return nil }
            return outcome(id, gated, summary, average, at: time, atEnd: false, liveness: liveness)
        }
        guard evidence.refusal == nil, !patient, let (decision, final) = finalDecision(evidence, average, at: time) else { return nil }
        let (gated, liveness) = gate(decision, evidence)
        return outcome(id, gated, final, average, at: time, atEnd: false, liveness: liveness)
    }

    /// A grant to someone whose grants need a proof of a live face stands only with that proof;
    /// without it, it is a denial for `liveness`. Returns what the surface showed when it was asked.
    private func gate(_ decision: Decision, _ evidence: TrackEvidence) -> (Decision, LivenessFinding?) {
        guard case let .granted(person) = decision, livenessMode(of: person) == .motion else { return (decision, nil) }
        let finding = policy.livenessRule.judge(evidence.surface)
        return (finding.live ? decision : .denied(personID: person, reason: .liveness), finding)
    }

    /// What a track's frames come to when no more are waited for: undecided evidence is unknown,
    /// or ambiguous when most counted frames were. Nil with fewer than K frames in all (a
    /// passer-by, a false detection).
    private func finalDecision(_ evidence: TrackEvidence, _ average: MatchResult?, at time: Date) -> (Decision, EvidenceSummary)? {
        guard evidence.frames.count >= policy.evidence.required else { return nil }
        let frames = counted(evidence)
        var summary = policy.summarise(frames, levelOf: { self.rights[$0]?.level })
        if case .recognised = summary.finding, !confirmed(summary, average, evidence, under: policy) { summary.finding = .undecided }
        if summary.finding == .undecided {
            let ambiguous = frames.filter { $0.verdict == .ambiguous }.count
            summary.finding = !frames.isEmpty && ambiguous * 2 > frames.count ? .ambiguous : .unknown
        }
        return decide(summary, at: time).map { ($0, summary) }
    }

    private func decide(_ summary: EvidenceSummary, at time: Date) -> Decision? {
        policy.decide(summary, rights: { self.rights[$0] }, lastGrant: { self.lastGrant[$0] }, at: time)
    }

    /// A track ended: one never logged gets its decision now; whoever its frames match, nobody is
    /// at the door any more, so it is never a grant.
    private mutating func close(_ track: Track, at time: Date) -> TrackOutcome? {
        defer { tracks[track.id] = nil }
        guard let evidence = tracks[track.id], !evidence.granted, evidence.refusal == nil else { return nil }
        let average = average(of: evidence)
        // Weighed as of the last frame the face was seen in: a cooldown or schedule that ends
        // after the person left does not change what they were.
        guard let (final, summary) = finalDecision(evidence, average, at: min(time, track.lastSeen)) else { return nil }
        var (decision, liveness) = gate(final, evidence)
        if case .granted = decision { decision = .denied(personID: nil, reason: .unknown) }
        return outcome(track.id, decision, summary, average, at: time, atEnd: true, liveness: liveness)
    }

    private mutating func outcome(_ id: Int64, _ decision: Decision, _ summary: EvidenceSummary, _ average: MatchResult?,
                                  at time: Date, atEnd: Bool, liveness: LivenessFinding? = nil) -> TrackOutcome {
        let evidence = tracks[id]!
        // The frames shown: from the oldest of the last M counted ones on, with the uncounted among them.
        let counted = evidence.frames.indices.filter { evidence.frames[$0].counts }
        let from = counted.count > policy.evidence.window ? counted[counted.count - policy.evidence.window] : 0
        let result = TrackOutcome(
            trackID: id, firstSeen: evidence.firstSeen, time: time, decision: decision, summary: summary,
            lastMatch: evidence.frames.last?.observation.result, average: average, averageOf: evidence.best.count,
            frames: Array(evidence.frames[from...]), earlier: decision.reason == nil ? evidence.refusal : nil, atEnd: atEnd,
            liveness: liveness)
        if case let .granted(person) = decision {
            tracks[id]!.granted = true
            tracks[id]!.frames.removeAll()
            tracks[id]!.best.removeAll()
            lastGrant[person] = time
        } else if !atEnd {
            tracks[id]!.refusal = (decision, time)
        }
        return result
    }
}
