import Foundation
import TOMLKit

public struct UnknownTimeZone: Error, CustomStringConvertible {
    public let name: String
    public init(name: String) { self.name = name }
    public var description: String {
        "unknown time zone '\(TimeExpressionError.shown(name))'; use an IANA name such as Europe/Berlin or America/New_York "
            + "(timedatectl list-timezones), or UTC"
    }
}

/// The zone facectl shows and reads times in, and a note when a setting was passed over.
public struct ReaderTimeZone: Sendable {
    public var zone: TimeZone
    /// Why $TZ was not used, for one line on stderr.
    public var note: String?

    /// `--time-zone`, else $TZ when set (the reader's shell chose it), else the zone the door's
    /// schedules use (`policy.timezone` in $FACED_CONFIG or /etc/faced/faced.toml), else the
    /// system's (/etc/localtime). A config that cannot be read is passed over: reading the log
    /// must not depend on it. $TZ that is no zone name (a POSIX rule such as "CET-1CEST") is
    /// passed over with a note: Foundation would read it as UTC or with its sign reversed.
    public static func resolve(option: String?, environment: [String: String], defaultConfig: String = "/etc/faced/faced.toml",
                               localtime: String = "/etc/localtime") throws(UnknownTimeZone) -> ReaderTimeZone {
        if let option {
            guard let zone = named(option) else { throw UnknownTimeZone(name: option) }
            return ReaderTimeZone(zone: zone)
        }
        var note: String?
        if let tz = environment["TZ"], !tz.isEmpty {
            if let zone = named(tz) { return ReaderTimeZone(zone: zone) }
            note = "TZ='\(TimeExpressionError.shown(tz))' is not a zone name (such as Europe/Berlin)"
        }
        let zone = configured(at: environment["FACED_CONFIG"] ?? defaultConfig).flatMap(named) ?? system(localtime: localtime)
        return ReaderTimeZone(zone: zone, note: note.map { "\($0); times are in \(zone.identifier)" })
    }

    /// A zone from its IANA name, as `TZ` may also spell it: ":Europe/Berlin",
    /// "/usr/share/zoneinfo/Europe/Berlin". Nil for anything else.
    public static func named(_ text: String) -> TimeZone? {
        var name = text.hasPrefix(":") ? String(text.dropFirst()) : text
        if name.hasPrefix("/"), let range = name.range(of: "/zoneinfo/") { name = String(name[range.upperBound...]) }
        if ["utc", "z", "gmt", "utc0", "gmt0"].contains(name.lowercased()) { return .gmt }
        // Only names the zone database has: Foundation also reads "GMT+5" style offsets, with
        // the sign the other way round from POSIX TZ.
        guard TimeZone.knownTimeZoneIdentifiers.contains(name) || name.hasPrefix("Etc/") else { return nil }
        return TimeZone(identifier: name)
    }

    /// The system's zone from the /etc/localtime link (what glibc uses without TZ), else UTC.
    static func system(localtime: String) -> TimeZone {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: localtime),
           let range = target.range(of: "zoneinfo/"), let zone = named(String(target[range.upperBound...])) {
            return zone
        }
        if let name = try? String(contentsOfFile: "/etc/timezone", encoding: .utf8), let zone = named(name.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return zone
        }
        return FileManager.default.fileExists(atPath: localtime) ? .current : .gmt
    }

    /// `policy.timezone` of a faced.toml, if it has one.
    public static func configured(at path: String) -> String? {
        // Checked first: toml++ aborts the process on some malformed texts.
        // A regular file of sane size only: a FIFO or a device would block or never end.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular,
              (attributes[.size] as? Int ?? .max) < 1 << 20,
              let text = try? String(contentsOfFile: path, encoding: .utf8), (try? TOMLSyntax.check(text)) != nil,
              let table = try? TOMLTable(string: text) else { return nil }
        return table["policy"]?.table?["timezone"]?.string
    }
}
