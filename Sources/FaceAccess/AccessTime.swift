import Foundation

public enum AccessTime {
    /// An ISO 8601 date-time, or a date meaning local midnight.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(timeZone: .current).year().month().day())
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

/// toml++ (inside TOMLKit 0.6) stops the process on a failed assertion for a table header that
/// does not start with a name (`[.x]`, `[#`, `[=]`, `[é]`, a lone `[`) instead of reporting a
/// parse error (found by fuzzing). The TOML readers look for such a line first and report it.
public enum TOMLPreflight {
    public static let message = "a table header must start with a name: letters, digits, _ or -, or a quoted name"

    /// The 1-based line of the first line starting with `[` or `[[` whose next character (after
    /// spaces) cannot start a key, or nil. Lines inside multi-line strings are skipped; inside a
    /// multi-line array, a nested array or inline table starting a line (`[{`) is reported too,
    /// which neither faced.toml nor an access manifest has.
    public static func badTableHeader(in text: String) -> Int? {
        var openString: String?  // the delimiter of a multi-line string that spans this line
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if openString == nil {
                var rest = raw.drop { $0 == " " || $0 == "\t" || $0 == "\u{FEFF}" }
                if rest.first == "[" {
                    rest = rest.dropFirst()
                    if rest.first == "[" { rest = rest.dropFirst() }
                    let next = rest.drop { $0 == " " || $0 == "\t" }.first
                    guard let next, next.isASCII, next.isLetter || next.isNumber || "_-\"']".contains(next) else { return number + 1 }
                }
            }
            for delimiter in ["\"\"\"", "'''"] where openString == nil || openString == delimiter {
                if raw.components(separatedBy: delimiter).count % 2 == 0 { openString = openString == nil ? delimiter : nil }
            }
        }
        return nil
    }
}
