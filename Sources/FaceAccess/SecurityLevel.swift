/// What a 1:N result means for one face.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    /// Close enough to one person and clearly closer to them than to anyone else.
    case match
    /// Nobody enrolled is close enough.
    case unknown
    /// Close enough, but another person is nearly as close: refuse to guess.
    case ambiguous
}

/// How sure a match must be. Every threshold of the system lives here.
///
/// A match needs the best distance at most `maxDistance` and the runner-up at least
/// `minMargin` farther.
///
/// Calibrated with `facebench calibrate` on faces-dev (110 people with a face, 271 photos, HOG,
/// one photo per attempt): 101 templates enrolled (2 per person, 1 when the person has 2 photos),
/// 123 genuine attempts, 271 impostor attempts (47 strangers, plus every enrolled person's
/// photos replayed with that person removed from the gallery).
///
/// | level    | max distance | min margin | true accepts  | false accepts | misidentified |
/// |----------|--------------|------------|---------------|---------------|---------------|
/// | relaxed  | 0.52         | 0.08       | 120/123 97.6% | 1/271         | 0             |
/// | standard | 0.50         | 0.08       | 115/123 93.5% | 0/271         | 0             |
/// | strict   | 0.45         | 0.10       |  89/123 72.4% | 0/271         | 0             |
///
/// For comparison, face_recognition's default (0.6, no margin) accepts 54/271 impostors here.
/// The margin matters: at 0.52 it removes 3 of 4 false accepts for no loss of true accepts.
public struct SecurityLevel: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    public var maxDistance: Float
    public var minMargin: Float

    public init(name: String, maxDistance: Float, minMargin: Float) {
        self.name = name
        self.maxDistance = maxDistance
        self.minMargin = minMargin
    }

    public static let relaxed = SecurityLevel(name: "relaxed", maxDistance: 0.52, minMargin: 0.08)
    public static let standard = SecurityLevel(name: "standard", maxDistance: 0.50, minMargin: 0.08)
    public static let strict = SecurityLevel(name: "strict", maxDistance: 0.45, minMargin: 0.10)

    public static let presets: [SecurityLevel] = [.relaxed, .standard, .strict]

    public static func named(_ name: String) -> SecurityLevel? {
        presets.first { $0.name == name.lowercased() }
    }

    public func verdict(for result: MatchResult) -> Verdict {
        guard let best = result.best, best.distance <= maxDistance else { return .unknown }
        if let margin = result.margin, margin < minMargin { return .ambiguous }
        return .match
    }

    /// The stricter bound of each: the smaller distance and the larger margin.
    public func stricter(_ other: SecurityLevel) -> SecurityLevel {
        if other.maxDistance <= maxDistance && other.minMargin >= minMargin { return other }
        if maxDistance <= other.maxDistance && minMargin >= other.minMargin { return self }
        return SecurityLevel(name: "\(name)+\(other.name)", maxDistance: min(maxDistance, other.maxDistance),
                             minMargin: max(minMargin, other.minMargin))
    }

    public var description: String { "\(name) (distance ≤ \(maxDistance), margin ≥ \(minMargin))" }
}
