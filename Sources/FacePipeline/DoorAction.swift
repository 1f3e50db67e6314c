import Foundation

/// The command a grant runs, as argv (no shell), with a time limit.
public struct DoorAction: Sendable, Hashable {
    public var argv: [String]
    public var timeout: Duration

    public init(argv: [String], timeout: Duration = .seconds(5)) {
        precondition(!argv.isEmpty, "a door action needs a program")
        self.argv = argv
        self.timeout = timeout
    }

    public struct Outcome: Sendable, Hashable {
        /// The exit status, or nil when the program could not start or was killed at the timeout.
        public var status: Int32?
        public var timedOut: Bool
        public var duration: Duration
        public var error: String?

        public var summary: String {
            let ms = Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
            if let error { return "failed to start: \(error)" }
            if timedOut { return "killed after the \(ms) ms timeout" }
            return "exit \(status ?? -1) in \(ms) ms"
        }
    }

    /// Runs the program with `environment` added to faced's own, waiting at most `timeout`.
    /// The wait happens on a Dispatch thread, so the timeout holds even when every thread of
    /// Swift's cooperative pool is busy with frames.
    public func run(environment: [String: String]) async -> Outcome {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.runBlocking(environment: environment)) }
        }
    }

    /// The same, blocking the calling thread.
    public func runBlocking(environment: [String: String]) -> Outcome {
        let start = ContinuousClock.now
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            return Outcome(status: nil, timedOut: false, duration: ContinuousClock.now - start, error: "\(argv[0]): \(error.localizedDescription)")
        }
        let (seconds, attoseconds) = timeout.components
        let limit = DispatchTime.now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        if exited.wait(timeout: limit) == .timedOut {
            process.terminate()
            // SIGTERM may be blocked in the child (it inherits the mask); SIGKILL is not.
            if exited.wait(timeout: .now() + .milliseconds(200)) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
            return Outcome(status: nil, timedOut: true, duration: ContinuousClock.now - start, error: nil)
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, timedOut: false, duration: ContinuousClock.now - start, error: nil)
    }
}
