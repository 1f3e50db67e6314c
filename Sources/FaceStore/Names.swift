import Foundation
import GRDB

/// Rules for the text people type and read: person and group names, display names, camera names.
public enum Names {
    /// Person and group names, in UTF-8 bytes of the NFC form (a grapheme count lets one
    /// letter carry thousands of combining marks).
    public static let maxNameBytes = 64
    public static let maxDisplayNameBytes = 128
    /// Camera names go into snapshot file names.
    public static let maxCameraNameBytes = 64

    /// The stored form of a name: Unicode NFC, so that composed and decomposed twins are one name.
    public static func normalized(_ text: String) -> String { text.precomposedStringWithCanonicalMapping }

    /// How a group name is stored: NFC, lower case (as groups have always been stored).
    public static func groupKey(_ name: String) -> String { normalized(normalized(name).lowercased()) }

    /// Full Unicode case folding of the NFC form. SQLite's NOCASE folds ASCII only.
    public static func folded(_ text: String) -> String {
        normalized(text).folding(options: .caseInsensitive, locale: nil).precomposedStringWithCanonicalMapping
    }

    /// The UTS #39 skeleton: NFD, every code point replaced by its prototype from confusables.txt,
    /// NFD again. Two strings with the same skeleton look alike.
    public static func skeleton(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
            if let prototype = prototypes[scalar.value] { out.append(contentsOf: prototype) } else { out.append(scalar) }
        }
        return String(out).decomposedStringWithCanonicalMapping
    }

    /// What "looks like the same name" compares: the skeleton of the case-folded name, folded again
    /// because some prototypes are capitals (the digit 0's is O).
    public static func lookalikeKey(_ text: String) -> String { folded(skeleton(folded(text))) }

    /// Prototypes by code point, parsed once from the generated table.
    static let prototypes: [UInt32: [Unicode.Scalar]] = {
        var table = [UInt32: [Unicode.Scalar]](minimumCapacity: 6400)
        for line in confusablesTable.split(separator: "\n") {
            let values = line.split(separator: " ").compactMap { UInt32($0, radix: 16) }
            guard values.count >= 2 else { continue }
            table[values[0]] = values.dropFirst().compactMap(Unicode.Scalar.init)
        }
        return table
    }()

    // MARK: Control characters

    /// C0, DEL, C1, the bidi embeddings, overrides, isolates and marks, and the line and paragraph
    /// separators: characters that move the cursor, start a terminal escape or reorder what follows.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00 ... 0x1F, 0x7F ... 0x9F, 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A ... 0x202E, 0x2066 ... 0x2069: true
        default: false
        }
    }

    /// The first control character of `text`, if any.
    public static func firstControl(in text: String) -> Unicode.Scalar? { text.unicodeScalars.first(where: isControl) }

    /// `text` safe to print on a terminal line: each control character is shown as `\n`, `\r`, `\t`,
    /// `\xHH` or `\u{HHHH}`, and a backslash as `\\`, so that stored text cannot forge a line or colour.
    public static func escaped(_ text: String) -> String { escaped(text, backslash: true) }

    /// `text` with its control characters escaped as by `escaped`, backslashes left as they are:
    /// what the audit log stores, so that no NUL, escape or newline enters a chained field.
    public static func escapingControls(_ text: String) -> String { escaped(text, backslash: false) }

    static func escaped(_ text: String, backslash: Bool) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) || (backslash && $0 == "\\") }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\" where backslash: out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where !isControl(scalar): out.unicodeScalars.append(scalar)
            case _ where scalar.value <= 0xFF: out += "\\x" + hex(scalar.value, digits: 2).lowercased()
            default: out += "\\u{" + hex(scalar.value, digits: 4) + "}"
            }
        }
        return out
    }

    /// `text` escaped and cut to its first `limit` code points, for messages about bad input.
    public static func shown(_ text: String, limit: Int = 64) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return escaped(text) }
        return escaped(String(String.UnicodeScalarView(scalars.prefix(limit)))) + "…"
    }

    /// U+043E CYRILLIC SMALL LETTER O, for messages about look-alike names.
    public static func describe(_ scalar: Unicode.Scalar) -> String {
        "U+" + hex(scalar.value, digits: 4) + (scalar.properties.name.map { " " + $0 } ?? "")
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    // MARK: Checks

    /// Why `name` (taken in NFC) cannot be a person or group name, or nil: 1 to 64 bytes of letters,
    /// digits, '.', '_' and '-', starting with a letter or digit.
    public static func nameProblem(_ name: String) -> String? {
        let name = normalized(name)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        guard let first = name.unicodeScalars.first else { return "it is empty" }
        if let bad = name.unicodeScalars.first(where: { !allowed.contains($0) }) {
            return "it holds \(isControl(bad) ? "the control character " : "")\(describe(bad))"
        }
        if !CharacterSet.alphanumerics.contains(first) || first.properties.generalCategory.isMark {
            return "it must start with a letter or digit"
        }
        if name.utf8.count > maxNameBytes { return "it is \(name.utf8.count) bytes long, the limit is \(maxNameBytes)" }
        return nil
    }

    /// Why `text` cannot be a display name, or nil: no control characters, at most 128 bytes.
    public static func displayNameProblem(_ text: String) -> String? {
        let text = normalized(text)
        if text.isEmpty { return "it is empty" }
        if let bad = firstControl(in: text) { return "it holds the control character \(describe(bad))" }
        if text.utf8.count > maxDisplayNameBytes { return "it is \(text.utf8.count) bytes long, the limit is \(maxDisplayNameBytes)" }
        return nil
    }

    /// Why `text` cannot name a camera, or nil. The name goes into snapshot file names and every
    /// log line: 1 to 64 bytes of letters, digits, spaces, '.', '_' and '-', starting with a letter
    /// or digit (so no '/', no leading '.', no control characters).
    public static func cameraNameProblem(_ text: String) -> String? {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._- "))
        guard let first = text.unicodeScalars.first else { return "must not be empty" }
        if let bad = text.unicodeScalars.first(where: { !allowed.contains($0) }) {
            return "must hold only letters, digits, spaces, '.', '_' and '-' (it names snapshot files), "
                + "got \"\(escaped(text))\" with \(describe(bad))"
        }
        if !CharacterSet.alphanumerics.contains(first) || first.properties.generalCategory.isMark {
            return "must start with a letter or digit (it names snapshot files), got \"\(escaped(text))\""
        }
        if text.utf8.count > maxCameraNameBytes {
            return "must be at most \(maxCameraNameBytes) bytes long, got \(text.utf8.count)"
        }
        return nil
    }
}

extension Unicode.GeneralCategory {
    var isMark: Bool { self == .nonspacingMark || self == .spacingMark || self == .enclosingMark }
}

extension Person {
    /// Letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 bytes once
    /// NFC-normalised (see `Names.nameProblem`).
    public static func isValidName(_ name: String) -> Bool { Names.nameProblem(name) == nil }

    /// Throws unless `name` (NFC) is unique among other people after case folding and does not look
    /// like another person's name (same UTS #39 skeleton). Runs inside the inserting transaction,
    /// so that two enrollments cannot both pass.
    static func checkDistinct(_ name: String, in db: Database, except id: Int64? = nil) throws {
        let folded = Names.folded(name), key = Names.lookalikeKey(name)
        for row in try Row.fetchAll(db, sql: "SELECT id, name FROM people") {
            let otherID: Int64 = row["id"], other: String = row["name"]
            if otherID == id { continue }
            if Names.folded(other) == folded { throw StoreError.nameTaken(name: name, existing: other) }
            if Names.lookalikeKey(other) == key {
                let theirs = Set(Names.folded(other).unicodeScalars)
                let odd = Names.folded(name).unicodeScalars.first { !theirs.contains($0) }
                throw StoreError.lookalikeName(name: name, existing: other, character: odd.map(Names.describe))
            }
        }
    }

    /// Throws unless each new group name in `groups` (group keys) differs in look from every
    /// existing group: a look-alike group would silently split one group's schedules in two.
    static func checkGroups(_ groups: [String], in db: Database) throws {
        let existing = try String.fetchAll(db, sql: """
            SELECT group_name FROM person_groups UNION SELECT group_name FROM schedules WHERE group_name IS NOT NULL
            """)
        let keys = Dictionary(existing.map { (Names.lookalikeKey($0), $0) }, uniquingKeysWith: { a, _ in a })
        for group in groups where !existing.contains(group) {
            if let other = keys[Names.lookalikeKey(group)] { throw StoreError.lookalikeGroup(name: group, existing: other) }
        }
    }

    /// The NFC form of `displayName`, or an `invalidDisplayName` error.
    static func checkedDisplayName(_ displayName: String) throws -> String {
        if let problem = Names.displayNameProblem(displayName) {
            throw StoreError.invalidDisplayName(Names.escaped(displayName), problem)
        }
        return Names.normalized(displayName)
    }
}

extension FaceStore {
    /// Throws `nameTaken` or `lookalikeName` unless `name` is free or names an enrolled person.
    /// A check before costly work; `enroll` and `apply` check again inside their transaction.
    public func checkName(_ name: String) throws {
        try reader.read { db in
            let name = Names.normalized(name)
            if try Person.filter(Column("name") == name).fetchCount(db) > 0 { return }
            try Person.checkDistinct(name, in: db)
        }
    }
}
