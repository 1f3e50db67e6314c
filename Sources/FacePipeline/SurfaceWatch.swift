import FaceAccess
import FaceVision
import Foundation

/// Each followed face's recent patches, and how its surface moved since the newest one at least
/// `step` older: the liveness evidence's raw measurements, per track.
struct SurfaceWatch {
    /// Frames this far apart (3 frames at 25-30 fps) show parallax well above the noise of
    /// following points, and are close enough for a turning head to be followed.
    static let step: TimeInterval = 0.1
    /// Patches older than this are no use: the face changed too much since.
    static let oldest: TimeInterval = 0.4
    private var patches = [Int64: [(time: Date, patch: FacePatch)]]()

    /// Keeps `patch` for track `id` and measures against an older one of the same track, if any.
    mutating func observe(_ id: Int64, _ patch: FacePatch, at time: Date) -> SurfaceMotion? {
        observe([(id, patch)], wanted: [id], at: time, rule: .standard)[id]
    }

    /// Keeps the patches of one frame's faces and measures those of `wanted` tracks against an
    /// older patch of their own. A wanted face that moved (`rule.movedEnough`) without carrying
    /// its surround is compared with each other face in view, measured from the same earlier
    /// frame (`SurfaceMotion.companions`): a face of a printed group photo near the paper's edge
    /// has the wall around it, but it moves with the photo's other faces. Companions are recorded
    /// under `rule`'s `movedEnough` and `carriedSurround`: steps judged under other values may
    /// lack some.
    mutating func observe(_ faces: [(id: Int64, patch: FacePatch)], wanted: Set<Int64>, at time: Date,
                          rule: LivenessRule) -> [Int64: SurfaceMotion] {
        var earlier = [Int64: [(time: Date, patch: FacePatch)]](), current = [Int64: FacePatch]()
        for (id, patch) in faces where current[id] == nil {
            let kept = (patches[id] ?? []).filter { time.timeIntervalSince($0.time) <= Self.oldest && $0.time < time }
            earlier[id] = kept
            current[id] = patch
            patches[id] = kept + [(time, patch)]
        }
        // Each face's measurement from a given earlier frame, made once.
        var made = [Int64: [Date: (motion: SurfaceMotion, trace: SurfaceTrace)?]]()
        func measured(_ id: Int64, since: Date) -> (motion: SurfaceMotion, trace: SurfaceTrace)? {
            if let known = made[id]?[since] { return known }
            let older = earlier[id]?.last { $0.time == since }
            let result = older.flatMap { older in current[id].flatMap { SurfaceMotion.traced(from: older.patch, to: $0) } }
            made[id, default: [:]][since] = .some(result)
            return result
        }
        // In the frame's order, so that companions come in the same order on every run.
        var order = [Int64](), seen = Set<Int64>()
        for (id, _) in faces where seen.insert(id).inserted { order.append(id) }
        var motions = [Int64: SurfaceMotion]()
        for id in order where wanted.contains(id) {
            guard let since = earlier[id]?.last(where: { time.timeIntervalSince($0.time) >= Self.step })?.time,
                  let mine = measured(id, since: since) else { continue }
            var motion = mine.motion
            let carriedItself = (mine.motion.rigidSurround ?? 0) > rule.carriedSurround
            if mine.motion.motion >= rule.movedEnough && !carriedItself {
                for other in order where other != id {
                    guard let theirs = measured(other, since: since) else { continue }
                    let misfit = mine.trace.misfit(under: theirs.trace)
                    guard misfit.isFinite else { continue }
                    motion.companions.append(.init(surround: theirs.motion.rigidSurround, motion: theirs.motion.motion, misfit: misfit))
                }
            }
            motions[id] = motion
        }
        return motions
    }

    mutating func ended(_ id: Int64) { patches[id] = nil }

    mutating func removeAll() { patches.removeAll() }
}
