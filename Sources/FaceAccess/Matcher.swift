import FaceStore

/// One enrolled person as a match candidate: their closest template and its distance.
public struct Candidate: Sendable, Hashable, Codable {
    public var personID: Int64
    public var name: String
    public var displayName: String
    public var distance: Float
    public var templateID: Int64
}

/// The outcome of a 1:N search: the closest person and the closest *other* person.
public struct MatchResult: Sendable, Hashable, Codable {
    public var best: Candidate?
    public var runnerUp: Candidate?

    /// How much farther the runner-up is than the best; nil with fewer than two people.
    public var margin: Float? {
        guard let best, let runnerUp else { return nil }
        return runnerUp.distance - best.distance
    }
}

/// 1:N search over a gallery snapshot by Euclidean distance; a person's distance is that of
/// their closest template.
public struct Matcher: Sendable {
    public let snapshot: GallerySnapshot

    public init(snapshot: GallerySnapshot) {
        self.snapshot = snapshot
    }

    /// Searches `probe` (128 values) against every template, optionally ignoring one person.
    public func match(_ probe: [Float], excludingPersonID excluded: Int64? = nil) -> MatchResult {
        precondition(probe.count == GallerySnapshot.dimension, "a probe has \(GallerySnapshot.dimension) values")
        let people = snapshot.people
        guard !people.isEmpty else { return MatchResult() }
        var bestSquared = [Float](repeating: .infinity, count: people.count)
        var bestTemplate = [Int](repeating: -1, count: people.count)
        let excludedIndex = excluded.flatMap { id in people.firstIndex { $0.personID == id } }
        probe.withUnsafeBufferPointer { q in
            snapshot.vectors.withUnsafeBufferPointer { all in
                snapshot.owner.withUnsafeBufferPointer { owner in
                    let lanes = GallerySnapshot.dimension / 16
                    var query = [SIMD16<Float>](repeating: .zero, count: lanes)
                    for l in 0 ..< lanes { query[l] = SIMD16(q[(l * 16) ..< (l * 16 + 16)]) }
                    for t in 0 ..< owner.count {
                        let who = Int(owner[t])
                        if who == excludedIndex { continue }
                        let base = t * GallerySnapshot.dimension
                        var acc = SIMD16<Float>.zero
                        for l in 0 ..< lanes {
                            let d = SIMD16(all[(base + l * 16) ..< (base + l * 16 + 16)]) - query[l]
                            acc += d * d
                        }
                        let squared = acc.sum()
                        if squared < bestSquared[who] {
                            bestSquared[who] = squared
                            bestTemplate[who] = t
                        }
                    }
                }
            }
        }
        var first = -1, second = -1
        for i in 0 ..< people.count where bestTemplate[i] >= 0 {
            if first < 0 || bestSquared[i] < bestSquared[first] {
                second = first
                first = i
            } else if second < 0 || bestSquared[i] < bestSquared[second] {
                second = i
            }
        }
        func candidate(_ i: Int) -> Candidate? {
            guard i >= 0 else { return nil }
            let p = people[i]
            return Candidate(personID: p.personID, name: p.name, displayName: p.displayName,
                             distance: bestSquared[i].squareRoot(), templateID: snapshot.templateIDs[bestTemplate[i]])
        }
        return MatchResult(best: candidate(first), runnerUp: candidate(second))
    }
}
