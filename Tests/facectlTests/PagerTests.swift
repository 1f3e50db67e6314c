#if canImport(Glibc)
import Glibc
#endif
import FaceStore
import FaceTestSupport
import Foundation
import Terminal
import Testing

@Suite struct PagerTests {
    @Test(arguments: [
        ([:], "less -FRX"),
        (["PAGER": ""], nil),
        (["PAGER": "  "], nil),
        (["PAGER": "cat"], nil),
        (["PAGER": "more"], "more"),
        (["PAGER": "less -R"], "less -R"),
    ] as [([String: String], String?)])
    func commandFollowsPAGER(environment: [String: String], expected: String?) {
        #expect(Pager.command(environment: environment) == expected)
    }

    @Test func exceedsScreenCountsWrappedLinesAndTabs() {
        let lines = { (n: Int) in String(repeating: "line\n", count: n) }
        #expect(!Pager.exceedsScreen("", rows: 10, columns: 80))
        #expect(!Pager.exceedsScreen("short\n", rows: 10, columns: 80))
        #expect(!Pager.exceedsScreen(lines(9), rows: 10, columns: 80), "rows - 1 lines fit, leaving a row for the prompt")
        #expect(Pager.exceedsScreen(lines(10), rows: 10, columns: 80))
        #expect(!Pager.exceedsScreen(String(lines(9).dropLast()), rows: 10, columns: 80), "no newline at the end")
        #expect(!Pager.exceedsScreen(lines(8) + "\n", rows: 10, columns: 80), "an empty line is one row")
        #expect(Pager.exceedsScreen(lines(9) + "\n", rows: 10, columns: 80))
        // 80 characters fill one row of 80 columns; 81 take two.
        let full = String(repeating: "x", count: 80) + "\n"
        #expect(!Pager.exceedsScreen(String(repeating: full, count: 9), rows: 10, columns: 80))
        let over = String(repeating: "x", count: 81) + "\n"
        #expect(!Pager.exceedsScreen(lines(7) + over, rows: 10, columns: 80))
        #expect(Pager.exceedsScreen(lines(8) + over, rows: 10, columns: 80))
        #expect(Pager.exceedsScreen(String(repeating: "y", count: 9 * 80 + 1), rows: 10, columns: 80), "one long line wraps")
        // A tab goes to the next multiple of 8: 10 tabs fill 80 columns, one more character wraps.
        let tabs = String(repeating: "\t", count: 10)
        #expect(!Pager.exceedsScreen(lines(8) + tabs + "\n", rows: 10, columns: 80))
        #expect(Pager.exceedsScreen(lines(8) + tabs + "z\n", rows: 10, columns: 80))
        #expect(!Pager.exceedsScreen(lines(8) + "abc" + tabs + "\n", rows: 10, columns: 80), "abc and a tab reach column 8, as a tab alone")
        #expect(Pager.exceedsScreen(lines(8) + "abcdefgh" + tabs + "\n", rows: 10, columns: 80), "from column 8 a tab goes to 16")
        #expect(!Pager.exceedsScreen("é👍🏽\n", rows: 2, columns: 2), "a Character counts one column")
    }
}

/// facectl log with its stdout on a pseudo-terminal of a known size, and $PAGER a command that leaves a trace.
@Suite struct PagerCLITests {
    let dir: TempDirectory
    let cli: CLI
    var paged: String { dir.file("paged.txt") }
    var recordingPager: String { "cat > '\(paged)'" }

    init() throws {
        dir = try TempDirectory()
        cli = CLI(db: dir.file("faced.db"))
    }

    func addEvents(_ count: Int) throws {
        let store = try FaceStore(path: cli.db)
        for i in 1...count {
            var event = AuditEvent(kind: .decision, time: Date(), camera: "door")
            event.decision = .granted
            event.personName = "person\(i)"
            event.framesUsed = 3
            try store.append(event)
        }
    }

    /// Whether `text` holds events #1...#count, each once.
    func holdsEvents(_ text: String, _ count: Int) -> Bool {
        (1...count).allSatisfy { text.components(separatedBy: "#\($0)  ").count == 2 }
            && !text.contains("#\(count + 1)  ")
    }

    @Test func longOutputGoesThroughThePager() throws {
        try addEvents(50)
        let run = try runOnTerminal(["log"], pager: recordingPager)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        let text = try String(contentsOfFile: paged, encoding: .utf8)
        #expect(holdsEvents(text, 50), "\(text)")
        #expect(!run.terminal.contains("#1  "), "the pager took it all: \(run.terminal)")
        // JSON and CSV page too.
        for format in ["--json", "--csv"] {
            try FileManager.default.removeItem(atPath: paged)
            let run = try runOnTerminal(["log", format], pager: recordingPager)
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
            let text = try String(contentsOfFile: paged, encoding: .utf8)
            #expect(text.contains("person50") && text.contains("person1"), "\(format): \(text)")
        }
    }

    @Test func noPagerPrintsOnTheTerminal() throws {
        try addEvents(50)
        let run = try runOnTerminal(["log", "--no-pager"], pager: recordingPager)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: paged))
        #expect(holdsEvents(run.terminal, 50), "\(run.terminal)")
    }

    @Test func shortOutputIsNotPaged() throws {
        try addEvents(3)
        let run = try runOnTerminal(["log"], pager: recordingPager)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: paged))
        #expect(holdsEvents(run.terminal, 3), "\(run.terminal)")
    }

    @Test func aPipeIsNeverPaged() throws {
        try addEvents(50)
        let process = Binaries.process("facectl", ["log", "--db", cli.db])
        process.environment?["PAGER"] = recordingPager
        process.environment?["LINES"] = "10"
        process.environment?["COLUMNS"] = "80"
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: paged))
        #expect(holdsEvents(stdout, 50), "\(stdout)")
    }

    @Test func theSizeComesFromLINESAndCOLUMNSWhenTheTerminalHasNone() throws {
        try addEvents(50)
        let sized = try runOnTerminal(["log"], pager: recordingPager, rows: 0, columns: 0, environment: ["LINES": "10", "COLUMNS": "80"])
        #expect(sized.status == 0)
        #expect(holdsEvents(try String(contentsOfFile: paged, encoding: .utf8), 50))
        try FileManager.default.removeItem(atPath: paged)
        let unsized = try runOnTerminal(["log"], pager: recordingPager, rows: 0, columns: 0)
        #expect(unsized.status == 0)
        #expect(!FileManager.default.fileExists(atPath: paged), "no size known: printed plainly")
        #expect(holdsEvents(unsized.terminal, 50))
    }

    @Test(arguments: ["no-such-pager-4f1c -R", "/nonexistent/pager", "LESS=x no-such-pager-4f1c"])
    func aMissingPagerStillPrintsEverything(pager: String) throws {
        try addEvents(50)
        let run = try runOnTerminal(["log"], pager: pager)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        #expect(holdsEvents(run.terminal, 50), "\(run.terminal)")
    }

    /// Quitting the pager before the end: facectl's writes hit a closed pipe and it must exit 0 quietly.
    @Test func aPagerThatQuitsAtOnceEndsFacectlQuietly() throws {
        // More than a pipe's 64 KiB buffer, so facectl is still writing when the pager has gone.
        try addEvents(400)
        // One ends before reading, one reads a little and stops, as someone quitting less on its first page.
        for pager in ["true", "head -c 100 > /dev/null"] {
            let run = try runOnTerminal(["log", "--json"], pager: pager)
            #expect(run.status == 0, "\(pager): \(run.status) \(run.stderr)")
            #expect(run.stderr.isEmpty, "\(pager): \(run.stderr)")
            #expect(!run.terminal.contains("person"), "\(pager): nothing printed plainly after the pager")
        }
    }

    /// Ctrl-C while the pager runs is the pager's (less redraws or stops a search): facectl must not die of it
    /// and leave the pager behind on the terminal.
    @Test func anInterruptWhileThePagerRunsDoesNotKillFacectl() throws {
        try addEvents(50)
        let started = dir.file("started"), release = dir.file("release")
        let pager = "sh -c 'touch \(started); while [ ! -e \(release) ]; do sleep 0.05; done; cat > \(paged)'"
        let run = try runOnTerminal(["log"], pager: pager) { process in
            let end = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: started) && Date() < end { Thread.sleep(forTimeInterval: 0.02) }
            try #require(FileManager.default.fileExists(atPath: started), "the pager did not start")
            kill(process.processIdentifier, SIGINT)
            FileManager.default.createFile(atPath: release, contents: nil)
        }
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.status) \(run.stderr)")
        #expect(holdsEvents(try String(contentsOfFile: paged, encoding: .utf8), 50))
    }

    struct TerminalRun {
        /// The exit status, or minus the signal that ended the process.
        var status: Int32
        var terminal: String
        var stderr: String
    }

    /// Runs facectl with its stdout on a new pseudo-terminal of `rows` × `columns` and returns what reached the terminal.
    func runOnTerminal(_ arguments: [String], pager: String, rows: UInt16 = 10, columns: UInt16 = 80,
                       environment: [String: String] = [:], meanwhile: (Process) throws -> Void = { _ in }) throws -> TerminalRun {
        let master = try PTY.openMaster()
        defer { close(master) }
        let slave = open(try PTY.slaveName(master), O_RDWR | O_NOCTTY)
        try #require(slave >= 0)
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        try #require(ioctl(slave, UInt(TIOCSWINSZ), &size) == 0)

        let process = Binaries.process("facectl", arguments + ["--db", cli.db])
        process.environment?["PAGER"] = pager
        for name in ["LINES", "COLUMNS", "LESS"] { process.environment?[name] = nil }
        for (name, value) in environment { process.environment?[name] = value }
        let slaveHandle = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.standardOutput = slaveHandle
        let err = Pipe()
        process.standardError = err
        process.standardInput = FileHandle.nullDevice

        // Read the terminal meanwhile, or a child writing more than its buffer would block.
        let terminal = TerminalReader(master)
        // The test runner's threads block SIGINT and a spawned child inherits that; a shell would not.
        var interrupt = sigset_t(), saved = sigset_t()
        sigemptyset(&interrupt)
        sigaddset(&interrupt, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &interrupt, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
        pthread_sigmask(SIG_SETMASK, &saved, nil)
        try meanwhile(process)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        close(slave)  // The last writer gone, reading the master ends (EIO).
        return TerminalRun(status: process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus,
                           terminal: terminal.finish(), stderr: stderr)
    }
}

/// posix_openpt and its kin, which Swift's Glibc module hides behind _XOPEN_SOURCE, looked up in libc.
enum PTY {
    struct Failed: Error, CustomStringConvertible {
        var call: String
        var description: String { "\(call) failed: errno \(errno)" }
    }

    private static func function<F>(_ name: String, as type: F.Type) throws -> F {
        guard let symbol = dlsym(nil, name) else { throw Failed(call: "dlsym(\(name))") }
        return unsafeBitCast(symbol, to: type)
    }

    static func openMaster() throws -> Int32 {
        let openpt = try function("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)
        let grant = try function("grantpt", as: (@convention(c) (Int32) -> Int32).self)
        let unlock = try function("unlockpt", as: (@convention(c) (Int32) -> Int32).self)
        let master = openpt(O_RDWR | O_NOCTTY)
        guard master >= 0 else { throw Failed(call: "posix_openpt") }
        guard grant(master) == 0, unlock(master) == 0 else {
            close(master)
            throw Failed(call: "grantpt/unlockpt")
        }
        return master
    }

    static func slaveName(_ master: Int32) throws -> String {
        let name = try function("ptsname_r", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32).self)
        var buffer = [CChar](repeating: 0, count: 128)
        guard name(master, &buffer, buffer.count) == 0 else { throw Failed(call: "ptsname_r") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Collects what is written to a pseudo-terminal, on a thread of its own until the terminal's last writer closes it.
final class TerminalReader: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ master: Int32) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(master, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                lock.withLock { data.append(contentsOf: buffer[..<n]) }
            }
            done.signal()
        }
    }

    /// What reached the terminal, once it is closed, with its "\r\n" line ends back to "\n".
    func finish() -> String {
        done.wait()
        return lock.withLock { String(decoding: data, as: UTF8.self) }.replacingOccurrences(of: "\r\n", with: "\n")
    }
}
