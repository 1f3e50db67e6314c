import Foundation

// The words of the audit log. Their raw values are what the `decision` and `reason` columns
// hold and what the hash chain covers: never change one. Each prints as its raw value.

extension AuditEvent {
    /// What a decision row concluded (the `decision` column).
    public enum Decision: String, CustomStringConvertible, Codable, Sendable, CaseIterable {
        case granted, denied, unknown
        public var description: String { rawValue }
    }

    /// The `reason` column, in the vocabulary of the row's kind: why a visitor was refused, how a
    /// door action ended, what an administrator did, what happened to the camera. The raw values
    /// of the four vocabularies are distinct, so the text alone names the case.
    public enum Reason: CustomStringConvertible, Hashable, Sendable, Codable, RawRepresentable, CaseIterable {
        case denial(DenialReason)
        case action(ActionResult)
        case admin(AdminAction)
        case camera(CameraChange)

        public init?(rawValue: String) {
            if let r = DenialReason(rawValue: rawValue) { self = .denial(r) }
            else if let r = ActionResult(rawValue: rawValue) { self = .action(r) }
            else if let r = AdminAction(rawValue: rawValue) { self = .admin(r) }
            else if let r = CameraChange(rawValue: rawValue) { self = .camera(r) }
            else { return nil }
        }

        public var rawValue: String {
            switch self {
            case let .denial(r): r.rawValue
            case let .action(r): r.rawValue
            case let .admin(r): r.rawValue
            case let .camera(r): r.rawValue
            }
        }

        public static var allCases: [Reason] {
            DenialReason.allCases.map(Reason.denial) + ActionResult.allCases.map(Reason.action)
                + AdminAction.allCases.map(Reason.admin) + CameraChange.allCases.map(Reason.camera)
        }

        public var description: String { rawValue }
        public var denial: DenialReason? { if case let .denial(r) = self { r } else { nil } }
        public var action: ActionResult? { if case let .action(r) = self { r } else { nil } }
        public var admin: AdminAction? { if case let .admin(r) = self { r } else { nil } }
        public var camera: CameraChange? { if case let .camera(r) = self { r } else { nil } }
    }
}

/// Why a visitor was not let in.
public enum DenialReason: String, CustomStringConvertible, Sendable, Hashable, Codable, CaseIterable {
    case unknown, ambiguous, disabled, expired, outsideSchedule = "outside_schedule", cooldown
    /// Recognised, but the face gave no proof of being a live head (`LivenessMode.motion`).
    case liveness
    public var description: String { rawValue }
}

/// How a door action ended.
public enum ActionResult: String, CustomStringConvertible, Sendable, Hashable, Codable, CaseIterable {
    case ok, failed, killed
    case timedOut = "timed_out"
    case notStarted = "not_started"
    public var description: String { rawValue }
}

/// A change of the camera's health worth a row: losses and returns of the stream or the light.
public enum CameraChange: String, CustomStringConvertible, Sendable, Hashable, Codable, CaseIterable {
    case lost = "camera_lost", restored = "camera_restored", dark = "camera_dark", light = "camera_light"
    public var description: String { rawValue }
}

/// One frame of a track's evidence window, as `facectl why` shows it.
public struct FrameEvidence: Codable, Sendable, Hashable {
    /// Milliseconds since the track's first frame.
    public var offsetMs: Int
    /// To the person the frame looked most like; nil when the gallery was empty or the frame was not matched.
    public var distance: Double?
    /// That person's name.
    public var person: String?
    /// The face box's width in pixels.
    public var faceWidth: Int
    public var sharpness: Double?
    /// Degrees, signed.
    public var yaw: Double?
    /// Why the frame did not count; empty when it counted.
    public var skipped: [FrameIssue]

    public init(offsetMs: Int, distance: Double? = nil, person: String? = nil, faceWidth: Int, sharpness: Double? = nil,
                yaw: Double? = nil, skipped: [FrameIssue] = []) {
        self.offsetMs = offsetMs
        self.distance = distance
        self.person = person
        self.faceWidth = faceWidth
        self.sharpness = sharpness
        self.yaw = yaw
        self.skipped = skipped
    }

    public var counted: Bool { skipped.isEmpty }

    /// The `frames` column: a JSON array with sorted keys, absent values left out, distances with
    /// 4 decimals, sharpness and yaw with 1. Written by hand so the stored text, which the hash
    /// covers, never depends on an encoder's choices.
    public static func json(_ frames: [FrameEvidence]) -> String {
        "[" + frames.map(\.json).joined(separator: ",") + "]"
    }

    /// Reads the `frames` column; nil when the text is not such an array.
    public static func parse(_ text: String) -> [FrameEvidence]? {
        try? JSONDecoder().decode([FrameEvidence].self, from: Data(text.utf8))
    }

    var json: String {
        var fields = [(String, String)]()
        if let distance { fields.append(("distance", Self.number(distance, 4))) }
        fields.append(("faceWidth", String(faceWidth)))
        fields.append(("offsetMs", String(offsetMs)))
        if let person { fields.append(("person", Self.string(person))) }
        if let sharpness { fields.append(("sharpness", Self.number(sharpness, 1))) }
        fields.append(("skipped", "[" + skipped.map { Self.string($0.rawValue) }.joined(separator: ",") + "]"))
        if let yaw { fields.append(("yaw", Self.number(yaw, 1))) }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// Fixed decimals; JSON has no NaN or infinity, so those are written as null.
    static func number(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "null" }
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// What a track's surface showed against the liveness rule, as stored with the decision (the
/// `liveness` column) and shown by `facectl why`.
public struct LivenessEvidence: Codable, Sendable, Hashable {
    public var live: Bool
    /// Steps of about 0.1 s measured, and those in which the face moved enough to count.
    public var steps: Int
    public var moved: Int
    /// Steps that must have moved.
    public var fewestSteps: Int
    /// Median share of the face's width its surface moved off a plane; at least `minResidual` to be live.
    public var residual: Double?
    public var minResidual: Double
    /// Median share of the points around the face that moved with its plane; at most `maxSurround` to be live.
    public var surround: Double?
    public var maxSurround: Double
    /// Steps that moved in which the face moved as a picture does: more than `carriedSurround`
    /// of what is around it moved with it, as a picture's margin does, or it moved with another
    /// face around which that happened (`LivenessRule.carried`); at most `maxCarried` to be
    /// live. Absent from events written before the rule had it.
    public var carried: Int?
    public var maxCarried: Int?
    public var carriedSurround: Double?

    public init(live: Bool, steps: Int, moved: Int, fewestSteps: Int, residual: Double?, minResidual: Double,
                surround: Double?, maxSurround: Double, carried: Int? = nil, maxCarried: Int? = nil, carriedSurround: Double? = nil) {
        self.live = live
        self.steps = steps
        self.moved = moved
        self.fewestSteps = fewestSteps
        self.residual = residual
        self.minResidual = minResidual
        self.surround = surround
        self.maxSurround = maxSurround
        self.carried = carried
        self.maxCarried = maxCarried
        self.carriedSurround = carriedSurround
    }

    /// The column's text: sorted keys, absent values left out, fixed decimals, written by hand
    /// as `FrameEvidence.json` is, so that the hashed text never depends on an encoder.
    public var json: String {
        var fields = [(String, String)]()
        if let carried { fields.append(("carried", String(carried))) }
        if let carriedSurround { fields.append(("carriedSurround", FrameEvidence.number(carriedSurround, 2))) }
        fields.append(("fewestSteps", String(fewestSteps)))
        fields.append(("live", live ? "true" : "false"))
        if let maxCarried { fields.append(("maxCarried", String(maxCarried))) }
        fields.append(("maxSurround", FrameEvidence.number(maxSurround, 2)))
        fields.append(("minResidual", FrameEvidence.number(minResidual, 4)))
        fields.append(("moved", String(moved)))
        if let residual { fields.append(("residual", FrameEvidence.number(residual, 4))) }
        fields.append(("steps", String(steps)))
        if let surround { fields.append(("surround", FrameEvidence.number(surround, 2))) }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// Reads the column; nil when the text is not such an object.
    public static func parse(_ text: String) -> LivenessEvidence? {
        try? JSONDecoder().decode(LivenessEvidence.self, from: Data(text.utf8))
    }

    /// One line for `facectl why`: what was measured against what limit.
    public var explanation: String {
        func f(_ v: Double?, _ d: Int) -> String { v.map { String(format: "%.\(d)f", $0) } ?? "not measured" }
        let verdict = live ? "live" : "no proof of a live face"
        guard moved >= fewestSteps else {
            return "\(verdict): the face moved enough in \(moved) of \(steps) steps of 0.1 s (needs \(fewestSteps)); "
                + "a picture held still and a head held still look alike"
        }
        let plane = "over \(moved) steps that moved, the surface left a plane by \(f(residual, 4)) of the face's width "
            + "(needs ≥ \(f(minResidual, 4)))"
        var carriedText = ""
        if let carried, let maxCarried, let carriedSurround, carried > 0 {
            carriedText = "; in \(carried) of those steps more than \(f(carriedSurround * 100, 0)) % of what is around the face moved with it, "
                + "as a picture's margin does, or it moved with another face whose surround did (needs ≤ \(maxCarried))"
        }
        guard let surround else {
            return "\(verdict): \(plane); what is around the face could not be followed in half of those steps, so the surface alone had to show it"
                + carriedText
        }
        return "\(verdict): \(plane) and \(f(surround * 100, 0)) % of what is around it moved with the face "
            + "(needs ≤ \(f(maxSurround * 100, 0)) %)" + carriedText
    }
}

/// Why a frame did not count as evidence.
public enum FrameIssue: String, Codable, Sendable, Hashable, CaseIterable {
    case small, blurred, turned
}
