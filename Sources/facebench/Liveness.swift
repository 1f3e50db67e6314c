import ArgumentParser
import FaceAccess
import FaceCapture
import FacePipeline
import FaceStore
import FaceVision
import Foundation

struct LivenessBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liveness",
        abstract: "How far the surfaces of real faces and of pictures held to the camera move from a plane.",
        discussion: """
            The liveness measurement (SurfaceMotion): for each followed face, points on its surface are followed \
            over about 0.1 s, a homography is fitted, and the 90th percentile of what it cannot explain, over the \
            face's width, is the step's residual.
              bona fide: the faces of the walk-up clip (--clip), through the daemon's pipeline; tracks followed
                         for at least a second.
              attacks:   --attacks generated visits (2 s at 25 fps, 1280x720 MJPEG), spread over print, bent-print,
                         screen and still (see AttackScene), each a faces-dev photo at a face width of 80-200 px
                         and a light of 0.6-1.2, smeared over the shutter's time as the hand moves it
                         (--exposure), through a fresh pipeline.
            A step counts when the face moved at least 2 % of its width. Over a track's steps so far, at every \
            frame as the door judges, its residual is the median of its moving steps' and its surround the median \
            share of the points around the face (outside its surface) that moved as the face's plane did: a \
            picture moves with what is printed around its face, and a step in which most of it did (more than \
            \(LivenessRule.standard.carriedSurround)) carried its surround; so did a step in which the face moved with another \
            face that carried its own (each one's points within \(LivenessRule.standard.pictureMisfit) of its width of where \
            the other's motion puts them: two faces of one picture). For faced's rule (LivenessRule.standard, marked) \
            and a grid of others: the share of attack visits of each kind found live at some frame (APCER) and \
            of bona fide tracks never found live (BPCER).
            Build in release mode: about 7 s per attack visit (200 take about 25 min).
            Example:
              .build/release/facebench liveness --attacks 200
            """)

    /// The walk-up clip's rate, and the attacks'.
    static let fps = 25.0

    @Option(help: ArgumentHelp("The walk-up clip (MJPEG): its faces are the bona fide ones.", valueName: "path"))
    var clip = "../shared/videos/walkup-entrance-1080p.mjpeg"

    @Option(help: ArgumentHelp("The labelled photo set the attacks' pictures come from.", valueName: "dir"))
    var facesDev = "../shared/faces-dev"

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: ArgumentHelp("Smallest face to look for, in pixels.", valueName: "px"))
    var minFace = 48

    @Option(help: "Attack visits to generate, spread evenly over the attack kinds.")
    var attacks = 200

    @Option(help: ArgumentHelp("Attack kinds, in turn (comma-separated): \(AttackKind.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "kinds"))
    var kinds = AttackPlan.heldPictures.map(\.rawValue).joined(separator: ",")

    @Option(help: ArgumentHelp("How long the camera's shutter is open for an attack frame, seconds: what is moved smears over it. From 0 (each frame drawn at one instant) to a frame's time (0.04 s); by default half of that.",
                               valueName: "seconds"))
    var exposure: Double?

    @Option(help: "Seed of the generated attacks.")
    var seed: UInt64 = 1

    @Flag(help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        guard attacks >= 0 else { throw ValidationError("--attacks must be 0 or more") }
        guard minFace >= 20 else { throw ValidationError("--min-face must be at least 20") }
        if let exposure {
            guard exposure.isFinite, exposure >= 0, exposure <= 1 / Self.fps else {
                throw ValidationError("--exposure must be from 0 to a frame's time, \(1 / Self.fps) s")
            }
        }
        _ = try attackKinds()
    }

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: clip, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ValidationError("\(clip): no such file; give the walk-up clip with --clip PATH")
        }
        guard attacks == 0 || (FileManager.default.fileExists(atPath: facesDev, isDirectory: &isDirectory) && isDirectory.boolValue) else {
            throw ValidationError("\(facesDev): no such folder; give the photo set with --faces-dev DIR")
        }
        let (engine, describer, helper) = try FaceEngine.pipelineEngines(models: models)
        let fps = Self.fps
        let trial = LivenessTrial(engine: engine, describer: describer, helper: helper, minFace: minFace)
        let clipTracks = try await trial.measure(mjpeg: clip, fps: fps)
        let bonaFide = clipTracks.filter { Double($0.lastFrame - $0.firstFrame) / fps >= 1 }
        var visits = [AttackVisit]()
        if attacks > 0 {
            let people = try FacesDevPerson.all(in: facesDev).map { (name: $0.name, photos: $0.photos) }
            guard !people.isEmpty else { throw ValidationError("\(facesDev): no person folders with photos") }
            let plan = try AttackPlan.visits(attacks, kinds: try attackKinds(), people: people, seed: seed, engine: engine)
            for (i, visit) in plan.enumerated() {
                let tracks = try await trial.measure(try visit.scene(fps: fps, exposure: exposure))
                visits.append(AttackVisit(kind: visit.kind.rawValue, person: visit.person, photo: URL(fileURLWithPath: visit.photo.path).lastPathComponent,
                                          faceWidth: visit.faceWidth, light: visit.light, tracks: tracks))
                if !json { FileHandle.standardError.write(Data("\r\(i + 1)/\(attacks) attack visits".utf8)) }
            }
            if !json { FileHandle.standardError.write(Data("\n".utf8)) }
        }
        let rules = [LivenessRule.standard] + Self.grid.filter { $0 != .standard }
        let report = Report(clip: clip, fps: fps, exposure: exposure ?? AttackScene.defaultExposure(fps: fps), bonaFide: bonaFide, shortTracks: clipTracks.count - bonaFide.count, attacks: visits,
                            rules: rules.map { rule in
                                Report.Rule(fewestSteps: rule.fewestSteps, residual: rule.minResidual, surroundAtMost: rule.maxSurround,
                                            carriedShareAtMost: rule.carriedShare, standard: rule == .standard,
                                            bpcer: Self.share(bonaFide.map { $0.provenAt(rule) == nil }),
                                            apcer: Dictionary(uniqueKeysWithValues: AttackKind.allCases.map { kind in
                                                (kind.rawValue, Self.share(visits.filter { $0.kind == kind.rawValue }.map { $0.live(rule) }))
                                            }))
                            })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(report.text)
    }

    /// Rules around the standard one: faced's without its limit on steps that carried their
    /// surround, and, without it too, fewer or more steps and other limits on each median.
    static var grid: [LivenessRule] {
        var rules = [LivenessRule(carriedShare: 1)]
        for steps in [3, 5, 8] {
            for residual in [0.0, 0.004, 0.006, 0.008] {
                for surround in [0.3, 0.4, 0.5, 1.0] where residual > 0 || surround < 1 {
                    let rule = LivenessRule(fewestSteps: steps, minResidual: residual, maxSurround: surround, carriedShare: 1)
                    if !rules.contains(rule) { rules.append(rule) }
                }
            }
        }
        return rules
    }

    func attackKinds() throws -> [AttackKind] {
        let words = kinds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !words.isEmpty else { throw ValidationError("--kinds lists no kind; give some of \(AttackKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        return try words.map { word in
            guard let kind = AttackKind(rawValue: word) else {
                throw ValidationError("--kinds: unknown kind '\(word)'; use \(AttackKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
    }

    static func share(_ flags: [Bool]) -> Double? {
        flags.isEmpty ? nil : Double(flags.filter { $0 }.count) / Double(flags.count)
    }
}

struct AttackVisit: Codable {
    var kind: String
    var person: String
    var photo: String
    var faceWidth: Double
    var light: Double
    var tracks: [TrackSteps]

    /// Any of its tracks was found live at some frame, as the door judges at every frame.
    func live(_ rule: LivenessRule) -> Bool { tracks.contains { $0.provenAt(rule) != nil } }
    /// Over all its steps: its tracks' largest median residual and smallest surround.
    var residual: Double? { tracks.compactMap { $0.finding(.standard).residual }.max() }
    var surround: Double? { tracks.compactMap { $0.finding(.standard).surround }.min() }
    var judged: Bool { tracks.contains { $0.finding(.standard).moved >= LivenessRule.standard.fewestSteps } }
}

extension LivenessBench {
    struct Report: Codable {
        struct Rule: Codable {
            /// A track is live once `fewestSteps` steps moved, their median residual is at least
            /// `residual`, their surround at most `surroundAtMost`, and at most `carriedShareAtMost`
            /// of them carried their surround (`LivenessRule.carriedSurround`).
            var fewestSteps: Int
            var residual: Double
            var surroundAtMost: Double
            var carriedShareAtMost: Double
            /// faced's rule (`LivenessRule.standard`).
            var standard: Bool
            var bpcer: Double?
            var apcer: [String: Double?]
        }

        var clip: String
        var fps: Double
        /// The attacks' shutter time, seconds.
        var exposure: Double
        var bonaFide: [TrackSteps]
        /// Tracks of the clip measured for less than a second: not counted.
        var shortTracks: Int
        var attacks: [AttackVisit]
        var rules: [Rule]

        /// The kinds that were generated.
        var shownKinds: [AttackKind] { AttackKind.allCases.filter { kind in attacks.contains { $0.kind == kind.rawValue } } }

        var text: String {
            func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "-" }
            func pct(_ v: Double?) -> String { v.map { String(format: "%.1f %%", 100 * $0) } ?? "-" }
            let rule = LivenessRule.standard
            var lines = ["faced's rule: live once \(rule.fewestSteps) steps moved ≥ \(Int(rule.movedEnough * 100)) % of the face's width, "
                + "their median residual ≥ \(rule.minResidual) and surround ≤ \(rule.maxSurround), and at most "
                + "\(Int(rule.carriedShare * 100)) % of them with more than \(rule.carriedSurround) of the surround moving with the face "
                + "(or moving with another face whose surround did), "
                + "judged at every frame"]
            lines.append("bona fide: \(clip): \(bonaFide.count) tracks followed for 1 s or more (\(shortTracks) shorter, not counted)")
            var table = Table(header: ["track", "frames", "steps", "moved", "median", "surround", "largest", "carried", "points", "live after"])
            for t in bonaFide {
                let finding = t.finding(rule)
                let proof = t.provenAt(rule).map { String(format: "%.2f s", Double(t.frames[$0] - t.firstFrame) / fps + 0.1) } ?? "never"
                let largest = t.steps.filter { $0.motion >= rule.movedEnough }.compactMap(\.rigidSurround).filter(\.isFinite).max()
                table.add(["\(t.track)", "\(t.firstFrame)-\(t.lastFrame)", "\(finding.steps)", "\(finding.moved)", f(finding.residual),
                           finding.surround.map { String(format: "%.2f", $0) } ?? "-", largest.map { String(format: "%.2f", $0) } ?? "-",
                           "\(finding.carried)", "\(t.points.sorted()[t.points.count / 2])", proof])
            }
            lines.append(table.render())
            lines.append("(largest: the largest surround of a step that moved; carried: steps whose surround was over \(rule.carriedSurround), "
                + "or that moved with another face whose surround was; "
                + "live after: from the track's first step, about 0.1 s after its first frame)")
            if !attacks.isEmpty {
                lines.append("attacks: \(attacks.count) visits, shutter \(exposure) s; over all its steps, a visit's figure is its tracks' largest median residual, its surround their smallest")
                var kinds = Table(header: ["kind", "visits", "judged", "median", "p90", "max", "surround p10", "min"])
                for kind in shownKinds.map(\.rawValue) {
                    let visits = attacks.filter { $0.kind == kind }
                    let figures = visits.filter(\.judged).compactMap(\.residual).sorted()
                    let surrounds = visits.filter(\.judged).compactMap(\.surround).sorted()
                    kinds.add([kind, "\(visits.count)", "\(visits.filter(\.judged).count)", f(figures.isEmpty ? nil : figures[figures.count / 2]),
                               f(figures.isEmpty ? nil : figures[min(figures.count - 1, figures.count * 9 / 10)]), f(figures.last),
                               surrounds.isEmpty ? "-" : String(format: "%.2f", surrounds[surrounds.count / 10]),
                               surrounds.first.map { String(format: "%.2f", $0) } ?? "-"])
                }
                lines.append(kinds.render())
            }
            lines.append("rules, judged at every frame as the door does: bona fide tracks never found live (BPCER) and attack visits found live at some frame (APCER)")
            var rates = Table(header: ["", "steps", "R ≥", "S ≤", "carried ≤", "BPCER"] + shownKinds.map(\.rawValue))
            for rule in rules {
                rates.add([rule.standard ? "faced" : "", "\(rule.fewestSteps)", String(format: "%.3f", rule.residual),
                           String(format: "%.2f", rule.surroundAtMost), String(format: "%.0f %%", 100 * rule.carriedShareAtMost), pct(rule.bpcer)]
                    + shownKinds.map { pct(rule.apcer[$0.rawValue] ?? nil) })
            }
            lines.append(rates.render())
            return lines.joined(separator: "\n")
        }
    }
}
