import Foundation

/// What a child process did.
public struct ChildRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
}

/// The project's built executables, found next to the running test bundle.
public enum Binaries {
    public static func path(_ name: String) -> String {
        if name.hasPrefix("/") { return name }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [beside, beside.deletingLastPathComponent(), Fixtures.root.appendingPathComponent(".build/debug")] {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        fatalError("\(name) binary not found next to \(beside.path); run `swift build` first")
    }

    /// A process for `name` with the fixture models and no inherited FACED_DB.
    public static func process(_ name: String, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path(name))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["FACED_MODELS"] = Fixtures.modelsDirectory
        env["FACED_DB"] = nil
        process.environment = env
        return process
    }

    /// Runs `name` to completion and captures its output; `environment` is laid over the inherited one.
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildRun {
        let process = process(name, arguments)
        process.environment?.merge(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ChildRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                        stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// Collects what a running child writes to a pipe, for tests that wait on its log lines.
public final class OutputCollector: @unchecked Sendable {
    public let pipe = Pipe()
    private let lock = NSLock()
    private var data = Data()

    public init() {
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self, !chunk.isEmpty else { return }
            self.lock.withLock { self.data.append(chunk) }
        }
    }

    deinit { pipe.fileHandleForReading.readabilityHandler = nil }

    public var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// Waits until `done` holds for the text so far, or `seconds` pass; returns whether it held.
    @discardableResult
    public func wait(seconds: Double, until done: (String) -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if done(text) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return done(text)
    }
}
