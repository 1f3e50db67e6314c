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
            face's width, is the step's residual. A track's figure is the median of its steps'.
              bona fide: the faces of the walk-up clip (--clip), through the daemon's pipeline; tracks followed
                         for at least a second.
              attacks:   --attacks generated visits (2 s at 25 fps, 1280x720 MJPEG), spread over print, bent-print,
                         screen and still (see AttackScene), each a faces-dev photo at a face width of 80-200 px
                         and a light of 0.6-1.2, through a fresh pipeline.
            A step counts when the face moved at least 2 % of its width; a track is judged on 3 or more. Its figure
            is the median residual of those steps, its surround the median share of the points around the face
            (outside its surface) that moved as the face's plane did: a picture moves with what is printed around
            its face. Then, for rules on both, the share of attack visits of each kind that would pass as live
            (APCER) and of bona fide tracks that would not (BPCER). faced does not decide on this yet.
            Build in release mode: about 4 s per attack visit.
            Example:
              .build/release/facebench liveness --attacks 200
            """)

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

    @Option(help: "Seed of the generated attacks.")
    var seed: UInt64 = 1

    @Flag(help: "Print the results as JSON.")
    var json = false

    static let residualLimits = [0.004, 0.006, 0.007, 0.008, 0.009, 0.010, 0.012]
    static let surroundLimits = [0.3, 0.4, 0.5, 0.6, 0.7]
    static let bothLimits = [(0.008, 0.5), (0.008, 0.6), (0.009, 0.5), (0.009, 0.6)]

    func validate() throws {
        guard attacks >= 0 else { throw ValidationError("--attacks must be 0 or more") }
        guard minFace >= 20 else { throw ValidationError("--min-face must be at least 20") }
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
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-liveness-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let store = try FaceStore(path: work + "/gallery.db")
        defer { _ = store.close() }

        let fps = 25.0
        let clipTracks = try await measure(MJPEGFileSource(path: clip, fps: fps, clock: .media), engine: engine, describer: describer,
                                           helper: helper, store: store)
        let bonaFide = clipTracks.filter { Double($0.lastFrame - $0.firstFrame) / fps >= 1 }
        var visits = [AttackVisit]()
        if attacks > 0 {
            let people = try FacesDevPerson.all(in: facesDev)
            guard !people.isEmpty else { throw ValidationError("\(facesDev): no person folders with photos") }
            var rng = SeededRandom(seed: seed)
            var loaded = [String: VisitorPhotos]()
            for i in 0 ..< attacks {
                let kind = AttackKind.allCases[i % AttackKind.allCases.count]
                var visitor: VisitorPhotos?
                for _ in 0 ..< 50 where visitor == nil {
                    let person = people[Int.random(in: 0 ..< people.count, using: &rng)]
                    if loaded[person.name] == nil {
                        loaded[person.name] = VisitorPhotos.load(person: person.name, paths: person.photos, engine: engine).visitor
                    }
                    if let v = loaded[person.name], !v.photos.isEmpty { visitor = v }
                }
                guard let visitor else { throw ValidationError("\(facesDev): no usable face photo found") }
                let photo = visitor.photos[Int.random(in: 0 ..< visitor.photos.count, using: &rng)]
                let faceWidth = [80.0, 110, 150, 200][Int.random(in: 0 ..< 4, using: &rng)]
                let light = [0.6, 0.8, 1.0, 1.2][Int.random(in: 0 ..< 4, using: &rng)]
                let scene = try AttackScene(photo: photo, kind: kind, seed: rng.next(), faceWidth: faceWidth, light: light, fps: fps)
                let path = work + "/attack.mjpeg"
                var bytes = [UInt8]()
                for f in 0 ..< scene.frameCount { bytes += try scene.jpeg(frame: f) }
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let tracks = try await measure(MJPEGFileSource(path: path, fps: fps, clock: .media), engine: engine, describer: describer,
                                               helper: helper, store: store)
                visits.append(AttackVisit(kind: kind.rawValue, person: visitor.person, photo: URL(fileURLWithPath: photo.path).lastPathComponent,
                                          faceWidth: faceWidth, light: light, tracks: tracks))
                if !json { FileHandle.standardError.write(Data("\r\(i + 1)/\(attacks) attack visits".utf8)) }
            }
            if !json { FileHandle.standardError.write(Data("\n".utf8)) }
        }
        let rules = Self.residualLimits.map { ($0, 1.0) } + Self.surroundLimits.map { (0.0, $0) } + Self.bothLimits
        let report = Report(clip: clip, bonaFide: bonaFide, shortTracks: clipTracks.count - bonaFide.count, attacks: visits,
                            rules: rules.map { residual, surround in
                                Report.Rule(residual: residual, surroundAtMost: surround,
                                            bpcer: Self.share(bonaFide.map { !$0.live(residual: residual, surroundAtMost: surround) }),
                                            apcer: Dictionary(uniqueKeysWithValues: AttackKind.allCases.map { kind in
                                                (kind.rawValue, Self.share(visits.filter { $0.kind == kind.rawValue }
                                                    .map { $0.live(residual: residual, surroundAtMost: surround) }))
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

    /// One replay through a fresh pipeline: each track's steps.
    func measure(_ source: MJPEGFileSource, engine: FaceEngine, describer: FaceEngine, helper: FaceEngine, store: FaceStore) async throws -> [TrackFigures] {
        let pipeline = try Pipeline(engine: engine, describer: describer, helper: helper, store: store, settings: PipelineSettings(minFace: minFace))
        let measured = MeasuredSteps()
        pipeline.surfaceMeasured = { track, frame, motion in measured.add(track, frame, motion) }
        var runner = Runner(pipeline: pipeline, source: source, latestWins: false) { _ in }
        runner.mediaTime = true
        try await runner.run()
        return measured.tracks
    }

    static func share(_ flags: [Bool]) -> Double? {
        flags.isEmpty ? nil : Double(flags.filter { $0 }.count) / Double(flags.count)
    }
}

/// One track's liveness steps.
struct TrackFigures: Codable {
    var track: Int64
    var firstFrame: Int
    var lastFrame: Int
    /// Each step's residual, motion, surround share and points, in frame order.
    var residuals: [Double]
    var points: [Int]
    var motions: [Double] = []
    var rigid: [Double?] = []

    /// A step counts when the face moved at least this share of its width: a picture or a head
    /// that holds still shows no parallax either way.
    static let movedEnough = 0.02
    /// ... and a track is judged on at least this many such steps.
    static let fewestSteps = 3

    var movingSteps: [Int] { residuals.indices.filter { motions.indices.contains($0) && motions[$0] >= Self.movedEnough } }

    /// The median residual over the steps that moved; nil for fewer than `fewestSteps`.
    var figure: Double? {
        let steps = movingSteps
        guard steps.count >= Self.fewestSteps else { return nil }
        return steps.map { residuals[$0] }.sorted()[steps.count / 2]
    }

    /// The median share of the surround that moved with the face's plane, over the steps that
    /// moved and measured it; nil where none did.
    var surround: Double? {
        let shares = movingSteps.compactMap { rigid.indices.contains($0) ? rigid[$0] : nil }.sorted()
        return shares.isEmpty ? nil : shares[shares.count / 2]
    }

    /// Live under the limits: enough steps that moved, off a plane by at least `residual`, and
    /// the surround (where measured) not moving with the face more than `surroundAtMost`.
    func live(residual: Double, surroundAtMost: Double = 1) -> Bool {
        guard let figure, figure >= residual else { return false }
        return (surround ?? 0) <= surroundAtMost
    }
}

struct AttackVisit: Codable {
    var kind: String
    var person: String
    var photo: String
    var faceWidth: Double
    var light: Double
    var tracks: [TrackFigures]

    /// Any of its tracks would pass as live (a visit that measured nothing passes nothing).
    func live(residual: Double, surroundAtMost: Double = 1) -> Bool { tracks.contains { $0.live(residual: residual, surroundAtMost: surroundAtMost) } }
    var figure: Double? { tracks.compactMap(\.figure).max() }
    var surround: Double? { tracks.compactMap(\.surround).min() }
}

final class MeasuredSteps: @unchecked Sendable {
    private var byTrack = [Int64: TrackFigures]()

    func add(_ track: Int64, _ frame: Int, _ motion: SurfaceMotion) {
        var figures = byTrack[track] ?? TrackFigures(track: track, firstFrame: frame, lastFrame: frame, residuals: [], points: [])
        figures.lastFrame = frame
        figures.residuals.append(motion.residual)
        figures.points.append(motion.points)
        figures.motions.append(motion.motion)
        figures.rigid.append(motion.rigidSurround)
        byTrack[track] = figures
    }

    var tracks: [TrackFigures] { byTrack.values.sorted { $0.track < $1.track } }
}

extension LivenessBench {
    struct Report: Codable {
        struct Rule: Codable {
            /// A track is live when its figure is at least `residual` and its surround at most `surroundAtMost`.
            var residual: Double
            var surroundAtMost: Double
            var bpcer: Double?
            var apcer: [String: Double?]
        }

        var clip: String
        var bonaFide: [TrackFigures]
        /// Tracks of the clip measured for less than a second: not counted.
        var shortTracks: Int
        var attacks: [AttackVisit]
        var rules: [Rule]

        var text: String {
            func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "-" }
            func pct(_ v: Double?) -> String { v.map { String(format: "%.1f %%", 100 * $0) } ?? "-" }
            var lines = ["bona fide: \(clip): \(bonaFide.count) tracks followed for 1 s or more (\(shortTracks) shorter, not counted)"]
            var table = Table(header: ["track", "frames", "steps", "moved", "median", "surround", "points"])
            for t in bonaFide {
                table.add(["\(t.track)", "\(t.firstFrame)-\(t.lastFrame)", "\(t.residuals.count)", "\(t.movingSteps.count)", f(t.figure),
                           t.surround.map { String(format: "%.2f", $0) } ?? "-", "\(t.points.sorted()[t.points.count / 2])"])
            }
            lines.append(table.render())
            if !attacks.isEmpty {
                lines.append("attacks: \(attacks.count) visits; a visit's figure is its tracks' largest median residual, its surround their smallest")
                var kinds = Table(header: ["kind", "visits", "judged", "median", "p90", "max", "surround p10", "min"])
                for kind in AttackKind.allCases.map(\.rawValue) {
                    let visits = attacks.filter { $0.kind == kind }
                    let figures = visits.compactMap(\.figure).sorted()
                    let surrounds = visits.compactMap(\.surround).sorted()
                    kinds.add([kind, "\(visits.count)", "\(figures.count)", f(figures.isEmpty ? nil : figures[figures.count / 2]),
                               f(figures.isEmpty ? nil : figures[min(figures.count - 1, figures.count * 9 / 10)]), f(figures.last),
                               surrounds.isEmpty ? "-" : String(format: "%.2f", surrounds[surrounds.count / 10]),
                               surrounds.first.map { String(format: "%.2f", $0) } ?? "-"])
                }
                lines.append(kinds.render())
            }
            lines.append("rules: live when the median residual is at least R and the surround moves with the face at most S;")
            lines.append("bona fide refused (BPCER) and attack visits passed (APCER)")
            var rates = Table(header: ["R", "S", "BPCER"] + AttackKind.allCases.map(\.rawValue))
            for rule in rules {
                rates.add([String(format: "%.3f", rule.residual), String(format: "%.2f", rule.surroundAtMost), pct(rule.bpcer)]
                    + AttackKind.allCases.map { pct(rule.apcer[$0.rawValue] ?? nil) })
            }
            lines.append(rates.render())
            return lines.joined(separator: "\n")
        }
    }
}
