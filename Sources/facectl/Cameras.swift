import ArgumentParser
import FaceCapture
import Foundation

struct Cameras: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List V4L2 video devices, their formats, sizes and frame rates.",
        discussion: """
            A device marked "usable" captures, streams and offers a format faced decodes (MJPEG, YUYV, \
            GREY or RGB24). Prefer a /dev/v4l/by-id link in faced's --source: /dev/videoN numbers can \
            change when cameras are plugged in another order.

            Example:
              facectl cameras
              facectl cameras --json | jq -r '.[] | select(.usable) | .path'
            """)

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: ArgumentHelp("Look for video nodes in this directory.", valueName: "dir"))
    var devices = "/dev"

    func run() throws {
        let cameras = CameraInfo.all(devices: devices)
        if json { return try printJSON(cameras) }
        if cameras.isEmpty { return print("no video devices in \(devices); is the camera plugged in and its driver loaded?") }
        for camera in cameras {
            var head = "\(camera.path)  \(camera.usable ? "usable" : "not usable")"
            if let card = camera.card { head += "  \(card)" }
            if let bus = camera.busInfo { head += "  (\(bus), driver \(camera.driver ?? "?"))" }
            print(head)
            for link in camera.links { print("  link: \(link)") }
            if let note = camera.note { print("  \(note)") }
            for format in camera.formats {
                let mark = format.fourcc.isSupported ? "" : "  (faced does not decode this)"
                print("  \(format.fourcc) \(format.name)\(format.emulated ? " [converted by libv4l2]" : "")\(mark)")
                if format.emulated { continue }
                for size in format.sizes {
                    let rates = size.fps.map { String(format: "%g", ($0 * 100).rounded() / 100) }.joined(separator: ", ")
                    print("    \(size.stepwise ? "up to " : "")\(size.width)x\(size.height)" + (rates.isEmpty ? "" : "  fps: \(rates)"))
                }
            }
        }
    }
}
