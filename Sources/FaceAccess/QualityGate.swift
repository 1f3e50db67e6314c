import FaceVision
import Foundation

/// What an enrollment photo's face measured: size, where it sits, sharpness, light and pose.
public struct PhotoQuality: Sendable, Hashable, Codable {
    /// The shorter side of the face box, px.
    public var faceSize: Int
    public var box: PixelRect
    /// How many pixels of the face box lie beyond the image edge (the face is cut).
    public var outside: Int
    public var sharpness: Double
    public var brightness: Double
    public var contrast: Double
    public var yaw: Double
    public var roll: Double

    public init(face: Face, imageWidth: Int, imageHeight: Int) {
        let box = face.detection.box
        self.box = box
        faceSize = min(box.width, box.height)
        outside = max(0, -box.x, -box.y, box.maxX - imageWidth, box.maxY - imageHeight)
        let quality = face.quality, pose = face.pose
        sharpness = quality.sharpness
        brightness = quality.brightness
        contrast = quality.contrast
        yaw = pose.yaw
        roll = pose.roll
    }
}

/// The checks of the quality gate, in the order they are applied.
public enum QualityCheck: String, Sendable, CaseIterable, Codable {
    case size, edge, sharpness, brightness, contrast, yaw, roll
}

/// Why a photo failed the gate: the check, the measured value and the limit it broke.
public struct QualityFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var check: QualityCheck
    public var value: Double
    public var limit: Double
    /// The value must be at least the limit (else at most).
    public var isMinimum: Bool

    /// The limit that, relaxed, would let this face pass.
    public var relaxedBy: QualityLimit {
        switch check {
        case .size: .minFace
        case .edge: .edgeTolerance
        case .sharpness: .minSharpness
        case .brightness: isMinimum ? .minBrightness : .maxBrightness
        case .contrast: .minContrast
        case .yaw: .maxYaw
        case .roll: .maxRoll
        }
    }

    public var description: String {
        let value = check == .size || check == .edge ? String(Int(self.value)) : String(format: "%.1f", self.value)
        let limit = check == .size || check == .edge ? String(Int(self.limit)) : String(format: "%.1f", self.limit)
        let bound = isMinimum ? "below the minimum" : "above the maximum"
        switch check {
        case .size: return "face too small: \(value) px, \(bound) \(limit) px; use a closer photo"
        case .edge: return "face cut by the image edge: \(value) px of it outside, \(bound) \(limit) px; use a photo with the whole face in it"
        case .sharpness: return "blurred: sharpness \(value), \(bound) \(limit); use a sharper photo"
        case .brightness: return "\(isMinimum ? "too dark" : "too bright"): brightness \(value), \(bound) \(limit); use an evenly lit photo"
        case .contrast: return "flat: contrast \(value), \(bound) \(limit); use a photo with better light"
        case .yaw: return "face turned: yaw \(value)°, \(bound) ±\(limit)°; use a photo facing the camera"
        case .roll: return "head tilted: roll \(value)°, \(bound) ±\(limit)°; use an upright photo"
        }
    }
}

/// The limits of the quality gate, set with `facebench quality` on faces-dev (271 real photos of
/// 110 people, many small and soft). They pass 268 of them (refused: two faces turned 40° and
/// 49°, one 76 px face), and refuse all 271 darkened (x0.15) or flattened (x0.2), and 76% of
/// them blurred with a radius-4 box: the rest are large faces that stay sharp at the 150 px
/// the embedder sees.
public struct QualityLimits: Sendable, Hashable, Codable {
    public var minFace = 80
    /// How much of the face box may lie beyond the image edge, as a fraction of the face size:
    /// dlib's boxes are a few pixels loose, so a tightly cropped whole face pokes out a little.
    public var edgeTolerance = 0.05
    public var minSharpness = 8.0
    public var minBrightness = 40.0
    public var maxBrightness = 220.0
    public var minContrast = 18.0
    public var maxYaw = 35.0
    public var maxRoll = 25.0

    public init() {}

    /// Any limit by name, for readers that take them from the manifest or the command line.
    public subscript(limit: QualityLimit) -> Double {
        get {
            switch limit {
            case .minFace: Double(minFace)
            case .edgeTolerance: edgeTolerance
            case .minSharpness: minSharpness
            case .minBrightness: minBrightness
            case .maxBrightness: maxBrightness
            case .minContrast: minContrast
            case .maxYaw: maxYaw
            case .maxRoll: maxRoll
            }
        }
        set {
            switch limit {
            case .minFace: minFace = Int(newValue.rounded())
            case .edgeTolerance: edgeTolerance = newValue
            case .minSharpness: minSharpness = newValue
            case .minBrightness: minBrightness = newValue
            case .maxBrightness: maxBrightness = newValue
            case .minContrast: minContrast = newValue
            case .maxYaw: maxYaw = newValue
            case .maxRoll: maxRoll = newValue
            }
        }
    }

    /// These limits with `overrides` laid over them.
    public func with(_ overrides: [QualityLimit: Double]) -> QualityLimits {
        var limits = self
        for (limit, value) in overrides { limits[limit] = value }
        return limits
    }

    /// The first check `quality` fails, or nil.
    public func failure(of q: PhotoQuality) -> QualityFailure? {
        if q.faceSize < minFace { return QualityFailure(check: .size, value: Double(q.faceSize), limit: Double(minFace), isMinimum: true) }
        let allowed = (Double(q.faceSize) * edgeTolerance).rounded(.down)
        if Double(q.outside) > allowed {
            return QualityFailure(check: .edge, value: Double(q.outside), limit: allowed, isMinimum: false)
        }
        if q.sharpness < minSharpness { return QualityFailure(check: .sharpness, value: q.sharpness, limit: minSharpness, isMinimum: true) }
        if q.brightness < minBrightness {
            return QualityFailure(check: .brightness, value: q.brightness, limit: minBrightness, isMinimum: true)
        }
        if q.brightness > maxBrightness {
            return QualityFailure(check: .brightness, value: q.brightness, limit: maxBrightness, isMinimum: false)
        }
        if q.contrast < minContrast { return QualityFailure(check: .contrast, value: q.contrast, limit: minContrast, isMinimum: true) }
        if abs(q.yaw) > maxYaw { return QualityFailure(check: .yaw, value: q.yaw, limit: maxYaw, isMinimum: false) }
        if abs(q.roll) > maxRoll { return QualityFailure(check: .roll, value: q.roll, limit: maxRoll, isMinimum: false) }
        return nil
    }
}

/// One limit of the gate, named as the manifest names it. Each may be tightened freely and relaxed
/// down to a hard end, past which a face is no longer worth a template.
public enum QualityLimit: String, Sendable, CaseIterable, Codable {
    case minFace = "min_face"
    case edgeTolerance = "edge_tolerance"
    case minSharpness = "min_sharpness"
    case minBrightness = "min_brightness"
    case maxBrightness = "max_brightness"
    case minContrast = "min_contrast"
    case maxYaw = "max_yaw"
    case maxRoll = "max_roll"

    /// Relaxing a minimum lowers it; relaxing a maximum raises it.
    public var isMinimum: Bool { ![.edgeTolerance, .maxBrightness, .maxYaw, .maxRoll].contains(self) }

    /// The values allowed: the relaxing end is the hard limit, the other end only keeps out nonsense.
    public var allowed: ClosedRange<Double> {
        switch self {
        // HOG, upsampled twice at most, finds no face under 40 px; the embedder would blow it up 4x.
        case .minFace: 40 ... 2000
        // With over a quarter of the face outside the photo, the landmarks are guesses.
        case .edgeTolerance: 0 ... 0.25
        // Below 2 the aligned face is a smear: the fixture faces blurred with a 12 px box still score 3.6 to 4.9.
        case .minSharpness: 2 ... 10000
        case .minBrightness: 10 ... 255
        case .maxBrightness: 0 ... 245
        case .minContrast: 5 ... 128
        // Past 60° one eye is hidden and the 5-point landmarks no longer describe the face.
        case .maxYaw: 0 ... 60
        // The aligner turns the face upright, but past 60° the landmark model is off its training range.
        case .maxRoll: 0 ... 60
        }
    }

    /// The hard limit: the furthest this limit may be relaxed.
    public var hardLimit: Double { isMinimum ? allowed.lowerBound : allowed.upperBound }

    /// Why a value is refused, or nil when it may be used.
    public func problem(with value: Double) -> String? {
        guard value.isFinite else { return "\(value) is not a number" }
        if allowed.contains(value) { return nil }
        let relaxesTooFar = isMinimum ? value < allowed.lowerBound : value > allowed.upperBound
        if relaxesTooFar {
            return "\(Self.format(value)) is \(isMinimum ? "below" : "above") the hard limit of \(Self.format(hardLimit)): "
                + "a face past it is useless for recognition"
        }
        return "\(Self.format(value)) is out of range; \(Self.format(allowed.lowerBound)) to \(Self.format(allowed.upperBound)) is allowed"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
    }
}
