import FaceAccess
import FaceCapture
import FaceStore
import FaceVision
import FacedModel
import Foundation
import TOMLKit

/// faced's settings, each nil until a flag or the config file sets it. Flags override the file;
/// what neither sets takes the default in `resolve()`.
public struct DaemonOptions: Sendable, Equatable {
    public var source: String?
    public var fps: Double?
    public var size: String?
    public var format: String?
    public var exposure: Int?
    public var gain: Int?
    public var powerLine: String?
    public var camera: String?
    public var db: String?
    public var models: String?
    public var minFace: Int?
    public var detector: String?
    public var level: String?
    public var evidence: String?
    public var cooldown: Double?
    public var patience: Double?
    public var rejoin: Double?
    public var evidenceMinFace: Int?
    public var evidenceMinSharpness: Double?
    public var evidenceMaxYaw: Double?
    public var liveness: String?
    public var timezone: String?
    public var snapshots: String?
    public var snapshotGranted: Bool?
    public var snapshotRetentionDays: Int?
    public var action: String?
    public var actionArgs: [String]?
    public var actionTimeout: Double?
    public var statsInterval: Double?
    public var statusFile: String?
    public var loop: Bool?
    public var mediaTime: Bool?

    public init() {}

    /// These options where set, `base` where not.
    public func overriding(_ base: DaemonOptions) -> DaemonOptions {
        var merged = base
        for key in ConfigKey.all { key.copy(self, &merged) }
        return merged
    }
}

/// One setting: its config key, its flag, its type and limits. The same check runs for a value
/// from the file (the error names the key and line) and from a flag (the error names the flag).
public struct ConfigKey: Sendable {
    public let name: String
    public let flag: String
    public let help: String
    let read: @Sendable (TOMLValueConvertible, inout DaemonOptions) -> String?
    let check: @Sendable (DaemonOptions) -> String?
    let copy: @Sendable (DaemonOptions, inout DaemonOptions) -> Void
    let show: @Sendable (DaemonOptions) -> String?

    static func string(_ name: String, _ flag: String, _ path: WritableKeyPath<DaemonOptions, String?> & Sendable, _ help: String,
                       allowed: [String]? = nil, valid: (@Sendable (String) -> String?)? = nil) -> ConfigKey {
        let check: @Sendable (String) -> String? = { value in
            if let allowed, !allowed.contains(value) { return "must be one of \(allowed.joined(separator: ", ")), got \"\(value)\"" }
            return valid?(value)
        }
        return ConfigKey(name: name, flag: flag, help: help,
                         read: { toml, options in
                             guard let value = toml.string else { return "must be a string, got \(toml.type)" }
                             options[keyPath: path] = value
                             return check(value)
                         },
                         check: { $0[keyPath: path].flatMap(check) },
                         copy: { from, to in if let v = from[keyPath: path] { to[keyPath: path] = v } },
                         show: { $0[keyPath: path].map(TOMLSyntax.quoted) })
    }

    static func number<N: Numeric & Comparable & Sendable>(_ name: String, _ flag: String, _ path: WritableKeyPath<DaemonOptions, N?> & Sendable,
                                                           _ help: String, range: ClosedRange<N>, integer: Bool) -> ConfigKey {
        let check: @Sendable (N) -> String? = { range.contains($0) ? nil : "must be between \(range.lowerBound) and \(range.upperBound), got \($0)" }
        return ConfigKey(name: name, flag: flag, help: help,
                         read: { toml, options in
                             let value: N?
                             if integer { value = toml.int.map { N(exactly: $0) } ?? nil }
                             else { value = (toml.double ?? toml.int.map(Double.init)).flatMap { $0 as? N } }
                             guard let value else { return "must be \(integer ? "an integer" : "a number"), got \(toml.type)" }
                             options[keyPath: path] = value
                             return check(value)
                         },
                         check: { $0[keyPath: path].flatMap(check) },
                         copy: { from, to in if let v = from[keyPath: path] { to[keyPath: path] = v } },
                         show: { $0[keyPath: path].map { "\($0)" } })
    }

    static func bool(_ name: String, _ flag: String, _ path: WritableKeyPath<DaemonOptions, Bool?> & Sendable, _ help: String) -> ConfigKey {
        ConfigKey(name: name, flag: flag, help: help,
                  read: { toml, options in
                      guard let value = toml.bool else { return "must be true or false, got \(toml.type)" }
                      options[keyPath: path] = value
                      return nil
                  },
                  check: { _ in nil },
                  copy: { from, to in if let v = from[keyPath: path] { to[keyPath: path] = v } },
                  show: { $0[keyPath: path].map { "\($0)" } })
    }

    static func strings(_ name: String, _ flag: String, _ path: WritableKeyPath<DaemonOptions, [String]?> & Sendable, _ help: String) -> ConfigKey {
        ConfigKey(name: name, flag: flag, help: help,
                  read: { toml, options in
                      guard let array = toml.array else { return "must be an array of strings, got \(toml.type)" }
                      var values = [String]()
                      for element in array {
                          guard let s = element.string else { return "must be an array of strings, holds a \(element.type)" }
                          values.append(s)
                      }
                      options[keyPath: path] = values
                      return nil
                  },
                  check: { _ in nil },
                  copy: { from, to in if let v = from[keyPath: path] { to[keyPath: path] = v } },
                  show: { $0[keyPath: path].map { "[" + $0.map(TOMLSyntax.quoted).joined(separator: ", ") + "]" } })
    }

    public static let all: [ConfigKey] = [
        .string("database", "--db", \.db, "gallery and audit-log database"),
        .string("models", "--models", \.models, "directory with the dlib models"),
        .string("status_file", "--status-file", \.statusFile, "where faced publishes its state for facectl status"),
        .string("camera.source", "--source", \.source, "v4l2:DEVICE, dir:PATH or mjpeg:PATH", valid: { text in
            (try? SourceSpec(parsing: text)) == nil ? "must be v4l2:DEVICE, dir:PATH or mjpeg:PATH, got \"\(text)\"" : nil
        }),
        .bool("camera.loop", "--loop", \.loop, "replays: start over at the end (mjpeg: sources)"),
        .bool("camera.media_time", "--media-time", \.mediaTime, "replays: frame i at i / fps seconds, every frame processed, no pacing"),
        .string("camera.name", "--camera", \.camera, "camera name written with every event and in snapshot file names",
                valid: { Names.cameraNameProblem($0) }),
        .string("camera.size", "--size", \.size, "frame size to ask the camera for, WxH", valid: { text in
            CameraRequest.parseSize(text) == nil ? "must be WIDTHxHEIGHT with an even width, e.g. \"1280x720\", got \"\(text)\"" : nil
        }),
        .number("camera.fps", "--fps", \.fps, "frame rate to ask for (replays: pace)", range: 0.1 ... 240, integer: false),
        .string("camera.format", "--format", \.format, "pixel format", allowed: CameraFormatChoice.allCases.map(\.rawValue)),
        .number("camera.exposure", "--exposure", \.exposure, "manual exposure (UVC: 100 µs units)", range: 1 ... 100_000, integer: true),
        .number("camera.gain", "--gain", \.gain, "manual gain", range: 0 ... 100_000, integer: true),
        .string("camera.power_line", "--power-line", \.powerLine, "power-line filter", allowed: PowerLineFrequency.allCases.map(\.rawValue)),
        .number("detection.min_face", "--min-face", \.minFace, "smallest face, px", range: 20 ... 2000, integer: true),
        .string("detection.detector", "--detector", \.detector, "hog or cnn", allowed: FaceDetector.allCases.map(\.rawValue)),
        .string("policy.level", "--level", \.level, "security level", allowed: ["relaxed", "standard", "strict"]),
        .string("policy.evidence", "--evidence", \.evidence, "K matching frames of the last M, \"K/M\"", valid: { text in
            EvidenceRule(parsing: text) == nil ? "must be \"K/M\" with 1 ≤ K ≤ M ≤ 50, e.g. \"3/5\", got \"\(text)\"" : nil
        }),
        .number("policy.cooldown", "--cooldown", \.cooldown, "seconds before the same person is granted again", range: 0 ... 86400, integer: false),
        .number("policy.patience", "--patience", \.patience, "seconds a visitor may stay undecided before being logged as refused", range: 0.1 ... 600, integer: false),
        .number("policy.rejoin", "--rejoin", \.rejoin, "seconds a face out of sight keeps its track", range: 0 ... 60, integer: false),
        .number("policy.evidence_min_face", "--evidence-min-face", \.evidenceMinFace, "narrowest face that counts as evidence, px", range: 0 ... 2000, integer: true),
        .number("policy.evidence_min_sharpness", "--evidence-min-sharpness", \.evidenceMinSharpness, "least sharpness of a face that counts as evidence", range: 0 ... 200, integer: false),
        .number("policy.evidence_max_yaw", "--evidence-max-yaw", \.evidenceMaxYaw, "largest head turn of a face that counts as evidence, degrees", range: 10 ... 90, integer: false),
        .string("policy.liveness", "--liveness", \.liveness, "proof of a live face a grant needs", allowed: LivenessMode.allCases.map(\.rawValue)),
        .string("policy.timezone", "--timezone", \.timezone, "IANA time zone for schedules", valid: { text in
            TimeZone(identifier: text) == nil ? "must be an IANA time zone such as \"Europe/Berlin\", got \"\(text)\"" : nil
        }),
        .string("door.action", "--action", \.action, "program run on a grant (absolute path, no shell)", valid: { path in
            if !path.hasPrefix("/") { return "must be an absolute path, got \"\(path)\"" }
            return FileManager.default.isExecutableFile(atPath: path) ? nil : "\(path) is not an executable file"
        }),
        .strings("door.args", "--action-arg", \.actionArgs, "arguments for the action program"),
        .number("door.timeout", "--action-timeout", \.actionTimeout, "seconds before the action is killed", range: 0.1 ... 600, integer: false),
        .string("snapshots.directory", "--snapshots", \.snapshots, "where face snapshots go"),
        .bool("snapshots.granted", "--snapshot-granted", \.snapshotGranted, "keep snapshots of granted visitors too"),
        .number("snapshots.retention_days", "--snapshot-retention-days", \.snapshotRetentionDays, "days snapshots are kept",
                range: 1 ... 3650, integer: true),
        .number("log.stats_interval", "--stats-interval", \.statsInterval, "seconds between stats lines (0: none)", range: 0 ... 86400,
                integer: false),
    ]
}

/// A config file problem, naming the file, line and key.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let key: String?
    public let message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): " + (key.map { "\($0): " } ?? "") + message
    }
}

/// The settings a flag set wrongly, naming the flag.
public struct OptionError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension DaemonOptions {
    public static let defaultConfigPath = "/etc/faced/faced.toml"

    /// Reads a faced.toml. Unknown sections and keys, wrong types and out-of-range values are
    /// errors that name the key and its line.
    public init(configText text: String, file: String) throws {
        self.init()
        // toml++ aborts the process on some malformed texts instead of throwing.
        do { try TOMLSyntax.check(text) } catch {
            throw ConfigError(file: file, line: error.line, key: nil, message: error.located)
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) }
        catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, key: nil, message: error.description)
        }
        let lines = Self.keyLines(text)
        let known = Dictionary(uniqueKeysWithValues: ConfigKey.all.map { ($0.name, $0) })
        let sections = Set(ConfigKey.all.compactMap { $0.name.contains(".") ? String($0.name.split(separator: ".")[0]) : nil })
        func visit(_ table: TOMLTable, prefix: String) throws {
            for name in table.keys.sorted(by: { (lines[prefix + $0] ?? 0) < (lines[prefix + $1] ?? 0) }) {
                let full = prefix + name
                let value = table[name]!
                if let nested = value.table {
                    guard prefix.isEmpty, sections.contains(name) else {
                        throw ConfigError(file: file, line: lines[full], key: full,
                                          message: "unknown section; faced.toml has \(sections.sorted().map { "[\($0)]" }.joined(separator: ", "))")
                    }
                    try visit(nested, prefix: full + ".")
                    continue
                }
                guard let key = known[full] else {
                    let siblings = ConfigKey.all.filter { $0.name.hasPrefix(prefix) && !$0.name.dropFirst(prefix.count).contains(".") }
                    throw ConfigError(file: file, line: lines[full], key: full,
                                      message: "unknown key; \(prefix.isEmpty ? "the top level" : "[\(prefix.dropLast())]") takes "
                                          + siblings.map { String($0.name.dropFirst(prefix.count)) }.joined(separator: ", "))
                }
                if let problem = key.read(value, &self) { throw ConfigError(file: file, line: lines[full], key: full, message: problem) }
            }
        }
        try visit(table, prefix: "")
    }

    public init(configFile path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, key: nil,
                              message: FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "no such file")
        }
        try self.init(configText: text, file: path)
    }

    static func keyLines(_ text: String) -> [String: Int] { TOMLKeyLines.of(text) }

    /// Checks values that came from flags, naming the flag.
    public func checkFlags() throws {
        for key in ConfigKey.all {
            if let problem = key.check(self) { throw OptionError(message: "\(key.flag) \(problem)") }
        }
    }

    /// The effective settings as a faced.toml would hold them (for --check-config).
    public var effectiveText: String {
        var out = [String](), section = ""
        for key in ConfigKey.all {
            let parts = key.name.split(separator: ".")
            let (table, name) = parts.count == 2 ? (String(parts[0]), String(parts[1])) : ("", String(parts[0]))
            if table != section {
                out.append("\n[\(table)]")
                section = table
            }
            out.append(key.show(self).map { "\(name) = \($0)" } ?? "# \(name): not set")
        }
        return out.joined(separator: "\n").trimmingCharacters(in: .newlines) + "\n"
    }
}

extension EvidenceRule {
    /// "3/5" → K = 3 of M = 5; nil unless 1 ≤ K ≤ M ≤ 50.
    public init?(parsing text: String) {
        let km = text.split(separator: "/").compactMap { Int($0) }
        guard km.count == 2, km[0] >= 1, km[1] >= km[0], km[1] <= 50 else { return nil }
        self.init(required: km[0], window: km[1])
    }
}

/// Everything faced needs to start, with the defaults filled in.
public struct DaemonSetup: Sendable {
    public var source: SourceSpec
    /// Replays: the pace; cameras: the rate asked for (in `camera`).
    public var fps: Double?
    public var camera: CameraRequest
    public var settings: PipelineSettings
    public var database: String?
    public var models: String?
    public var statsInterval: Double
    public var loop: Bool
    /// Replays: wall-clock times (paced at `fps` if given) or media time at `fps`.
    public var clock: FrameClock
    /// Where to publish the status for `facectl status`; nil: nowhere.
    public var statusFile: String?
}

extension DaemonOptions {
    /// Every setting that has a default, filled in where unset. Exposure, gain, power line, the
    /// door action, the snapshot folder and the models folder have none: unset means off or searched.
    public func withDefaults() -> DaemonOptions {
        var o = self
        o.size = o.size ?? "1280x720"; o.fps = o.fps ?? (o.source?.hasPrefix("v4l2:") == false ? nil : 30)
        o.format = o.format ?? "auto"; o.camera = o.camera ?? "door"; o.minFace = o.minFace ?? 80; o.detector = o.detector ?? "hog"
        o.level = o.level ?? "standard"; o.evidence = o.evidence ?? "3/5"; o.cooldown = o.cooldown ?? 10
        o.patience = o.patience ?? 3; o.rejoin = o.rejoin ?? 2
        let quality = EvidenceQuality()
        o.evidenceMinFace = o.evidenceMinFace ?? quality.minFace; o.evidenceMinSharpness = o.evidenceMinSharpness ?? quality.minSharpness
        o.evidenceMaxYaw = o.evidenceMaxYaw ?? quality.maxYaw
        o.liveness = o.liveness ?? LivenessMode.motion.rawValue
        o.timezone = o.timezone ?? TimeZone.current.identifier; o.snapshotGranted = o.snapshotGranted ?? false
        o.snapshotRetentionDays = o.snapshotRetentionDays ?? 30; o.actionTimeout = o.actionTimeout ?? 5
        o.statsInterval = o.statsInterval ?? 300
        return o
    }

    /// Applies the defaults. Call `checkFlags()` (or read a config) first: values are taken as valid.
    public func resolve() throws -> DaemonSetup {
        guard let sourceText = source else {
            throw OptionError(message: "no frame source: give --source or set camera.source in the config file")
        }
        let spec = try SourceSpec(parsing: sourceText)
        if mediaTime == true {
            if spec.isLive {
                throw OptionError(message: "--media-time (camera.media_time) is for replays (dir:, mjpeg:); a camera's frames carry the time they were captured")
            }
            if fps == nil {
                throw OptionError(message: "--media-time (camera.media_time) needs --fps R (camera.fps): frame i is stamped i / R seconds after the start")
            }
        }
        let o = withDefaults()
        let (width, height) = o.size.flatMap(CameraRequest.parseSize) ?? (1280, 720)
        let controls = CameraControls(exposure: exposure, gain: gain, powerLine: powerLine.flatMap(PowerLineFrequency.init))
        let camera = CameraRequest(path: "", width: width, height: height, fps: fps ?? 30,
                                   format: o.format.flatMap(CameraFormatChoice.init) ?? .auto, controls: controls)
        let policy = Policy(level: o.level.flatMap(SecurityLevel.named) ?? .standard,
                            evidence: o.evidence.flatMap(EvidenceRule.init(parsing:)) ?? EvidenceRule(),
                            cooldown: o.cooldown!, timeZone: o.timezone.flatMap(TimeZone.init(identifier:)) ?? .current,
                            patience: o.patience!, rejoin: o.rejoin!,
                            quality: EvidenceQuality(minFace: o.evidenceMinFace!, minSharpness: o.evidenceMinSharpness!, maxYaw: o.evidenceMaxYaw!),
                            liveness: o.liveness.flatMap(LivenessMode.init(rawValue:)) ?? .motion)
        let door = action.map { DoorAction(argv: [$0] + (actionArgs ?? []), timeout: .milliseconds(Int64(o.actionTimeout! * 1000))) }
        let settings = PipelineSettings(camera: o.camera!, minFace: o.minFace!, detector: o.detector.flatMap(FaceDetector.init) ?? .hog,
                                        policy: policy, snapshotDirectory: snapshots, snapshotGranted: o.snapshotGranted!,
                                        snapshotRetentionDays: o.snapshotRetentionDays!, doorAction: door)
        // Replays are paced only when asked; a camera is asked for 30 fps unless told otherwise.
        return DaemonSetup(source: spec, fps: fps, camera: camera, settings: settings, database: db, models: models,
                           statsInterval: o.statsInterval!, loop: loop ?? false,
                           clock: mediaTime == true ? .media : .wall, statusFile: statusFile ?? DaemonStatus.publishPath())
    }
}
