import ArgumentParser
import FaceAccess
import FaceVision
import Foundation

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure true accepts and false accepts per security level on a labelled photo set.",
        discussion: """
            The set has one folder per person (folders starting with '_' are skipped). People with
            several photos are enrolled from their first ones and probed with the rest; people with one
            photo, and each enrolled person with their own templates removed, are impostors.
            """)

    @Option(help: "Labelled photo set: a folder per person.")
    var facesDev = "../shared/faces-dev"

    @Option(help: "Directory with the dlib models.")
    var models: String?

    @Option(help: "Photos enrolled per person (the rest are probes).")
    var enroll = 2

    @Flag(help: "Also print a sweep of distance thresholds (margin 0).")
    var sweep = false

    func run() throws {
        let engine = try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)))
        let fm = FileManager.default
        let people = try fm.contentsOfDirectory(atPath: facesDev).filter { !$0.hasPrefix("_") && !$0.hasPrefix(".") }
            .filter { var d: ObjCBool = false; return fm.fileExists(atPath: facesDev + "/" + $0, isDirectory: &d) && d.boolValue }
            .sorted()
        var samples = [Calibration.Sample](), skipped = [String]()
        let decoder = ImageDecoder()
        for person in people {
            for file in try fm.contentsOfDirectory(atPath: facesDev + "/" + person).sorted() {
                let path = "\(facesDev)/\(person)/\(file)"
                guard let image = try? decoder.decode(contentsOf: path) else { skipped.append(path + " (unreadable)"); continue }
                let faces = try engine.faces(in: image, minFace: 40)
                guard let face = faces.max(by: { $0.detection.box.area < $1.detection.box.area }) else {
                    skipped.append(path + " (no face)"); continue
                }
                samples.append(.init(label: person, vector: face.embedding.values))
            }
        }
        let calibration = Calibration(samples: samples, enrollPerIdentity: enroll)
        print("faces-dev: \(people.count) people, \(samples.count) photos with a face, \(skipped.count) skipped")
        for s in skipped { print("  skipped \(s)") }
        print("enrolled templates: \(calibration.enrolled.count), genuine probes: \(calibration.genuineProbes.count), "
              + "strangers: \(calibration.strangers.count)\n")
        var table = Table(header: ["level", "max dist", "min margin", "TAR", "true acc", "misid", "impostor att", "false acc", "FAR"])
        func add(_ outcomes: [Calibration.Outcome]) {
            for o in outcomes {
                table.add([o.level.name, String(format: "%.3f", o.level.maxDistance), String(format: "%.3f", o.level.minMargin),
                           String(format: "%.1f%%", o.trueAcceptRate * 100), "\(o.trueAccepts)/\(o.genuineAttempts)",
                           "\(o.misidentified)", "\(o.impostorAttempts)", "\(o.falseAccepts)",
                           String(format: "%.2f%%", o.falseAcceptRate * 100)])
            }
        }
        add(calibration.evaluate(SecurityLevel.presets))
        if sweep {
            var levels = [SecurityLevel]()
            for d in stride(from: 0.30, through: 0.62, by: 0.02) {
                for m in [0.0, 0.03, 0.06, 0.1] {
                    levels.append(SecurityLevel(name: "sweep", maxDistance: Float(d), minMargin: Float(m)))
                }
            }
            add(calibration.evaluate(levels))
        }
        print(table.render())
    }
}
