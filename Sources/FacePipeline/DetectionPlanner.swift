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

extension DetectionJob {
    /// The detector's work: pixels over the square of the narrowest face (the scale it runs at).
    var cost: Double { Double(region.area) / Double(max(1, minFace * minFace)) }

    /// A face up to this many times the narrowest is wholly inside one half of a split job.
    static let splitReach = 4
    /// ... with this many pixels to spare: the detector's box reaches a little past a face.
    static let splitMargin = 16

    /// The job as three that find the same faces, for two threads: its two halves across the
    /// longer side, overlapping so that a face up to `splitReach` times the narrowest (and a
    /// margin) lies wholly inside one of them, and the whole region searched only for faces over
    /// three quarters of that, at a ninth of the work. Nil where the halves would not be at most
    /// three quarters of the whole.
    func split() -> [DetectionJob]? {
        let overlap = minFace * Self.splitReach / 2 + Self.splitMargin
        let large = DetectionJob(region: region, minFace: minFace * Self.splitReach * 3 / 4, reason: reason, pictureFace: pictureFace)
        if region.width >= region.height {
            guard region.width >= 4 * overlap else { return nil }
            let middle = region.x + region.width / 2
            return [DetectionJob(region: PixelRect(x: region.x, y: region.y, width: middle + overlap - region.x, height: region.height),
                                 minFace: minFace, reason: reason, pictureFace: pictureFace),
                    DetectionJob(region: PixelRect(x: middle - overlap, y: region.y, width: region.maxX - (middle - overlap), height: region.height),
                                 minFace: minFace, reason: reason, pictureFace: pictureFace),
                    large]
        }
        guard region.height >= 4 * overlap else { return nil }
        let middle = region.y + region.height / 2
        return [DetectionJob(region: PixelRect(x: region.x, y: region.y, width: region.width, height: middle + overlap - region.y),
                             minFace: minFace, reason: reason, pictureFace: pictureFace),
                DetectionJob(region: PixelRect(x: region.x, y: middle - overlap, width: region.width, height: region.maxY - (middle - overlap)),
                             minFace: minFace, reason: reason, pictureFace: pictureFace),
                large]
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

    /// An unchanged picture is scanned again after this long all the same: a face the last scan
    /// missed (a borderline score) that holds perfectly still is not missed for ever.
    static let unchangedScanEvery: TimeInterval = 30

    /// A new smallest face or detector: what was searched was searched for other faces. The
    /// next frame is scanned whole.
    mutating func restart() {
        lastFullScan = nil
        searchedStill.removeAll()
        recentSearches.removeAll()
    }

    /// `motion` is nil when no thumbnail was made (every frame is then scanned whole); `step` is
    /// how many camera pixels a thumbnail pixel spans; `tracks` are where followed faces should be.
    /// `changedSinceSearch(searchedNow)`: whether the picture changed (noise and overall brightness
    /// aside) somewhere no search down to the smallest face has looked since, outside the regions
    /// this frame searches that way: if not, a full scan would find what those searches found, so
    /// the safety net waits for such a change. Asked only when the safety net is due.
    /// `movedBefore`: thumbnail pixels where frames not planned for (skipped while the detector
    /// was busy) saw motion this one does not: what was searched there counts as searched no longer.
    mutating func plan(frame: PixelRect, motion: MotionReport?, step: Double, tracks: [PixelRect], at time: Date,
                       movedBefore: [PixelRect] = [],
                       changedSinceSearch: (_ searchedNow: [PixelRect]) -> Bool = { _ in true }) -> [DetectionJob] {
        plans += 1
        let full = DetectionJob(region: frame, minFace: minFace, reason: .fullScan)
        guard let motion, !motion.isFirst, motion.movedFraction <= Self.wholeFrameMotion else {
            // The whole picture changed (or is new): nothing in it was searched since, until this scan ran.
            searchedStill.removeAll()
            plannedSearch = (time, [frame], true)
            return [full]
        }
        plannedSearch = nil
        let moved = motion.regions.compactMap { region in self.region(of: region, step: step, in: frame).map { (region, $0) } }
        // What changed since it was searched must be searched again.
        for (region, camera) in moved where region.changing > 0 { searchedStill.removeAll { $0.intersection(camera) != nil } }
        for place in movedBefore {
            guard let camera = self.region(of: MotionRegion(box: place, pixels: place.area), step: step, in: frame) else { continue }
            searchedStill.removeAll { $0.intersection(camera) != nil }
        }
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
        // Motion that one search down to the smallest face took in, with half a face around it,
        // less than `motionSearchEvery` and `motionSearchEveryFrames` frames ago (a person
        // walking, whose body moves on every frame; the motion around a small followed face; a
        // full scan took in everything) waits for that search to age: a face there is found that
        // late at most. Motion anywhere else (someone coming into view, a head rising into a part
        // of the picture not searched lately) is searched at once. A followed face's own area is searched
        // on every frame, but only for faces near its size.
        let due = fullScanDue(at: time)
        // Motion left for a later frame: searched within `motionSearchEvery`, so no reason for
        // the safety net either (nor taken into the scanned picture: not searched yet).
        var searchedSoon = [PixelRect]()
        for (region, camera) in moved {
            // Something new that holds still (a person who stopped, a ghost fading from the
            // background) inside a region searched since: the detector would find what it found.
            if region.changing == 0, searchedStill.contains(where: { $0.intersection(camera) == camera }) { continue }
            if searchedLately(core(of: region, step: step), at: time, in: frame) {
                searchedSoon.append(camera)
                continue
            }
            jobs.append(DetectionJob(region: camera, minFace: minFace, reason: .motion))
        }
        jobs = Self.merged(jobs, within: minFace / 2)
        // The parts cost more than the whole: scan the whole.
        if jobs.reduce(0, { $0 + $1.cost }) >= full.cost {
            plannedSearch = (time, [frame], true)
            return [full]
        }
        if due {
            // A face walking in moves, and is searched where it moved; the safety net is for a
            // change no such search covers (or, after a long while, for an unchanged picture).
            let stale = lastFullScan.map { time.timeIntervalSince($0) >= Self.unchangedScanEvery } ?? true
            if stale || changedSinceSearch(jobs.filter { $0.minFace <= minFace }.map(\.region) + searchedSoon) {
                plannedSearch = (time, [frame], true)
                return [full]
            }
        }
        // Only what is searched down to the door's smallest face (not a followed face's area alone,
        // nor a sliver too narrow for one), once the detector ran.
        plannedSearch = (time, jobs.filter { $0.minFace <= minFace && $0.region.width >= minFace && $0.region.height >= minFace }.map(\.region), false)
        return jobs
    }

    /// What moved, in camera pixels.
    private func core(of moved: MotionRegion, step: Double) -> PixelRect {
        let b = moved.box
        return PixelRect(x: Int((Double(b.x) * step).rounded(.down)), y: Int((Double(b.y) * step).rounded(.down)),
                         width: Int((Double(b.width) * step).rounded(.up)), height: Int((Double(b.height) * step).rounded(.up)))
    }

    /// A motion region in camera pixels, reaching a face's width around what moved (a head of
    /// which only a part moved), clipped to the frame.
    private func region(of moved: MotionRegion, step: Double, in frame: PixelRect) -> PixelRect? {
        core(of: moved, step: step).insetBy(-minFace, -minFace).intersection(frame)
    }

    /// Motion that one search down to the smallest face took in, with half a face around it, less
    /// than this long ago (and fewer than `motionSearchEveryFrames` frames ago) is searched again
    /// on the first frame after that: a face that appears in it (someone smaller beside or behind a
    /// followed face, a head rising above a walker's shoulders) is found that late at most, plus
    /// one processed frame. With every frame processed that is every 7th frame at 25 or 30 fps,
    /// every 4th at 15, every 3rd at 10, every 2nd at 5; when the pipeline is slower than the
    /// camera and takes every 2nd-4th frame, up to 0.4 s. 0.26 s lies between frames at the usual rates (25
    /// fps: 0.24 and 0.28 s), so a few milliseconds of timestamp jitter do not decide. Searching
    /// such motion every 0.125 s (every 4th frame) took 1.25x the CPU on the walk-up clip, and a
    /// paced run processed a third to a half fewer frames.
    static let motionSearchEvery: TimeInterval = 0.26
    /// ... and at most this many frames later, whatever their times say: a source that sends
    /// frames faster than a camera (a replay read as fast as it goes) would otherwise leave a
    /// short visit unsearched.
    static let motionSearchEveryFrames = 7
    /// The regions searched down to the smallest face lately, camera pixels, with when (seconds
    /// since the reference date) and at which plan.
    private var recentSearches = [(region: PixelRect, at: Double, plan: Int)]()
    /// Plans made so far.
    private var plans = 0
    /// The regions the jobs last planned search down to the smallest face, and when.
    private var plannedSearch: (time: Date, regions: [PixelRect], whole: Bool)?

    /// Whether one search down to the smallest face, less than `motionSearchEvery` before `time`
    /// (not after it: a clock stepped back) and fewer than `motionSearchEveryFrames` plans ago,
    /// took in `box` (camera pixels) with half a face around it: a face there was wholly inside
    /// that search, not cut by its edge.
    private func searchedLately(_ box: PixelRect, at time: Date, in frame: PixelRect) -> Bool {
        let now = time.timeIntervalSinceReferenceDate
        guard let wanted = box.insetBy(-minFace / 2, -minFace / 2).intersection(frame) else { return false }
        return recentSearches.contains {
            now - $0.at < Self.motionSearchEvery && $0.at <= now && plans - $0.plan < Self.motionSearchEveryFrames
                && $0.region.intersection(wanted) == wanted
        }
    }

    /// Regions searched since their pixels last changed, in camera pixels, newest last.
    private(set) var searchedStill = [PixelRect]()
    static let keptSearched = 16

    /// The gate starts afresh (the light came back): nothing counts as searched.
    mutating func forgetSearched() {
        searchedStill.removeAll()
        recentSearches.removeAll()
    }

    /// A full scan planned for `time` ran: the safety net's clock starts again.
    mutating func scanned(at time: Date) { lastFullScan = time }

    /// The jobs last planned ran: those that searched down to the smallest face count as recent
    /// searches, and as searched since their pixels last changed. A frame that failed before it
    /// was searched counts for neither.
    mutating func searched() {
        defer { plannedSearch = nil }
        guard let (time, regions, whole) = plannedSearch else { return }
        if whole {
            searchedStill = regions
        } else {
            searchedStill += regions
            if searchedStill.count > Self.keptSearched { searchedStill.removeFirst(searchedStill.count - Self.keptSearched) }
        }
        let now = time.timeIntervalSinceReferenceDate
        recentSearches.removeAll { now - $0.at >= Self.motionSearchEvery || $0.at > now || plans - $0.plan >= Self.motionSearchEveryFrames }
        recentSearches += regions.map { ($0, now, plans) }
    }

    /// Regions that overlap or lie within `within` pixels of each other joined into one (the union
    /// box, the smaller of their narrowest faces), until none do, where the union costs the
    /// detector no more than the two apart: no face is searched for twice, and none is cut in two
    /// at the seam. Regions whose union would cost more (side by side with a gap, corner to corner,
    /// a large face's area beside a small face's, the union then searched down to the small face
    /// all over) are searched apart: on the walk-up clip such unions took 35 of its 40 s. A still
    /// face nobody follows, caught across such a seam, is the safety net's: the part between the
    /// regions was searched by neither.
    static func merged(_ jobs: [DetectionJob], within: Int = 0) -> [DetectionJob] {
        func cost(_ region: PixelRect, _ minFace: Int) -> Double { DetectionJob(region: region, minFace: minFace, reason: .motion).cost }
        func joinable(_ a: DetectionJob, _ b: DetectionJob) -> Bool {
            a.region.insetBy(-within, -within).intersection(b.region) != nil
                && cost(a.region.union(b.region), min(a.minFace, b.minFace)) <= cost(a.region, a.minFace) + cost(b.region, b.minFace)
        }
        var jobs = jobs
        var joined = true
        while joined {
            joined = false
            outer: for i in jobs.indices {
                for j in jobs.indices where j > i && joinable(jobs[i], jobs[j]) {
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
