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
}

/// Gives each face a track id by overlap (IoU) with the faces of the previous frames.
/// A track ends after `maxMissed` consecutive frames without its face.
public struct FaceTracker: Sendable {
    public var iouThreshold: Double
    public var maxMissed: Int
    public private(set) var tracks: [Track] = []
    private var nextID: Int64

    public init(iouThreshold: Double = 0.3, maxMissed: Int = 5, firstID: Int64 = 1) {
        self.iouThreshold = iouThreshold
        self.maxMissed = maxMissed
        nextID = firstID
    }

    public static func iou(_ a: PixelRect, _ b: PixelRect) -> Double {
        guard let overlap = a.intersection(b) else { return 0 }
        let union = a.area + b.area - overlap.area
        return union > 0 ? Double(overlap.area) / Double(union) : 0
    }

    /// Assigns a track id to each box of a new frame (same order) and returns the tracks that ended.
    public mutating func update(_ boxes: [PixelRect], at time: Date) -> (ids: [Int64], ended: [Track]) {
        var pairs = [(iou: Double, track: Int, box: Int)]()
        for (t, track) in tracks.enumerated() {
            for (b, box) in boxes.enumerated() {
                let overlap = Self.iou(track.box, box)
                if overlap >= iouThreshold { pairs.append((overlap, t, b)) }
            }
        }
        pairs.sort { $0.iou > $1.iou }
        var trackTaken = Set<Int>(), ids = [Int64?](repeating: nil, count: boxes.count)
        for p in pairs where !trackTaken.contains(p.track) && ids[p.box] == nil {
            trackTaken.insert(p.track)
            ids[p.box] = tracks[p.track].id
            tracks[p.track].box = boxes[p.box]
            tracks[p.track].lastSeen = time
            tracks[p.track].hits += 1
            tracks[p.track].missed = 0
        }
        for t in tracks.indices where !trackTaken.contains(t) { tracks[t].missed += 1 }
        let ended = tracks.filter { $0.missed > maxMissed }
        tracks.removeAll { $0.missed > maxMissed }
        for b in boxes.indices where ids[b] == nil {
            let track = Track(id: nextID, box: boxes[b], firstSeen: time, lastSeen: time, hits: 1, missed: 0)
            nextID += 1
            tracks.append(track)
            ids[b] = track.id
        }
        return (ids.map { $0! }, ended)
    }

    /// Ends every track (end of stream).
    public mutating func finish() -> [Track] {
        defer { tracks.removeAll() }
        return tracks
    }
}
