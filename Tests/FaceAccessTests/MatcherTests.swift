import FaceStore
import Testing
@testable import FaceAccess

/// A gallery of unit-axis-like vectors whose distances are easy to reason about.
func gallery(_ people: [(String, [[Float]])]) -> GallerySnapshot {
    var entries = [GallerySnapshot.Entry](), owner = [Int32](), vectors = [Float]()
    for (i, (name, templates)) in people.enumerated() {
        entries.append(.init(personID: Int64(i + 1), name: name, displayName: name.capitalized, enabled: true))
        for t in templates {
            owner.append(Int32(i))
            vectors += t + [Float](repeating: 0, count: 128 - t.count)
        }
    }
    return GallerySnapshot(people: entries, owner: owner, templateIDs: owner.indices.map { Int64($0 + 100) },
                           vectors: vectors, generation: 7)
}

func probe(_ head: [Float]) -> [Float] { head + [Float](repeating: 0, count: 128 - head.count) }

@Suite struct MatcherTests {
    @Test func bestAndRunnerUpAreDifferentPeople() {
        let snap = gallery([("alice", [[1, 0], [0.9, 0.1]]), ("bob", [[0, 1]]), ("carol", [[-1, 0]])])
        let result = Matcher(snapshot: snap).match(probe([0.95, 0.05]))
        #expect(result.best?.name == "alice")
        #expect(result.runnerUp?.name == "bob", "alice's second template must not be the runner-up")
        #expect(abs(result.best!.distance - (0.05 * 0.05 * 2).squareRoot()) < 1e-5)
        #expect(abs(result.margin! - (result.runnerUp!.distance - result.best!.distance)) < 1e-6)
        #expect(result.best?.templateID == 100 || result.best?.templateID == 101)
    }

    @Test func agreesWithBruteForceOnRandomVectors() {
        var rng = SystemRandomNumberGenerator()
        let people = (0 ..< 40).map { p in ("p\(p)", (0 ..< 3).map { _ in (0 ..< 128).map { _ in Float.random(in: -0.2 ... 0.2, using: &rng) } }) }
        let snap = gallery(people)
        let q = (0 ..< 128).map { _ in Float.random(in: -0.2 ... 0.2, using: &rng) }
        func dist(_ a: [Float]) -> Float { zip(a, q).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() }
        let perPerson = people.map { ($0.0, $0.1.map(dist).min()!) }.sorted { $0.1 < $1.1 }
        let result = Matcher(snapshot: snap).match(q)
        #expect(result.best?.name == perPerson[0].0)
        #expect(result.runnerUp?.name == perPerson[1].0)
        #expect(abs(result.best!.distance - perPerson[0].1) < 1e-4)
        #expect(abs(result.runnerUp!.distance - perPerson[1].1) < 1e-4)
    }

    @Test func canIgnoreOnePerson() {
        let snap = gallery([("alice", [[1, 0]]), ("bob", [[0, 1]])])
        let result = Matcher(snapshot: snap).match(probe([1, 0]), excludingPersonID: 1)
        #expect(result.best?.name == "bob")
        #expect(result.runnerUp == nil && result.margin == nil)
    }

    @Test func emptyGalleryMatchesNobody() {
        let result = Matcher(snapshot: .empty).match(probe([1]))
        #expect(result.best == nil)
        #expect(SecurityLevel.standard.verdict(for: result) == .unknown)
    }
}

@Suite struct SecurityLevelTests {
    func result(best: Float, runnerUp: Float?) -> MatchResult {
        MatchResult(best: Candidate(personID: 1, name: "a", displayName: "A", distance: best, templateID: 1),
                    runnerUp: runnerUp.map { Candidate(personID: 2, name: "b", displayName: "B", distance: $0, templateID: 2) })
    }

    @Test func verdictFollowsDistanceThenMargin() {
        let level = SecurityLevel(name: "t", maxDistance: 0.5, minMargin: 0.1)
        #expect(level.verdict(for: result(best: 0.3, runnerUp: 0.8)) == .match)
        #expect(level.verdict(for: result(best: 0.5, runnerUp: nil)) == .match)
        #expect(level.verdict(for: result(best: 0.51, runnerUp: 0.9)) == .unknown)
        #expect(level.verdict(for: result(best: 0.45, runnerUp: 0.5)) == .ambiguous)
        #expect(level.verdict(for: result(best: 0.3, runnerUp: 0.41)) == .match)
    }

    @Test func presetsTightenInOrder() {
        let (r, s, t) = (SecurityLevel.relaxed, SecurityLevel.standard, SecurityLevel.strict)
        #expect(r.maxDistance > s.maxDistance && s.maxDistance > t.maxDistance)
        #expect(r.minMargin <= s.minMargin && s.minMargin <= t.minMargin)
        #expect(SecurityLevel.named("STRICT") == t)
        #expect(SecurityLevel.named("lax") == nil)
    }
}

@Suite struct CalibrationTests {
    @Test func splitsEnrolledProbesAndStrangers() {
        let samples = ["a", "a", "a", "b", "b", "c"].enumerated().map { i, label in
            Calibration.Sample(label: label, vector: probe([Float(i)]))
        }
        let c = Calibration(samples: samples, enrollPerIdentity: 2)
        #expect(c.enrolled.map(\.label) == ["a", "a", "b"])
        #expect(c.genuineProbes.map(\.label) == ["a", "b"])
        #expect(c.strangers.map(\.label) == ["c"])
    }

    @Test func countsAcceptsAndFalseAccepts() {
        // Two tight clusters far apart, and one stranger near cluster "a".
        let samples: [Calibration.Sample] = [
            .init(label: "a", vector: probe([1, 0])), .init(label: "a", vector: probe([1, 0.1])),
            .init(label: "b", vector: probe([0, 1])), .init(label: "b", vector: probe([0.1, 1])),
            .init(label: "s", vector: probe([1, 0.2])),
        ]
        let c = Calibration(samples: samples, enrollPerIdentity: 1)
        let loose = SecurityLevel(name: "loose", maxDistance: 0.3, minMargin: 0)
        let tight = SecurityLevel(name: "tight", maxDistance: 0.15, minMargin: 0)
        let outcomes = c.evaluate([loose, tight])
        #expect(outcomes[0].genuineAttempts == 2 && outcomes[0].trueAccepts == 2)
        #expect(outcomes[0].falseAccepts == 1, "the stranger at 0.2 from a is accepted at 0.3")
        #expect(outcomes[1].falseAccepts == 0 && outcomes[1].trueAccepts == 2)
        // 1 stranger + each identity's 2 photos replayed without it.
        #expect(outcomes[0].impostorAttempts == 5)
    }
}
