import FacePipeline
import Foundation
import Testing

/// What `facebench soak` reads from /proc and how it turns samples into a growth rate.
@Suite struct ProcessUsageTests {
    @Test func parsesRSSAndThreadsFromProcStatus() {
        let status = "Name:\tfaced\nState:\tS (sleeping)\nVmPeak:\t  912340 kB\nVmRSS:\t  183412 kB\nRssAnon:\t  120000 kB\nThreads:\t7\n"
        let fields = ProcessUsage.parse(status: status)
        #expect(fields?.rssKiB == 183_412)
        #expect(fields?.threads == 7)
        // A zombie's status has no VmRSS.
        #expect(ProcessUsage.parse(status: "Name:\tfaced\nState:\tZ (zombie)\nThreads:\t1\n") == nil)
    }

    /// `sleep` started through sh, with `extra` more descriptors open; returns once it runs.
    static func sleeper(extra: Int) throws -> Process {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        let opens = (0 ..< extra).map { "exec \($0 + 3)</dev/null; " }.joined()
        child.arguments = ["-c", opens + "exec sleep 60"]
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline,
              (try? String(contentsOfFile: "/proc/\(child.processIdentifier)/comm", encoding: .utf8)) != "sleep\n" {
            Thread.sleep(forTimeInterval: 0.02)
        }
        return child
    }

    @Test func readsAnotherProcesssOpenFilesThreadsAndMemoryAndNilOnceItIsGone() throws {
        let plain = try Self.sleeper(extra: 0), more = try Self.sleeper(extra: 3)
        // SIGKILL: a SIGTERM the test runner ignores stays ignored in its children.
        func stop(_ c: Process) { if c.isRunning { kill(c.processIdentifier, SIGKILL) }; c.waitUntilExit() }
        defer { stop(more) }
        let a = try #require(ProcessUsage.read(pid: plain.processIdentifier))
        let b = try #require(ProcessUsage.read(pid: more.processIdentifier))
        // Descriptors the runner leaves inheritable come on top of 0, 1 and 2; both children have them.
        #expect(a.openFiles >= 3)
        #expect(b.openFiles == a.openFiles + 3)
        #expect(a.threads == 1 && b.threads == 1)
        #expect(a.rssKiB > 0)
        stop(plain)
        #expect(ProcessUsage.read(pid: plain.processIdentifier) == nil)
    }

    @Test func theSlopeIsTheLeastSquaresLine() throws {
        // 2 per unit with noise that cancels; a single outlier moves the fit less than first-to-last.
        let points: [(x: Double, y: Double)] = [(0, 10), (1, 13), (2, 13), (3, 17)]
        #expect(abs(try #require(LinearFit.slope(points)) - 2.1) < 1e-9)
        #expect(LinearFit.slope([(1, 5)]) == nil)
        #expect(LinearFit.slope([(1, 5), (1, 9)]) == nil)
    }
}
