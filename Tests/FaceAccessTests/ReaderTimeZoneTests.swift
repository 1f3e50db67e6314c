import FaceAccess
import FaceTestSupport
import Foundation
import Testing

@Suite struct ReaderTimeZoneTests {
    @Test(arguments: [
        ("Europe/Berlin", "Europe/Berlin"), (":Europe/Berlin", "Europe/Berlin"), ("/usr/share/zoneinfo/Asia/Tokyo", "Asia/Tokyo"),
        ("UTC", "GMT"), ("utc", "GMT"), ("Etc/UTC", "Etc/UTC"), ("Etc/GMT+5", "Etc/GMT+5"),
    ])
    func aZoneNameAsTZSpellsIt(_ text: String, _ identifier: String) {
        #expect(ReaderTimeZone.named(text)?.identifier == identifier)
    }

    /// POSIX rules and offsets Foundation would read with the sign reversed are no names.
    @Test(arguments: ["CET-1CEST,M3.5.0,M10.5.0/3", "UTC+5", "GMT+5", "EST5EDT,M3.2.0,M11.1.0", "Mars/Olympus", "", "Europe/Berlin\n"])
    func notAZoneName(_ text: String) {
        #expect(ReaderTimeZone.named(text) == nil)
    }

    @Test func theOptionThenTZThenTheConfigThenTheSystem() throws {
        let dir = try TempDirectory()
        let config = dir.file("faced.toml"), link = dir.file("localtime")
        try "[policy]\ntimezone = \"Asia/Tokyo\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/usr/share/zoneinfo/America/Santiago")
        func resolve(_ option: String?, _ env: [String: String]) throws -> ReaderTimeZone {
            try ReaderTimeZone.resolve(option: option, environment: env, defaultConfig: dir.file("none.toml"), localtime: link)
        }
        #expect(try resolve("Europe/Berlin", ["TZ": "Asia/Tokyo"]).zone.identifier == "Europe/Berlin")
        #expect(try resolve(nil, ["TZ": "America/New_York", "FACED_CONFIG": config]).zone.identifier == "America/New_York")
        #expect(try resolve(nil, ["FACED_CONFIG": config]).zone.identifier == "Asia/Tokyo")
        #expect(try resolve(nil, [:]).zone.identifier == "America/Santiago")
        let posix = try resolve(nil, ["TZ": "CET-1CEST", "FACED_CONFIG": config])
        #expect(posix.zone.identifier == "Asia/Tokyo" && posix.note == "TZ='CET-1CEST' is not a zone name (such as Europe/Berlin); times are in Asia/Tokyo")
        #expect(throws: UnknownTimeZone.self) { try resolve("Mars/Olympus", [:]) }
        // A config that is no regular file, or no TOML, is passed over.
        for odd in ["/dev/zero", dir.path, "/dev/null"] { #expect(try resolve(nil, ["FACED_CONFIG": odd]).zone.identifier == "America/Santiago") }
        try "[policy\ntimezone = ".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try resolve(nil, ["FACED_CONFIG": config]).zone.identifier == "America/Santiago")
    }
}
