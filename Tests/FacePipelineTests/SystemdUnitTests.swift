import FaceTestSupport
import Foundation
import Testing

/// systemd/faced.service as systemd itself reads it.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
                "/usr/bin/systemd-analyze is not installed (apt-get install systemd)"))
struct SystemdUnitTests {
    static let unit = Fixtures.root.appendingPathComponent("systemd/faced.service").path

    func analyze(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func theUnitVerifies() throws {
        // verify wants ExecStart's binary to exist: point it at the one just built.
        let dir = try TempDirectory()
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/bin/faced --config /etc/faced/faced.toml"))
        let copy = try dir.write("faced.service", Array(text.replacingOccurrences(of: "/usr/bin/faced", with: Binaries.path("faced")).utf8))
        let verify = try analyze(["verify", "--man=no", copy])
        #expect(verify.status == 0 && verify.output.isEmpty, "\(verify.output)")
    }

    @Test func theExposureScoreIsAtMostTwo() throws {
        let security = try analyze(["security", "--offline=true", "--no-pager", Self.unit])
        let line = try #require(security.output.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(security.output)")
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(score <= 2.0, "\(line)")
    }
}
