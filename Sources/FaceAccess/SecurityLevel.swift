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
/// `minMargin` farther. PLACEHOLDER-CALIBRATION
public struct SecurityLevel: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    public var maxDistance: Float
    public var minMargin: Float

    public init(name: String, maxDistance: Float, minMargin: Float) {
        self.name = name
        self.maxDistance = maxDistance
        self.minMargin = minMargin
    }

    public static let relaxed = SecurityLevel(name: "relaxed", maxDistance: 0.55, minMargin: 0.04)
    public static let standard = SecurityLevel(name: "standard", maxDistance: 0.50, minMargin: 0.06)
    public static let strict = SecurityLevel(name: "strict", maxDistance: 0.42, minMargin: 0.08)

    public static let presets: [SecurityLevel] = [.relaxed, .standard, .strict]

    public static func named(_ name: String) -> SecurityLevel? {
        presets.first { $0.name == name.lowercased() }
    }

    public func verdict(for result: MatchResult) -> Verdict {
        guard let best = result.best, best.distance <= maxDistance else { return .unknown }
        if let margin = result.margin, margin < minMargin { return .ambiguous }
        return .match
    }

    public var description: String { "\(name) (distance ≤ \(maxDistance), margin ≥ \(minMargin))" }
}
