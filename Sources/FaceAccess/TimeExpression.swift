import FaceStore
import Foundation

/// What a time expression names: a moment (start == end) or a period [start, end).
public struct TimeSpan: Sendable, Equatable, CustomStringConvertible {
    public var start: Date
    public var end: Date
    public var isMoment: Bool { start == end }

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    public init(moment: Date) { self.init(start: moment, end: moment) }

    public var description: String {
        isMoment ? start.formatted(.iso8601) : "\(start.formatted(.iso8601))..<\(end.formatted(.iso8601))"
    }
}

public struct TimeExpressionError: Error, Equatable, CustomStringConvertible {
    public let text: String
    /// What exactly is wrong, when more can be said than "not a time".
    public let reason: String?

    static let forms = "use now, today, yesterday, a weekday (mon), 20:00, \"yesterday 20:00\", \"last week\", 2h, 3d, "
        + "or ISO 8601 (2026-11-24, 2026-11-24T20:00:00+01:00)"

    public var description: String {
        "cannot read time '\(Self.shown(text))'" + (reason.map { ": \($0)" } ?? "") + "; " + Self.forms
    }

    /// Text as it fits in a one-line message: control characters blanked, long text cut.
    public static func shown(_ text: some StringProtocol) -> String {
        let flat = String(text.prefix(60).map { c in c.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F } ? c : " " })
        return text.count > 60 ? flat + "…" : flat
    }
}

/// The time expressions an administrator types for `facectl log --since/--until/--on`:
/// `now`; `30m`, `2h`, `3d`, `1w`, `3 days ago`; `today`, `yesterday`, `tomorrow`, `mon`, `last mon`,
/// `2026-11-24` (days); `this week`, `last week` (ISO weeks), `this month`, `last month`;
/// `20:00`, `8pm`, `yesterday 20:00`, `mon 8:30am`, `2026-11-24 20:00` (local moments);
/// ISO 8601 date-times with or without a zone. Words are case-insensitive.
///
/// Relative days and weeks are fixed lengths (86 400 s, 604 800 s), not calendar days, as
/// `--since 3d` always was. Named days, weeks and months are local calendar periods, 23 or
/// 25 hours long on a DST change. A wall time in a spring-forward gap moves forward by the
/// gap (02:30 becomes 03:30); one that occurs twice takes the first occurrence.
public enum TimeExpression {
    public static func resolve(_ text: String, now: Date, zone: TimeZone) throws(TimeExpressionError) -> TimeSpan {
        try Reading(text: text, now: now, zone: zone).span()
    }
}

private struct Reading {
    let text: String, now: Date, zone: TimeZone

    func fail(_ reason: String? = nil) -> TimeExpressionError { TimeExpressionError(text: text, reason: reason) }
    func quoted(_ word: some StringProtocol) -> String { "'\(TimeExpressionError.shown(word))'" }

    func span() throws(TimeExpressionError) -> TimeSpan {
        guard text.utf8.count <= 200 else { throw fail("longer than 200 characters") }
        var words = text.lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
        guard let first = words.first else { throw fail("it is empty") }
        if words == ["now"] { return TimeSpan(moment: now) }
        if let ago = try relative(words) { return TimeSpan(moment: now.addingTimeInterval(-ago)) }
        if first == "this" || first == "last", words.count > 1, ["week", "month"].contains(words[1]) {
            guard words.count == 2 else { throw fail("'\(first) \(words[1])' is a period and takes nothing after it") }
            return try period(last: first == "last", month: words[1] == "month")
        }
        if first == "this" { throw fail("'this' needs week or month") }
        // 2026-11-24T20:00 reads as 2026-11-24 20:00.
        if first.count > 11, first.isISODateShaped, first[first.index(first.startIndex, offsetBy: 10)] == "t" {
            words[0...0] = [String(first.prefix(10)), String(first.dropFirst(11))]
        }
        var rest = words[...]
        let day = try day(&rest)
        if rest.isEmpty, let day { return TimeSpan(start: instant(wall: day.number * 86400), end: instant(wall: (day.number + 1) * 86400)) }
        let time = try timeOfDay(rest, after: day?.words)
        if let offset = time.offset {
            guard let day, day.isISO else { throw fail("a zone goes only with an ISO date (2026-11-24T20:00:00+01:00)") }
            return TimeSpan(moment: Date(timeIntervalSince1970: Double(day.number * 86400) + time.seconds - Double(offset)))
        }
        let number: Int
        if let day { number = day.number } else { number = try today() }
        return TimeSpan(moment: instant(wall: number * 86400, plus: time.seconds))
    }

    // MARK: Relative moments

    static let unitLetters: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
    static let unitWords: [String: Double] = [
        "second": 1, "seconds": 1, "minute": 60, "minutes": 60, "min": 60, "mins": 60,
        "hour": 3600, "hours": 3600, "day": 86400, "days": 86400, "week": 604_800, "weeks": 604_800,
    ]

    /// Seconds before now for `2h`, `2h ago`, `2 hours ago`; nil when the words are not of that form.
    func relative(_ words: [String]) throws(TimeExpressionError) -> Double? {
        if let first = words.first, first.hasPrefix("-"), first.dropFirst().first?.isASCIIDigit == true {
            throw fail("\(quoted(first)) is negative; write how long ago as a positive count (3d)")
        }
        var count: Double?, unit: Double?
        switch words.count {
        case 1, 2:
            if words.count == 2, decimal(words[0][...]) != nil, Self.unitWords[words[1]] != nil {
                throw fail("'\(words[0]) \(words[1])' needs 'ago' after it")
            }
            guard words.count == 1 || words[1] == "ago", let letter = words[0].last, let seconds = Self.unitLetters[letter],
                  let n = decimal(words[0].dropLast()) else { return nil }
            (count, unit) = (n, seconds)
        case 3:
            guard let n = decimal(words[0][...]) else { return nil }
            guard let seconds = Self.unitWords[words[1]] else {
                throw fail("unknown unit \(quoted(words[1])); use seconds, minutes, hours, days or weeks")
            }
            guard words[2] == "ago" else { throw fail("'\(words[0]) \(words[1])' needs 'ago' after it") }
            (count, unit) = (n, seconds)
        default: return nil
        }
        guard let count, let unit else { return nil }
        let seconds = count * unit
        // 10 000 years: beyond that a date is no use to anyone and Double loses the seconds.
        guard seconds.isFinite, seconds <= 10_000 * 365.25 * 86400 else { throw fail("\(quoted(words[0])) is too long ago") }
        return seconds
    }

    /// `12` or `1.5`: ASCII digits only, no sign, exponent, inf or nan (which Double(_:) would take).
    func decimal(_ s: Substring) -> Double? {
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !s.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else { return nil }
        return Double(s)
    }

    // MARK: Days and periods

    struct Day { var number: Int; var isISO: Bool; var words: String }

    /// Days since 1970-01-01 of today's local date.
    func today() throws(TimeExpressionError) -> Int {
        let wall = now.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: now))
        guard wall.magnitude < 1e13 else { throw fail("the clock's time is out of range") }
        return Int((wall / 86400).rounded(.down))
    }

    static let weekdays: [String: Int] = [
        "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
        "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
        "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
    ]

    /// A day at the front of the words, consumed; nil when the first word names none.
    func day(_ words: inout ArraySlice<String>) throws(TimeExpressionError) -> Day? {
        guard let word = words.first else { return nil }
        if let date = try isoDate(word) {
            words.removeFirst()
            return Day(number: date, isISO: true, words: word)
        }
        let relative = ["today": 0, "yesterday": -1, "tomorrow": 1]
        if let shift = relative[word] {
            words.removeFirst()
            return Day(number: try today() + shift, isISO: false, words: word)
        }
        if let weekday = Self.weekdays[word] {
            words.removeFirst()
            let today = try today()
            return Day(number: today - (weekdayIndex(today) - weekday + 7) % 7, isISO: false, words: word)
        }
        if word == "last" {
            words.removeFirst()
            guard let next = words.first, let weekday = Self.weekdays[next] else {
                throw fail("'last' needs week, month or a weekday (last mon)")
            }
            words.removeFirst()
            let today = try today()
            return Day(number: today - ((weekdayIndex(today) - weekday + 6) % 7 + 1), isISO: false, words: "last \(next)")
        }
        return nil
    }

    /// 0 for Monday; 1970-01-01 was a Thursday.
    func weekdayIndex(_ day: Int) -> Int { ((day + 3) % 7 + 7) % 7 }

    /// Days since 1970 of `YYYY-MM-DD`; nil when the word is not of that shape, an error when it
    /// is but names no day.
    func isoDate(_ word: String) throws(TimeExpressionError) -> Int? {
        guard word.count == 10, word.isISODateShaped else { return nil }
        let fields = word.split(separator: "-").map { Int($0)! }
        let (y, m, d) = (fields[0], fields[1], fields[2])
        guard (1...12).contains(m) else { throw fail("\(word): month must be 1-12") }
        guard d >= 1, d <= Civil.daysIn(year: y, month: m) else { throw fail("\(word): \(Civil.monthName(m)) \(y) has no day \(d)") }
        return Civil.days(year: y, month: m, day: d)
    }

    func period(last: Bool, month: Bool) throws(TimeExpressionError) -> TimeSpan {
        let today = try today()
        let start: Int, end: Int
        if month {
            let (y, m, _) = Civil.date(today)
            let first = last ? (m == 1 ? (y - 1, 12) : (y, m - 1)) : (y, m)
            start = Civil.days(year: first.0, month: first.1, day: 1)
            end = start + Civil.daysIn(year: first.0, month: first.1)
        } else {
            start = today - weekdayIndex(today) - (last ? 7 : 0)
            end = start + 7
        }
        return TimeSpan(start: instant(wall: start * 86400), end: instant(wall: end * 86400))
    }

    // MARK: Times of day

    /// Seconds after local midnight, and the zone's offset when the time names one (`20:00Z`, `20:00+01:00`).
    func timeOfDay(_ words: ArraySlice<String>, after day: String?) throws(TimeExpressionError) -> (seconds: Double, offset: Int?) {
        guard var word = words.first else { throw fail() }
        var meridiem: String?
        if words.count == 2, ["am", "pm"].contains(words.last!) {
            meridiem = words.last!
        } else if words.count > 1 || !(word.first?.isASCIIDigit ?? false) {
            let leadsWithTime = word.first?.isASCIIDigit == true
            let stray = leadsWithTime ? words[words.startIndex + 1] : word
            if let day { throw fail("\(quoted(stray)) after '\(day)' is not a time of day (20:00, 8pm)") }
            if leadsWithTime { throw fail("\(quoted(stray)) after \(quoted(word)) is not understood; put the day first (yesterday 20:00)") }
            throw fail("unknown word \(quoted(stray))")
        }
        if meridiem == nil, word.hasSuffix("am") || word.hasSuffix("pm") {
            meridiem = String(word.suffix(2))
            word.removeLast(2)
        }
        var offset: Int?
        if meridiem == nil, let colon = word.firstIndex(of: ":"),
           let at = word[colon...].firstIndex(where: { $0 == "z" || $0 == "+" || $0 == "-" }) {
            offset = try zoneOffset(word[at...])
            word = String(word[..<at])
        }
        let fields = word.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count <= 3, fields.count > 1 || meridiem != nil,
              fields[0].count <= 2, fields.dropFirst().prefix(1).allSatisfy({ $0.count == 2 }),
              let hour = Int(ascii: fields[0]), let minute = fields.count > 1 ? Int(ascii: fields[1]) : 0 else {
            throw fail("\(quoted(words.joined(separator: " "))) is not a time of day; write 20:00, 20:00:30 or 8pm")
        }
        var second = 0.0
        if fields.count == 3 {
            let s = fields[2]
            guard s.count >= 2, s.prefix(2).allSatisfy(\.isASCIIDigit), let whole = Int(ascii: s.prefix(2)),
                  s.count == 2 || s.dropFirst(2).first == "." && decimal(("0" + s.dropFirst(2))[...]) != nil else {
                throw fail("\(quoted(words.joined(separator: " "))) is not a time of day; write 20:00, 20:00:30 or 8pm")
            }
            second = Double(whole) + (decimal(("0" + s.dropFirst(2))[...]) ?? 0)
        }
        let shown = words.joined(separator: " ")
        if meridiem != nil {
            guard (1...12).contains(hour) else { throw fail("\(TimeExpressionError.shown(shown)): hour must be 1-12 with am or pm") }
        } else {
            guard (0...23).contains(hour) else { throw fail("\(TimeExpressionError.shown(shown)): hour must be 0-23") }
        }
        guard (0...59).contains(minute) else { throw fail("\(TimeExpressionError.shown(shown)): minute must be 0-59") }
        guard second < 60 else { throw fail("\(TimeExpressionError.shown(shown)): second must be 0-59") }
        let hour24 = meridiem.map { (hour % 12) + ($0 == "pm" ? 12 : 0) } ?? hour
        return (Double(hour24 * 3600 + minute * 60) + second, offset)
    }

    /// `z`, `+01:00`, `-0500`, `+01` as seconds east of UTC.
    func zoneOffset(_ s: Substring) throws(TimeExpressionError) -> Int {
        if s == "z" { return 0 }
        let sign = s.first == "-" ? -1 : 1
        let digits = s.dropFirst().filter { $0 != ":" }
        let colonOK = !s.contains(":") || s.count == 6 && s[s.index(s.startIndex, offsetBy: 3)] == ":"
        guard s.first != "z", colonOK, digits.count == 2 || digits.count == 4, let hh = Int(ascii: digits.prefix(2)),
              let mm = digits.count == 4 ? Int(ascii: digits.suffix(2)) : 0 else {
            throw fail("\(quoted(s)) is not a zone; write Z, +01:00 or -05:00")
        }
        guard hh <= 23, mm <= 59 else { throw fail("\(quoted(s)): zone offset must be within ±23:59") }
        return sign * (hh * 3600 + mm * 60)
    }

    // MARK: Wall time to moment

    /// The moment a local wall time names, `wall` counting seconds from 1970-01-01 00:00 local
    /// as if the zone were UTC. Done by hand because Foundation on Linux is not consistent:
    /// Calendar.date(from:) moves a time in the spring gap forward by the gap, but
    /// date(bySettingHour:) and nextDate(.nextTime) give the first time after the gap.
    func instant(wall whole: Int, plus seconds: Double = 0) -> Date {
        let wall = Double(whole) + seconds
        // Every offset in force within a day of the wall time (no zone's offset exceeds 14 h).
        let offsets = Set([-86400.0, -43200, 0, 43200, 86400].map { zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + $0)) })
        let readings = offsets.map { Date(timeIntervalSince1970: wall - Double($0)) }
        let exact = readings.filter { wall - $0.timeIntervalSince1970 == Double(zone.secondsFromGMT(for: $0)) }
        if let first = exact.min() { return first }
        // In a gap: read the wall time with the offset from before the gap, which lands as far past
        // the gap's start as the wall time was.
        let before = zone.secondsFromGMT(for: readings.min()!)
        return Date(timeIntervalSince1970: wall - Double(before))
    }
}

private extension Character {
    /// Only 0-9: Character.isNumber would take "２" and "٣".
    var isASCIIDigit: Bool { ("0"..."9").contains(self) && isASCII }
}

private extension StringProtocol {
    /// `dddd-dd-dd` at the front.
    var isISODateShaped: Bool {
        let head = Array(prefix(10))
        return head.count == 10 && head.enumerated().allSatisfy { i, c in i == 4 || i == 7 ? c == "-" : c.isASCIIDigit }
    }
}

private extension Int {
    init?(ascii s: some StringProtocol) {
        guard !s.isEmpty, s.allSatisfy(\.isASCIIDigit) else { return nil }
        self.init(s)
    }
}
