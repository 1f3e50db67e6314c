import ArgumentParser

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
        version: "0.1.0"
    )

    func run() throws {
        throw ValidationError("the daemon pipeline is not implemented yet; see `faced --help`")
    }
}

Faced.main()
