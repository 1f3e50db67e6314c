import FaceStore
import FaceTestSupport
import Foundation
import Testing

/// faced against a real kernel driver: ../shared/tools/v4l2-vm boots Debian's kernel in qemu with
/// the vivid virtual camera and runs Tests/VM/camera-checks.sh there (one boot, about 5–6 min
/// under emulation). The script negotiates formats, loops face frames through vivid's output
/// into faced, and pulls the camera while faced streams; this test checks what it left in /out.
@Suite("Camera in the vivid VM", .serialized)
struct CameraVMTests {
    static let harness = Fixtures.root.deletingLastPathComponent().appendingPathComponent("shared/tools/v4l2-vm").path

    /// Nil when the VM can run; else why not. Worked out once, and only when the test is run.
    static let unavailableReason: String? = unavailable()

    static func unavailable() -> String? {
        guard FileManager.default.fileExists(atPath: harness + "/run.sh") else { return "no VM harness at \(harness)" }
        // build.sh installs qemu, busybox and v4l-utils with apt when they are missing.
        let build = shell([harness + "/build.sh"])
        guard build.status == 0 else { return "the VM harness cannot build here: \(build.output.suffix(400))" }
        guard shell(["sh", "-c", "command -v qemu-system-x86_64"]).status == 0 else { return "qemu-system-x86_64 is not installed" }
        return nil
    }

    @discardableResult
    static func shell(_ argv: [String], environment: [String: String] = [:]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (127, "\(argv[0]): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Builds the payload, boots the VM and returns /out.
    static func runChecks(in temp: TempDirectory) throws -> String {
        let payload = temp.file("payload"), out = temp.file("out")
        let fm = FileManager.default
        try fm.createDirectory(atPath: payload + "/Models", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        for binary in ["faced", "facectl", "facebench"] {
            try fm.copyItem(atPath: Binaries.path(binary), toPath: payload + "/" + binary)
            let libs = shell([harness + "/collect-libs.sh", Binaries.path(binary), payload])
            #expect(libs.status == 0, "collect-libs \(binary): \(libs.output)")
        }
        for model in try fm.contentsOfDirectory(atPath: Fixtures.modelsDirectory) where model.hasSuffix(".dat") {
            try fm.copyItem(atPath: Fixtures.modelsDirectory + "/" + model, toPath: payload + "/Models/" + model)
        }
        try fm.copyItem(atPath: Fixtures.root.appendingPathComponent("Tests/VM/camera-checks.sh").path, toPath: payload + "/camera-checks.sh")
        let frames = try Binaries.run("facebench", ["make-frames", "--close-up", "--size", "640x480", "-o", payload + "/frames",
                                                     Fixtures.photo("obama3.jpg"), Fixtures.photo("biden.jpg")])
        #expect(frames.status == 0, "make-frames: \(frames.stderr)")
        let enroll = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"),
                                                  "--db", payload + "/gallery.db"])
        #expect(enroll.status == 0, "enroll: \(enroll.stderr)")
        let vm = shell([harness + "/run.sh", payload, "sh", "camera-checks.sh"], environment: [
            "V4L2VM_SHARE_PAYLOAD": "1", "V4L2VM_OUT": out, "V4L2VM_TIMEOUT": "1200",
        ])
        let console = vm.output.split(separator: "\n").filter { !$0.contains("schedule_timeout") }.joined(separator: "\n")
        print("--- VM console (vivid's schedule_timeout warnings left out) ---\n\(console)")
        if let log = try? String(contentsOfFile: out + "/faced.log", encoding: .utf8) { print("--- faced in the VM ---\n\(log)") }
        #expect(vm.status == 0, "the VM checks exited with \(vm.status)")
        return out
    }

    @Test("Formats negotiate, faces loop back through faced, controls hold, an unplug and a stall are survived",
          .enabled(if: CameraVMTests.unavailableReason == nil,
                   "needs ../shared/tools/v4l2-vm (its build.sh must succeed) and qemu-system-x86_64"))
    func camera() throws {
        let temp = try TempDirectory()
        let out = try Self.runChecks(in: temp)

        // 1. Negotiation: each format at each size decodes to the size asked for, and the rate
        // faced reports is the one v4l2-ctl reads back from the driver.
        let lines = try String(contentsOfFile: out + "/negotiation.txt", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        var seen = Set<String>()
        for line in lines {
            let fields = line.split(separator: " ", maxSplits: 4).map(String.init)
            try #require(fields.count == 5, "negotiation line: \(line)")
            let (format, size) = (fields[0], fields[1])
            let ctlFps = Double(fields[2].replacingOccurrences(of: "v4l2-ctl-fps=", with: ""))
            let ctlSize = fields[3].replacingOccurrences(of: "v4l2-ctl-size=", with: "")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(fields[4].utf8)) as? [String: Any], "\(line)")
            let granted = try #require(report["format"] as? [String: Any])
            let wh = size.split(separator: "x").compactMap { Int($0) }
            #expect(report["decodedWidth"] as? Int == wh[0] && report["decodedHeight"] as? Int == wh[1], "\(line)")
            #expect(ctlSize == size, "\(line)")
            #expect(granted["fourcc"] as? String == ["yuyv": "YUYV", "grey": "GREY", "rgb": "RGB3"][format], "\(line)")
            let fps = try #require(granted["fps"] as? Double, "\(line)")
            #expect(abs(fps - (ctlFps ?? -1)) < 0.01, "granted \(fps) fps, v4l2-ctl says \(ctlFps ?? -1): \(line)")
            #expect(report["frames"] as? Int == 10)
            seen.insert("\(format) \(size)")
        }
        #expect(seen.count == 6)
        let linked = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/symlink.json"))) as? [String: Any]
        #expect(linked?["frames"] as? Int == 3 && linked?["decodedWidth"] as? Int == 640, "capture through a symlink: \(linked ?? [:])")
        let cameras = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/cameras.json"))) as? [[String: Any]])
        #expect(cameras.map { $0["path"] as? String } == ["/dev/video0", "/dev/video1"])
        #expect(cameras.map { $0["usable"] as? Bool } == [true, false], "video1 is vivid's output node")
        let formats = (cameras.first?["formats"] as? [[String: Any]])?.compactMap { $0["fourcc"] as? String } ?? []
        #expect(["YUYV", "GREY", "RGB3"].allSatisfy(formats.contains), "\(formats)")

        // 2 and 3. The log: obama granted, biden unknown, the camera lost and restored, obama
        // granted again after the return, and an intact hash chain.
        let store = try FaceStore(path: out + "/g.db", create: false)
        let events = try store.events(EventFilter())
        // The gallery's enrollment is the chain's first event; the story is the door's.
        #expect(events.first?.kind == .admin && events.first?.reason == .admin(.enroll))
        let story = events.filter { $0.kind != .admin }
            .map { $0.kind == .decision ? "\($0.decision!.rawValue) \($0.personName ?? "-")" : $0.reason?.rawValue ?? $0.kind.rawValue }
        #expect(story == ["granted obama", "unknown -", "camera_lost", "camera_restored", "granted obama", "camera_lost",
                          "camera_restored"], "log: \(story)")
        let losses = events.filter { $0.reason == .camera(.lost) }.compactMap(\.detail)
        #expect(losses.first?.contains("disconnected") == true && losses.last?.contains("delivered no frame for") == true, "\(losses)")
        let chain = try store.verifyChain()
        #expect(chain.firstBreak == nil && chain.checked == events.count)
        let log = (try? String(contentsOfFile: out + "/faced.log", encoding: .utf8)) ?? ""
        #expect(log.contains("camera streaming: YUYV 640x480"), "faced.log: \(log)")
        #expect(log.contains("camera lost") && log.contains("camera back after"))

        let busy = (try? String(contentsOfFile: out + "/busy.txt", encoding: .utf8)) ?? ""
        #expect(busy.contains("camera /dev/video0 is busy: another program is streaming from it; stop that program"), "\(busy)")

        // 3. Controls: vivid has gain but no power-line filter; a gain changed behind faced's back is set again.
        #expect(log.contains("camera lacks controls: power-line"))
        #expect(log.contains("camera reset gain; set again"))
        let controls = try String(contentsOfFile: out + "/controls.txt", encoding: .utf8)
        // (What v4l2-ctl reads right after changing it races with faced's check every 2 s.)
        let gains = controls.split(separator: "\n")
        #expect(gains.first == "set-by-faced gain: 50" && gains.last == "after gain: 50", "\(controls)")
    }
}
