import FaceStore
import FaceVision
import Foundation

/// Whether a grant needs a proof that the face is a live head rather than a picture.
public enum LivenessMode: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// No proof asked: a photo of a member held to the camera opens the door.
    case off
    /// The face's surface must move off a plane as a head does (`SurfaceMotion`), and what is
    /// around it must not move with it as a picture's margin does.
    case motion

    public var description: String { rawValue }

    /// The stricter of the two: a person's own mode can only add a proof, never waive the door's.
    public func stricter(_ other: LivenessMode?) -> LivenessMode {
        self == .motion || other == .motion ? .motion : .off
    }
}

/// When the steps of a track's surface prove a live head. A track is judged on the steps in
/// which its face moved at least `movedEnough` of its width (a picture held still shows no
/// parallax, nor does a head held still): with `fewestSteps` of them, it is live when the median
/// residual off the face's plane is at least `minResidual` and the median share of the points
/// around the face that moved with that plane is at most `maxSurround`. Where what is around the
/// face could not be followed in half of those steps (a plain wall, or a picture cut close), the
/// surface alone must leave its plane by `bareResidual`, more than any picture measured did.
/// And at most `carriedShare` of those steps (none of fewer than 10) may have carried their
/// surround: more than `carriedSurround` of it moved with the face's plane, as a picture's
/// margin does; around a head it is the wall, with some hair and ears (a picture's surround
/// swings from step to step when it is small or plain, and a run of low ones would otherwise pass).
/// A step also counts as carried when the face moved with another face in view that carried its
/// own (`pictureMisfit`): the second face of a printed group photo, near the paper's edge, has
/// the wall around it.
///
/// Chosen on `facebench liveness` (see the README's figures): the surround separates the
/// generated prints and screens from the real faces of the walk-up clip on its own; the
/// residual is the weaker signal on small, compressed faces, and its limit is set low enough to
/// pass every real track, to stop the flattest pictures (a face cut out of a print, whose
/// surround is the real background).
public struct LivenessRule: Sendable, Hashable {
    public var movedEnough: Double
    public var fewestSteps: Int
    public var minResidual: Double
    public var maxSurround: Double
    public var bareResidual: Double
    public var carriedSurround: Double
    public var carriedShare: Double
    /// A step also carried its surround when another face measured over the same two frames
    /// moved (`movedEnough`) and carried its own, and this face's points went where that face's
    /// motion puts them, within this share of the face's width and half its own motion: the two
    /// are parts of one picture.
    public var pictureMisfit: Double

    public init(movedEnough: Double = 0.02, fewestSteps: Int = 8, minResidual: Double = 0.006, maxSurround: Double = 0.4,
                bareResidual: Double = 0.010, carriedSurround: Double = 0.8, carriedShare: Double = 0.1, pictureMisfit: Double = 0.03) {
        self.movedEnough = movedEnough
        self.fewestSteps = fewestSteps
        self.minResidual = minResidual
        self.maxSurround = maxSurround
        self.bareResidual = bareResidual
        self.carriedSurround = carriedSurround
        self.carriedShare = carriedShare
        self.pictureMisfit = pictureMisfit
    }

    /// Whether `step` moved as a picture does: more of its surround than `carriedSurround` moved
    /// with the face's plane, or it moved with another face that moved and did. A face held
    /// still (a poster, someone waiting) is no companion: any face barely moving fits it.
    public func carried(_ step: SurfaceMotion) -> Bool {
        if let surround = step.rigidSurround, surround > carriedSurround { return true }
        return step.companions.contains {
            ($0.surround ?? 0) > carriedSurround && $0.motion >= movedEnough && $0.misfit <= pictureMisfit && $0.misfit <= step.motion / 2
        }
    }

    /// How many of `moved` steps may carry their surround.
    public func carriedAllowed(moved: Int) -> Int {
        let allowed = carriedShare * Double(moved)
        // Not a number allows none; a share of more than all allows all.
        guard allowed.isFinite else { return allowed > 0 ? moved : 0 }
        return Int(min(Double(moved), max(0, allowed)).rounded(.down))
    }

    public static let standard = LivenessRule()

    /// What `steps` (a track's, oldest first) come to under this rule.
    public func judge(_ steps: [SurfaceMotion]) -> LivenessFinding {
        // A step with a figure that is not a finite number was not measured: it proves nothing.
        let moving = steps.filter {
            $0.motion.isFinite && $0.residual.isFinite && $0.motion >= movedEnough && ($0.rigidSurround?.isFinite ?? true)
        }
        let residuals: [Double] = moving.map(\.residual).sorted()
        let surrounds: [Double] = moving.compactMap(\.rigidSurround).sorted()
        let residual: Double? = residuals.isEmpty ? nil : residuals[residuals.count / 2]
        // The surround counts where it was measured in at least half the steps; else the surface alone must show more.
        let surround: Double? = surrounds.isEmpty || 2 * surrounds.count < moving.count ? nil : surrounds[surrounds.count / 2]
        let needed = surround == nil ? bareResidual : minResidual
        let carried = moving.filter { self.carried($0) }.count
        var live = moving.count >= fewestSteps && carried <= carriedAllowed(moved: moving.count)
        if let residual { live = live && residual >= needed } else { live = false }
        if let surround { live = live && surround <= maxSurround }
        return LivenessFinding(steps: steps.count, moved: moving.count, residual: residual, surround: surround, carried: carried, live: live,
                               rule: self)
    }
}

/// What a track's surface showed, against the rule it was judged by.
public struct LivenessFinding: Sendable, Hashable {
    /// Steps measured, and those in which the face moved enough to count.
    public var steps: Int
    public var moved: Int
    /// Median residual and surround share over the steps that moved; nil when none measured it.
    public var residual: Double?
    public var surround: Double?
    /// Steps that moved in which the face moved as a picture does (`LivenessRule.carried`).
    public var carried: Int
    public var live: Bool
    public var rule: LivenessRule

    /// As stored with the decision (`LivenessEvidence`).
    public var evidence: LivenessEvidence {
        LivenessEvidence(live: live, steps: steps, moved: moved, fewestSteps: rule.fewestSteps, residual: residual,
                         minResidual: surround == nil ? rule.bareResidual : rule.minResidual, surround: surround, maxSurround: rule.maxSurround,
                         carried: carried, maxCarried: rule.carriedAllowed(moved: moved), carriedSurround: rule.carriedSurround)
    }
}
