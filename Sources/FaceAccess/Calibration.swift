import FaceStore
import FaceVision
import Foundation

/// Measures a security level on labelled descriptors, the way the door will meet people:
/// each identity with several photos is enrolled from its first ones and probed with the rest
/// (genuine attempts); photos of people who are not enrolled are impostor attempts. Every
/// enrolled identity is also removed in turn and its probes replayed as impostors.
public struct Calibration: Sendable {
    public struct Sample: Sendable {
        public var label: String
        public var vector: [Float]
        public init(label: String, vector: [Float]) { self.label = label; self.vector = vector }
    }

    public struct Outcome: Sendable, Hashable {
        public var level: SecurityLevel
        public var genuineAttempts = 0
        public var trueAccepts = 0
        /// Genuine attempts matched to the wrong enrolled person.
        public var misidentified = 0
        public var impostorAttempts = 0
        /// Impostor attempts matched to someone.
        public var falseAccepts = 0
        /// Impostor attempts refused as ambiguous rather than unknown (still a refusal).
        public var impostorAmbiguous = 0

        public var trueAcceptRate: Double { genuineAttempts == 0 ? 0 : Double(trueAccepts) / Double(genuineAttempts) }
        public var falseAcceptRate: Double {
            let attempts = impostorAttempts + genuineAttempts
            return attempts == 0 ? 0 : Double(falseAccepts + misidentified) / Double(attempts)
        }
    }

    public let enrolled: [Sample]
    public let genuineProbes: [Sample]
    public let strangers: [Sample]
    public let enrolledPerIdentity: Int

    /// Splits samples by label: identities with more than one photo enroll their first
    /// `min(enrollPerIdentity, n - 1)`; identities with one photo become strangers.
    public init(samples: [Sample], enrollPerIdentity: Int = 2) {
        var byLabel = [String: [Sample]]()
        var order = [String]()
        for s in samples {
            if byLabel[s.label] == nil { order.append(s.label) }
            byLabel[s.label, default: []].append(s)
        }
        var enrolled = [Sample](), probes = [Sample](), strangers = [Sample]()
        for label in order {
            let all = byLabel[label]!
            if all.count < 2 { strangers += all; continue }
            let k = min(enrollPerIdentity, all.count - 1)
            enrolled += all.prefix(k)
            probes += all.dropFirst(k)
        }
        self.enrolled = enrolled
        genuineProbes = probes
        self.strangers = strangers
        enrolledPerIdentity = enrollPerIdentity
    }

    func snapshot(without excluded: String? = nil) -> (GallerySnapshot, [String: Int64]) {
        var people = [GallerySnapshot.Entry](), ids = [String: Int64](), owner = [Int32](), vectors = [Float]()
        for s in enrolled where s.label != excluded {
            if ids[s.label] == nil {
                ids[s.label] = Int64(ids.count + 1)
                people.append(.init(personID: ids[s.label]!, name: s.label, displayName: s.label, enabled: true))
            }
            owner.append(Int32(people.count - 1))
            vectors += s.vector
        }
        return (GallerySnapshot(people: people, owner: owner, templateIDs: owner.indices.map { Int64($0) },
                                vectors: vectors, generation: 0), ids)
    }

    public func evaluate(_ levels: [SecurityLevel]) -> [Outcome] {
        var outcomes = levels.map { Outcome(level: $0) }
        let (full, _) = snapshot()
        let matcher = Matcher(snapshot: full)
        for probe in genuineProbes {
            let result = matcher.match(probe.vector)
            for i in outcomes.indices {
                outcomes[i].genuineAttempts += 1
                if outcomes[i].level.verdict(for: result) == .match {
                    if result.best?.name == probe.label { outcomes[i].trueAccepts += 1 } else { outcomes[i].misidentified += 1 }
                }
            }
        }
        func impostor(_ probe: Sample, _ matcher: Matcher) {
            let result = matcher.match(probe.vector)
            for i in outcomes.indices {
                outcomes[i].impostorAttempts += 1
                switch outcomes[i].level.verdict(for: result) {
                case .match: outcomes[i].falseAccepts += 1
                case .ambiguous: outcomes[i].impostorAmbiguous += 1
                case .unknown: break
                }
            }
        }
        for probe in strangers { impostor(probe, matcher) }
        let labels = Set(enrolled.map(\.label))
        for label in labels.sorted() {
            let without = Matcher(snapshot: snapshot(without: label).0)
            for probe in enrolled + genuineProbes where probe.label == label { impostor(probe, without) }
        }
        return outcomes
    }
}

extension Calibration {
    /// Descriptors of a labelled photo set: one folder per person (folders starting with '_' or '.'
    /// are skipped), the largest face of each photo. Photos without a face are listed in `skipped`.
    public static func loadSamples(from directory: String, engine: FaceEngine, minFace: Int = 40)
        throws -> (samples: [Sample], skipped: [String]) {
        let fm = FileManager.default
        let people = try fm.contentsOfDirectory(atPath: directory)
            .filter { !$0.hasPrefix("_") && !$0.hasPrefix(".") }
            .filter { var isDir: ObjCBool = false; return fm.fileExists(atPath: directory + "/" + $0, isDirectory: &isDir) && isDir.boolValue }
            .sorted()
        let decoder = ImageDecoder()
        var samples = [Sample](), skipped = [String]()
        for person in people {
            for file in try fm.contentsOfDirectory(atPath: directory + "/" + person).sorted() where !file.hasPrefix(".") {
                let path = "\(directory)/\(person)/\(file)"
                guard let image = try? decoder.decode(contentsOf: path) else { skipped.append(path + " (unreadable)"); continue }
                let faces = try engine.faces(in: image, minFace: minFace)
                guard let face = faces.max(by: { $0.detection.box.area < $1.detection.box.area }) else {
                    skipped.append(path + " (no face)"); continue
                }
                samples.append(Sample(label: person, vector: face.embedding.values))
            }
        }
        return (samples, skipped)
    }
}
