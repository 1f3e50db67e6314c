/// The first place a text stops being TOML 1.0, with what a person should fix there.
public struct TOMLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based; columns count Unicode scalars.
    public let line: Int
    public let column: Int
    public let message: String

    /// What the TOML readers put after `file:line: `.
    public var located: String { "column \(column): \(message)" }
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A recogniser for the TOML 1.0 grammar (toml.io/en/v1.0.0, its ABNF). toml++ (inside TOMLKit
/// 0.6) stops the whole process on a failed assertion for some malformed texts (`s=[}`, `[.x]`,
/// found by fuzzing) instead of throwing, so the TOML readers let only texts this accepts reach
/// it. Syntax only: duplicate keys and redefined tables are left to toml++, which reports them.
/// Stricter than the spec where toml++ or TOMLKit would go wrong: a second of 60 (toml++ refuses
/// it), nesting (dotted key parts included) deeper than `maxDepth`, and an escaped NUL (TOMLKit hands strings and keys over as
/// C strings, so "a\u0000b" would read as "a").
public enum TOMLSyntax {
    public static let maxDepth = 100
    public static let headerMessage = "a table header must start with a name: letters, digits, _ or -, or a quoted name"

    public static func check(_ text: String) throws(TOMLSyntaxError) {
        let bytes = Array(text.utf8)
        var checker = Checker(b: bytes)
        do { try checker.document() } catch {
            // Counted only on failure: a valid text never pays for it.
            let before = bytes[..<min(error.at, bytes.count)]
            let lineStart = (before.lastIndex(of: newline) ?? -1) + 1
            let line = before.reduce(1) { $0 + ($1 == newline ? 1 : 0) }
            let column = bytes[lineStart ..< before.endIndex].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
            throw TOMLSyntaxError(line: line, column: column, message: error.message)
        }
    }

    /// `text` as a TOML basic string that reads back as `text`.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let digits = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static let newline = UInt8(ascii: "\n")
}

private struct Failure: Error {
    let at: Int
    let message: String
}

private func ascii(_ s: Unicode.Scalar) -> UInt8 { UInt8(ascii: s) }
private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
private func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66) }
private func isBare(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x2D || c == 0x5F }
/// What may appear in an unquoted value: numbers, dates, times, true, false, inf, nan.
private func isValueByte(_ c: UInt8) -> Bool { isBare(c) || c == 0x2B || c == 0x2E || c == 0x3A }
/// Controls TOML forbids in comments and strings: all but tab, and DEL.
private func isControl(_ c: UInt8) -> Bool { (c < 0x20 && c != 0x09) || c == 0x7F }

private struct Checker {
    let b: [UInt8]
    var i = 0
    var depth = 0

    init(b: [UInt8]) { self.b = b }

    var peek: UInt8? { i < b.count ? b[i] : nil }
    func peek(_ offset: Int) -> UInt8? { i + offset < b.count ? b[i + offset] : nil }
    func starts(_ s: String) -> Bool { b[i...].starts(with: s.utf8) }

    /// The byte (or scalar) at `at`, worded for a message.
    func found(_ at: Int? = nil) -> String {
        let at = at ?? i
        guard at < b.count else { return "the end of the file" }
        let c = b[at]
        switch c {
        case ascii("\n"): return "the end of the line"
        case ascii("\r") where at + 1 < b.count && b[at + 1] == ascii("\n"): return "the end of the line"
        case 0x20: return "a space"
        case 0x09: return "a tab"
        case _ where isControl(c): return "the control character U+" + hex(UInt32(c))
        case _ where c < 0x80: return "'\(Character(Unicode.Scalar(c)))'"
        default:
            var end = at + 1
            while end < b.count && b[end] & 0xC0 == 0x80 { end += 1 }
            return "'" + String(decoding: b[at ..< end], as: UTF8.self) + "'"
        }
    }

    func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    func fail(_ message: String, at: Int? = nil) -> Failure { Failure(at: at ?? i, message: message) }

    mutating func skipBlanks() { while let c = peek, c == 0x20 || c == 0x09 { i += 1 } }

    /// Consumes LF or CRLF; false when neither is here.
    mutating func newline() throws(Failure) -> Bool {
        if peek == ascii("\n") { i += 1; return true }
        if peek == ascii("\r") {
            guard peek(1) == ascii("\n") else { throw fail("a carriage return must be followed by a line feed") }
            i += 2
            return true
        }
        return false
    }

    mutating func document() throws(Failure) {
        if starts("\u{FEFF}") { i = 3 }  // toml++ skips a byte-order mark
        while i < b.count {
            skipBlanks()
            guard let c = peek else { return }
            if c == ascii("[") {
                try header()
            } else if isBare(c) || c == ascii("\"") || c == ascii("'") {
                try keyValue()
                skipBlanks()
                guard peek == nil || peek == ascii("#") || peek == ascii("\n") || peek == ascii("\r") else {
                    throw fail("a value must be followed by the end of the line or a # comment, found \(found())")
                }
            } else if c != ascii("#") && c != ascii("\n") && c != ascii("\r") {
                throw fail("expected a key = value, a [table] header or a # comment, found \(found())")
            }
            if peek == ascii("#") { try comment() }
            guard try newline() || peek == nil else {
                throw fail("expected the end of the line, found \(found())")
            }
        }
    }

    mutating func comment() throws(Failure) {
        i += 1
        while let c = peek, c != ascii("\n") {
            if c == ascii("\r") && peek(1) == ascii("\n") { return }
            if isControl(c) { throw fail("\(found()) is not allowed in a comment") }
            i += 1
        }
    }

    mutating func header() throws(Failure) {
        let start = i
        let array = peek(1) == ascii("[")
        i += array ? 2 : 1
        skipBlanks()
        guard let c = peek, isBare(c) || c == ascii("\"") || c == ascii("'") else { throw fail(TOMLSyntax.headerMessage) }
        try key()
        if array {
            guard starts("]]") else {
                throw fail("an [[array of tables]] header must end with ]], found \(found())", at: peek == nil ? start : nil)
            }
            i += 2
        } else {
            guard peek == ascii("]") else {
                throw fail("a [table] header must end with ], found \(found())", at: peek == nil ? start : nil)
            }
            i += 1
        }
        skipBlanks()
        guard peek == nil || peek == ascii("#") || peek == ascii("\n") || peek == ascii("\r") else {
            throw fail("a table header must be alone on its line, found \(found()) after it")
        }
    }

    /// A key, dotted or not, and the blanks after it.
    mutating func key() throws(Failure) {
        var parts = 0
        while true {
            try simpleKey()
            // Each part is a table toml++ descends into recursively: 30000 parts overflow its stack.
            parts += 1
            guard parts <= TOMLSyntax.maxDepth else {
                throw fail("a key may have at most \(TOMLSyntax.maxDepth) dotted parts")
            }
            skipBlanks()
            guard peek == ascii(".") else { return }
            i += 1
            skipBlanks()
            guard let c = peek, isBare(c) || c == ascii("\"") || c == ascii("'") else {
                throw fail("expected a key after the dot, found \(found())")
            }
        }
    }

    mutating func simpleKey() throws(Failure) {
        if starts("\"\"\"") || starts("'''") { throw fail("a key cannot be a multi-line string") }
        switch peek {
        case ascii("\""): try basicString()
        case ascii("'"): try literalString()
        default: while let c = peek, isBare(c) { i += 1 }
        }
    }

    mutating func keyValue() throws(Failure) {
        try key()
        guard peek == ascii("=") else {
            throw fail("expected = after the key, found \(found())")
        }
        i += 1
        skipBlanks()
        try value(expected: "expected a value after =")
    }

    mutating func value(expected: String) throws(Failure) {
        guard let c = peek else { throw fail("\(expected), found \(found())") }
        switch c {
        case ascii("\""): if starts("\"\"\"") { try multiLineString(quote: c) } else { try basicString() }
        case ascii("'"): if starts("'''") { try multiLineString(quote: c) } else { try literalString() }
        case ascii("["): try array()
        case ascii("{"): try inlineTable()
        default:
            let start = i
            while let c = peek, isValueByte(c) { i += 1 }
            // A date and a time may be split by a space: 1979-05-27 07:32:00.
            if i - start == 10, peek == 0x20, let next = peek(1), isDigit(next), b[start + 4] == ascii("-") {
                i += 1
                while let c = peek, isValueByte(c) { i += 1 }
            }
            guard i > start else { throw fail("\(expected), found \(found())") }
            if let problem = scalarProblem(b[start ..< i]) { throw fail(problem, at: start) }
        }
    }

    mutating func nest() throws(Failure) {
        depth += 1
        guard depth <= TOMLSyntax.maxDepth else {
            throw fail("arrays and inline tables may not nest more than \(TOMLSyntax.maxDepth) deep here")
        }
    }

    /// Blanks, newlines and comments, as allowed between the values of an array.
    mutating func skipArrayFiller() throws(Failure) {
        while true {
            skipBlanks()
            if peek == ascii("#") { try comment() }
            guard try newline() else { return }
        }
    }

    mutating func array() throws(Failure) {
        let start = i
        i += 1
        try nest()
        while true {
            try skipArrayFiller()
            if peek == ascii("]") { break }
            if peek == nil { throw fail("an array must end with ]; this one is never closed", at: start) }
            try value(expected: "expected a value or ] in the array")
            try skipArrayFiller()
            if peek == ascii(",") { i += 1; continue }
            if peek == ascii("]") { break }
            if peek == nil { throw fail("an array must end with ]; this one is never closed", at: start) }
            throw fail("expected , or ] after a value in the array, found \(found())")
        }
        i += 1
        depth -= 1
    }

    mutating func inlineTable() throws(Failure) {
        let start = i
        i += 1
        try nest()
        skipBlanks()
        if peek == ascii("}") { i += 1; depth -= 1; return }
        while true {
            guard let c = peek, isBare(c) || c == ascii("\"") || c == ascii("'") else {
                if peek == nil { throw fail("an inline table must end with }; this one is never closed", at: start) }
                throw fail("expected a key in the inline table, found \(found())")
            }
            try keyValue()
            skipBlanks()
            if peek == ascii("}") { break }
            guard peek == ascii(",") else {
                if peek == nil { throw fail("an inline table must end with }; this one is never closed", at: start) }
                if peek == ascii("\n") || peek == ascii("\r") { throw fail("an inline table must end with } on the line it starts") }
                throw fail("expected , or } after a value in the inline table, found \(found())")
            }
            i += 1
            skipBlanks()
            if peek == ascii("}") { throw fail("an inline table cannot end with a comma before }") }
        }
        i += 1
        depth -= 1
    }

    mutating func escape() throws(Failure) {
        let start = i
        i += 1
        guard let c = peek else { throw fail("a string is never closed", at: start) }
        i += 1
        let width: Int
        switch c {
        case ascii("b"), ascii("t"), ascii("n"), ascii("f"), ascii("r"), ascii("\""), ascii("\\"): return
        case ascii("u"): width = 4
        case ascii("U"): width = 8
        default:
            let what = c > 0x20 && c < 0x7F ? "\\\(Character(Unicode.Scalar(c)))" : "a backslash followed by \(found(i - 1))"
            throw fail("\(what) is not an escape TOML knows; write \\\\ for a backslash", at: start)
        }
        var value: UInt32 = 0
        for _ in 0 ..< width {
            guard let h = peek, isHex(h) else {
                throw fail("\\\(Character(Unicode.Scalar(c))) must be followed by \(width) hexadecimal digits", at: start)
            }
            value = value << 4 | UInt32(isDigit(h) ? h - 0x30 : (h | 0x20) - 0x61 + 10)
            i += 1
        }
        guard Unicode.Scalar(value) != nil else {
            throw fail("\\\(Character(Unicode.Scalar(c)))\(hex(value)) is not a Unicode scalar value (a surrogate or above 10FFFF)", at: start)
        }
        guard value != 0 else {
            throw fail("\\\(Character(Unicode.Scalar(c)))\(hex(value)) (NUL) cannot be read here: TOMLKit would cut the string short at it", at: start)
        }
    }

    mutating func basicString() throws(Failure) {
        let start = i
        i += 1
        while true {
            guard let c = peek, c != ascii("\n"), c != ascii("\r") || peek(1) != ascii("\n") else {
                throw fail("a string must end with \" on the line it starts (use \"\"\" for several lines)", at: start)
            }
            switch c {
            case ascii("\""): i += 1; return
            case ascii("\\"): try escape()
            case _ where isControl(c): throw fail("\(found()) must be written as an escape in a string")
            default: i += 1
            }
        }
    }

    mutating func literalString() throws(Failure) {
        let start = i
        i += 1
        while true {
            guard let c = peek, c != ascii("\n"), c != ascii("\r") || peek(1) != ascii("\n") else {
                throw fail("a string must end with ' on the line it starts (use ''' for several lines)", at: start)
            }
            if c == ascii("'") { i += 1; return }
            if isControl(c) { throw fail("\(found()) is not allowed in a 'literal string'") }
            i += 1
        }
    }

    /// """…""" (escapes, line-ending backslash) or '''…''' (raw); up to two quotes may end the content.
    mutating func multiLineString(quote: UInt8) throws(Failure) {
        let start = i
        let delimiter = quote == ascii("\"") ? "\"\"\"" : "'''"
        i += 3
        while true {
            guard let c = peek else { throw fail("a multi-line string must end with \(delimiter); this one is never closed", at: start) }
            if c == quote {
                var run = 0
                while peek == quote { run += 1; i += 1 }
                if run >= 3 {
                    guard run <= 5 else { throw fail("too many quotes: at most two may come right before the closing \(delimiter)") }
                    return
                }
            } else if c == ascii("\\") && quote == ascii("\"") {
                var j = i + 1
                while j < b.count && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
                if j < b.count && (b[j] == ascii("\n") || b[j] == ascii("\r")) {
                    // A backslash at the end of a line joins it to the next non-blank text.
                    i = j
                    while true {
                        skipBlanks()
                        guard try newline() else { break }
                    }
                } else if j > i + 1 {
                    throw fail("only the end of the line may follow a backslash and blanks in a string", at: i)
                } else {
                    try escape()
                }
            } else if try newline() {
                continue
            } else if isControl(c) {
                throw fail("\(found()) is not allowed in a string" + (quote == ascii("\"") ? "; write it as an escape" : ""))
            } else {
                i += 1
            }
        }
    }
}

/// Why an unquoted value is not one, or nil when it is a number, date, time or boolean.
private func scalarProblem(_ t: ArraySlice<UInt8>) -> String? {
    let text = String(decoding: t, as: UTF8.self)
    let k = t.startIndex
    if ["true", "false", "inf", "+inf", "-inf", "nan", "+nan", "-nan"].contains(text) { return nil }
    if t.count >= 5, t[k ..< k + 4].allSatisfy(isDigit), t[k + 4] == ascii("-") { return dateTimeProblem(t, text) }
    if t.count >= 3, isDigit(t[k]), isDigit(t[k + 1]), t[k + 2] == ascii(":") {
        var i = k
        if let problem = timeProblem(t, &i) { return "\(text) is not a valid time: \(problem)" }
        return i == t.endIndex ? nil : "\(text) is not a valid time: a local time has no time zone"
    }
    if !(isDigit(t[k]) || ((t[k] == ascii("+") || t[k] == ascii("-")) && t.count > 1 && isDigit(t[k + 1]))) {
        let word = text.first!.isLetter ? " (text needs quotes: \"\(text)\")" : ""
        return "\(text) is not a value\(word); values are \"strings\", numbers, true, false, dates, [arrays] and {inline tables}"
    }
    return numberProblem(t, text)
}

/// digit ( [_] digit )*, from i; nil when that is there.
private func digitsProblem(_ t: ArraySlice<UInt8>, _ i: inout Int, _ isDigit: (UInt8) -> Bool, _ kind: String) -> String? {
    guard i < t.endIndex, isDigit(t[i]) else { return "expected \(kind) digits" + (i < t.endIndex && t[i] == ascii("_") ? " before _" : "") }
    i += 1
    while i < t.endIndex {
        if isDigit(t[i]) { i += 1 } else if t[i] == ascii("_") {
            guard i + 1 < t.endIndex, isDigit(t[i + 1]) else { return "an _ must stand between two digits" }
            i += 2
        } else { break }
    }
    return nil
}

private func numberProblem(_ t: ArraySlice<UInt8>, _ text: String) -> String? {
    var i = t.startIndex
    let signed = t[i] == ascii("+") || t[i] == ascii("-")
    if signed { i += 1 }
    func bad(_ why: String) -> String { "\(text) is not a valid number: \(why)" }
    if t[i] == ascii("0"), i + 1 < t.endIndex, let radix = [ascii("x"): 16, ascii("o"): 8, ascii("b"): 2][t[i + 1]] {
        if signed { return bad("a hexadecimal, octal or binary integer cannot have a sign") }
        i += 2
        let top = UInt8(0x30 + radix)
        let digit: (UInt8) -> Bool = { c in radix == 16 ? isHex(c) : c >= 0x30 && c < top }
        let kind = radix == 16 ? "hexadecimal" : radix == 8 ? "octal (0-7)" : "binary (0 or 1)"
        if let problem = digitsProblem(t, &i, digit, kind) { return bad(problem) }
        return i == t.endIndex ? nil : bad("\(Character(Unicode.Scalar(t[i]))) is not a \(kind) digit")
    }
    if t[i] == ascii("0"), i + 1 < t.endIndex, isDigit(t[i + 1]) || t[i + 1] == ascii("_") {
        return bad("a decimal number cannot start with 0 (leading zeros are not allowed)")
    }
    if let problem = digitsProblem(t, &i, isDigit, "decimal") { return bad(problem) }
    if i < t.endIndex, t[i] == ascii(".") {
        i += 1
        if let problem = digitsProblem(t, &i, isDigit, "decimal") { return bad("\(problem) after the decimal point") }
    }
    if i < t.endIndex, t[i] | 0x20 == ascii("e") {
        i += 1
        if i < t.endIndex, t[i] == ascii("+") || t[i] == ascii("-") { i += 1 }
        if let problem = digitsProblem(t, &i, isDigit, "decimal") { return bad("\(problem) in the exponent") }
    }
    return i == t.endIndex ? nil : bad("unexpected \(Character(Unicode.Scalar(t[i])))")
}

/// n digits from i as a number, or nil.
private func number(_ t: ArraySlice<UInt8>, _ i: inout Int, _ n: Int) -> Int? {
    guard i + n <= t.endIndex, t[i ..< i + n].allSatisfy(isDigit) else { return nil }
    defer { i += n }
    return t[i ..< i + n].reduce(0) { $0 * 10 + Int($1 - 0x30) }
}

/// HH:MM:SS[.fraction] from i.
private func timeProblem(_ t: ArraySlice<UInt8>, _ i: inout Int) -> String? {
    guard let hour = number(t, &i, 2), i < t.endIndex, t[i] == ascii(":") else { return "expected HH:MM:SS" }
    i += 1
    guard let minute = number(t, &i, 2), i < t.endIndex, t[i] == ascii(":") else { return "expected HH:MM:SS (seconds are required)" }
    i += 1
    guard let second = number(t, &i, 2) else { return "expected HH:MM:SS" }
    guard hour <= 23, minute <= 59, second <= 59 else { return "hour 00-23, minute and second 00-59" }
    if i < t.endIndex, t[i] == ascii(".") {
        i += 1
        guard i < t.endIndex, isDigit(t[i]) else { return "expected digits after the decimal point" }
        while i < t.endIndex, isDigit(t[i]) { i += 1 }
    }
    return nil
}

private func dateTimeProblem(_ t: ArraySlice<UInt8>, _ text: String) -> String? {
    var i = t.startIndex
    func bad(_ why: String) -> String { "\(text) is not a valid date or date-time: \(why)" }
    guard let year = number(t, &i, 4), i < t.endIndex, t[i] == ascii("-") else { return bad("expected YYYY-MM-DD") }
    i += 1
    guard let month = number(t, &i, 2), i < t.endIndex, t[i] == ascii("-") else { return bad("expected YYYY-MM-DD") }
    i += 1
    guard let day = number(t, &i, 2) else { return bad("expected YYYY-MM-DD") }
    guard (1 ... 12).contains(month) else { return bad("month \(month) is not 01-12") }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    guard (1 ... days).contains(day) else { return bad("that month has days 01-\(days)") }
    if i == t.endIndex { return nil }
    guard t[i] | 0x20 == ascii("t") || t[i] == 0x20 else { return bad("expected T or a space between the date and the time") }
    i += 1
    if let problem = timeProblem(t, &i) { return bad(problem) }
    if i == t.endIndex { return nil }
    if t[i] | 0x20 == ascii("z") {
        i += 1
    } else if t[i] == ascii("+") || t[i] == ascii("-") {
        i += 1
        guard let hour = number(t, &i, 2), i < t.endIndex, t[i] == ascii(":"), hour <= 23 else { return bad("expected a time zone offset like +01:00") }
        i += 1
        guard let minute = number(t, &i, 2), minute <= 59 else { return bad("expected a time zone offset like +01:00") }
    } else {
        return bad("expected Z or an offset like +01:00 after the time")
    }
    return i == t.endIndex ? nil : bad("unexpected text after the time zone")
}
