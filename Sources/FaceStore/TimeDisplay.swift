import Foundation

/// Times as a person reads them: the wall clock of one zone, the zone named once in a header.
/// A time whose UTC offset differs from the header's (across a daylight-saving change) carries
/// its offset, so the repeated autumn hour is never ambiguous.
public struct TimeDisplay: Sendable {
    public let zone: TimeZone
    /// The offset the header names, in seconds east of UTC.
    public let headerOffset: Int

    public init(zone: TimeZone, reference: Date = Date()) {
        self.zone = zone
        headerOffset = zone.secondsFromGMT(for: reference)
    }

    public var isUTC: Bool { Self.utcNames.contains(zone.identifier) }

    static let utcNames: Set = ["GMT", "UTC", "UCT", "Universal", "Zulu", "Greenwich", "GMT0", "Etc/UTC", "Etc/GMT", "Etc/UCT",
                                "Etc/Universal", "Etc/Zulu", "Etc/Greenwich", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0"]

    /// "times in Europe/Berlin (UTC+01:00)", "times in UTC".
    public var header: String { "times in " + zoneName }

    /// "Europe/Berlin (UTC+01:00)", "UTC".
    public var zoneName: String { isUTC ? "UTC" : "\(zone.identifier) (UTC\(Self.offset(headerOffset)))" }

    /// "2026-11-30 01:41:58", or "2026-10-25 02:30:00 +02:00" when the offset is not the header's.
    public func string(_ date: Date) -> String {
        let offset = zone.secondsFromGMT(for: date)
        let wall = Self.wallClock(date, offset: offset)
        return offset == headerOffset ? wall : wall + " " + Self.offset(offset)
    }

    /// A stored event time (UTC ISO 8601) in this display; text that is not one is shown as stored.
    public func string(stored: String) -> String {
        guard let date = EventTime.parse(stored) else { return stored }
        return string(date)
    }

    /// "2026-11-30".
    public func day(_ date: Date) -> String { String(Self.wallClock(date, offset: zone.secondsFromGMT(for: date)).prefix(10)) }

    /// "08:02:11", with the offset when it is not the header's.
    public func clock(_ date: Date) -> String { String(string(date).dropFirst(11)) }

    /// ISO 8601 with the zone's offset: "2026-11-30T01:41:58+01:00" (for JSON and CSV).
    public func iso(_ date: Date) -> String {
        let offset = zone.secondsFromGMT(for: date)
        let wall = Self.wallClock(date, offset: offset)
        return wall.prefix(10) + "T" + wall.dropFirst(11) + (offset == 0 ? "Z" : Self.offset(offset))
    }

    /// "+01:00", "-04:00", "+05:45".
    static func offset(_ seconds: Int) -> String {
        let minutes = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }

    /// "YYYY-MM-DD HH:MM:SS" of `date` shifted by `offset`, by civil-calendar arithmetic: no
    /// formatter, so thousands of rows cost microseconds and no locale can change the digits.
    static func wallClock(_ date: Date, offset: Int) -> String {
        let seconds = Int(floor(date.timeIntervalSince1970)) + offset
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        let (y, m, d) = Civil.date(days)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }
}

/// The audit log's own time text, "2026-11-30T00:41:58.920Z", read without a formatter.
public enum EventTime {
    public static func parse(_ text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count >= 20, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58, u.last == 90 else {
            return AccessTimeFallback.parse(text)
        }
        func n(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard (48 ... 57).contains(u[i]) else { return nil }; v = v * 10 + Int(u[i] - 48) }
            return v
        }
        guard let y = n(0 ..< 4), let mo = n(5 ..< 7), let d = n(8 ..< 10), let h = n(11 ..< 13), let mi = n(14 ..< 16), let s = n(17 ..< 19),
              (1 ... 12).contains(mo), (1 ... Civil.daysIn(year: y, month: mo)).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var fraction = 0.0
        if u.count > 20 {
            // Nine digits are a nanosecond; more are read as digits but not counted.
            guard u[19] == 46, u.count > 21, u[20 ..< u.count - 1].allSatisfy({ (48 ... 57).contains($0) }),
                  let f = n(20 ..< min(u.count - 1, 29)) else { return nil }
            fraction = Double(f) / pow(10, Double(min(u.count - 21, 9)))
        }
        let days = Civil.days(year: y, month: mo, day: d)
        return Date(timeIntervalSince1970: Double(days * 86400 + h * 3600 + mi * 60 + s) + fraction)
    }
}

/// Proleptic Gregorian dates as days since 1970-01-01 (Howard Hinnant's civil algorithms):
/// plain arithmetic, so no calendar or zone can shift a day.
public enum Civil {
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func date(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, doy - (153 * mp + 2) / 5 + 1)
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        let (y, m) = month == 12 ? (year + 1, 1) : (year, month + 1)
        return days(year: y, month: m, day: 1) - days(year: year, month: month, day: 1)
    }

    public static func monthName(_ month: Int) -> String {
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"][month - 1]
    }
}

/// Rows written by hand or by other tools may hold other ISO 8601 spellings.
enum AccessTimeFallback {
    static func parse(_ text: String) -> Date? {
        (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
    }
}
