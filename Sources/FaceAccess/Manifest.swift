import FaceStore
import Foundation
import TOMLKit

/// A problem in an access manifest, naming the file, line and key.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let key: String?
    public let message: String

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): " + (key.map { "\($0): " } ?? "") + message }
}

/// Enrollment/access.toml: who may enter, from which photos, in which groups and when. The
/// gallery is brought in line with it by `facectl sync`.
public struct AccessManifest: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var displayName: String?
        public var groups: [String] = []
        public var enabled = true
        public var validFrom: Date?
        public var validUntil: Date?
        /// Folders or glob patterns, relative to the manifest's folder. Default: the folder named after the person.
        public var photos: [String]
        /// The person's own level: the stricter of it and the door's applies.
        public var level: SecurityLevel?
        /// The person's own liveness mode: it can only add the door's proof of a live face.
        public var liveness: LivenessMode?
        /// The person's own weekly windows.
        public var schedules: [String] = []
        /// Take the largest face of a photo with several (a group or phone photo), as `enroll --largest`.
        public var largest = false
        /// The person's own quality limits, laid over the manifest's.
        public var quality: [QualityLimit: Double] = [:]

        public init(name: String) {
            self.name = name
            photos = [name]
        }
    }

    public var people: [Entry] = []
    /// Group name (lower case) → its weekly windows.
    public var groups: [String: [String]] = [:]
    public var limits = QualityLimits()
    /// The limits `entry`'s photos are held to: the manifest's with the person's own laid over them.
    public func limits(of entry: Entry) -> QualityLimits { limits.with(entry.quality) }
    /// The folder photo patterns are relative to.
    public var directory: String
    public let file: String

    public static let photoExtensions: Set<String> = ["jpg", "jpeg", "png"]

    public init(file: String) throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ManifestError(file: file, line: nil, key: nil,
                                message: FileManager.default.fileExists(atPath: file) ? "cannot be read (permissions?)" : "no such file")
        }
        try self.init(text: text, file: file)
    }

    public init(text: String, file: String) throws {
        self.file = file
        directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        // toml++ aborts the process on some malformed texts instead of throwing.
        do { try TOMLSyntax.check(text) } catch {
            throw ManifestError(file: file, line: error.line, key: nil, message: error.located)
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ManifestError(file: file, line: error.source.begin.line, key: nil, message: error.description)
        }
        let lines = TOMLKeyLines.of(text)
        func fail(_ key: String, _ message: String) -> ManifestError {
            ManifestError(file: file, line: lines[key], key: key, message: message)
        }
        func unknown(_ key: String, _ allowed: [String]) -> ManifestError {
            fail(key, "unknown key; allowed here: \(allowed.joined(separator: ", "))")
        }
        func string(_ value: TOMLValueConvertible, _ key: String) throws -> String {
            guard let s = value.string else { throw fail(key, "must be a string, got \(value.type)") }
            return s
        }
        func strings(_ value: TOMLValueConvertible, _ key: String) throws -> [String] {
            if let s = value.string { return [s] }
            guard let array = value.array else { throw fail(key, "must be a string or an array of strings, got \(value.type)") }
            return try array.map { element in
                guard let s = element.string else { throw fail(key, "must be an array of strings, holds a \(element.type)") }
                return s
            }
        }
        func schedules(_ value: TOMLValueConvertible, _ key: String) throws -> [String] {
            let specs = try strings(value, key)
            for spec in specs {
                do { _ = try Schedule(parsing: spec) } catch { throw fail(key, "\(error)") }
            }
            return specs
        }
        func date(_ value: TOMLValueConvertible, _ key: String) throws -> Date {
            guard let text = value.string else {
                throw fail(key, "must be a quoted date such as \"2026-12-01\" or \"2026-12-01T08:00:00+01:00\", got \(value.type)")
            }
            guard let date = AccessTime.parse(text) else {
                throw fail(key, "cannot read \"\(text)\"; use \"2026-12-01\" or \"2026-12-01T08:00:00+01:00\"")
            }
            return date
        }
        func name(_ text: String, _ key: String, what: String) throws -> String {
            if let problem = Names.nameProblem(text) {
                throw fail(key, "invalid \(what) name '\(Names.escaped(text))' (\(problem)): use letters, digits, '.', '_' or '-', "
                           + "at most \(Names.maxNameBytes) bytes, starting with a letter or digit")
            }
            return Names.normalized(text)
        }

        for key in table.keys.sorted() {
            let value = table[key]!
            switch key {
            case "quality":
                guard let quality = value.table else { throw fail(key, "must be a table: [quality]") }
                limits = limits.with(try QualityLimits.read(quality, prefix: "quality.", fail: fail))
            case "groups":
                guard let groupTable = value.table else { throw fail(key, "must be a table of groups: [groups.NAME]") }
                for group in groupTable.keys.sorted() {
                    let full = "groups.\(group)"
                    _ = try name(group, full, what: "group")
                    guard let entry = groupTable[group]!.table else { throw fail(full, "must be a table: [groups.\(group)]") }
                    var specs = [String]()
                    for field in entry.keys.sorted() {
                        guard field == "schedules" else { throw unknown("\(full).\(field)", ["schedules"]) }
                        specs = try schedules(entry[field]!, "\(full).\(field)")
                    }
                    groups[Names.groupKey(group)] = specs
                }
            case "people":
                guard let peopleTable = value.table else { throw fail(key, "must be a table of people: [people.NAME]") }
                for person in peopleTable.keys.sorted() {
                    let full = "people.\(person)"
                    var entry = Entry(name: try name(person, full, what: "person"))
                    guard let fields = peopleTable[person]!.table else { throw fail(full, "must be a table: [people.\(person)]") }
                    let allowed = ["display_name", "groups", "enabled", "valid_from", "valid_until", "photos", "level", "liveness", "schedules", "largest", "quality"]
                    for field in fields.keys.sorted() {
                        let k = "\(full).\(field)", v = fields[field]!
                        switch field {
                        case "display_name":
                            let text = try string(v, k)
                            if let problem = Names.displayNameProblem(text) { throw fail(k, "invalid display name: \(problem)") }
                            entry.displayName = Names.normalized(text)
                        case "groups": entry.groups = try strings(v, k).map { Names.groupKey(try name($0, k, what: "group")) }
                        case "enabled":
                            guard let b = v.bool else { throw fail(k, "must be true or false, got \(v.type)") }
                            entry.enabled = b
                        case "valid_from": entry.validFrom = try date(v, k)
                        case "valid_until": entry.validUntil = try date(v, k)
                        case "photos":
                            entry.photos = try strings(v, k)
                            if entry.photos.isEmpty { throw fail(k, "lists no photos") }
                        case "level":
                            let text = try string(v, k)
                            guard let level = SecurityLevel.named(text) else {
                                throw fail(k, "must be one of \(SecurityLevel.presets.map(\.name).joined(separator: ", ")), got \"\(text)\"")
                            }
                            entry.level = level
                        case "liveness":
                            // A person's own mode can only add the door's proof: "motion", or "none" for the door's.
                            let text = try string(v, k)
                            switch text.lowercased() {
                            case "motion": entry.liveness = .motion
                            case "none": entry.liveness = nil
                            default:
                                throw fail(k, "must be \"motion\" or \"none\" (a person's own mode can only add the door's proof of a live face), got \"\(text)\"")
                            }
                        case "schedules": entry.schedules = try schedules(v, k)
                        case "largest":
                            guard let b = v.bool else { throw fail(k, "must be true or false, got \(v.type)") }
                            entry.largest = b
                        case "quality":
                            guard let quality = v.table else { throw fail(k, "must be a table: [\(k)]") }
                            entry.quality = try QualityLimits.read(quality, prefix: k + ".", fail: fail)
                        default: throw unknown(k, allowed)
                        }
                    }
                    if let from = entry.validFrom, let until = entry.validUntil, until <= from {
                        throw fail("\(full).valid_until", "is not after valid_from")
                    }
                    people.append(entry)
                }
            default:
                throw fail(key, "unknown section; the manifest has [quality], [groups.NAME] and [people.NAME]")
            }
        }
        let names = people.map { Names.folded($0.name) }
        if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw ManifestError(file: file, line: nil, key: "people.\(twice)", message: "listed twice (names ignore case)")
        }
    }

    /// The photo files of `entry`, sorted: each folder's JPEG and PNG files, each glob's matches.
    /// A folder or pattern that yields nothing is an error: a typo must not empty someone's templates.
    public func photoPaths(of entry: Entry) throws -> [String] {
        var paths = Set<String>()
        for pattern in entry.photos {
            let full = pattern.hasPrefix("/") ? pattern : directory + "/" + pattern
            var isDirectory: ObjCBool = false
            var found = [String]()
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? []
                found = files.filter { !$0.hasPrefix(".") && Self.photoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .map { full + "/" + $0 }
            } else {
                found = Self.glob(full)
            }
            if found.isEmpty {
                throw ManifestError(file: file, line: nil, key: "people.\(entry.name).photos",
                                    message: "\"\(pattern)\" has no JPEG or PNG photos (looked in \(full))")
            }
            paths.formUnion(found)
        }
        return paths.sorted()
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0 ..< Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }
}

extension QualityLimits {
    /// The limits a [quality] table sets, each checked against its hard limit.
    static func read(_ table: TOMLTable, prefix: String, fail: (String, String) -> ManifestError) throws -> [QualityLimit: Double] {
        var overrides = [QualityLimit: Double]()
        for key in table.keys.sorted() {
            let value = table[key]!, full = prefix + key
            guard let limit = QualityLimit(rawValue: key) else {
                throw fail(full, "unknown key; [quality] takes \(QualityLimit.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let number = value.double ?? value.int.map(Double.init) else { throw fail(full, "must be a number, got \(value.type)") }
            if let problem = limit.problem(with: number) { throw fail(full, problem) }
            overrides[limit] = number
        }
        return overrides
    }
}
