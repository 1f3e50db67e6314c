import FacePipeline
import FaceStore
import FaceTestSupport
import Foundation
import Logging
import Testing

/// faced's log under systemd: structured journal entries, filtered with journalctl like an
/// administrator would. Uses the running journald, or starts the system's own systemd-journald
/// when none runs and the tests run as root (CI containers have no init).
@Suite(.serialized) struct JournalTests {
    static let socketPath = "/run/systemd/journal/socket"
    static let journald = "/lib/systemd/systemd-journald"

    /// Someone is bound to the journal socket (a datagram connect is refused otherwise).
    static func journalAnswers() -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.enumerated() { raw[i] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// A journald to log to and the one this suite started (to stop), or why there is none.
    /// Worked out once, and only when the test that needs it is run.
    nonisolated(unsafe) static let journalSetup: (started: Process?, skip: String?) = journal()

    static func journal() -> (started: Process?, skip: String?) {
        if journalAnswers() { return (nil, nil) }
        guard getuid() == 0 else { return (nil, "no journald runs and the tests are not root, so none can be started") }
        guard FileManager.default.isExecutableFile(atPath: journald),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/journalctl") else {
            return (nil, "no journald runs and \(journald) or journalctl is missing (apt-get install systemd)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: journald)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return (nil, "could not start \(journald): \(error)") }
        let end = Date().addingTimeInterval(10)
        while !journalAnswers(), Date() < end { Thread.sleep(forTimeInterval: 0.1) }
        if !journalAnswers() {
            process.terminate()
            return (nil, "\(journald) started but does not answer on \(socketPath)")
        }
        return (process, nil)
    }

    /// `journalctl` entries of one process matching `filters`, as JSON objects.
    static func entries(pid: Int32, _ filters: [String]) throws -> [[String: Any]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        process.arguments = ["--no-pager", "-o", "json", "_PID=\(pid)"] + filters
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test(.enabled(if: JournalTests.journalSetup.skip == nil,
                   "no journald answers and none can be started (needs root and systemd-journald, journalctl: apt-get install systemd)"))
    func decisionsAreJournalEntriesThatJournalctlFiltersByDecisionAndPerson() throws {
        let started = Self.journalSetup.started
        defer { started?.terminate(); started?.waitUntilExit() }

        let dir = try TempDirectory()
        let db = dir.file("faced.db")
        let (bytes, _) = try ReplayBuilder().build([
            .empty(frames: 5), .photo(try Fixtures.image("obama3.jpg"), frames: 10), .empty(frames: 8),
            .photo(try Fixtures.image("biden.jpg"), frames: 10), .empty(frames: 5),
        ])
        let replay = try dir.write("door.mjpeg", bytes)
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")

        // As under systemd: stderr is the journal stream that $JOURNAL_STREAM names.
        let stderrPath = dir.file("stderr")
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        var info = stat()
        #expect(fstat(stderr.fileDescriptor, &info) == 0)
        let faced = Binaries.process("faced", ["--liveness", "off", "--source", "mjpeg:\(replay)", "--db", db, "--exit-at-end"])
        faced.environment?["JOURNAL_STREAM"] = "\(info.st_dev):\(info.st_ino)"
        faced.standardError = stderr
        try faced.run()
        faced.waitUntilExit()
        let pid = faced.processIdentifier
        let plain = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        #expect(faced.terminationStatus == 0, "\(plain)")

        var granted = [[String: Any]]()
        let end = Date().addingTimeInterval(15)
        repeat {
            granted = try Self.entries(pid: pid, ["FACED_DECISION=granted"])
            if !granted.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < end
        #expect(granted.count == 1, "journalctl FACED_DECISION=granted _PID=\(pid): \(granted)")
        let grant = try #require(granted.first)
        #expect(grant["FACED_PERSON"] as? String == "obama")
        // Event 1 is obama's enrollment.
        #expect(grant["FACED_EVENT_ID"] as? String == "2")
        #expect((grant["FACED_HASH"] as? String)?.count == 64 && grant["FACED_GALLERY"] as? String != nil, "\(grant)")
        #expect(grant["FACED_KIND"] as? String == "decision" && grant["FACED_CAMERA"] as? String == "door")
        #expect(grant["PRIORITY"] as? String == "5" && grant["SYSLOG_IDENTIFIER"] as? String == "faced")
        #expect((grant["MESSAGE"] as? String)?.hasPrefix("event 2: granted obama, distance 0.") == true, "\(grant)")

        let unknown = try Self.entries(pid: pid, ["FACED_DECISION=unknown"])
        #expect(unknown.count == 1 && unknown.first?["FACED_REASON"] as? String == "unknown" && unknown.first?["FACED_PERSON"] == nil)
        #expect(try Self.entries(pid: pid, ["FACED_PERSON=obama"]).count == 1)
        let all = try Self.entries(pid: pid, [])
        #expect(all.contains { ($0["MESSAGE"] as? String)?.hasPrefix("started: source mjpeg:") == true }, "every line goes to the journal")
        // Not twice: the journal took the lines, so stderr has none of them.
        #expect(!plain.contains("event 2"), "\(plain)")
    }

    @Test func outsideSystemdTheLinesArePlainOnStderr() {
        #expect(FacedLogHandler.detectedSink(environment: [:]) == .stderr)
        #expect(FacedLogHandler.detectedSink(environment: ["JOURNAL_STREAM": "1:2"]) == .stderr, "stderr is not that stream")
        #expect(FacedLogHandler.detectedSink(environment: ["JOURNAL_STREAM": "junk"]) == .stderr)
    }

    @Test func journalFieldsCarryTheMetadataUnderFacedNames() {
        var event = AuditEvent(kind: .decision, time: Date(), camera: "front")
        event.id = 7
        event.hash = String(repeating: "ab", count: 32)
        event.decision = .denied
        event.reason = .denial(.outsideSchedule)
        event.personName = "alice"
        event.bestDistance = 0.4123
        event.framesUsed = 3
        let fields = FacedLogHandler.journalFields(event.logLine, level: event.logLevel, metadata: event.logMetadata, identifier: "faced")
        #expect(fields == [
            "MESSAGE=event 7: denied (outside_schedule) alice, distance 0.412, 3 frames", "PRIORITY=5", "SYSLOG_IDENTIFIER=faced",
            "FACED_CAMERA=front", "FACED_DECISION=denied", "FACED_DISTANCE=0.412", "FACED_EVENT_ID=7", "FACED_FRAMES=3",
            "FACED_HASH=\(event.hash)", "FACED_KIND=decision", "FACED_PERSON=alice", "FACED_REASON=outside_schedule",
        ])
        #expect(FacedLogHandler.fieldName("last-frame.age") == "FACED_LAST_FRAME_AGE")
        var action = AuditEvent(kind: .action, time: Date(), camera: "door")
        action.id = 8
        action.refEventID = 7
        action.personName = "alice"
        action.reason = .action(.timedOut)
        action.detail = "killed after the 5000 ms timeout"
        #expect(action.logLine == "event 8: door action for #7 alice: killed after the 5000 ms timeout" && action.logLevel == .warning)
        action.reason = .action(.ok)
        action.detail = "exit 0 in 6 ms"
        #expect(action.logLevel == .info)
        var lost = AuditEvent(kind: .camera, time: Date(), camera: "door")
        lost.reason = .camera(.lost)
        #expect(lost.logLevel == .warning)
    }
}
