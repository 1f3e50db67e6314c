import ArgumentParser
import FaceStore
import FacedModel
import Foundation

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the faced daemon is doing now.",
        discussion: """
            Reads the status file faced replaces every second (--status-file, else $FACED_STATUS, else \
            \(DaemonStatus.defaultPath)): running or not, pid, uptime, source and its state, frame rate, \
            age of the last frame, camera errors, gallery size and generation, the last 5 decisions.

            Exit codes: 0 running; 3 not running (stopped, crashed, or no status file); 4 running but \
            not responding (no status update for \(Int(DaemonLiveness.staleAfter)) s).

            Examples:
              facectl status
              facectl status --json | jq .fps
            """)

    @Flag(help: "Print JSON: the status file's fields plus state, uptime_seconds and last_frame_age_seconds.")
    var json = false

    @Option(help: ArgumentHelp("The status file faced writes.", valueName: "path"))
    var statusFile: String?

    @OptionGroup var zone: ZoneOptions

    func run() throws {
        let path = DaemonStatus.readPath(statusFile)
        guard FileManager.default.fileExists(atPath: path) else {
            if json { print(#"{"state": "not running", "status_file": null}"#) }
            else { print("faced: not running (no status file at \(path); faced writes it while it runs under systemd, or with --status-file)") }
            throw ExitCode(3)
        }
        let status = try DaemonStatus.read(from: path)
        let now = Date()
        let liveness = DaemonLiveness(status, now: now)
        if json {
            print(String(decoding: try status.summaryJSON(liveness, now: now), as: UTF8.self))
        } else {
            print(status.report(liveness, now: now, display: TimeDisplay(zone: try zone.zone, reference: now)))
        }
        let code = DaemonStatus.exitCode(liveness)
        if code != 0 { throw ExitCode(code) }
    }
}
