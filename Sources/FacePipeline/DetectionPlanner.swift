import FaceVision
import Foundation

/// One place to run the face detector in a frame: a region of the camera's picture, and the
/// narrowest face to find there, both in camera pixels.
struct DetectionJob: Equatable, Sendable {
    enum Reason: String, Sendable { case fullScan = "full", track, motion }
    var region: PixelRect
    var minFace: Int
    var reason: Reason
    /// The narrowest face the decoded picture must show at the detector's window size (or more):
    /// for a followed face, less than the detector needs, so that it is described from enough pixels.
    var pictureFace: Int

    init(region: PixelRect, minFace: Int, reason: Reason, pictureFace: Int? = nil) {
        self.region = region
        self.minFace = minFace
        self.reason = reason
        self.pictureFace = min(minFace, pictureFace ?? minFace)
    }
}

/// Decides where the detector runs, from what the cheap look saw: nowhere when nothing moved and
/// no face is followed; around each followed face, at the scale its size needs; in the regions
/// that moved, down to the smallest wanted face; the whole frame when most of it changed (a cut,
/// the light), at the first frame, and at least every `fullScanEvery` seconds as a safety net, so
/// that a face that appears without motion the gate sees is found within that time. Pure.
struct DetectionPlanner: Sendable {
    var minFace: Int
    var fullScanEvery: TimeInterval
    /// A followed face is searched for down to this share of its width: in the two or three frames
    /// the tracker's estimate may be old, nobody walks away that fast.
    static let trackShrink = 0.7
    /// The picture is decoded so that a followed face this share of its width would fill the
    /// detector's window: it is described from at least twice the window's pixels.
    static let describeShrink = 0.5
    /// Most of the frame moved: scanning it whole costs no more than its parts.
    static let wholeFrameMotion = 0.5
    private(set) var lastFullScan: Date?

    init(minFace: Int, fullScanEvery: TimeInterval = 2) {
        self.minFace = minFace
        self.fullScanEvery = fullScanEvery
    }

    /// The safety net's full scan is due at `time` (first frame, clock stepped back, or its interval passed).
    func fullScanDue(at time: Date) -> Bool {
        lastFullScan.map { time.timeIntervalSince($0) >= fullScanEvery || time < $0 } ?? true
    }

    /// `motion` is nil when no thumbnail was made (every frame is then scanned whole); `step` is
    /// how many camera pixels a thumbnail pixel spans; `tracks` are where followed faces should be.
    /// `changedSinceScan`: false when the picture is the one the last full scan saw (noise and
    /// overall brightness aside): scanning it again would find what that scan found, so the safety
    /// net waits for a change.
    mutating func plan(frame: PixelRect, motion: MotionReport?, step: Double, tracks: [PixelRect], at time: Date,
                       changedSinceScan: Bool = true) -> [DetectionJob] {
        let full = DetectionJob(region: frame, minFace: minFace, reason: .fullScan)
        let due = lastFullScan == nil || (fullScanDue(at: time) && changedSinceScan)
        guard let motion, !motion.isFirst, !due, motion.movedFraction <= Self.wholeFrameMotion else { return [full] }
        var jobs = [DetectionJob]()
        for box in tracks {
            let side = max(box.width, box.height)
            // Room to move for a few frames, and to grow as the person comes closer.
            let grown = box.insetBy(-side / 2, -side / 2)
            guard let region = grown.intersection(frame) else { continue }
            let narrowest = max(minFace, Int((Double(box.width) * Self.trackShrink).rounded()))
            let described = max(minFace, Int((Double(box.width) * Self.describeShrink).rounded()))
            jobs.append(DetectionJob(region: region, minFace: narrowest, reason: .track, pictureFace: described))
        }
        for moved in motion.regions {
            let b = moved.box
            let camera = PixelRect(x: Int((Double(b.x) * step).rounded(.down)), y: Int((Double(b.y) * step).rounded(.down)),
                                   width: Int((Double(b.width) * step).rounded(.up)), height: Int((Double(b.height) * step).rounded(.up)))
            // A head of which only a part moved: the region reaches a face's width around it.
            guard let region = camera.insetBy(-minFace, -minFace).intersection(frame) else { continue }
            jobs.append(DetectionJob(region: region, minFace: minFace, reason: .motion))
        }
        jobs = Self.merged(jobs, within: minFace / 2)
        // The parts cost more than the whole: scan the whole.
        let cost = jobs.reduce(0.0) { $0 + Double($1.region.area) / Double($1.minFace * $1.minFace) }
        if cost >= Double(frame.area) / Double(minFace * minFace) { return [full] }
        return jobs
    }

    /// A full scan planned for `time` ran: the safety net's clock starts again.
    mutating func scanned(at time: Date) { lastFullScan = time }

    /// Regions that overlap or lie within `within` pixels of each other joined into one (the union
    /// box, the smaller of their narrowest faces), until none do: no face is searched for twice,
    /// and none is cut in two at the seam of two regions.
    static func merged(_ jobs: [DetectionJob], within: Int = 0) -> [DetectionJob] {
        var jobs = jobs
        var joined = true
        while joined {
            joined = false
            outer: for i in jobs.indices {
                for j in jobs.indices where j > i && jobs[i].region.insetBy(-within, -within).intersection(jobs[j].region) != nil {
                    let a = jobs[i], b = jobs[j]
                    jobs[i] = DetectionJob(region: a.region.union(b.region), minFace: min(a.minFace, b.minFace),
                                           reason: a.reason == b.reason ? a.reason : .track, pictureFace: min(a.pictureFace, b.pictureFace))
                    jobs.remove(at: j)
                    joined = true
                    break outer
                }
            }
        }
        return jobs
    }
}
