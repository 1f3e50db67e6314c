import Foundation

/// Days of the week, ISO order (Monday first).
public enum Weekday: Int, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case mon = 1, tue, wed, thu, fri, sat, sun

    public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }

    var name: String { ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][rawValue - 1] }
    var previous: Weekday { Weekday(rawValue: rawValue == 1 ? 7 : rawValue - 1)! }

    /// From Foundation's Gregorian weekday (1 = Sunday).
    init(gregorian: Int) { self = Weekday(rawValue: gregorian == 1 ? 7 : gregorian - 1)! }
}

public struct ScheduleError: Error, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String {
        "invalid schedule '\(text)': \(reason); write e.g. \"mon-fri 07:00-19:00\" or \"sat,sun 10:00-14:00\""
    }
}

/// A weekly time window such as "mon-fri 07:00-19:00", in local time. A window whose end is
/// not after its start runs past midnight ("fri 22:00-02:00" covers Friday night into Saturday);
/// its days are the days it starts on.
public struct Schedule: Sendable, Hashable, Codable, CustomStringConvertible {
    public var days: Set<Weekday>
    /// Minutes since local midnight, 0...1439.
    public var start: Int
    /// Minutes since local midnight, 1...1440 (24:00 ends at midnight).
    public var end: Int

    public init(days: Set<Weekday>, start: Int, end: Int) {
        self.days = days
        self.start = start
        self.end = end
    }

    /// Parses "DAYS HH:MM-HH:MM": days as "mon-fri", "sat,sun", "mon,wed-fri", "daily" or "*".
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw ScheduleError(text: text, reason: "expected days and a time window") }
        days = try Self.parseDays(String(parts[0]), text: text)
        let times = parts[1].split(separator: "-")
        guard times.count == 2, let s = Self.parseTime(times[0]), let e = Self.parseTime(times[1]) else {
            throw ScheduleError(text: text, reason: "the time window must be HH:MM-HH:MM")
        }
        guard s < 1440 else { throw ScheduleError(text: text, reason: "a window cannot start at 24:00") }
        guard s != e else { throw ScheduleError(text: text, reason: "the window is empty") }
        start = s
        end = e
    }

    private static func parseDays(_ field: String, text: String) throws -> Set<Weekday> {
        if field == "daily" || field == "*" { return Set(Weekday.allCases) }
        var days = Set<Weekday>()
        for item in field.split(separator: ",") {
            let ends = item.split(separator: "-").map { name in Weekday.allCases.first { $0.name == name } }
            switch ends.count {
            case 1:
                guard let d = ends[0] else { throw ScheduleError(text: text, reason: "unknown day '\(item)'") }
                days.insert(d)
            case 2:
                guard let a = ends[0], let b = ends[1] else { throw ScheduleError(text: text, reason: "unknown day in '\(item)'") }
                var d = a
                while true {  // ranges wrap: "sat-mon" is sat, sun, mon
                    days.insert(d)
                    if d == b { break }
                    d = Weekday(rawValue: d.rawValue % 7 + 1)!
                }
            default:
                throw ScheduleError(text: text, reason: "cannot read '\(item)'")
            }
        }
        guard !days.isEmpty else { throw ScheduleError(text: text, reason: "no days") }
        return days
    }

    private static func parseTime(_ s: Substring) -> Int? {
        let hm = s.split(separator: ":")
        guard hm.count == 2, hm[0].count <= 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]),
              (0 ... 24).contains(h), (0 ... 59).contains(m), h < 24 || m == 0 else { return nil }
        return h * 60 + m
    }

    /// Whether `date`, seen on a wall clock in `timeZone`, falls inside this window.
    public func contains(_ date: Date, in timeZone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        let day = Weekday(gregorian: c.weekday!)
        let minute = c.hour! * 60 + c.minute!
        if end > start { return days.contains(day) && minute >= start && minute < end }
        return (days.contains(day) && minute >= start) || (days.contains(day.previous) && minute < end)
    }

    public var description: String {
        // Runs of three or more days print as ranges: "mon-fri", "mon,wed-sun".
        var runs = [[Weekday]]()
        for d in days.sorted() {
            if let last = runs.last?.last, last.rawValue + 1 == d.rawValue { runs[runs.count - 1].append(d) } else { runs.append([d]) }
        }
        let dayText = days.count == 7 ? "daily" : runs.map { run in
            run.count >= 3 ? "\(run.first!.name)-\(run.last!.name)" : run.map(\.name).joined(separator: ",")
        }.joined(separator: ",")
        func hhmm(_ m: Int) -> String { String(format: "%02d:%02d", m / 60, m % 60) }
        return "\(dayText) \(hhmm(start))-\(hhmm(end))"
    }
}
