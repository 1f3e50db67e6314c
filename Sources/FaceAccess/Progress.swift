import Foundation

/// Progress of a bulk job (photos done of total), as a bar for a terminal or as plain lines for
/// a log: the count, the rate and the time left.
public struct ProgressMeter: Sendable {
    public let total: Int
    public let unit: String
    public let start: Date

    public init(total: Int, unit: String = "photos", start: Date = Date()) {
        self.total = total
        self.unit = unit
        self.start = start
    }

    public func rate(done: Int, at now: Date) -> Double {
        let elapsed = now.timeIntervalSince(start)
        return elapsed > 0 ? Double(done) / elapsed : 0
    }

    /// "12/148 photos, 3.1/s, 44 s left"
    public func line(done: Int, at now: Date = Date()) -> String {
        let rate = rate(done: done, at: now)
        var text = "\(done)/\(total) \(unit)"
        if done > 0 { text += String(format: ", %.1f/s", rate) }
        if done == total { text += String(format: ", done in %.1f s", now.timeIntervalSince(start)) }
        else if rate > 0 { text += ", " + Self.duration(Double(total - done) / rate) + " left" }
        return text
    }

    /// "[#########...........]  12/148 photos, 3.1/s, 44 s left", `width` characters of bar.
    public func bar(done: Int, at now: Date = Date(), width: Int = 30) -> String {
        let filled = total > 0 ? min(width, done * width / total) : width
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]  " + line(done: done, at: now)
    }

    /// Plain lines are printed at about every tenth of the job, and at its end.
    public func isMilestone(_ done: Int) -> Bool {
        done == total || done == 1 || (total >= 10 && done % max(1, total / 10) == 0)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s < 60 ? "\(s) s" : s < 3600 ? "\(s / 60) min \(s % 60) s" : "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
