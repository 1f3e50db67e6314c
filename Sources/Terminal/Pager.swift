#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Long output through a pager, like git and journalctl.
public enum Pager {
    /// Writes `text` to stdout, through the pager when `allowed` and stdout is a terminal whose
    /// height the text (wrapped at the terminal's width) exceeds; else plainly. When the pager cannot
    /// start (not installed, $PAGER names a missing program) the text is printed plainly; a pager that
    /// quits before the end (q in less) drops the rest, as with git.
    public static func show(_ text: String, allowed: Bool) {
        // Swift's print buffers in C's stdout; what is in it goes before the pager's output.
        fflush(nil)
        defer { fflush(nil) }
        let environment = ProcessInfo.processInfo.environment
        guard allowed, isatty(STDOUT_FILENO) == 1, let command = command(environment: environment),
              let (rows, columns) = screenSize(environment: environment),
              exceedsScreen(text, rows: rows, columns: columns),
              canRun(command, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"),
              page(text, command: command, environment: environment)
        else {
            print(text, terminator: "")
            return
        }
    }

    /// Whether `show` could page at all: allowed, stdout a terminal, a pager configured. Callers
    /// that would otherwise join a large output into one text print it line by line instead.
    public static func mayPage(allowed: Bool) -> Bool {
        allowed && isatty(STDOUT_FILENO) == 1 && command(environment: ProcessInfo.processInfo.environment) != nil
    }

    /// The shell command to page with, or nil for none: $PAGER if set (empty or "cat" → nil), else "less -FRX". Pure.
    public static func command(environment: [String: String]) -> String? {
        guard let pager = environment["PAGER"] else { return "less -FRX" }
        let trimmed = pager.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "cat" ? nil : trimmed
    }

    /// Whether `text` takes more than `rows` - 1 screen lines when wrapped at `columns` (count display width per scalar roughly: treat each Character as 1 column, tabs as up to the next multiple of 8). Pure.
    public static func exceedsScreen(_ text: String, rows: Int, columns: Int) -> Bool {
        guard columns > 0 else { return false }
        // One row stays free, as for a shell prompt after the output.
        let limit = rows - 1
        var used = 0, width = 0
        func endLine() { used += max(1, (width + columns - 1) / columns); width = 0 }
        for character in text {
            switch character {
            case "\n", "\r\n":
                endLine()
                if used > limit { return true }
            case "\t": width = (width / 8 + 1) * 8
            default: width += 1
            }
        }
        if width > 0 { endLine() }
        return used > limit
    }

    /// Rows and columns of the terminal on stdout, else of $LINES and $COLUMNS, else nil.
    static func screenSize(environment: [String: String]) -> (rows: Int, columns: Int)? {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 {
            return (Int(size.ws_row), Int(size.ws_col))
        }
        if let rows = environment["LINES"].flatMap({ Int($0) }), let columns = environment["COLUMNS"].flatMap({ Int($0) }),
           rows > 0, columns > 0 {
            return (rows, columns)
        }
        return nil
    }

    /// Whether the command's program (its first word past any VAR=value) is an executable, as a path or on `path`.
    static func canRun(_ command: String, path: String) -> Bool {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let program = words.first(where: { !$0.contains("=") }).map(String.init) else { return false }
        func executable(_ file: String) -> Bool {
            var info = stat()
            return stat(file, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(file, X_OK) == 0
        }
        if program.contains("/") { return executable(program) }
        return path.split(separator: ":").contains { executable("\($0.isEmpty ? "." : $0)/\(program)") }
    }

    /// Runs `/bin/sh -c command` with `text` on its stdin and waits for it; false if it could not start.
    static func page(_ text: String, command: String, environment: [String: String]) -> Bool {
        var environment = environment
        if environment["LESS"] == nil { environment["LESS"] = "FRX" }
        if environment["LV"] == nil { environment["LV"] = "-c" }

        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return false }
        let (readEnd, writeEnd) = (fds[0], fds[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        // The pager gets default SIGINT and SIGPIPE though facectl ignores them meanwhile.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (arg: String) in strdup(arg) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { (key, value) in strdup("\(key)=\(value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        // Ignored from before the spawn, so a Ctrl-C meant for the pager never kills facectl,
        // and quitting the pager early makes writes fail with EPIPE instead of killing facectl.
        let oldPipe = signal(SIGPIPE, SIG_IGN), oldInt = signal(SIGINT, SIG_IGN)
        defer { signal(SIGPIPE, oldPipe); signal(SIGINT, oldInt) }

        var pid = pid_t()
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        close(readEnd)
        guard spawned == 0 else {
            close(writeEnd)
            return false
        }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                break  // EPIPE: the user quit the pager; the rest is not wanted.
            }
            bytes = bytes.dropFirst(written)
        }
        close(writeEnd)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return true
    }
}
