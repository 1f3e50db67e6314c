import FacePipeline
import FaceStore
import FaceTestSupport
import FacedModel
import Foundation
import Testing

@Suite struct CameraNameTests {
    static let example = Fixtures.root.appendingPathComponent("systemd/faced.toml").path

    @Test func aCameraNameThatIsNoPlainFileNameIsRefusedAtConfigCheck() throws {
        for name in ["../../x", "a/b", ".hidden", "door\u{1b}[2J", "=HYPERLINK(\"x\")"] {
            let run = try Binaries.run("faced", ["--check-config", Self.example, "--camera", name])
            #expect(run.status == 1, "\(name)")
            #expect(run.stderr.hasPrefix("faced: --camera must ") && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(!run.stderr.contains("\u{1b}"))
        }
        let good = try Binaries.run("faced", ["--check-config", Self.example, "--camera", "front door-2"])
        #expect(good.status == 0 && good.stdout.contains("name = \"front door-2\""), "\(good.stderr)")
    }

    @Test func aConfigFileCameraNameIsCheckedWithItsLine() throws {
        let text = "[camera]\nsource = \"dir:/tmp\"\nname = \"../../x\"\n"
        #expect(throws: ConfigError.self) { try DaemonOptions(configText: text, file: "faced.toml") }
        do { _ = try DaemonOptions(configText: text, file: "faced.toml") } catch let error as ConfigError {
            #expect(error.line == 3 && error.key == "camera.name", "\(error)")
        }
    }

    @Test func theStatusReportShowsStoredTextEscapedOneLineEach() {
        let now = Date()
        var status = DaemonStatus(pid: 7, started: now, config: nil, source: "dir:/tmp/x\nforged", camera: "door\u{1b}[2J", level: "standard")
        status.updated = now
        status.lastCameraError = "lost\r\u{1b}[32mOK"
        var event = AuditEvent(kind: .decision, time: now, camera: "door")
        event.id = 1
        event.decision = .denied
        event.personName = "mallory\n  #2  granted  admin"
        status.add(event)
        let text = status.report(.running, now: now)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 8, "\(text)")
        #expect(!text.unicodeScalars.contains { Names.isControl($0) && $0 != "\n" })
        #expect(text.contains("source:    dir:/tmp/x\\nforged") && text.contains("camera:    \"door\\x1b[2J\""), "\(text)")
        #expect(lines.last?.contains("mallory\\n  #2  granted  admin") == true, "\(text)")
    }
}
