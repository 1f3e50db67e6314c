import ArgumentParser
import FaceAccess
import FaceStore
import FaceVision
import Foundation

@main
struct Facectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facectl",
        abstract: "Manage faced: enroll people, set their access, identify faces, read and verify the audit log.",
        discussion: """
            The gallery is an SQLite file: --db PATH, else $FACED_DB, else \(FaceStore.defaultPath).
            Models: --models DIR, else $FACED_MODELS, else ./Models, else \(FaceModels.installedDirectory).

            Examples:
              facectl enroll alice alice-1.jpg alice-2.jpg alice-3.jpg
              facectl set alice --groups staff --valid-until 2027-06-30
              facectl group staff --schedule "mon-fri 07:00-19:00"
              facectl identify door.jpg --level strict
              facectl log --decision granted --since "yesterday 20:00" --until today
              facectl log summary --person alice --on "this week"
              facectl log verify
              facectl why 42
              facectl sync Enrollment/access.toml --dry-run
              facectl annotate door.jpg -o door-annotated.jpg
              facectl cameras
              facectl status

            Exit codes:
              0  success (identify: at least one face matched)
              1  input or usage error (missing file, no face, unknown person, bad option)
              2  identify found no matching face
              3  status: faced is not running
              4  status: faced runs but does not respond
            """,
        version: FacedVersion.string,
        subcommands: [Enroll.self, List.self, Show.self, Remove.self, Identify.self, Set_.self, Group.self, Log.self, Why.self, Cameras.self, Status.self, Sync.self, Annotate.self]
    )

    static func main() {
        // Enrollment embeds: with the right kernels, twice as fast (see `BLASKernels`).
        _ = BLASKernels.useBest()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            Foundation.exit(Self.report(error))
        }
    }

    /// Prints `error` the way a user should see it and returns the exit status.
    static func report(_ error: Error) -> Int32 {
        switch error {
        case let exit as ExitCode:
            return exit.rawValue
        case let failure as CommandFailure:
            printError(failure.message)
            return 1
        case let error where isOwnError(error):
            printError(String(describing: error))
            return 1
        default:
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                return 0
            }
            printError(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
            return 1
        }
    }

    private static func isOwnError(_ error: Error) -> Bool {
        error is StoreError || error is FaceEngineError || error is ImageFileError || error is ImageError
    }
}

/// A failure already phrased for the user.
struct CommandFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("facectl: " + message + "\n").utf8))
}
