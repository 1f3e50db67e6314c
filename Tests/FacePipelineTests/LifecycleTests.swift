import FacePipeline
import FaceStore
import FaceTestSupport
import Foundation
import Testing

/// faced under a systemd-like supervisor: the test owns $NOTIFY_SOCKET and reads what faced says.
@Suite struct LifecycleTests {
    /// A datagram socket bound at `path`, read with a short timeout.
    final class NotifySocket {
        let fd: Int32
        private(set) var messages = [String]()

        init(path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0, "bind \(path): \(errno)")
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        /// Reads until `done` holds for what arrived, or `seconds` pass.
        func read(until done: ([String]) -> Bool, seconds: Double) {
            let end = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !done(messages), Date() < end {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 { messages.append(String(decoding: buffer[0 ..< n], as: UTF8.self)) }
            }
        }

        func saw(_ line: String) -> Bool { messages.contains { $0.split(separator: "\n").contains(Substring(line)) } }
    }

    @Test func readyWatchdogAndStoppingAroundASIGTERM() throws {
        let dir = try TempDirectory()
        let db = dir.file("faced.db")
        let (bytes, _) = try ReplayBuilder().build([
            .empty(frames: 10), .photo(try Fixtures.image("obama3.jpg"), frames: 200),
        ])
        let replay = try dir.write("door.mjpeg", bytes)
        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", db])
        #expect(enrolled.status == 0)
        let notify = try NotifySocket(path: dir.file("notify"))

        let faced = Binaries.process("faced", ["--source", "mjpeg:\(replay)", "--fps", "10", "--db", db])
        var env = faced.environment ?? [:]
        env["NOTIFY_SOCKET"] = dir.file("notify")
        env["WATCHDOG_USEC"] = "400000"
        faced.environment = env
        let err = Pipe()
        faced.standardError = err
        try faced.run()
        defer { if faced.isRunning { kill(faced.processIdentifier, SIGKILL) } }

        notify.read(until: { _ in notify.saw("READY=1") && notify.messages.filter { $0 == "WATCHDOG=1" }.count >= 3 }, seconds: 60)
        #expect(notify.saw("READY=1"), "\(notify.messages)")
        #expect(notify.messages.filter { $0 == "WATCHDOG=1" }.count >= 3, "pings while frames flow: \(notify.messages)")
        notify.read(until: { _ in notify.messages.contains { $0.hasPrefix("STATUS=last decision: granted obama") } }, seconds: 30)

        kill(faced.processIdentifier, SIGTERM)
        notify.read(until: { _ in notify.saw("STOPPING=1") }, seconds: 20)
        faced.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(notify.saw("STOPPING=1"), "\(notify.messages)")
        #expect(faced.terminationReason == .exit && faced.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("stopping: finishing the frame in hand") && stderr.contains("stopped after"), "\(stderr)")
        let store = try FaceStore(path: db, create: false)
        #expect(try store.events(EventFilter(decision: "granted")).count == 1)
        #expect(try store.verifyChain().firstBreak == nil)
    }

    /// The gallery changes under a running faced: the next visit of a newly enrolled person is
    /// granted, with no restart.
    @Test func enrollingWhileFacedRunsTakesEffectAtTheNextVisit() throws {
        let dir = try TempDirectory()
        let db = dir.file("faced.db")
        let (bytes, _) = try ReplayBuilder().build([.empty(frames: 8), .photo(try Fixtures.image("obama3.jpg"), frames: 8)])
        let replay = try dir.write("visits.mjpeg", bytes)
        // Unpaced, so every frame is processed whatever the machine's load: each visit has its 8
        // frames and each gap its 8 empty ones, enough to end the track (5 missed frames).
        let faced = Binaries.process("faced", ["--source", "mjpeg:\(replay)", "--loop", "--db", db, "--cooldown", "0"])
        let err = Pipe()
        faced.standardError = err
        try faced.run()
        defer { if faced.isRunning { kill(faced.processIdentifier, SIGKILL) } }

        func events(_ decision: String) -> [AuditEvent] {
            guard FileManager.default.fileExists(atPath: db) else { return [] }
            return (try? FaceStore(path: db, create: false).events(EventFilter(decision: decision))) ?? []
        }
        func wait(for decision: String, atLeast count: Int, seconds: Double) {
            let end = Date().addingTimeInterval(seconds)
            while events(decision).count < count, Date() < end { Thread.sleep(forTimeInterval: 0.2) }
        }
        // Nobody enrolled: obama's visits are unknown.
        wait(for: "unknown", atLeast: 1, seconds: 60)
        #expect(events("unknown").count >= 1)
        #expect(events("granted").isEmpty)

        let enrolled = try Binaries.run("facectl", ["enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"), "--db", db])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        let enrolledAt = Date()
        wait(for: "granted", atLeast: 1, seconds: 60)
        let granted = events("granted")
        #expect(granted.first?.personName == "obama", "no grant after enrolling")
        // Decided after the enrollment, by the same process. (How soon depends on the machine's
        // load, so no clock bound here: the pipeline re-reads the gallery at most 1 s after a change.)
        #expect((granted.first?.date).map { $0 > enrolledAt.addingTimeInterval(-0.5) } == true)
        #expect(faced.isRunning, "faced restarted or died")
        kill(faced.processIdentifier, SIGTERM)
        faced.waitUntilExit()
        #expect(faced.terminationStatus == 0)
    }
}
