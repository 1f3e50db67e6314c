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
    /// blanks) cannot start a key, or nil. Deliberately blind to strings and arrays (a line of a
    /// multi-line string or array is checked too): telling them apart takes a tokenizer, and a
    /// `"""` in a comment fooled a simpler one. Neither faced.toml nor a manifest needs such lines.
    public static func badTableHeader(in text: String) -> Int? {
        // Unicode scalars, not Characters: "[" followed by a combining mark is one Character.
        let blank: (Unicode.Scalar) -> Bool = { ($0.properties.isWhitespace && $0 != "\n") || $0 == "\u{FEFF}" }
        for (number, raw) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = raw.drop(while: blank)
            guard rest.first == "[" else { continue }
            rest = rest.dropFirst()
            if rest.first == "[" { rest = rest.dropFirst() }
            guard let next = rest.drop(while: blank).first, next.isASCII,
                  next.properties.isAlphabetic || ("0" ... "9").contains(next) || "_-\"']".unicodeScalars.contains(next)
            else { return number + 1 }
        }
        return nil
    }
}
