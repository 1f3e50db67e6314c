import FaceStore
import Foundation
import Testing

@Suite struct TimeDisplayTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let newYork = TimeZone(identifier: "America/New_York")!
    static let kathmandu = TimeZone(identifier: "Asia/Kathmandu")!

    func date(_ iso: String) throws -> Date { try Date(iso, strategy: .iso8601) }

    @Test(arguments: [
        ("2026-11-30T00:41:58Z", berlin, "2026-11-30 01:41:58"),
        ("2026-11-30T00:41:58Z", newYork, "2026-11-29 19:41:58"),
        ("2026-11-30T00:41:58Z", kathmandu, "2026-11-30 06:26:58"),
        ("2026-11-30T00:41:58Z", TimeZone.gmt, "2026-11-30 00:41:58"),
        ("2024-02-29T23:30:00Z", berlin, "2024-03-01 00:30:00"),
        ("1969-12-31T23:59:59Z", TimeZone.gmt, "1969-12-31 23:59:59"),
    ])
    func wallClockInTheReadersZone(_ iso: String, _ zone: TimeZone, _ wall: String) throws {
        let at = try date(iso)
        #expect(TimeDisplay(zone: zone, reference: at).string(at) == wall)
    }

    @Test func aTimeOutsideTheHeadersOffsetCarriesItsOwn() throws {
        // The header is taken in winter; the summer-time hour before the autumn change shows +02:00.
        let display = TimeDisplay(zone: Self.berlin, reference: try date("2026-11-01T12:00:00Z"))
        #expect(display.header == "times in Europe/Berlin (UTC+01:00)")
        #expect(display.string(try date("2026-10-25T00:30:00Z")) == "2026-10-25 02:30:00 +02:00")
        #expect(display.string(try date("2026-10-25T01:30:00Z")) == "2026-10-25 02:30:00")
        #expect(display.clock(try date("2026-10-25T00:30:00Z")) == "02:30:00 +02:00")
        #expect(display.iso(try date("2026-10-25T00:30:00Z")) == "2026-10-25T02:30:00+02:00")
        #expect(display.iso(try date("2026-10-25T01:30:00Z")) == "2026-10-25T02:30:00+01:00")
        #expect(TimeDisplay(zone: .gmt).header == "times in UTC")
        #expect(TimeDisplay(zone: .gmt).iso(try date("2026-10-25T01:30:00Z")) == "2026-10-25T01:30:00Z")
        #expect(TimeDisplay(zone: Self.kathmandu).zoneName == "Asia/Kathmandu (UTC+05:45)")
        #expect(TimeDisplay(zone: Self.newYork, reference: try date("2026-07-01T00:00:00Z")).zoneName == "America/New_York (UTC-04:00)")
    }

    @Test func storedTimesReadBackExactlyAndOtherTextIsShownAsIs() throws {
        var seed: UInt64 = 1
        for _ in 0 ..< 2000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let at = Date(timeIntervalSince1970: Double(seed % 4_000_000_000_000) / 1000)
            let stored = AuditEvent.format(at)
            let read = try #require(EventTime.parse(stored), "\(stored)")
            let foundation = try Date(stored, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            // To the precision a Double holds a time of day with milliseconds.
            #expect(abs(read.timeIntervalSince(foundation)) < 0.000_01, "\(stored)")
            #expect(TimeDisplay(zone: .gmt).string(read) == stored.prefix(10) + " " + stored.dropFirst(11).prefix(8))
        }
        #expect(EventTime.parse("2026-11-30T00:41:58Z") == (try date("2026-11-30T00:41:58Z")))
        #expect(EventTime.parse("2026-11-30T01:41:58+01:00") == (try date("2026-11-30T00:41:58Z")))
        // Rows edited by hand: more digits than a Double holds are read, not trapped on.
        let long = try #require(EventTime.parse("2026-11-29T22:59:02.12345678901234567890123Z"))
        #expect(abs(long.timeIntervalSince(try date("2026-11-29T22:59:02Z")) - 0.123456789) < 0.000_001)
        for bad in ["", "yesterday", "2026-13-01T00:00:00.000Z", "2026-02-31T00:00:00.000Z", "2026-02-29T00:00:00Z",
                    "2026-11-29T22:59:02.1234567890123456789x1Z", "2026-11-30T24:00:00.000Z", "2026-11-30T00:41:5x.000Z", "2026-11-30T00:41:58.Z"] {
            #expect(EventTime.parse(bad) == nil, "\(bad)")
            #expect(TimeDisplay(zone: Self.berlin).string(stored: bad) == bad)
        }
    }

    @Test func theCivilArithmeticAgreesWithFoundationForEveryDayOfFourCenturies() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let display = TimeDisplay(zone: .gmt)
        var day = try date("1900-01-01T12:34:56Z")
        let end = try date("2300-01-01T00:00:00Z")
        var mismatches = [String](), days = 0
        while day < end {
            let c = calendar.dateComponents([.year, .month, .day], from: day)
            let want = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            if display.day(day) != want { mismatches.append(want) }
            day += 86400
            days += 1
        }
        #expect(days == 146_097 && mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
