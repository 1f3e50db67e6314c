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
    public func run(environment: [String: String]) async -> Outcome {
        let start = ContinuousClock.now
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.yield(); exited.continuation.finish() }
        do {
            try process.run()
        } catch {
            return Outcome(status: nil, timedOut: false, duration: ContinuousClock.now - start, error: "\(argv[0]): \(error.localizedDescription)")
        }
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask { for await _ in exited.stream { break }; return false }
            group.addTask { try? await Task.sleep(for: timeout); return true }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        if timedOut {
            process.terminate()
            try? await Task.sleep(for: .milliseconds(200))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return Outcome(status: nil, timedOut: true, duration: ContinuousClock.now - start, error: nil)
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, timedOut: false, duration: ContinuousClock.now - start, error: nil)
    }
}
