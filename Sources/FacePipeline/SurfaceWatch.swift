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
        observe([(id, patch)], at: time)[id]
    }

    /// Keeps the patches of one frame's faces and measures each against an older one of its
    /// track; faces measured from the same earlier frame are compared with each other
    /// (`SurfaceMotion.companions`).
    mutating func observe(_ faces: [(id: Int64, patch: FacePatch)], at time: Date) -> [Int64: SurfaceMotion] {
        var measured = [(id: Int64, since: Date, motion: SurfaceMotion, trace: SurfaceTrace)]()
        for (id, patch) in faces {
            var kept = (patches[id] ?? []).filter { time.timeIntervalSince($0.time) <= Self.oldest && $0.time <= time }
            if let older = kept.last(where: { time.timeIntervalSince($0.time) >= Self.step }),
               let (motion, trace) = SurfaceMotion.traced(from: older.patch, to: patch) {
                measured.append((id, older.time, motion, trace))
            }
            kept.append((time, patch))
            patches[id] = kept
        }
        for i in measured.indices {
            for j in measured.indices where j > i && measured[j].since == measured[i].since {
                let (a, b) = (measured[i], measured[j])
                measured[i].motion.companions.append(.init(surround: b.motion.rigidSurround, misfit: a.trace.misfit(under: b.trace)))
                measured[j].motion.companions.append(.init(surround: a.motion.rigidSurround, misfit: b.trace.misfit(under: a.trace)))
            }
        }
        return Dictionary(measured.map { ($0.id, $0.motion) }, uniquingKeysWith: { first, _ in first })
    }

    mutating func ended(_ id: Int64) { patches[id] = nil }

    mutating func removeAll() { patches.removeAll() }
}
