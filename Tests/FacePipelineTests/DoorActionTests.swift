import FacePipeline
import FaceStore
import FaceTestSupport
import Foundation
import Testing

@Suite struct DoorActionTests {
    /// A shell script in `dir`, as argv. Run by sh, not executed: a file just written can be
    /// "text file busy" while a child forked meanwhile by a parallel test still holds it open.
    func script(_ dir: TempDirectory, _ name: String, _ body: String) throws -> [String] {
        ["/bin/sh", try dir.write(name, Array("\(body)\n".utf8))]
    }

    /// The pid a script wrote to `path`.
    func pid(in path: String) throws -> pid_t {
        try #require(pid_t((try String(contentsOfFile: path, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)), "\(path)")
    }

    /// Running, not a zombie that nobody has reaped yet.
    static func alive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let state = stat.split(separator: ")").last?.split(separator: " ").first else { return true }
        return state != "Z"
    }

    static func deadWithin(_ seconds: Int, _ pid: pid_t) -> Bool {
        let end = ContinuousClock.now + .seconds(seconds)
        while alive(pid), ContinuousClock.now < end { usleep(10_000) }
        return !alive(pid)
    }

    @Test func passesEnvironmentAndExitStatus() async throws {
        let outcome = await DoorAction(argv: ["/bin/sh", "-c", "test \"$FACED_PERSON\" = alice && exit 3"])
            .run(environment: ["FACED_PERSON": "alice"])
        #expect(outcome.status == 3 && !outcome.timedOut && outcome.error == nil && outcome.signal == nil)
        #expect(outcome.summary.hasPrefix("exit 3 in "))
    }

    @Test func aHangingActionIsKilledAtTheTimeout() async throws {
        let outcome = await DoorAction(argv: ["/bin/sleep", "30"], timeout: .milliseconds(300)).run(environment: [:])
        #expect(outcome.timedOut && outcome.status == nil && outcome.signal == SIGTERM)
        #expect(outcome.duration < .seconds(10), "the action did not wait for sleep 30")
        #expect(outcome.summary == "killed after the 300 ms timeout (SIGTERM)", "SIGTERM was enough: \(outcome.summary)")
    }

    @Test func aMissingProgramIsReported() async throws {
        let outcome = await DoorAction(argv: ["/nonexistent/open-door"]).run(environment: [:])
        #expect(outcome.error != nil && outcome.status == nil)
        #expect(outcome.summary == "failed to start: /nonexistent/open-door: No such file or directory")
        let dir = try TempDirectory()
        let notExecutable = try dir.write("open-door", Array("#!/bin/sh\n".utf8))
        chmod(notExecutable, 0o644)
        let refused = await DoorAction(argv: [notExecutable]).run(environment: [:])
        #expect(refused.summary == "failed to start: \(notExecutable): Permission denied", "\(refused.summary)")
    }

    /// The script: the door opens, and a background child closes it 20 s later. The result
    /// is the script's own exit, at once, and the child is left to do its job. Synchronous on
    /// purpose: an async test resumes only when the cooperative pool has a thread, and parallel
    /// tests that block it would be measured too.
    @Test func aBackgroundChildDoesNotDelayTheResult() throws {
        let dir = try TempDirectory()
        let open = try script(dir, "open", """
            echo open
            sleep 20 &
            echo $! > "$PID_FILE"
            echo "left the closer running" >&2
            """)
        let start = ContinuousClock.now
        let outcome = DoorAction(argv: open, timeout: .seconds(5)).runBlocking(environment: ["PID_FILE": dir.file("closer")])
        let took = ContinuousClock.now - start
        let closer = try pid(in: dir.file("closer"))
        defer { kill(closer, SIGKILL) }
        // Measured from the script's exit: on a loaded two-core box the shell alone can take a
        // second to start, but the result must not wait for the child's 20 s.
        #expect(took - outcome.duration < .seconds(1), "the result waited for the background child: \(took), exit after \(outcome.duration)")
        #expect(took < .seconds(10))
        #expect(outcome.status == 0 && !outcome.timedOut && outcome.summary.hasPrefix("exit 0 in "), "\(outcome.summary)")
        #expect(String(decoding: outcome.output, as: UTF8.self) == "open\nleft the closer running\n")
        #expect(Self.alive(closer), "a child of an action that exited in time is the action's business")
    }

    /// A script that ignores SIGTERM, with a child that ignores it too: at the timeout the whole
    /// group gets SIGTERM, then SIGKILL.
    @Test func theTimeoutKillsTheWholeGroupEvenWhenItIgnoresTerm() async throws {
        let dir = try TempDirectory()
        let stubborn = try script(dir, "stubborn", """
            trap '' TERM
            sh -c 'trap "" TERM; echo $$ > "$DIR/child"; while :; do sleep 1; done' &
            echo $$ > "$DIR/leader"
            while :; do sleep 1; done
            """)
        let outcome = await DoorAction(argv: stubborn, timeout: .seconds(1)).run(environment: ["DIR": dir.path])
        let leader = try pid(in: dir.file("leader")), child = try pid(in: dir.file("child"))
        defer { kill(child, SIGKILL) }
        #expect(outcome.timedOut && outcome.sentKill && outcome.signal == SIGKILL && outcome.status == nil)
        #expect(outcome.summary == "killed after the 1000 ms timeout (SIGTERM, then SIGKILL)", "\(outcome.summary)")
        #expect(outcome.duration < .seconds(10))
        #expect(Self.deadWithin(5, leader), "the script")
        #expect(Self.deadWithin(5, child), "the script's child")
    }

    @Test func outputIsCapturedAndBounded() async throws {
        let outcome = await DoorAction(argv: ["/bin/sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x; echo done >&2; exit 4"])
            .run(environment: [:])
        #expect(outcome.status == 4 && outcome.summary.hasPrefix("exit 4 in "), "\(outcome.summary)")
        #expect(outcome.output.count == DoorAction.outputLimit && outcome.output.allSatisfy { $0 == UInt8(ascii: "x") })
        #expect(outcome.outputBytes == 1_048_576 + 5 && outcome.outputTruncated, "every byte counted: \(outcome.outputBytes)")
    }

    @Test func aSignalIsReported() async {
        let outcome = await DoorAction(argv: ["/bin/sh", "-c", "kill -9 $$"]).run(environment: [:])
        #expect(outcome.signal == SIGKILL && outcome.status == nil && !outcome.timedOut)
        #expect(outcome.summary.hasPrefix("killed by signal 9 (SIGKILL) in "), "\(outcome.summary)")
    }

    /// The action leads its own process group, reads nothing from faced's stdin, and gets
    /// signals at their defaults even though the test runner (like faced) blocks SIGTERM.
    @Test func theActionRunsInItsOwnGroupWithStdinClosed() async {
        let outcome = await DoorAction(argv: ["/bin/sh", "-c", """
            set -- $(cat /proc/$$/stat)
            test "$5" = $$ || exit 10
            test "$(wc -c)" = 0 || exit 11
            """]).run(environment: [:])
        #expect(outcome.status == 0, "\(outcome.summary): \(String(decoding: outcome.output, as: UTF8.self))")
        // Read by the program itself: a shell blocks signals while it waits for a command. Signal
        // 32 stays ignored: glibc's posix_spawn does that to its internal signals (32, 33).
        let signals = await DoorAction(argv: ["/bin/grep", "-cE", "^(SigBlk:[[:space:]]*0+|SigIgn:[[:space:]]*[0-9a-f]{8}[08]0{7})$",
                                              "/proc/self/status"]).run(environment: [:])
        #expect(String(decoding: signals.output, as: UTF8.self) == "2\n", "no signal blocked, none of 1-31 ignored")
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
        first.decision = .unknown
        first.reason = .denial(.unknown)
        try store.append(first)

        let process = Binaries.process("facectl", ["log", "--follow", "--db", db])
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // SIGKILL: a child of the test runner inherits its blocked SIGTERM.
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        var second = AuditEvent(kind: .decision, time: Date(), camera: "door")
        second.decision = .granted
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
