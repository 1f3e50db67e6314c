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

    /// Runs `name` to completion and captures its output.
    public static func run(_ name: String, _ arguments: [String]) throws -> ChildRun {
        let process = process(name, arguments)
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
