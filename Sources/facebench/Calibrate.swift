import ArgumentParser
import FaceAccess
import FaceVision
import Foundation

struct Calibrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure true accepts and false accepts per security level on a labelled photo set.",
        discussion: """
            The set has one folder per person (folders starting with '_' are skipped). People with \
            several photos are enrolled from their first ones and probed with the rest; people with one \
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

    func run() async throws {
        let engine = try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models)))
        let (samples, skipped) = try Calibration.loadSamples(from: facesDev, engine: engine)
        let people = Set(samples.map(\.label))
        let calibration = Calibration(samples: samples, enrollPerIdentity: enroll)
        print("faces-dev: \(people.count) people with a face, \(samples.count) photos with a face, \(skipped.count) skipped")
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
            for d in stride(from: 0.40, through: 0.60, by: 0.01) {
                for m in [0.0, 0.04, 0.06, 0.08, 0.1, 0.12] {
                    levels.append(SecurityLevel(name: "sweep", maxDistance: Float(d), minMargin: Float(m)))
                }
            }
            add(calibration.evaluate(levels))
        }
        print(table.render())
    }
}
