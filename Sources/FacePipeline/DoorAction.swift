import FaceStore
import Foundation

/// The command a grant runs, as argv (no shell), with a time limit.
public struct DoorAction: Sendable, Hashable {
    public var argv: [String]
    public var timeout: Duration
    /// How long the process group has, after SIGTERM at the timeout, before SIGKILL.
    public var grace: Duration = .milliseconds(500)
    /// How much of stdout and stderr (together) is kept; the rest is only counted.
    public static let outputLimit = 4096

    public init(argv: [String], timeout: Duration = .seconds(5)) {
        precondition(!argv.isEmpty, "a door action needs a program")
        self.argv = argv
        self.timeout = timeout
    }

    public struct Outcome: Sendable, Hashable {
        /// The exit status, or nil when the program could not start or was killed by a signal.
        public var status: Int32?
        /// The signal that ended the program, if one did.
        public var signal: Int32?
        /// The program was still running at the timeout and its process group was signalled.
        public var timedOut: Bool
        /// SIGTERM at the timeout was not enough: the group got SIGKILL after the grace.
        public var sentKill = false
        public var timeoutValue: Duration = .zero
        /// From the start to the program's exit (not to the end of its output).
        public var duration: Duration
        public var error: String?
        /// The first `DoorAction.outputLimit` bytes of stdout and stderr, interleaved as written.
        public var output = Data()
        /// All the bytes the program wrote before its exit, kept or not.
        public var outputBytes = 0

        public init(status: Int32?, signal: Int32? = nil, timedOut: Bool, duration: Duration, error: String?) {
            self.status = status
            self.signal = signal
            self.timedOut = timedOut
            self.duration = duration
            self.error = error
        }

        public var outputTruncated: Bool { outputBytes > output.count }

        /// How it ended, in the audit log's own words (the action row's `reason`).
        public var result: Result {
            if error != nil { return .notStarted }
            if timedOut { return .timedOut }
            if signal != nil { return .killed }
            return status == 0 ? .ok : .failed
        }

        public typealias Result = ActionResult

        /// The summary, then what the program printed (first 200 characters, control characters
        /// escaped), for the action's row in the audit log.
        public var detail: String {
            let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return summary }
            let shown = Names.escaped(String(text.prefix(200))) + (text.count > 200 || outputTruncated ? "…" : "")
            return summary + "; output: " + shown
        }

        public var summary: String {
            if let error { return "failed to start: \(error)" }
            if timedOut {
                let stop = sentKill ? "SIGTERM, then SIGKILL" : "SIGTERM"
                let end = signal == nil ? ", exit \(status ?? -1)" : ""
                return "killed after the \(Self.milliseconds(timeoutValue)) ms timeout (\(stop))\(end)"
            }
            if let signal { return "killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "") in \(Self.milliseconds(duration)) ms" }
            return "exit \(status ?? -1) in \(Self.milliseconds(duration)) ms"
        }

        static func milliseconds(_ duration: Duration) -> Int64 {
            duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        }

        static func signalName(_ signal: Int32) -> String? {
            [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
             SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE",
             SIGALRM: "SIGALRM", SIGTERM: "SIGTERM"][signal]
        }
    }

    /// Runs the program with `environment` added to faced's own, waiting at most `timeout`.
    /// The wait happens on a thread of its own: not on Swift's cooperative pool, busy with frames,
    /// nor on Dispatch's global pool, which grows only slowly past the core count when its threads
    /// block (on two cores, a few blocked waits delayed a result by seconds).
    public func run(environment: [String: String]) async -> Outcome {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.runBlocking(environment: environment)) }
        }
    }

    /// The same, blocking the calling thread.
    ///
    /// The program leads a process group of its own, so the timeout reaches whatever it started.
    /// Its result is its own exit, taken from waitpid: a background child that keeps the output
    /// pipe open neither delays the result nor is killed when the program exits in time.
    public func runBlocking(environment: [String: String]) -> Outcome {
        let start = ContinuousClock.now
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(argv, environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new })
        } catch {
            return Outcome(status: nil, timedOut: false, duration: ContinuousClock.now - start, error: "\(argv[0]): \(error)")
        }
        var outcome = Outcome(status: nil, timedOut: false, duration: .zero, error: nil)
        outcome.timeoutValue = timeout
        if !child.waitForExit(until: start + timeout) {
            outcome.timedOut = true
            kill(-child.pid, SIGTERM)
            let graceEnd = ContinuousClock.now + grace
            // The group may outlive its leader (a child that ignores SIGTERM): wait for all of it.
            _ = child.waitForExit(until: graceEnd)
            while child.groupExists, ContinuousClock.now < graceEnd { usleep(10_000) }
            if child.groupExists {
                kill(-child.pid, SIGKILL)
                outcome.sentKill = true
            }
            _ = child.waitForExit(until: nil)
        }
        let (status, exitTime) = child.exit!
        outcome.duration = exitTime - start
        if status & 0x7f == 0 {
            outcome.status = (status >> 8) & 0xff
        } else {
            outcome.signal = status & 0x7f
        }
        (outcome.output, outcome.outputBytes) = child.finishOutput()
        return outcome
    }
}

/// A spawned program: its pid (also its process group), a thread reaping it and a thread reading
/// its output.
private final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private let exited = DispatchSemaphore(value: 0)
    private var exitStatus: (Int32, ContinuousClock.Instant)?
    private let outputDone = DispatchSemaphore(value: 0)
    private var output = Data()
    private var outputBytes = 0
    /// Written to once the program has exited: the reader drains what is there and stops.
    private let stopFDs: (read: Int32, write: Int32)

    struct SpawnError: Error, CustomStringConvertible {
        let code: Int32
        var description: String { String(cString: strerror(code)) }
    }

    private init(pid: pid_t, outputFD: Int32, stopFDs: (read: Int32, write: Int32)) {
        self.pid = pid
        self.stopFDs = stopFDs
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            let now = ContinuousClock.now
            lock.withLock { exitStatus = (status, now) }
            exited.signal()
        }
        Thread.detachNewThread { [self] in
            readOutput(outputFD, stopFD: stopFDs.read)
            close(outputFD)
            outputDone.signal()
        }
    }

    var exit: (Int32, ContinuousClock.Instant)? { lock.withLock { exitStatus } }

    /// Waits for the program's exit until `deadline` (nil: for ever); whether it exited.
    func waitForExit(until deadline: ContinuousClock.Instant?) -> Bool {
        if exit != nil { return true }
        guard let deadline else { exited.wait(); exited.signal(); return true }
        let left = ContinuousClock.now.duration(to: deadline)
        let nanoseconds = max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
        guard exited.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else { return false }
        exited.signal()
        return true
    }

    /// Any member of the program's process group is still there (the reaped leader is not).
    var groupExists: Bool { kill(-pid, 0) == 0 || errno == EPERM }

    /// Stops reading (the program has exited) and returns what was kept and how much was written.
    func finishOutput() -> (Data, Int) {
        var byte: UInt8 = 1
        _ = write(stopFDs.write, &byte, 1)
        outputDone.wait()
        // Both ends closed only now: a write to a pipe without a reader would be SIGPIPE to faced.
        close(stopFDs.write)
        close(stopFDs.read)
        return lock.withLock { (output, outputBytes) }
    }

    private func readOutput(_ fd: Int32, stopFD: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        /// Reads what is there now; false at end of file.
        func drain() -> Bool {
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n > 0 {
                    lock.withLock {
                        let keep = min(n, DoorAction.outputLimit - output.count)
                        if keep > 0 { output.append(contentsOf: buffer[..<keep]) }
                        outputBytes += n
                    }
                } else if n == 0 {
                    return false
                } else if errno != EINTR {
                    return errno == EAGAIN
                }
            }
        }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
        while true {
            guard poll(&fds, 2, -1) >= 0 || errno == EINTR else { return }
            if fds[1].revents != 0 {
                // The program has exited, so all it wrote is in the pipe; a background child still
                // holding the pipe is not waited for (its later writes get EPIPE: its own business).
                _ = drain()
                return
            }
            if fds[0].revents != 0, !drain() { return }
        }
    }

    /// posix_spawn in a new process group, stdin /dev/null, stdout and stderr into one pipe,
    /// signals at their defaults and unblocked (faced blocks SIGTERM for its own handling).
    static func spawn(_ argv: [String], environment: [String: String]) throws -> ChildProcess {
        let output = try makePipe()
        let stop: (read: Int32, write: Int32)
        do { stop = try makePipe() } catch {
            close(output.read)
            close(output.write)
            throw error
        }
        _ = fcntl(output.read, F_SETFL, fcntl(output.read, F_GETFL) | O_NONBLOCK)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, output.write, 2)
        // faced's other descriptors (the gallery, the camera) are not the program's.
        if let closeFrom = libc("posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self) { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        for signal: Int32 in 1 ..< 32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&signals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &signals)

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
        close(output.write)
        guard code == 0 else {
            [output.read, stop.read, stop.write].forEach { _ = close($0) }
            throw SpawnError(code: code)
        }
        return ChildProcess(pid: pid, outputFD: output.read, stopFDs: stop)
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc functions Swift's Glibc module does not declare (they need _GNU_SOURCE).
    private static func libc<F>(_ name: String, as type: F.Type) -> F? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: type) }
    }

    /// A close-on-exec pipe, made so atomically: another thread spawning at the same moment
    /// must not inherit our write end and hold the pipe open.
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2 = libc("pipe2", as: Pipe2.self) {
            guard pipe2(&fds, O_CLOEXEC) == 0 else { throw SpawnError(code: errno) }
        } else {
            guard pipe(&fds) == 0 else { throw SpawnError(code: errno) }
            fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        }
        return (fds[0], fds[1])
    }
}
