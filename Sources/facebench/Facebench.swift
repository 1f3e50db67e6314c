import ArgumentParser
import FaceVision
import Foundation

@main
struct Facebench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facebench",
        abstract: "Measure faced's engine and matcher, and calibrate the security levels.",
        discussion: """
            Build in release mode for meaningful figures:
              swift build -c release && .build/release/facebench
              .build/release/facebench pipeline --size 1280x720
              .build/release/facebench calibrate --faces-dev ../shared/faces-dev
              .build/release/facebench visits --faces-dev ../shared/faces-dev
            """,
        subcommands: [Speed.self, PipelineBench.self, Idle.self, Walkup.self, LivenessBench.self, AnchorReplay.self, Recall.self, LogBench.self, Calibrate.self, Replay.self, Visits.self, MakeFrames.self, Capture.self, Quality.self, Refusals.self, Soak.self],
        defaultSubcommand: Speed.self
    )

    /// Measured as faced runs: with the embedder's best matrix kernels (see `BLASKernels`).
    static func main() async {
        _ = BLASKernels.useBest()
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand { try await async.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }
}

extension FaceEngine {
    /// Engines as faced runs them: one for looking, one for the describe stage, one more for
    /// part of each frame's detection; one BLAS thread each. `baselineHOG`: the detector built for
    /// any x86-64, where faced would run its AVX2 build (to compare).
    static func pipelineEngines(models: String?, baselineHOG: Bool = false) throws -> (engine: FaceEngine, describer: FaceEngine, helper: FaceEngine) {
        let paths = FaceModels(directory: FaceModels.resolveDirectory(models))
        let engines = (try FaceEngine(models: paths), try FaceEngine(models: paths), try FaceEngine(models: paths))
        if baselineHOG { for engine in [engines.0, engines.1, engines.2] { engine.useHOGBuild(.baseline) } }
        FaceEngine.setBLASThreads(1)
        return engines
    }
}

/// A person's folder of the labelled photo set (`../shared/faces-dev`): name and photo paths.
struct FacesDevPerson {
    var name: String
    var photos: [String]

    /// Every folder of `folder` (not those starting with "_" or ".") with a JPEG or PNG in it, by name.
    static func all(in folder: String) throws -> [FacesDevPerson] {
        let fm = FileManager.default
        return try fm.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix("_") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            let dir = folder + "/" + name
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
            let photos = try fm.contentsOfDirectory(atPath: dir).filter { [".jpg", ".jpeg", ".png"].contains(where: $0.lowercased().hasSuffix) }
                .sorted().map { dir + "/" + $0 }
            return photos.isEmpty ? nil : FacesDevPerson(name: name, photos: photos)
        }
    }
}
