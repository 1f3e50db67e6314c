import Foundation

/// A face followed across frames.
public struct Track: Sendable, Hashable {
    public let id: Int64
    public var box: PixelRect
    public let firstSeen: Date
    public var lastSeen: Date
    /// Frames in which the face was seen.
    public var hits: Int
    /// Consecutive frames in which it was not.
    public var missed: Int
    /// Motion of the box's centre, in pixels per second, smoothed over the last frames.
    public var velocity: (x: Double, y: Double) { (vx, vy) }
    var vx = 0.0, vy = 0.0
    /// The mean of the track's recent embeddings: who this track is, as far as the tracker knows.
    public private(set) var appearance: [Float]?
    var recent = [[Float]]()
    /// When the track last had a face with an embedding, and frames it was seen in since without one.
    public internal(set) var lastEmbedded: Date?
    public internal(set) var seenWithoutEmbedding = 0

    public init(id: Int64, box: PixelRect, firstSeen: Date, lastSeen: Date, hits: Int = 1, missed: Int = 0) {
        self.id = id
        self.box = box
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.hits = hits
        self.missed = missed
    }

    /// Where the box should be at `time`, moving as it moved.
    public func predicted(at time: Date) -> PixelRect {
        let dt = min(max(time.timeIntervalSince(lastSeen), 0), 1)
        return PixelRect(x: box.x + Int((vx * dt).rounded()), y: box.y + Int((vy * dt).rounded()), width: box.width, height: box.height)
    }

    mutating func see(_ face: TrackedFace, at time: Date) {
        // Frames read faster than a camera sends them (a replay fed as fast as it is taken) are
        // stamped milliseconds apart: a pixel of jitter in the box would make a velocity of
        // hundreds of pixels a second, and the next prediction would miss the face.
        let dt = max(time.timeIntervalSince(lastSeen), 1.0 / 30)
        if time > lastSeen, hits > 0 {
            let (cx, cy) = (Double(face.box.midX - box.midX) / dt, Double(face.box.midY - box.midY) / dt)
            vx = 0.5 * vx + 0.5 * cx
            vy = 0.5 * vy + 0.5 * cy
        }
        box = face.box
        lastSeen = time
        hits += 1
        missed = 0
        if let embedding = face.embedding {
            remember(embedding)
            lastEmbedded = time
            seenWithoutEmbedding = 0
        } else {
            seenWithoutEmbedding += 1
        }
    }

    mutating func remember(_ embedding: [Float]) {
        recent.append(embedding)
        if recent.count > 5 { recent.removeFirst() }
        var mean = [Float](repeating: 0, count: embedding.count)
        for e in recent where e.count == mean.count { for i in mean.indices { mean[i] += e[i] } }
        appearance = mean.map { $0 / Float(recent.count) }
    }

    public static func == (a: Track, b: Track) -> Bool { a.id == b.id && a.box == b.box && a.lastSeen == b.lastSeen && a.hits == b.hits }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

/// A face of one frame as the tracker takes it: its box and, when it was computed, its embedding.
public struct TrackedFace: Sendable {
    public var box: PixelRect
    public var embedding: [Float]?

    public init(box: PixelRect, embedding: [Float]? = nil) {
        self.box = box
        self.embedding = embedding
    }
}

/// Gives each face a track id, so that one track is one person:
/// - by position: overlap with where the track's face should be now (its last box moved by its
///   velocity), or a centre close by for its size;
/// - by appearance: a face whose embedding is far from the track's recent ones starts a new
///   track even in the same place (one person leaves, another steps in);
/// - a track not seen for `maxMissed` frames is lost, and kept for `rejoinWithin` seconds: a
///   face that looks like it (embedding) takes it back, wherever it appears, so a person hidden
///   for a moment stays one track. Only then does the track end.
public struct FaceTracker: Sendable {
    public var iouThreshold: Double
    public var maxMissed: Int
    public var rejoinWithin: TimeInterval
    /// Embedding distance above which a face is not the track's person (dlib: the same person is
    /// usually below 0.5, two people above 0.7).
    public var otherPerson: Float
    /// A lost track is taken back only by a face this close to it.
    public var samePerson: Float
    /// Tracks seen in recent frames (`missed` ≤ `maxMissed`).
    public private(set) var tracks: [Track] = []
    /// Tracks out of sight, waiting to be taken back.
    public private(set) var lost: [Track] = []
    private var nextID: Int64

    public init(iouThreshold: Double = 0.3, maxMissed: Int = 5, rejoinWithin: TimeInterval = 0, otherPerson: Float = 0.65,
                samePerson: Float = 0.5, firstID: Int64 = 1) {
        self.iouThreshold = iouThreshold
        self.maxMissed = maxMissed
        self.rejoinWithin = rejoinWithin
        self.otherPerson = otherPerson
        self.samePerson = samePerson
        nextID = firstID
    }

    /// Where faces of the tracks followed now should be at `time`: each live track's box moved by
    /// its velocity. Not the lost tracks': a face that comes back moves, and is searched for
    /// where the motion gate saw it (or by the safety net's full scan).
    public func searchAreas(at time: Date) -> [PixelRect] {
        tracks.map { $0.predicted(at: time) }
    }

    /// The live tracks' areas and the lost tracks' last boxes: every face the tracker may give a frame's face to.
    public func claimedAreas(at time: Date) -> [PixelRect] {
        searchAreas(at: time) + lost.map(\.box)
    }

    public static func iou(_ a: PixelRect, _ b: PixelRect) -> Double {
        guard let overlap = a.intersection(b) else { return 0 }
        let union = a.area + b.area - overlap.area
        return union > 0 ? Double(overlap.area) / Double(union) : 0
    }

    public static func distance(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        var sum: Float = 0
        for i in a.indices { let d = a[i] - b[i]; sum += d * d }
        return sum.squareRoot()
    }

    /// How well a face fits where a track should be: nil when it does not.
    func fit(_ track: Track, _ face: TrackedFace, at time: Date) -> Double? {
        let expected = track.predicted(at: time)
        let overlap = max(Self.iou(expected, face.box), Self.iou(track.box, face.box))
        let size = Double(max(expected.width, 1))
        let ratio = Double(face.box.width) / size
        let dx = Double(face.box.midX - expected.midX), dy = Double(face.box.midY - expected.midY)
        let near = (dx * dx + dy * dy).squareRoot() / size
        guard overlap >= iouThreshold || (near <= 1 && ratio > 0.66 && ratio < 1.5) else { return nil }
        var likeness = 0.0
        if let a = track.appearance, let e = face.embedding {
            let d = Self.distance(a, e)
            // Not "> otherPerson": a distance that is not a number is not the same person either.
            if !(d <= otherPerson) { return nil }
            // Two tracks on one spot (a new one started on a face unlike the old one's): the face
            // goes to the one it looks like, every frame, so the other is lost instead of both
            // living on, taking turns.
            likeness = 2 * Double(1 - d / otherPerson)
        }
        return overlap + max(0, 1 - near) + likeness
    }

    /// Assigns a track id to each face of a new frame (same order) and returns the tracks that ended.
    public mutating func update(faces: [TrackedFace], at time: Date) -> (ids: [Int64], ended: [Track]) {
        // Frames that stopped coming (a stalled stream, a camera away) age tracks too: one not
        // seen for a minute past its rejoin time ends whatever the frame count says. Not less:
        // a slow machine's frames may come many seconds apart (10 s each under emulation), and
        // a visitor must stay one track.
        let stale = rejoinWithin + 60
        lost += tracks.filter { time.timeIntervalSince($0.lastSeen) > stale }
        tracks.removeAll { time.timeIntervalSince($0.lastSeen) > stale }
        var pairs = [(score: Double, track: Int, face: Int)]()
        for (t, track) in tracks.enumerated() {
            for (f, face) in faces.enumerated() {
                if let score = fit(track, face, at: time) { pairs.append((score, t, f)) }
            }
        }
        pairs.sort { $0.score > $1.score }
        var trackTaken = Set<Int>(), ids = [Int64?](repeating: nil, count: faces.count)
        for p in pairs where !trackTaken.contains(p.track) && ids[p.face] == nil {
            trackTaken.insert(p.track)
            ids[p.face] = tracks[p.track].id
            tracks[p.track].see(faces[p.face], at: time)
        }
        for t in tracks.indices where !trackTaken.contains(t) { tracks[t].missed += 1 }
        lost += tracks.filter { $0.missed > maxMissed }
        tracks.removeAll { $0.missed > maxMissed }
        // Lost tracks out of sight for longer than the rejoin time end first: only the others may
        // be taken back.
        let ended = lost.filter { time.timeIntervalSince($0.lastSeen) >= rejoinWithin }
        lost.removeAll { time.timeIntervalSince($0.lastSeen) >= rejoinWithin }
        // A face no live track took may be a lost track's person coming back: the closest pairs first.
        var returns = [(distance: Float, lost: Int, face: Int)]()
        for f in faces.indices where ids[f] == nil {
            guard let embedding = faces[f].embedding else { continue }
            for l in lost.indices {
                guard let a = lost[l].appearance else { continue }
                let d = Self.distance(a, embedding)
                if d <= samePerson { returns.append((d, l, f)) }
            }
        }
        returns.sort { $0.distance < $1.distance }
        var lostTaken = Set<Int>()
        for r in returns where !lostTaken.contains(r.lost) && ids[r.face] == nil {
            lostTaken.insert(r.lost)
            var track = lost[r.lost]
            track.see(faces[r.face], at: time)
            tracks.append(track)
            ids[r.face] = track.id
        }
        lost = lost.indices.filter { !lostTaken.contains($0) }.map { lost[$0] }
        for f in faces.indices where ids[f] == nil {
            var track = Track(id: nextID, box: faces[f].box, firstSeen: time, lastSeen: time)
            if let embedding = faces[f].embedding {
                track.remember(embedding)
                track.lastEmbedded = time
            }
            nextID += 1
            tracks.append(track)
            ids[f] = track.id
        }
        return (ids.map { $0! }, ended)
    }

    /// Gives each box a track id by position only (no embeddings).
    public mutating func update(_ boxes: [PixelRect], at time: Date) -> (ids: [Int64], ended: [Track]) {
        update(faces: boxes.map { TrackedFace(box: $0) }, at: time)
    }

    /// Ends every track, seen or lost (end of stream).
    public mutating func finish() -> [Track] {
        defer { tracks.removeAll(); lost.removeAll() }
        return lost + tracks
    }
}
