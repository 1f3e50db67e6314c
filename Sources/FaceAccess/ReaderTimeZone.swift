import Foundation
import TOMLKit

public struct UnknownTimeZone: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "unknown time zone '\(name)'; use an IANA name such as Europe/Berlin or America/New_York (timedatectl list-timezones), or UTC"
    }
}

/// The zone facectl shows and reads times in.
public enum ReaderTimeZone {
    /// `--time-zone`, else $TZ when set (the reader's shell chose it), else the zone the door's
    /// schedules use (`policy.timezone` in $FACED_CONFIG or /etc/faced/faced.toml), else the system's.
    /// A config that cannot be read is passed over: reading the log must not depend on it.
    public static func resolve(option: String?, environment: [String: String],
                               defaultConfig: String = "/etc/faced/faced.toml") throws(UnknownTimeZone) -> TimeZone {
        if let option {
            if ["utc", "z", "gmt"].contains(option.lowercased()) { return .gmt }
            guard let zone = TimeZone(identifier: option) else { throw UnknownTimeZone(name: option) }
            return zone
        }
        if let tz = environment["TZ"], !tz.isEmpty { return .current }
        if let name = configured(at: environment["FACED_CONFIG"] ?? defaultConfig), let zone = TimeZone(identifier: name) { return zone }
        return .current
    }

    /// `policy.timezone` of a faced.toml, if it has one.
    public static func configured(at path: String) -> String? {
        // Checked first: toml++ aborts the process on some malformed texts.
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), (try? TOMLSyntax.check(text)) != nil,
              let table = try? TOMLTable(string: text) else { return nil }
        return table["policy"]?.table?["timezone"]?.string
    }
}
