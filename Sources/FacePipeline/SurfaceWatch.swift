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
        var kept = (patches[id] ?? []).filter { time.timeIntervalSince($0.time) <= Self.oldest && $0.time <= time }
        let older = kept.last { time.timeIntervalSince($0.time) >= Self.step }
        let measured = older.flatMap { SurfaceMotion.measure(from: $0.patch, to: patch) }
        kept.append((time, patch))
        patches[id] = kept
        return measured
    }

    mutating func ended(_ id: Int64) { patches[id] = nil }

    mutating func removeAll() { patches.removeAll() }
}
