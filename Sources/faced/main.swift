import ArgumentParser
import FaceAccess
import Foundation

/// The daemon. This release only reports its version; the frame pipeline comes next.
struct Faced: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faced",
        abstract: "Face-recognition access-control daemon (the pipeline is not built yet).",
        discussion: """
            faced will read frames from a camera, identify faces against the gallery that facectl
            manages, decide whether to open the door, and log every decision. This build has only
            --version and --help; use facectl to enroll and identify.
            """,
        version: FacedVersion.string
    )

    func run() throws {
        FileHandle.standardError.write(Data("faced: the daemon pipeline is not built yet; see `faced --help`\n".utf8))
        throw ExitCode(1)
    }
}

Faced.main()
