import Foundation
import Testing
@testable import FaceAccess

/// `facectl log --since/--until/--on` time expressions, in two zones and across both DST changes of 2026
/// (Berlin 2026-03-29 and 2026-10-25 at 02:00/03:00; New York 2026-03-08 and 2026-11-01 at 02:00).
@Suite struct TimeExpressionTests {
    enum Expect: Sendable {
        case moment(String)
        case period(String, String)
        /// Words the error's reason must contain.
        case error(String)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let text: String, zone: String, now: String, expect: Expect
        init(_ text: String, _ zone: String, _ now: String, _ expect: Expect) {
            (self.text, self.zone, self.now, self.expect) = (text, zone, now, expect)
        }
        var testDescription: String { "'\(text.prefix(40))' in \(zone) at \(now)" }
    }

    static let berlin = "Europe/Berlin", newYork = "America/New_York"
    /// A Tuesday in winter time, far from a DST change.
    static let tuesday = "2026-11-24T15:30:00+01:00"

    static let table: [Case] = [
        // Relative moments: fixed lengths, as facectl always read them.
        Case("now", berlin, tuesday, .moment("2026-11-24T15:30:00+01:00")),
        Case("30m", berlin, tuesday, .moment("2026-11-24T15:00:00+01:00")),
        Case("2h", berlin, tuesday, .moment("2026-11-24T13:30:00+01:00")),
        Case("1.5h", berlin, tuesday, .moment("2026-11-24T14:00:00+01:00")),
        Case("0s", berlin, tuesday, .moment("2026-11-24T15:30:00+01:00")),
        Case("3d", berlin, tuesday, .moment("2026-11-21T15:30:00+01:00")),
        Case("1w", berlin, tuesday, .moment("2026-11-17T15:30:00+01:00")),
        Case("3 days ago", berlin, tuesday, .moment("2026-11-21T15:30:00+01:00")),
        Case("1 hour ago", berlin, tuesday, .moment("2026-11-24T14:30:00+01:00")),
        Case("90 mins ago", berlin, tuesday, .moment("2026-11-24T14:00:00+01:00")),
        Case("2h ago", berlin, tuesday, .moment("2026-11-24T13:30:00+01:00")),
        Case("  2H\t", berlin, tuesday, .moment("2026-11-24T13:30:00+01:00")),
        // A relative day is 24 h even across a change: 12:00 CEST less 1d is 11:00 CET.
        Case("1d", berlin, "2026-03-29T12:00:00+02:00", .moment("2026-03-28T11:00:00+01:00")),
        Case("1 day ago", newYork, "2026-11-01T12:00:00-05:00", .moment("2026-10-31T13:00:00-04:00")),

        // ISO 8601 with a zone, without one (local), a date (the local day).
        Case("2026-11-24T20:00:00Z", newYork, tuesday, .moment("2026-11-24T20:00:00Z")),
        Case("2026-11-24T20:00:00+01:00", newYork, tuesday, .moment("2026-11-24T19:00:00Z")),
        Case("2026-11-24T20:00:00.250Z", berlin, tuesday, .moment("2026-11-24T20:00:00.250Z")),
        Case("2026-11-24 20:00:00-05:00", berlin, tuesday, .moment("2026-11-25T01:00:00Z")),
        Case("2026-11-24T20:00", berlin, tuesday, .moment("2026-11-24T20:00:00+01:00")),
        Case("2026-11-24t20:00:30", newYork, tuesday, .moment("2026-11-24T20:00:30-05:00")),
        Case("2026-11-24 20:00", newYork, tuesday, .moment("2026-11-24T20:00:00-05:00")),
        Case("2026-11-24", berlin, tuesday, .period("2026-11-24T00:00:00+01:00", "2026-11-25T00:00:00+01:00")),
        Case("2028-02-29", newYork, tuesday, .period("2028-02-29T00:00:00-05:00", "2028-03-01T00:00:00-05:00")),

        // Named days; a weekday is the most recent one, today included.
        Case("today", berlin, tuesday, .period("2026-11-24T00:00:00+01:00", "2026-11-25T00:00:00+01:00")),
        Case("Yesterday", berlin, tuesday, .period("2026-11-23T00:00:00+01:00", "2026-11-24T00:00:00+01:00")),
        Case("tomorrow", berlin, tuesday, .period("2026-11-25T00:00:00+01:00", "2026-11-26T00:00:00+01:00")),
        Case("TUESDAY", berlin, tuesday, .period("2026-11-24T00:00:00+01:00", "2026-11-25T00:00:00+01:00")),
        Case("tues", berlin, tuesday, .period("2026-11-24T00:00:00+01:00", "2026-11-25T00:00:00+01:00")),
        Case("mon", berlin, tuesday, .period("2026-11-23T00:00:00+01:00", "2026-11-24T00:00:00+01:00")),
        Case("wed", berlin, tuesday, .period("2026-11-18T00:00:00+01:00", "2026-11-19T00:00:00+01:00")),
        Case("sunday", berlin, tuesday, .period("2026-11-22T00:00:00+01:00", "2026-11-23T00:00:00+01:00")),
        Case("last tue", berlin, tuesday, .period("2026-11-17T00:00:00+01:00", "2026-11-18T00:00:00+01:00")),
        Case("last  monday", berlin, tuesday, .period("2026-11-23T00:00:00+01:00", "2026-11-24T00:00:00+01:00")),
        Case("thurs", newYork, "2026-11-26T09:00:00-05:00", .period("2026-11-26T00:00:00-05:00", "2026-11-27T00:00:00-05:00")),
        // Late on Sunday in New York it is Monday in UTC: the zone decides what today is.
        Case("today", newYork, "2026-11-23T03:00:00Z", .period("2026-11-22T00:00:00-05:00", "2026-11-23T00:00:00-05:00")),

        // Times of day: today, even in the future.
        Case("20:00", berlin, tuesday, .moment("2026-11-24T20:00:00+01:00")),
        Case("8:05", berlin, tuesday, .moment("2026-11-24T08:05:00+01:00")),
        Case("08:00:30", newYork, "2026-11-24T15:30:00-05:00", .moment("2026-11-24T08:00:30-05:00")),
        Case("8pm", berlin, tuesday, .moment("2026-11-24T20:00:00+01:00")),
        Case("8 PM", berlin, tuesday, .moment("2026-11-24T20:00:00+01:00")),
        Case("8:30pm", berlin, tuesday, .moment("2026-11-24T20:30:00+01:00")),
        Case("12am", berlin, tuesday, .moment("2026-11-24T00:00:00+01:00")),
        Case("12:30am", berlin, tuesday, .moment("2026-11-24T00:30:00+01:00")),
        Case("12pm", berlin, tuesday, .moment("2026-11-24T12:00:00+01:00")),
        Case("11:59 pm", berlin, tuesday, .moment("2026-11-24T23:59:00+01:00")),
        Case("yesterday 20:00", berlin, tuesday, .moment("2026-11-23T20:00:00+01:00")),
        Case("mon 08:00", berlin, tuesday, .moment("2026-11-23T08:00:00+01:00")),
        Case("2026-11-24 8pm", newYork, tuesday, .moment("2026-11-24T20:00:00-05:00")),
        Case("last tue 7:15am", berlin, tuesday, .moment("2026-11-17T07:15:00+01:00")),
        Case("tomorrow 23:59:59", berlin, tuesday, .moment("2026-11-25T23:59:59+01:00")),

        // Weeks (ISO, from Monday) and months.
        Case("this week", berlin, tuesday, .period("2026-11-23T00:00:00+01:00", "2026-11-30T00:00:00+01:00")),
        Case("Last Week", berlin, tuesday, .period("2026-11-16T00:00:00+01:00", "2026-11-23T00:00:00+01:00")),
        Case("this month", berlin, tuesday, .period("2026-11-01T00:00:00+01:00", "2026-12-01T00:00:00+01:00")),
        Case("last month", berlin, tuesday, .period("2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00")),
        Case("last month", newYork, "2026-01-15T12:00:00-05:00", .period("2025-12-01T00:00:00-05:00", "2026-01-01T00:00:00-05:00")),

        // Berlin's DST changes: a 23 h day, a 25 h day, yesterday the day after each, the gap, the repeated hour.
        Case("2026-03-29", berlin, tuesday, .period("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")),
        Case("2026-10-25", berlin, tuesday, .period("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00")),
        Case("yesterday", berlin, "2026-03-30T10:00:00+02:00", .period("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")),
        Case("yesterday", berlin, "2026-10-26T10:00:00+01:00", .period("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00")),
        Case("2026-03-29 02:30", berlin, tuesday, .moment("2026-03-29T03:30:00+02:00")),
        Case("2026-03-29T02:00", berlin, tuesday, .moment("2026-03-29T03:00:00+02:00")),
        Case("02:30", berlin, "2026-03-29T12:00:00+02:00", .moment("2026-03-29T03:30:00+02:00")),
        Case("2026-10-25 02:30", berlin, tuesday, .moment("2026-10-25T02:30:00+02:00")),
        Case("2026-10-25 01:59", berlin, tuesday, .moment("2026-10-25T01:59:00+02:00")),
        Case("2026-10-25 03:00", berlin, tuesday, .moment("2026-10-25T03:00:00+01:00")),
        Case("last week", berlin, "2026-04-01T12:00:00+02:00", .period("2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00")), // 167 h
        Case("last week", berlin, "2026-10-28T12:00:00+01:00", .period("2026-10-19T00:00:00+02:00", "2026-10-26T00:00:00+01:00")), // 169 h

        // New York's.
        Case("2026-03-08", newYork, tuesday, .period("2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00")),
        Case("2026-11-01", newYork, tuesday, .period("2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00")),
        Case("yesterday", newYork, "2026-03-09T09:00:00-04:00", .period("2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00")),
        Case("yesterday", newYork, "2026-11-02T09:00:00-05:00", .period("2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00")),
        Case("2026-03-08 02:30", newYork, tuesday, .moment("2026-03-08T03:30:00-04:00")),
        Case("2:30am", newYork, "2026-03-08T12:00:00-04:00", .moment("2026-03-08T03:30:00-04:00")),
        Case("2026-11-01 01:30", newYork, tuesday, .moment("2026-11-01T01:30:00-04:00")),
        Case("sun 1:30am", newYork, "2026-11-03T12:00:00-05:00", .moment("2026-11-01T01:30:00-04:00")),
        Case("last week", newYork, "2026-03-11T12:00:00-04:00", .period("2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00")), // 167 h
        Case("last week", newYork, "2026-11-04T12:00:00-05:00", .period("2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00")), // 169 h
        // Sunday ends the ISO week.
        Case("this week", newYork, "2026-03-08T12:00:00-04:00", .period("2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00")),

        // São Paulo's clocks went from 00:00 to 01:00 on 2018-11-04: that day begins at 01:00 and lasts 23 h.
        Case("2018-11-04", "America/Sao_Paulo", tuesday, .period("2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00")),

        // Errors: each names what is wrong.
        Case("", berlin, tuesday, .error("empty")),
        Case(" \t ", berlin, tuesday, .error("empty")),
        Case("xyz", berlin, tuesday, .error("unknown word 'xyz'")),
        Case("next week", berlin, tuesday, .error("unknown word 'next'")),
        Case("25:00", berlin, tuesday, .error("25:00: hour must be 0-23")),
        Case("12:60", berlin, tuesday, .error("minute must be 0-59")),
        Case("12:00:60", berlin, tuesday, .error("second must be 0-59")),
        Case("13pm", berlin, tuesday, .error("hour must be 1-12 with am or pm")),
        Case("0am", berlin, tuesday, .error("hour must be 1-12 with am or pm")),
        Case("8", berlin, tuesday, .error("is not a time of day")),
        Case("20:0", berlin, tuesday, .error("is not a time of day")),
        Case("yesterday foo", berlin, tuesday, .error("'foo' after 'yesterday' is not a time of day")),
        Case("today 20:00 21:00", berlin, tuesday, .error("'21:00' after 'today' is not a time of day")),
        Case("20:00 yesterday", berlin, tuesday, .error("put the day first")),
        Case("last", berlin, tuesday, .error("'last' needs week, month or a weekday")),
        Case("last foo", berlin, tuesday, .error("'last' needs week, month or a weekday")),
        Case("this", berlin, tuesday, .error("'this' needs week or month")),
        Case("last week 20:00", berlin, tuesday, .error("is a period")),
        Case("now now", berlin, tuesday, .error("unknown word 'now'")),
        Case("-3d", berlin, tuesday, .error("negative")),
        Case("-3 days ago", berlin, tuesday, .error("negative")),
        Case("3 days", berlin, tuesday, .error("needs 'ago'")),
        Case("3 fortnights ago", berlin, tuesday, .error("unknown unit 'fortnights'")),
        Case("1e3h", berlin, tuesday, .error("is not a time of day")),
        Case("infh", berlin, tuesday, .error("unknown word 'infh'")),
        Case("nanh", berlin, tuesday, .error("unknown word 'nanh'")),
        Case(String(repeating: "9", count: 150) + "h", berlin, tuesday, .error("too long ago")),
        Case(String(repeating: "9", count: 5000) + "h", berlin, tuesday, .error("longer than 200 characters")),
        Case("２０:００", berlin, tuesday, .error("unknown word")),
        Case("٢٠:٠٠", berlin, tuesday, .error("unknown word")),
        Case("2026-02-30", berlin, tuesday, .error("February 2026 has no day 30")),
        Case("2026-13-01", berlin, tuesday, .error("month must be 1-12")),
        Case("2026-11-24T", berlin, tuesday, .error("is not a time of day")),
        Case("2026-11-24T25:00", berlin, tuesday, .error("hour must be 0-23")),
        Case("20:00Z", berlin, tuesday, .error("a zone goes only with an ISO date")),
        Case("2026-11-24T20:00+1:00", berlin, tuesday, .error("is not a zone")),
        Case("2026-11-24T20:00+24:00", berlin, tuesday, .error("zone offset must be within")),
    ]

    static func date(_ text: String) throws -> Date {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    @Test(arguments: table) func resolves(_ c: Case) throws {
        let zone = try #require(TimeZone(identifier: c.zone))
        let now = try Self.date(c.now)
        switch c.expect {
        case .moment(let at):
            #expect(try TimeExpression.resolve(c.text, now: now, zone: zone) == TimeSpan(moment: Self.date(at)))
        case .period(let start, let end):
            let span = try TimeExpression.resolve(c.text, now: now, zone: zone)
            #expect(span == TimeSpan(start: try Self.date(start), end: try Self.date(end)))
        case .error(let words):
            let error = #expect(throws: TimeExpressionError.self) { try TimeExpression.resolve(c.text, now: now, zone: zone) }
            #expect(error?.text == c.text)
            #expect(error?.reason?.contains(words) == true, "reason: \(error?.reason ?? "none")")
        }
    }

    /// Every day of 2026 in both zones is one local calendar day: it starts where Foundation's
    /// startOfDay says, ends where the next begins, and lasts 24 h except one 23 h and one 25 h day.
    @Test(arguments: [berlin, newYork]) func everyDayOf2026(zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let now = try Self.date(Self.tuesday)
        var previous: TimeSpan?, hours: [Double: Int] = [:], days = 0
        var day = try #require(calendar.date(from: DateComponents(year: 2026, month: 1, day: 1, hour: 12)))
        while calendar.component(.year, from: day) == 2026 {
            let c = calendar.dateComponents([.year, .month, .day], from: day)
            let text = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            let span = try TimeExpression.resolve(text, now: now, zone: zone)
            #expect(span.start == calendar.startOfDay(for: day), "\(text)")
            if let previous { #expect(previous.end == span.start, "\(text)") }
            hours[span.end.timeIntervalSince(span.start) / 3600, default: 0] += 1
            previous = span
            days += 1
            day = try #require(calendar.date(byAdding: .day, value: 1, to: day))
        }
        #expect(days == 365)
        #expect(hours == [23: 1, 24: 363, 25: 1])
    }

    @Test func errorIsOneLineNamingTheTextAndTheForms() throws {
        let plain = #expect(throws: TimeExpressionError.self) { try TimeExpression.resolve("25:00", now: Date(), zone: .gmt) }
        #expect(plain?.description == "cannot read time '25:00': 25:00: hour must be 0-23; use now, today, yesterday, a weekday (mon), "
            + "20:00, \"yesterday 20:00\", \"last week\", 2h, 3d, or ISO 8601 (2026-11-24, 2026-11-24T20:00:00+01:00)")
        let long = String(repeating: "x", count: 100_000) + "\nrm -rf /"
        let cut = #expect(throws: TimeExpressionError.self) { try TimeExpression.resolve(long, now: Date(), zone: .gmt) }
        let line = try #require(cut?.description)
        #expect(!line.contains("\n"))
        #expect(line.count < 400)
        let tab = #expect(throws: TimeExpressionError.self) { try TimeExpression.resolve("yesterday\u{7}\tfoo", now: Date(), zone: .gmt) }
        #expect(tab?.description.unicodeScalars.allSatisfy { $0.value >= 0x20 } == true)
    }

    @Test func spanDescribesItselfInUTC() throws {
        let zone = try #require(TimeZone(identifier: Self.berlin))
        let now = try Self.date(Self.tuesday)
        #expect(try TimeExpression.resolve("20:00", now: now, zone: zone).description == "2026-11-24T19:00:00Z")
        #expect(try TimeExpression.resolve("yesterday", now: now, zone: zone).description == "2026-11-22T23:00:00Z..<2026-11-23T23:00:00Z")
    }

    /// Texts made of the characters the grammar cares about, 20 000 of them: each reads or throws, none crashes,
    /// and what reads is a moment or a forward period.
    @Test func neverCrashes() throws {
        let alphabet = Array("0123456789:.-+ tzTZapmAPMsdhwlastuenoyrfi２٣\u{301}\u{0}\n")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var read = 0
        for name in [Self.berlin, Self.newYork] {
            let zone = try #require(TimeZone(identifier: name))
            for _ in 0..<10_000 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let length = Int(state >> 60) + 1
                let text = String((0..<length).map { i in alphabet[Int((state >> UInt64(i * 4 % 56)) % UInt64(alphabet.count))] })
                if let span = try? TimeExpression.resolve(text, now: Self.date(Self.tuesday), zone: zone) {
                    #expect(span.start <= span.end, "'\(text)'")
                    read += 1
                }
            }
        }
        #expect(read > 0)
    }
}
