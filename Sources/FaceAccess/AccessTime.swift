import Foundation

public enum AccessTime {
    /// An ISO 8601 date-time, or a date meaning midnight in `zone`.
    public static func parse(_ text: String, zone: TimeZone = .current) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(timeZone: zone).year().month().day())
    }
}

/// Where each `table.key` of a TOML text is: TOMLKit parses but does not say where a value was.
public enum TOMLKeyLines {
    public static func of(_ text: String) -> [String: Int] {
        var lines = [String: Int](), section = ""
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                section = line.dropFirst().prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces)
                lines[section] = lines[section] ?? number + 1
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = line[..<eq].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                let full = section.isEmpty ? key : section + "." + key
                lines[full] = lines[full] ?? number + 1
            }
        }
        return lines
    }
}
