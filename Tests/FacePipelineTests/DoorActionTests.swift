import FacePipeline
import FaceStore
import FaceTestSupport
import Foundation
import Testing

@Suite struct DoorActionTests {
    @Test func passesEnvironmentAndExitStatus() async throws {
        let outcome = await DoorAction(argv: ["/bin/sh", "-c", "test \"$FACED_PERSON\" = alice && exit 3"])
            .run(environment: ["FACED_PERSON": "alice"])
        #expect(outcome.status == 3 && !outcome.timedOut && outcome.error == nil)
        #expect(outcome.summary.hasPrefix("exit 3 in "))
    }

    @Test func aHangingActionIsKilledAtTheTimeout() async throws {
        let outcome = await DoorAction(argv: ["/bin/sleep", "30"], timeout: .milliseconds(300)).run(environment: [:])
        #expect(outcome.timedOut && outcome.status == nil)
        #expect(outcome.duration < .seconds(10), "the action did not wait for sleep 30")
        #expect(outcome.summary.hasPrefix("killed after the"))
    }

    @Test func aMissingProgramIsReported() async {
        let outcome = await DoorAction(argv: ["/nonexistent/open-door"]).run(environment: [:])
        #expect(outcome.error != nil && outcome.status == nil)
        #expect(outcome.summary.hasPrefix("failed to start: /nonexistent/open-door"))
    }
}

@Suite struct LogFollowTests {
    // Synchronous on purpose: blocking sleeps on its own thread do not wait for a busy
    // cooperative pool, so the timing holds under a loaded test run.
    @Test func followPrintsEventsAsTheyArrive() throws {
        let dir = try TempDirectory()
        let db = dir.file("faced.db")
        let store = try FaceStore(path: db)
        var first = AuditEvent(kind: .decision, time: Date(), camera: "door")
        first.decision = "unknown"
        first.reason = "unknown"
        try store.append(first)

        let process = Binaries.process("facectl", ["log", "--follow", "--db", db])
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // SIGKILL: a child of the test runner inherits its blocked SIGTERM.
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        var second = AuditEvent(kind: .decision, time: Date(), camera: "door")
        second.decision = "granted"
        second.personName = "alice"
        Thread.sleep(forTimeInterval: 0.3)
        try store.append(second)

        var text = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while !text.contains("#2"), ContinuousClock.now < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        #expect(text.contains("#1") && text.contains("unknown"))
        #expect(text.contains("#2") && text.contains("granted  alice"), "\(text)")
    }
}
