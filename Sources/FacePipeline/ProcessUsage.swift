import Foundation

/// What a running process holds, as /proc shows it: what a soak run watches for growth.
public struct ProcessUsage: Sendable, Equatable {
    /// Resident set size (VmRSS), KiB.
    public var rssKiB: Int
    public var threads: Int
    public var openFiles: Int

    public init(rssKiB: Int, threads: Int, openFiles: Int) {
        self.rssKiB = rssKiB
        self.threads = threads
        self.openFiles = openFiles
    }

    /// Reads /proc/PID/status and counts /proc/PID/fd; nil once the process is gone.
    public static func read(pid: Int32, proc: String = "/proc") -> ProcessUsage? {
        guard let status = try? String(contentsOfFile: "\(proc)/\(pid)/status", encoding: .utf8),
              let fields = parse(status: status),
              let fds = try? FileManager.default.contentsOfDirectory(atPath: "\(proc)/\(pid)/fd")
        else { return nil }
        return ProcessUsage(rssKiB: fields.rssKiB, threads: fields.threads, openFiles: fds.count)
    }

    /// VmRSS (KiB) and Threads from the text of /proc/PID/status; nil if either is missing
    /// (a zombie has no VmRSS).
    public static func parse(status: String) -> (rssKiB: Int, threads: Int)? {
        var rss: Int?, threads: Int?
        for line in status.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2 else { continue }
            switch parts[0] {
            case "VmRSS:": rss = Int(parts[1])
            case "Threads:": threads = Int(parts[1])
            default: break
            }
        }
        guard let rss, let threads else { return nil }
        return (rss, threads)
    }
}

/// Least-squares line through samples: the growth rate a soak reports, less sensitive to one
/// noisy sample than first-to-last.
public enum LinearFit {
    /// The slope of y over x; nil with fewer than two distinct x.
    public static func slope(_ points: [(x: Double, y: Double)]) -> Double? {
        guard points.count >= 2 else { return nil }
        let mx = points.map(\.x).reduce(0, +) / Double(points.count)
        let my = points.map(\.y).reduce(0, +) / Double(points.count)
        let sxx = points.map { ($0.x - mx) * ($0.x - mx) }.reduce(0, +)
        guard sxx > 0 else { return nil }
        return points.map { ($0.x - mx) * ($0.y - my) }.reduce(0, +) / sxx
    }
}
